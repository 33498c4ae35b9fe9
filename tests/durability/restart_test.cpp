// Restarts of the real binary: indexes, history and TTLs survive kill -9; snapshots and WAL
// segments are taken and purged by the retention flags; --wal-dir; and the damage matrix
// (a torn or truncated tail is cut and served without acknowledged loss, a flipped bit refuses
// to start naming the file and offset).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "durability/durable_node.hpp"

using namespace uetcd::testing;

namespace {

std::string put(int port, const std::string& key, const std::string& form) {
    http_client client(port);
    return client.request("PUT", "/v2/keys" + key, form);
}

std::string get(int port, const std::string& target) {
    http_client client(port);
    return client.request("GET", target);
}

// A watch answers chunked: read it on a connection the server closes.
std::string watch(int port, const std::string& target) { return http_get(port, target); }

std::uint64_t index_of(const std::string& response, const std::string& key) {
    const auto nodes = parse_nodes(body_of(response));
    const auto it = nodes.find(key);
    return it == nodes.end() ? 0 : it->second.modified_index;
}

void write_keys(int port, const std::string& prefix, int count) {
    http_client client(port);
    for (int i = 0; i < count; ++i) {
        const std::string r = client.request("PUT", "/v2/keys" + prefix + std::to_string(i),
            "value=v" + std::to_string(i));
        REQUIRE((status_of(r) == 200 || status_of(r) == 201));
    }
}

void check_keys(int port, const std::string& prefix, int count) {
    http_client client(port);
    for (int i = 0; i < count; ++i) {
        INFO("key " << prefix << i);
        const std::string r = client.request("GET", "/v2/keys" + prefix + std::to_string(i));
        REQUIRE(status_of(r) == 200);
        REQUIRE(body_of(r).find("\"value\":\"v" + std::to_string(i) + "\"") !=
            std::string::npos);
    }
}

std::string only_segment(const std::string& wal_dir) {
    const auto names = files_in(wal_dir, ".wal");
    REQUIRE(names.size() == 1);
    return wal_dir + "/" + names.front();
}

// End of the records of a segment: walks the record headers ([length u32][type u8]...,
// 8-byte aligned) up to the first zero header.
std::uint64_t data_end(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::uint64_t at = 0;
    while (at + 16 <= bytes.size()) {
        std::uint32_t length = 0;
        std::memcpy(&length, bytes.data() + at, 4);
        if (length == 0 && bytes[at + 4] == 0) {
            break;
        }
        at += (16 + length + 7) / 8 * 8;
    }
    return at;
}

void overwrite(const std::string& path, std::uint64_t offset, const std::string& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
        static_cast<ssize_t>(bytes.size()));
    ::close(fd);
}

char byte_at(const std::string& path, std::uint64_t offset) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    in.get(c);
    return c;
}

}  // namespace

TEST_CASE("kill -9 keeps X-Etcd-Index, X-Raft-Index and the event history", "[restart][index]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    node.start();
    REQUIRE(node.wait_ready());
    const std::string first = put(node.client_port, "/h/k0", "value=v0");
    const std::uint64_t first_index = index_of(first, "/h/k0");
    REQUIRE(first_index > 0);
    write_keys(node.client_port, "/h/k", 20);
    const std::string before = get(node.client_port, "/v2/keys/h/k3");
    node.kill9();
    node.start();
    REQUIRE(node.wait_ready());
    const std::string after = get(node.client_port, "/v2/keys/h/k3");
    CHECK(header_value(after, "X-Etcd-Index") == header_value(before, "X-Etcd-Index"));
    CHECK(header_value(after, "X-Raft-Index") == header_value(before, "X-Raft-Index"));
    CHECK(body_of(after) == body_of(before));
    check_keys(node.client_port, "/h/k", 20);
    // A watch from an index before the restart is answered from the recovered history.
    const std::string watched = watch(node.client_port, "/v2/keys/h?wait=true&recursive=true"
        "&waitIndex=" + std::to_string(first_index + 1));
    REQUIRE(status_of(watched) == 200);
    CHECK(body_of(watched).find("\"modifiedIndex\":" + std::to_string(first_index + 1)) !=
        std::string::npos);
    CHECK(body_of(watched).find("\"key\":\"/h/k0\"") != std::string::npos);
    // The next write continues both indexes.
    const std::string next = put(node.client_port, "/h/next", "value=n");
    CHECK(index_of(next, "/h/next") ==
        std::stoull(header_value(before, "X-Etcd-Index")) + 1);
    CHECK(std::stoull(header_value(next, "X-Raft-Index")) ==
        std::stoull(header_value(before, "X-Raft-Index")) + 1);
    const auto code = node.stop();
    INFO(node.log());
    REQUIRE(code == 0);
    CHECK(node.log().find("records in") != std::string::npos);
}

