// etcdctl backup (issue #6) of a real server's data dir: the copy starts and serves every key
// with the same value and indexes, under a new member identity; --wal-dir/--backup-wal-dir;
// a missing data dir fails as Go etcdctl does.
#include <catch2/catch.hpp>

#include <fstream>

#include "durability/durable_node.hpp"
#include "support/run_tool.hpp"

using namespace uetcd::testing;

namespace {

const std::string our_etcdctl = std::string(UETCD_BUILD_ROOT) + "/etcdctl";

void write_keys(int port, int count) {
    http_client client(port);
    for (int i = 0; i < count; ++i) {
        const std::string r = client.request("PUT", "/v2/keys/b/k" + std::to_string(i),
            "value=v" + std::to_string(i));
        REQUIRE((status_of(r) == 200 || status_of(r) == 201));
    }
}

// Every key's GET answer (body and X-Etcd-Index) from a server.
std::vector<std::string> answers(int port, int count) {
    http_client client(port);
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) {
        const std::string r = client.request("GET", "/v2/keys/b/k" + std::to_string(i));
        out.push_back(header_value(r, "X-Etcd-Index") + " " + body_of(r));
    }
    return out;
}

// The member ID in the metadata of a WAL dir's first segment ("uetcd member <16 hex>").
std::string wal_member(const std::string& wal_dir) {
    const auto names = files_in(wal_dir, ".wal");
    REQUIRE(!names.empty());
    std::ifstream in(wal_dir + "/" + names.front(), std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    const auto at = head.find("uetcd member ");
    REQUIRE(at != std::string::npos);
    return head.substr(at + 13, 16);
}

// Puts `node` on the same ports as `like` (the member stays the same one).
void same_ports(durable_node& node, const durable_node& like) {
    node.client_port = like.client_port;
    node.peer_port = like.peer_port;
}

}  // namespace

TEST_CASE("backup copies the newest snapshot and the WAL after it; the copy serves the same "
          "keys and indexes under a new member ID", "[backup]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data", {"--snapshot-count", "100"});
    node.start();
    REQUIRE(node.wait_ready());
    write_keys(node.client_port, 350);
    const auto before = answers(node.client_port, 350);
    const std::string raft_before = header_value(
        http_client(node.client_port).request("GET", "/v2/keys/b/k0"), "X-Raft-Index");
    REQUIRE(node.stop() == 0);
    const run_result r = run_tool({our_etcdctl, "backup", "--data-dir", dir.path() + "/data",
        "--backup-dir", dir.path() + "/copy"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(files_in(dir.path() + "/copy/member/snap", ".snap").size() == 1);
    CHECK(wal_member(dir.path() + "/copy/member/wal") !=
        wal_member(dir.path() + "/data/member/wal"));
    durable_node copy(dir.path() + "/copy");
    same_ports(copy, node);
    copy.start();
    REQUIRE(copy.wait_ready());
    INFO(copy.log());
    CHECK(copy.log().find("recovered store from snapshot") != std::string::npos);
    CHECK(answers(copy.client_port, 350) == before);
    CHECK(header_value(http_client(copy.client_port).request("GET", "/v2/keys/b/k0"),
              "X-Raft-Index") == raft_before);
    // The copy takes writes and keeps counting from there.
    const std::string next = http_client(copy.client_port).request("PUT", "/v2/keys/b/next",
        "value=n");
    CHECK(status_of(next) == 201);
    CHECK(std::stoull(header_value(next, "X-Etcd-Index")) ==
        std::stoull(before.back().substr(0, before.back().find(' '))) + 1);
    CHECK(copy.stop() == 0);
}

TEST_CASE("backup honours --wal-dir and --backup-wal-dir, and copies a WAL left by kill -9",
          "[backup]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data", {"--wal-dir", dir.path() + "/wal"});
    node.start();
    REQUIRE(node.wait_ready());
    write_keys(node.client_port, 60);
    const auto before = answers(node.client_port, 60);
    node.kill9();
    const run_result r = run_tool({our_etcdctl, "backup", "--data-dir", dir.path() + "/data",
        "--wal-dir", dir.path() + "/wal", "--backup-dir", dir.path() + "/copy",
        "--backup-wal-dir", dir.path() + "/copy-wal"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(files_in(dir.path() + "/copy-wal", ".wal").size() == 1);
    durable_node copy(dir.path() + "/copy", {"--wal-dir", dir.path() + "/copy-wal"});
    same_ports(copy, node);
    copy.start();
    REQUIRE(copy.wait_ready());
    CHECK(answers(copy.client_port, 60) == before);
    CHECK(copy.stop() == 0);
}

TEST_CASE("backup of a missing data dir fails with Go etcdctl's line and exit status",
          "[backup]") {
    temp_dir dir;
    const std::vector<std::string> args = {"backup", "--data-dir", dir.path() + "/none",
        "--backup-dir", dir.path() + "/copy"};
    std::vector<std::string> ours{our_etcdctl};
    ours.insert(ours.end(), args.begin(), args.end());
    const run_result r = run_tool(ours);
    CHECK(r.code == 1);
    // "<date> <time> I | <message>": the message must be Go's.
    const auto bar = r.err.find(" I | ");
    REQUIRE(bar != std::string::npos);
    CHECK(r.err.substr(bar) ==
        " I | open " + dir.path() + "/none/member/snap: no such file or directory\n");
    if (access("/usr/bin/etcdctl", X_OK) == 0) {
        std::vector<std::string> go{"/usr/bin/etcdctl"};
        go.insert(go.end(), args.begin(), args.end());
        const run_result g = run_tool(go);
        CHECK(g.code == r.code);
        const auto go_bar = g.err.find(" I | ");
        REQUIRE(go_bar != std::string::npos);
        CHECK(g.err.substr(go_bar) == r.err.substr(bar));
    }
}
