// WAL writer and recovery on the simulated disk and on the real one: group commit, durability
// at acknowledgement, segment rollover, torn-tail repair, corruption reports, queue bounds.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "uetcd/reactor/ops.hpp"
#include "uetcd/wal/sim_disk.hpp"
#include "uetcd/wal/wal.hpp"
#include "wal_test_support.hpp"

using namespace uetcd::wal;
using uetcd::failure;
using uetcd::result;
using uetcd::reactor::task;
namespace rx = uetcd::reactor;

namespace {

const std::string sim_dir = "/data/member/wal";

wal_options small_options() {
    wal_options options;
    options.segment_bytes = 16384;
    options.batch_bytes_max = 4096;
    options.queued_bytes_max = 8192;
    options.record_bytes_max = 1024;
    return options;
}

// Appends entries first..last one per append call, all concurrently; counts the ones that
// resolved and checks that each was durable (in the synced bytes of the disk) when it did.
struct appender_state {
    sim_disk* disk = nullptr;  // null on the real disk
    wal* log = nullptr;
    rx::gate gate;
    int resolved = 0;
    int durable_when_resolved = 0;
};

// The group-commit tests use one segment (segment_bytes is large enough for all records).
bool synced_contains(sim_disk& disk, const record& rec) {
    std::string framed;
    encode_record(rec.type, rec.payload, framed);
    const std::string* bytes = disk.synced_bytes(sim_dir + "/" + segment_name(0, 0));
    return bytes != nullptr && bytes->find(framed) != std::string::npos;
}

task<void> append_one(appender_state& state, std::uint64_t index) {
    const std::vector<record> batch{make_entry(index, wal_test::payload_for(7, index, 60))};
    auto done = co_await state.log->append(batch);
    if (done.ok()) {
        ++state.resolved;
        if (state.disk == nullptr || synced_contains(*state.disk, batch[0])) {
            ++state.durable_when_resolved;
        }
    }
    state.gate.leave();
}

task<result<recovered_wal, wal_error>> reopen(file_system& fs, const std::string& dir) {
    auto recovered = co_await read_wal(fs, dir, 0);
    co_return recovered;
}

void require_entries(const recovered_wal& got, std::uint64_t count, std::uint64_t seed,
    std::uint64_t max_bytes) {
    REQUIRE(got.entries.size() == count);
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t index = 0;
        REQUIRE(record_index(got.entries[i], index));
        REQUIRE(index == i + 1);
        REQUIRE(entry_data(got.entries[i]) == wal_test::payload_for(seed, i + 1, max_bytes));
    }
}

}  // namespace

TEST_CASE("wal: concurrent appends share fdatasyncs and resolve only when durable",
    "[wal][group]") {
    sim_disk disk(1);
    wal_stats stats;
    appender_state state;
    state.disk = &disk;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata = "node-1";
        wal_options options = small_options();
        options.segment_bytes = 1 << 20;
        auto created = co_await wal::create(disk, sim_dir, metadata, options);
        REQUIRE(created.ok());
        state.log = created->get();
        for (std::uint64_t i = 1; i <= 200; ++i) {
            state.gate.enter();
            rx::spawn(append_one(state, i));
        }
        co_await state.gate.close();
        co_await state.log->close();
        stats = state.log->stats();
    });
    REQUIRE(state.resolved == 200);
    REQUIRE(stats.records == 200);
    REQUIRE(stats.fdatasyncs < 50);
    REQUIRE(stats.batch_records_max > 1);
    REQUIRE(stats.segments_cut == 0);
    REQUIRE(state.durable_when_resolved == 200);
}