TEST_CASE("a fresh data dir is laid out as etcd's and bootstraps at raft index 4",
    "[restart]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    node.start();
    REQUIRE(node.wait_ready());
    const std::string r = put(node.client_port, "/a", "value=1");
    CHECK(header_value(r, "X-Etcd-Index") == "4");
    CHECK(header_value(r, "X-Raft-Index") == "5");
    CHECK(files_in(dir.path() + "/data/member/wal", ".wal").size() == 1);
    CHECK(std::filesystem::is_directory(dir.path() + "/data/member/snap"));
    node.kill9();
    node.start();
    REQUIRE(node.wait_ready());
    // The bootstrap entries were logged: members and version are back, nothing is redone.
    const std::string members = get(node.client_port, "/v2/members");
    CHECK(status_of(members) == 200);
    CHECK(body_of(members).find("\"name\":\"d\"") != std::string::npos);
    const std::string again = put(node.client_port, "/b", "value=2");
    CHECK(header_value(again, "X-Etcd-Index") == "5");
    CHECK(header_value(again, "X-Raft-Index") == "6");
}

TEST_CASE("TTL keys expire across a restart and their expiry is replayed", "[restart][ttl]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    node.start();
    REQUIRE(node.wait_ready());
    const std::string later = put(node.client_port, "/t1", "value=a&ttl=5");
    const std::string soon = put(node.client_port, "/t0", "value=b&ttl=1");
    const std::uint64_t soon_index = index_of(soon, "/t0");
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    const std::string gone = get(node.client_port, "/v2/keys/t0");
    REQUIRE(status_of(gone) == 404);
    const std::string expired = watch(node.client_port,
        "/v2/keys/t0?wait=true&waitIndex=" + std::to_string(soon_index + 1));
    REQUIRE(body_of(expired).find("\"action\":\"expire\"") != std::string::npos);
    node.kill9();
    node.start();
    REQUIRE(node.wait_ready());
    CHECK(status_of(get(node.client_port, "/v2/keys/t0")) == 404);
    // The expire event is in the recovered history at the same index.
    CHECK(body_of(watch(node.client_port, "/v2/keys/t0?wait=true&waitIndex=" +
        std::to_string(soon_index + 1))) == body_of(expired));
    const std::string alive = get(node.client_port, "/v2/keys/t1");
    INFO(later << "\n" << alive << "\n" << node.log());
    REQUIRE(status_of(alive) == 200);
    CHECK(body_of(alive).find("\"ttl\":") != std::string::npos);
    // /t1 still expires on time after the restart.
    const auto deadline = clock::now() + std::chrono::seconds(5);
    while (status_of(get(node.client_port, "/v2/keys/t1")) == 200 && clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(status_of(get(node.client_port, "/v2/keys/t1")) == 404);
    CHECK(clock::now() < deadline);
}

TEST_CASE("snapshots every --snapshot-count entries, retention by --max-snapshots and "
          "--max-wals, recovery from the snapshot", "[restart][snapshot]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data",
        {"--snapshot-count", "100", "--max-snapshots", "2", "--max-wals", "2"},
        {"UETCD_WAL_SEGMENT_BYTES=65536"});
    node.start();
    REQUIRE(node.wait_ready());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            http_client client(node.client_port);
            for (int i = 0; i < 400; ++i) {
                client.request("PUT", "/v2/keys/s/t" + std::to_string(t) + "k" + std::to_string(i),
                    "value=v" + std::to_string(i));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    INFO(node.log());
    const std::string snap_dir = dir.path() + "/data/member/snap";
    const std::string wal_dir = dir.path() + "/data/member/wal";
    CHECK(files_in(snap_dir, ".snap").size() == 2);
    const auto wals = files_in(wal_dir, ".wal");
    CHECK(wals.size() >= 1);
    CHECK(wals.size() <= 3);  // max-wals, plus a segment cut after the last snapshot
    const std::string log = node.log();
    CHECK(log.find("saved snapshot at index") != std::string::npos);
    CHECK(log.find("purged file") != std::string::npos);
    node.kill9();
    node.start();
    REQUIRE(node.wait_ready());
    CHECK(node.log().find("recovered store from snapshot at index") != std::string::npos);
    for (int t = 0; t < 4; ++t) {
        check_keys(node.client_port, "/s/t" + std::to_string(t) + "k", 400);
    }
}

TEST_CASE("--wal-dir keeps the WAL out of the data dir", "[restart][wal-dir]") {
    temp_dir dir;
    const std::string wal_dir = dir.path() + "/dedicated-wal";
    durable_node node(dir.path() + "/data", {"--wal-dir", wal_dir});
    node.start();
    REQUIRE(node.wait_ready());
    write_keys(node.client_port, "/w/k", 10);
    node.kill9();
    CHECK(files_in(wal_dir, ".wal").size() == 1);
    CHECK(files_in(dir.path() + "/data/member/wal", ".wal").empty());
    node.start();
    REQUIRE(node.wait_ready());
    check_keys(node.client_port, "/w/k", 10);
}

namespace {

// Writes 30 acknowledged keys and one large "victim" (the write a power loss would tear),
// kills the server, and returns the victim record's [start, end) in the segment.
struct damage_setup {
    std::string segment;
    std::uint64_t victim_start = 0;
    std::uint64_t victim_end = 0;
};

damage_setup write_then_kill(durable_node& node) {
    node.start();
    REQUIRE(node.wait_ready());
    write_keys(node.client_port, "/d/k", 30);
    damage_setup d;
    d.segment = only_segment(node.data_dir() + "/member/wal");
    d.victim_start = data_end(d.segment);
    REQUIRE(status_of(put(node.client_port, "/d/victim", "value=" + std::string(1500, 'z'))) ==
        201);
    node.kill9();
    d.victim_end = data_end(d.segment);
    REQUIRE(d.victim_end > d.victim_start + 1500);
    return d;
}

void check_repaired(durable_node& node) {
    node.start();
    INFO(node.log());
    REQUIRE(node.wait_ready());
    CHECK(node.log().find("torn tail cut off") != std::string::npos);
    check_keys(node.client_port, "/d/k", 30);
    CHECK(status_of(get(node.client_port, "/v2/keys/d/victim")) == 404);
    // The cut tail was zeroed: a new write and another restart are clean.
    REQUIRE(status_of(put(node.client_port, "/d/after", "value=x")) == 201);
    node.kill9();
    node.start();
    REQUIRE(node.wait_ready());
    CHECK(node.log().find("torn tail") == std::string::npos);
    check_keys(node.client_port, "/d/k", 30);
    CHECK(status_of(get(node.client_port, "/v2/keys/d/after")) == 200);
}

void check_refused(durable_node& node, const std::string& segment, std::uint64_t offset) {
    node.start();
    const auto code = node.wait_exit(std::chrono::seconds(10));
    INFO(node.log());
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    const std::string expected = "corrupt record in " + segment + " at offset " +
        (offset == 0 ? std::string() : std::to_string(offset));
    CHECK(node.log().find(expected) != std::string::npos);
    CHECK(status_of(http_get(node.client_port, "/version")) == 0);
}

}  // namespace

TEST_CASE("damage: a zeroed last sector is cut and served without acknowledged loss",
    "[damage]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    const damage_setup d = write_then_kill(node);
    const std::uint64_t sector = (d.victim_end - 1) / 512 * 512;
    REQUIRE(sector > d.victim_start);
    overwrite(d.segment, sector, std::string(d.victim_end - sector, '\0'));
    check_repaired(node);
}

TEST_CASE("damage: a truncated tail is cut and served without acknowledged loss",
    "[damage]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    const damage_setup d = write_then_kill(node);
    std::filesystem::resize_file(d.segment, d.victim_start + 700);
    check_repaired(node);
}

TEST_CASE("damage: a bit flip in the last record refuses to start, naming file and offset",
    "[damage]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    const damage_setup d = write_then_kill(node);
    const std::uint64_t at = d.victim_start + 800;
    overwrite(d.segment, at, std::string(1, static_cast<char>(byte_at(d.segment, at) ^ 0x04)));
    check_refused(node, d.segment, d.victim_start);
}

TEST_CASE("damage: a bit flip in the middle of the WAL refuses to start, naming file and "
          "offset", "[damage]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data");
    const damage_setup d = write_then_kill(node);
    const std::uint64_t at = d.victim_start / 2;
    overwrite(d.segment, at, std::string(1, static_cast<char>(byte_at(d.segment, at) ^ 0x10)));
    check_refused(node, d.segment, 0);
}
