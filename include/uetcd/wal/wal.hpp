// The write-ahead log: segment files of framed records (record.hpp) in <data-dir>/member/wal,
// written with group commit (one write and one fdatasync per batch) through a file_system,
// and read back at start-up with torn-tail repair. One wal object lives on one core (core 0,
// with raft); every member function must be called there. See docs/wal.md.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uetcd/reactor/reactor.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/result.hpp"
#include "uetcd/wal/file_system.hpp"
#include "uetcd/wal/record.hpp"
#include "uetcd/wal/segment.hpp"

namespace uetcd::wal {

struct wal_options {
    // etcd's SegmentSizeBytes: 64 MiB, preallocated with fallocate.
    std::uint64_t segment_bytes = 64ULL << 20;
    // One write + fdatasync carries at most this much: 4 MiB is ~10 ms at 400 MB/s, so a
    // large burst cannot delay the acknowledgement of the appends ahead of it for long.
    std::uint64_t batch_bytes_max = 4ULL << 20;
    // Encoded bytes waiting for a batch; append() waits for room above this (backpressure on
    // the proposer). 16 MiB = 4 full batches. One append larger than this waits for an empty
    // queue and is then admitted alone.
    std::uint64_t queued_bytes_max = 16ULL << 20;
    // The largest record payload append() accepts (etcd v2 values are up to ~1.5 MiB).
    std::uint64_t record_bytes_max = 2ULL << 20;
};

enum class wal_errc : std::uint8_t {
    io,           // a file operation failed (os_error); after a failed fdatasync the wal is dead
    corrupt,      // a bad record with valid data after it, or in a non-last segment
    bad_header,   // a segment's header record is missing, bad, or disagrees with its name
    missing,      // no WAL in the directory, or a gap in segment sequence numbers
    index_gap,    // entries needed after the snapshot point are not in the WAL
    exists,       // create() found segments already there
    closed,       // append() after close() or after a failure
    too_large,    // a record above record_bytes_max (or a malformed fixed record)
    bad_options,
};

struct wal_error {
    wal_errc code = wal_errc::io;
    int os_error = 0;       // -errno for io
    std::string file;       // the segment (or directory) concerned
    std::uint64_t offset = 0;
    std::string detail;
    std::string message() const;  // one log line naming file, offset and cause
};

struct segment_info {
    std::string name;
    std::uint64_t sequence = 0;
    std::uint64_t first_index = 0;
    std::uint64_t valid_end = 0;  // end of the last valid record
};

// What recovery found; wal::open continues from it.
struct recovered_wal {
    std::string metadata;
    std::optional<hard_state> state;          // the last hard_state record
    std::vector<record> entries;              // entry records with index > the start point
    std::uint64_t last_index = 0;             // index of the last entry record, 0 if none
    std::optional<std::uint64_t> snapshot_index;  // the last snapshot marker seen
    std::vector<segment_info> segments;
    // A torn tail cut off the last segment: [torn_offset, torn_end) of torn_file. Log it.
    bool torn = false;
    std::string torn_file;
    std::uint64_t torn_offset = 0;
    std::uint64_t torn_end = 0;
    std::string torn_detail;
};

// Reads every segment in `dir` in order, verifies every record, and returns the entries with
// index > after_index (records at or below it are covered by a snapshot). Torn tails of the
// last segment are cut (reported, not yet zeroed: wal::open does that); corruption anywhere
// else is an error naming the file and offset. Reads only; any core.
task<result<recovered_wal, wal_error>> read_wal(file_system& fs, const std::string& dir,
    std::uint64_t after_index);

struct wal_stats {
    std::uint64_t appends = 0;
    std::uint64_t records = 0;      // records made durable
    std::uint64_t bytes = 0;        // framed bytes made durable
    std::uint64_t fdatasyncs = 0;   // one per batch
    std::uint64_t batch_records_max = 0;  // records / fdatasyncs is the mean batch size
    std::uint64_t last_batch_records = 0;
    std::uint64_t segments_cut = 0;
    std::uint64_t queue_waits = 0;  // appends that waited for queue room
};

class wal {
public:
    // Creates a new WAL in `dir` (made if missing; an existing WAL there is an error) with
    // its first segment durable, and starts the writer.
    static task<result<std::unique_ptr<wal>, wal_error>> create(file_system& fs,
        const std::string& dir, const std::string& metadata, const wal_options& options);
    // Continues the WAL that read_wal recovered: zeroes a torn tail, then starts the writer.
    static task<result<std::unique_ptr<wal>, wal_error>> open(file_system& fs,
        const std::string& dir, const recovered_wal& recovered, const wal_options& options);