TEST_CASE("wal: segments roll over when full and recovery reads them all in order",
    "[wal][segment]") {
    sim_disk disk(2);
    std::unique_ptr<wal> log;
    result<recovered_wal, wal_error> got = failure{wal_error{}};
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata = "meta";
        auto created = co_await wal::create(disk, sim_dir, metadata, small_options());
        REQUIRE(created.ok());
        log = std::move(*created);
        for (std::uint64_t i = 1; i <= 300; ++i) {
            std::vector<record> batch{make_entry(i, wal_test::payload_for(3, i, 200))};
            if (i % 50 == 0) {
                batch.push_back(make_hard_state({i, 1, i - 1}));
            }
            auto done = co_await log->append(batch);
            REQUIRE(done.ok());
        }
        co_await log->close();
        got = co_await reopen(disk, sim_dir);
    });
    REQUIRE(log->stats().segments_cut >= 2);
    REQUIRE(got.ok());
    require_entries(*got, 300, 3, 200);
    REQUIRE(got->metadata == "meta");
    REQUIRE(got->state.has_value());
    REQUIRE(got->state->term == 300);
    REQUIRE(got->segments.size() == log->stats().segments_cut + 1);
    for (std::size_t i = 1; i < got->segments.size(); ++i) {
        REQUIRE(got->segments[i].sequence == i);
        REQUIRE(got->segments[i].first_index > got->segments[i - 1].first_index);
    }
    REQUIRE_FALSE(got->torn);
}

TEST_CASE("wal: recovery cuts a torn tail, open zeroes it, and appends continue",
    "[wal][torn]") {
    sim_disk disk(3);
    result<recovered_wal, wal_error> first = failure{wal_error{}};
    result<recovered_wal, wal_error> second = failure{wal_error{}};
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata;
        auto created = co_await wal::create(disk, sim_dir, metadata, small_options());
        REQUIRE(created.ok());
        for (std::uint64_t i = 1; i <= 10; ++i) {
            const std::vector<record> batch{make_entry(i, wal_test::payload_for(4, i, 100))};
            auto done = co_await (*created)->append(batch);
            REQUIRE(done.ok());
        }
        co_await (*created)->close();
        // Garbage where an eleventh record was being written.
        std::string* bytes = disk.file_bytes(sim_dir + "/" + segment_name(0, 0));
        const auto end = (*created)->stats().bytes + 48 + 16;
        for (std::uint64_t i = end; i < end + 40; ++i) {
            (*bytes)[i] = static_cast<char>(0x5a);
        }
        first = co_await reopen(disk, sim_dir);
        REQUIRE(first.ok());
        const wal_options options = small_options();
        auto opened = co_await wal::open(disk, sim_dir, *first, options);
        REQUIRE(opened.ok());
        const std::vector<record> more{make_entry(11, wal_test::payload_for(4, 11, 100))};
        auto done = co_await (*opened)->append(more);
        REQUIRE(done.ok());
        co_await (*opened)->close();
        second = co_await reopen(disk, sim_dir);
    });
    REQUIRE(first->torn);
    REQUIRE(first->entries.size() == 10);
    REQUIRE(second.ok());
    REQUIRE_FALSE(second->torn);
    require_entries(*second, 11, 4, 100);
}

TEST_CASE("wal: a corrupt record in the middle is an error naming the file and offset",
    "[wal][corrupt]") {
    sim_disk disk(4);
    result<recovered_wal, wal_error> got = failure{wal_error{}};
    std::uint64_t flipped_record = 0;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata;
        auto created = co_await wal::create(disk, sim_dir, metadata, small_options());
        REQUIRE(created.ok());
        for (std::uint64_t i = 1; i <= 5; ++i) {
            const std::vector<record> batch{make_entry(i, std::string(40, 'a'))};
            auto done = co_await (*created)->append(batch);
            REQUIRE(done.ok());
        }
        co_await (*created)->close();
        std::string* bytes = disk.file_bytes(sim_dir + "/" + segment_name(0, 0));
        // header (48) + metadata (16) + two entries of 16 + 48 bytes: the third entry.
        flipped_record = 48 + 16 + 2 * 64;
        (*bytes)[flipped_record + 30] ^= 0x10;
        got = co_await reopen(disk, sim_dir);
    });
    REQUIRE_FALSE(got.ok());
    REQUIRE(got.error().code == wal_errc::corrupt);
    REQUIRE(got.error().offset == flipped_record);
    REQUIRE(got.error().file == sim_dir + "/" + segment_name(0, 0));
    REQUIRE(got.error().message().find("checksum") != std::string::npos);
}

