// Snapshot files: container round trip and every decode error, atomic save, newest valid
// load (a corrupt newest is skipped with a log line), retention.
#include <catch2/catch.hpp>
#include <string>

#include "uetcd/wal/sim_disk.hpp"
#include "uetcd/wal/snapshot_file.hpp"
#include "wal_test_support.hpp"

using namespace uetcd::wal;
using uetcd::reactor::task;

TEST_CASE("snapshot: container round trip and decode errors", "[wal][snap]") {
    const snapshot_file snap{5, 1234, wal_test::payload_for(1, 1, 5000)};
    const std::string bytes = encode_snapshot(snap);
    auto decoded = decode_snapshot(bytes);
    REQUIRE(decoded.ok());
    REQUIRE(*decoded == snap);
    REQUIRE(decode_snapshot(bytes.substr(0, 47)).error() == snapshot_errc::truncated);
    REQUIRE(decode_snapshot(bytes.substr(0, bytes.size() - 1)).error()
        == snapshot_errc::bad_length);
    std::string bad = bytes;
    bad[0] ^= 1;
    REQUIRE(decode_snapshot(bad).error() == snapshot_errc::bad_magic);
    for (std::size_t at : {std::size_t{16}, std::size_t{24}, std::size_t{40}, bytes.size() - 1}) {
        bad = bytes;
        bad[at] ^= 0x20;
        REQUIRE(decode_snapshot(bad).error() == snapshot_errc::bad_checksum);
    }
    REQUIRE(snapshot_name(5, 1234) == "0000000000000005-00000000000004d2.snap");
    auto named = parse_snapshot_name("0000000000000005-00000000000004d2.snap");
    REQUIRE(named.has_value());
    REQUIRE(named->term == 5);
    REQUIRE(named->index == 1234);
    REQUIRE_FALSE(parse_snapshot_name("0000000000000005-00000000000004d2.snap.tmp").has_value());
}

TEST_CASE("snapshot: load takes the newest valid one and skips a corrupt newest",
    "[wal][snap]") {
    sim_disk disk(9);
    const std::string dir = "/data/member/snap";
    loaded_snapshot loaded;
    loaded_snapshot empty;
    std::vector<std::string> purged;
    std::vector<std::string> remaining;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string none_dir = "/nowhere/snap";
        auto nothing = co_await load_newest_snapshot(disk, none_dir);
        REQUIRE(nothing.ok());
        empty = *nothing;
        for (std::uint64_t i = 1; i <= 5; ++i) {
            const snapshot_file snap{2, i * 100, wal_test::payload_for(2, i, 300)};
            auto saved = co_await save_snapshot(disk, dir, snap);
            REQUIRE(saved.ok());
        }
        std::string* newest = disk.file_bytes(dir + "/" + snapshot_name(2, 500));
        (*newest)[60] ^= 1;
        auto got = co_await load_newest_snapshot(disk, dir);
        REQUIRE(got.ok());
        loaded = *got;
        auto removed = co_await purge_snapshots(disk, dir, 2);
        REQUIRE(removed.ok());
        purged = *removed;
        auto names = co_await disk.list_dir(dir);
        REQUIRE(names.ok());
        remaining = *names;
    });
    REQUIRE_FALSE(empty.snap.has_value());
    REQUIRE(loaded.snap.has_value());
    REQUIRE(loaded.snap->index == 400);
    REQUIRE(loaded.snap->data == wal_test::payload_for(2, 4, 300));
    REQUIRE(loaded.skipped.size() == 1);
    REQUIRE(loaded.skipped[0].find("checksum") != std::string::npos);
    REQUIRE(purged.size() == 3);
    REQUIRE(remaining == std::vector<std::string>{snapshot_name(2, 400), snapshot_name(2, 500)});
}

TEST_CASE("snapshot: save on the real disk leaves no temp file", "[wal][snap][real]") {
    wal_test::temp_dir tmp;
    reactor_file_system fs;
    loaded_snapshot loaded;
    std::vector<std::string> names;
    wal_test::run_on_reactor([&]() -> task<void> {
        const std::string dir = tmp.path + "/member/snap";
        const snapshot_file snap{3, 77, "store bytes"};
        auto saved = co_await save_snapshot(fs, dir, snap);
        REQUIRE(saved.ok());
        auto got = co_await load_newest_snapshot(fs, dir);
        REQUIRE(got.ok());
        loaded = *got;
        auto listed = co_await fs.list_dir(dir);
        REQUIRE(listed.ok());
        names = *listed;
    });
    REQUIRE(loaded.snap.has_value());
    REQUIRE(loaded.snap->data == "store bytes");
    REQUIRE(names == std::vector<std::string>{snapshot_name(3, 77)});
}
