// The v2 store as a service owned by one core (core 0, where raft will live): the tree, its
// watcher hub and the TTL expiry timer. Other cores reach it with smp::submit_to; every
// operation returns a keys_answer (status, JSON body, header values) that travels back by
// value, so nothing the store owns is ever touched off its core.
//
// Every write (keys writes and quorum gets, auth writes, the expiry SYNC) goes through one
// entry point, propose(), as a store::command: the unit the WAL logs and raft replicates.
// With a data dir (open_durable), a single committer coroutine logs each batch of proposals
// to the WAL with one write + one fdatasync, then applies it in log order (durable_store.cpp,
// docs/wal.md); without one (unit tests), propose() applies at once.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uetcd/http/keys_request.hpp"
#include "uetcd/reactor/reactor.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/result.hpp"
#include "uetcd/store/command.hpp"
#include "uetcd/store/tree.hpp"
#include "uetcd/wal/file_system.hpp"
#include "uetcd/wal/record.hpp"

namespace uetcd::wal {
class wal;
}

namespace uetcd::server {

struct cluster_info;

// Where and how the store is made durable (etcd's --data-dir layout and retention flags).
struct durability_options {
    std::string wal_dir;   // <data-dir>/member/wal, or --wal-dir
    std::string snap_dir;  // <data-dir>/member/snap
    std::uint64_t snapshot_count = 10000;  // applied entries between snapshots
    std::uint64_t max_snapshots = 5;       // 0 = unlimited
    std::uint64_t max_wals = 5;            // 0 = unlimited
    std::uint64_t segment_bytes = 64ULL << 20;  // WAL segment size (tests make it small)
};

// What one keys request answers, built on the store's core.
struct keys_answer {
    int status = 200;
    std::string body;
    std::uint64_t etcd_index = 0;
    bool raft_headers = false;  // X-Raft-Index/X-Raft-Term (successes and watches only)
    std::uint64_t raft_index = 0;
    std::uint64_t raft_term = 0;
};

// What a committed command did, and the raft index it was applied at.
struct applied_command {
    store::write_result result = failure{store::error{}};
    std::uint64_t raft_index = 0;
};

struct watch_answer {
    keys_answer answer;       // an error, or the head values (+ body of a history hit)
    bool registered = false;  // a live watcher: events follow through the core's watch_sink
    store::watcher_id id;
};

// One event for one waiting watch on some core; `local_id` is that core's id of the watch.
struct watch_event {
    std::uint64_t local_id = 0;
    // The event as etcd writes it (trailing "\n"): written once per event and shared by
    // every watcher it goes to, on any core (immutable).
    std::shared_ptr<const std::string> json;
    bool last = false;  // a one-shot watcher: removed from the hub with this event
};

// Receives events on the core that owns the sink (each core's keys API registers one).
class watch_sink {
public:
    virtual void deliver(std::vector<watch_event> events) = 0;

protected:
    ~watch_sink() = default;
};

// A resumable wake-up for one waiting coroutine on one core (a reusable reactor::event).
class wake_signal {
public:
    void notify();
    auto wait() noexcept {
        struct awaiter {
            wake_signal& s;
            bool await_ready() const noexcept { return s._pending; }
            void await_suspend(std::coroutine_handle<> h) noexcept { s._waiter = h; }
            void await_resume() const noexcept { s._pending = false; }
        };
        return awaiter{*this};
    }

private:
    std::coroutine_handle<> _waiter;
    bool _pending = false;
};

class store_service {
public:
    // Watch tags: the requesting core in the high 16 bits, its local id below.
    static constexpr unsigned tag_core_shift = 48;

    explicit store_service(unsigned cores);
    ~store_service();

    // On the owner core, before serving: recovers the store from the newest valid snapshot
    // and the WAL after it (a torn tail is cut with a log line), or on a fresh data dir
    // creates the WAL and logs bootstrap(); then starts the committer. An error is one line
    // naming the file and offset: the server must refuse to start.
    reactor::task<result<bool, std::string>> open_durable(const durability_options& options,
        const cluster_info& cluster);