TEST_CASE("wal: a record above record_bytes_max is refused; a full queue makes appends wait",
    "[wal][bounds]") {
    sim_disk disk(5);
    wal_stats stats;
    bool too_large = false;
    appender_state state;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata;
        auto created = co_await wal::create(disk, sim_dir, metadata, small_options());
        REQUIRE(created.ok());
        state.log = created->get();
        const std::vector<record> huge{make_entry(1, std::string(2000, 'h'))};
        auto refused = co_await state.log->append(huge);
        too_large = !refused.ok() && refused.error().code == wal_errc::too_large;
        for (std::uint64_t i = 1; i <= 400; ++i) {
            state.gate.enter();
            rx::spawn(append_one(state, i));
        }
        co_await state.gate.close();
        co_await state.log->close();
        stats = state.log->stats();
    });
    REQUIRE(too_large);
    REQUIRE(state.resolved == 400);
    REQUIRE(stats.queue_waits > 0);
}

TEST_CASE("wal: group commit on the real disk through the reactor", "[wal][real]") {
    wal_test::temp_dir tmp;
    reactor_file_system fs;
    appender_state state;
    wal_stats stats;
    result<recovered_wal, wal_error> got = failure{wal_error{}};
    const std::string dir = tmp.path + "/member/wal";
    wal_test::run_on_reactor([&]() -> task<void> {
        wal_options options;
        options.segment_bytes = 1 << 20;
        options.batch_bytes_max = 64 << 10;
        options.queued_bytes_max = 256 << 10;
        options.record_bytes_max = 4096;
        const std::string metadata = "real";
        auto created = co_await wal::create(fs, dir, metadata, options);
        REQUIRE(created.ok());
        state.log = created->get();
        for (std::uint64_t i = 1; i <= 500; ++i) {
            state.gate.enter();
            rx::spawn(append_one(state, i));
        }
        co_await state.gate.close();
        co_await state.log->close();
        stats = state.log->stats();
        got = co_await reopen(fs, dir);
    });
    REQUIRE(state.resolved == 500);
    REQUIRE(stats.fdatasyncs < 500);
    REQUIRE(got.ok());
    require_entries(*got, 500, 7, 60);
    REQUIRE(got->metadata == "real");
}

TEST_CASE("wal: purge removes only segments covered by the snapshot", "[wal][retention]") {
    sim_disk disk(6);
    std::vector<std::string> removed_none;
    std::vector<std::string> removed;
    result<recovered_wal, wal_error> got = failure{wal_error{}};
    result<recovered_wal, wal_error> too_early = failure{wal_error{}};
    std::uint64_t segments_before = 0;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata;
        auto created = co_await wal::create(disk, sim_dir, metadata, small_options());
        REQUIRE(created.ok());
        for (std::uint64_t i = 1; i <= 300; ++i) {
            const std::vector<record> batch{make_entry(i, wal_test::payload_for(8, i, 200))};
            auto done = co_await (*created)->append(batch);
            REQUIRE(done.ok());
        }
        co_await (*created)->close();
        segments_before = (*created)->stats().segments_cut + 1;
        auto none = co_await purge_segments(disk, sim_dir, 0, 1);
        REQUIRE(none.ok());
        removed_none = *none;
        auto some = co_await purge_segments(disk, sim_dir, 200, 1);
        REQUIRE(some.ok());
        removed = *some;
        got = co_await read_wal(disk, sim_dir, 200);
        too_early = co_await read_wal(disk, sim_dir, 0);
    });
    REQUIRE(removed_none.empty());
    REQUIRE_FALSE(removed.empty());
    REQUIRE(removed.size() < segments_before);
    REQUIRE(got.ok());
    REQUIRE(got->entries.size() == 100);
    std::uint64_t first = 0;
    REQUIRE(record_index(got->entries.front(), first));
    REQUIRE(first == 201);
    REQUIRE_FALSE(too_early.ok());
    REQUIRE(too_early.error().code == wal_errc::index_gap);
}