    wal(const wal&) = delete;
    wal& operator=(const wal&) = delete;
    ~wal();

    // Queues `records` and completes once all of them are durable (written and fdatasynced);
    // returns the WAL's durable byte position then. Records reach the log in the order append()
    // was called (not awaited). Appends made while a batch is in flight
    // share the next batch. Waits while the queue is full. After an I/O failure every append
    // fails (an fdatasync error is never retried: the page cache state is unknown).
    task<result<std::uint64_t, wal_error>> append(std::span<const record> records);
    // Stops the writer once the queue is drained and closes the segment.
    task<void> close();

    const wal_stats& stats() const noexcept { return _stats; }
    std::uint64_t last_index() const noexcept { return _last_index; }
    std::uint64_t segment_sequence() const noexcept { return _sequence; }
    const std::optional<wal_error>& failure_state() const noexcept { return _failure; }

private:
    // Coroutines waiting for a change; notify_all schedules them on this core.
    class wait_list {
    public:
        auto wait() noexcept {
            struct awaiter {
                wait_list& list;
                bool await_ready() const noexcept { return false; }
                void await_suspend(std::coroutine_handle<> h) { list._waiters.push_back(h); }
                void await_resume() const noexcept {}
            };
            return awaiter{*this};
        }
        void notify_all();

    private:
        std::vector<std::coroutine_handle<>> _waiters;
    };
    struct queued_record {
        std::uint64_t framed_bytes;
        record_type type;
        std::uint64_t index;  // entries only
        hard_state state;     // hard_state records only
    };

    wal(file_system& fs, std::string dir, std::string metadata, const wal_options& options);
    void start();
    task<void> flush_loop();
    task<bool> flush_batch();
    task<bool> cut_segment();
    void fail(wal_error error);
    std::optional<wal_error> check_append(std::span<const record> records,
        std::uint64_t& framed_total) const;

    file_system& _fs;
    std::string _dir;
    std::string _metadata;
    wal_options _options;
    int _fd = -1;
    std::uint64_t _sequence = 0;
    std::uint64_t _segment_offset = 0;  // where the next batch goes in the current segment
    std::uint64_t _last_index = 0;      // last entry written (names the next segment)
    std::optional<hard_state> _last_state;  // repeated at the head of every new segment
    std::string _queue;                 // encoded records not yet in a batch
    std::deque<queued_record> _queued;
    std::string _batch;                 // the batch in flight (reused buffer)
    std::uint64_t _queued_total = 0;    // bytes ever queued
    std::uint64_t _durable_total = 0;   // bytes ever made durable
    std::uint64_t _tickets_issued = 0;  // appends started
    std::uint64_t _tickets_served = 0;  // appends queued, in start order
    std::optional<wal_error> _failure;
    bool _closing = false;
    bool _running = false;
    wait_list _work;
    wait_list _durable_changed;
    wait_list _space;
    reactor::gate _gate;
    wal_stats _stats;
};

// Removes the oldest segments while more than max_wals remain, but only segments whose
// entries are all at or below snapshot_index (the next segment starts at or below
// snapshot_index + 1), and never the last. 0 = unlimited. Returns the names removed.
task<result<std::vector<std::string>, wal_error>> purge_segments(file_system& fs,
    const std::string& dir, std::uint64_t snapshot_index, std::uint64_t max_wals);

}  // namespace uetcd::wal