    // On the owner core, before serving: etcd's bootstrap writes under /0 (members'
    // raftAttributes and attributes, /0/version), so the first user write gets index 4 on
    // one member; and the auth probe etcd makes at start. Proposed like any write, so that
    // with a WAL a restart replays them.
    reactor::task<void> bootstrap(const cluster_info& cluster);
    void set_sink(unsigned core, watch_sink* sink) { _sinks.at(core) = sink; }

    // On the owner core: a plain GET or HEAD (no consensus round, as etcd v2).
    keys_answer read(const http::keys_request& req);
    // On the owner core: a keys write or quorum GET, answered once applied. `expire_ns` is the
    // absolute expiry computed where the request arrived (0 = none), as etcd's receiving
    // member does.
    reactor::task<keys_answer> write(http::keys_request req, std::int64_t expire_ns);
    // On the owner core: the one way a command reaches the store. Commands are applied in
    // the order propose() is called; the result comes once the command is applied.
    reactor::task<applied_command> propose(store::command c);
    watch_answer watch(const http::keys_request& req, unsigned core, std::uint64_t local_id);
    void cancel_watch(store::watcher_id id);
    std::string stats_json() const;

    // The expiry loop (etcd's leader SYNC): run on the owner core until stop().
    reactor::task<void> run_expiry();
    // Ends the expiry loop, then the committer (once every queued proposal is applied) and
    // a snapshot in progress, closes the WAL and logs its group-commit figures.
    reactor::task<void> stop();

    store::tree& tree() noexcept { return _tree; }
    std::uint64_t raft_index() const noexcept { return _raft_index; }
    static constexpr std::uint64_t raft_term = 2;  // a fresh member elects itself in term 2

private:
    // One proposal waiting in the committer's queue; lives in propose()'s frame.
    struct proposal {
        std::optional<store::command> command;  // nullopt: the leader's empty entry
        applied_command done;
        wake_signal applied;
    };

    reactor::task<applied_command> propose_entry(std::optional<store::command> c);
    // Applies one committed entry at the next raft index (the state machine's only input).
    applied_command apply_entry(const std::optional<store::command>& c);
    // Applies a batch of committed proposals in log order and resolves each proposer.
    void apply_committed(std::vector<proposal*>& batch);
    reactor::task<void> run_committer();
    reactor::task<result<bool, std::string>> recover(const std::string& metadata);
    reactor::task<result<bool, std::string>> replay(const std::vector<wal::record>& entries);
    reactor::task<void> stop_durable();
    // Snapshot capture (on the owner core) and restore: the only places that see the whole
    // state machine at once.
    std::string capture_snapshot() const;
    result<bool, std::string> restore_snapshot(std::string_view data, std::uint64_t index);
    void maybe_snapshot();
    reactor::task<void> write_snapshot(std::string data, std::uint64_t index);
    reactor::task<void> finish_snapshot(int child_pid, std::uint64_t index);
    reactor::task<void> after_snapshot_saved(std::uint64_t index);

    void auth_probe();
    keys_answer answer_event(const store::event& e, bool no_value_on_success);
    keys_answer answer_error(const store::error& e) const;
    void after_write();
    void drain_notifications();

    store::tree _tree;
    unsigned _cores;
    std::vector<watch_sink*> _sinks;
    std::vector<store::notification> _scratch;
    std::uint64_t _raft_index = 0;
    wake_signal _expiry_wake;
    std::int64_t _expiry_target_ns = 0;  // wall time the expiry loop sleeps until (0: none)
    bool _stopping = false;
    bool _expiry_running = false;
    wake_signal _expiry_done;

    // Durability (open_durable); null _wal: apply at once.
    durability_options _durable;
    wal::reactor_file_system _fs;
    std::unique_ptr<wal::wal> _wal;
    std::vector<proposal*> _proposals;  // queued for the next batch, in propose() order
    wake_signal _commit_wake;
    bool _committer_stopping = false;
    reactor::gate _background;  // the committer and a snapshot writer
    std::uint64_t _snapshot_index = 0;  // raft index of the newest snapshot (taken or loaded)
    bool _snapshot_in_flight = false;
    std::int64_t _snapshot_capture_ns_max = 0;
};

}  // namespace uetcd::server