namespace {
// Puts `bytes` as the only segment of a fresh sim_disk's WAL directory and recovers it.
task<result<recovered_wal, wal_error>> recover_bytes(const std::string& bytes) {
    sim_disk disk(11);
    const std::string path = sim_dir + "/" + segment_name(0, 0);
    const int fd = co_await disk.open(path, open_mode::create_new);
    const int written = co_await write_all(disk, fd, bytes, 0);
    REQUIRE(written == 0);
    co_await disk.close(fd);
    auto got = co_await read_wal(disk, sim_dir, 0);
    co_return got;
}
}  // namespace

TEST_CASE("wal: recovery after a cut at every byte of the last records returns exactly the "
    "entries written whole before it", "[wal][torn]") {
    sim_disk disk(10);
    std::string segment;
    std::vector<std::uint64_t> ends;  // durable byte position after each entry
    int checked = 0;
    int refused = 0;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata = "m";
        auto created = co_await wal::create(disk, sim_dir, metadata, small_options());
        REQUIRE(created.ok());
        for (std::uint64_t i = 1; i <= 12; ++i) {
            const std::vector<record> batch{make_entry(i, wal_test::payload_for(12, i, 90))};
            auto done = co_await (*created)->append(batch);
            REQUIRE(done.ok());
            ends.push_back(48 + framed_bytes(metadata.size()) + *done);  // after the head
        }
        co_await (*created)->close();
        segment = *disk.file_bytes(sim_dir + "/" + segment_name(0, 0));
        for (std::uint64_t cut = ends[7]; cut <= ends[11]; ++cut) {
            // A power loss leaves the unwritten part of the tail as it was: zeros.
            std::string torn = segment;
            std::fill(torn.begin() + static_cast<std::ptrdiff_t>(cut),
                torn.begin() + static_cast<std::ptrdiff_t>(ends[11]), '\0');
            auto got = co_await recover_bytes(torn);
            std::uint64_t whole = 0;
            while (whole < ends.size() && ends[whole] <= cut) {
                ++whole;
            }
            if (!got.ok()) {
                // The cut record keeps written bytes in the sector holding the cut: a power
                // loss tears whole sectors, so etcd's rule (and ours) calls that a flipped bit.
                REQUIRE(got.error().code == wal_errc::corrupt);
                REQUIRE(cut % 512 != 0);
                ++refused;
            } else {
                // A cut inside the zero padding of a record leaves it whole.
                REQUIRE((got->entries.size() == whole || got->entries.size() == whole + 1));
            }
            ++checked;
            // The sim disk completes ops inline: yield so the stack unwinds even in builds
            // without guaranteed tail calls for symmetric transfer (-O0/-O1, ASan).
            co_await rx::yield();
        }
    });
    REQUIRE(checked > 200);  // every byte of four records of 16 + 8 + 1..90 bytes
    REQUIRE(refused < checked);
}

TEST_CASE("wal: close drains every append in flight, also those waiting for room",
    "[wal][bounds]") {
    sim_disk disk(12);
    appender_state state;
    state.disk = &disk;
    wal_stats stats;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string metadata;
        wal_options options = small_options();
        options.segment_bytes = 1 << 20;
        auto created = co_await wal::create(disk, sim_dir, metadata, options);
        REQUIRE(created.ok());
        state.log = created->get();
        for (std::uint64_t i = 1; i <= 300; ++i) {
            state.gate.enter();
            rx::spawn(append_one(state, i));
        }
        co_await state.log->close();
        co_await state.gate.close();
        stats = state.log->stats();
    });
    REQUIRE(stats.queue_waits > 0);
    REQUIRE(state.resolved == 300);
    REQUIRE(state.durable_when_resolved == 300);
}
