// Our build/etcdctl against Go etcdctl v2 (ETCDCTL_API=2 /usr/bin/etcdctl, etcd 3.4.23): the
// same command lines against ONE server must print the same bytes on stdout and stderr and
// exit alike, after normalising what differs between two runs (the key prefix, indexes).
// The server is the real etcd 3.4 by default; UETCD_CTL_TARGET=uetcd runs ours instead.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <regex>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/run_tool.hpp"

using namespace uetcd::testing;
using namespace std::chrono_literals;

namespace {

std::string ours_binary() { return std::string(UETCD_BUILD_ROOT) + "/etcdctl"; }
const std::string go_binary = "/usr/bin/etcdctl";

// The server under test, shared by every case (fresh keys per case).
struct target_server {
    target_server() {
        const char* target = std::getenv("UETCD_CTL_TARGET");
        if (target != nullptr && std::string(target) == "uetcd") {
            ours.emplace();
            port = ours->client_port;
            REQUIRE(ours->wait_ready());
            return;
        }
        port = free_port();
        const int peer = free_port();
        const std::string url = "http://127.0.0.1:" + std::to_string(port);
        const std::string purl = "http://127.0.0.1:" + std::to_string(peer);
        reference.emplace(std::vector<std::string>{"/usr/bin/etcd", "--enable-v2", "--name",
                              "ref", "--data-dir", dir.path() + "/ref", "--listen-client-urls",
                              url, "--advertise-client-urls", url, "--listen-peer-urls", purl,
                              "--initial-advertise-peer-urls", purl, "--initial-cluster",
                              "ref=" + purl},
            dir.path() + "/ref.log");
        REQUIRE(wait_until_serving(port, 20s));
    }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port); }

    temp_dir dir;
    int port = 0;
    std::optional<process> reference;
    std::optional<etcd_server> ours;
};

target_server& server() {
    static target_server s;
    return s;
}

int case_counter = 0;

// The server's X-Etcd-Index now.
std::string current_index() {
    const std::string response = http_get(server().port, "/v2/keys/");
    const auto at = response.find("X-Etcd-Index: ");
    REQUIRE(at != std::string::npos);
    return response.substr(at + 14, response.find('\r', at) - at - 14);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t p = text.find(from); p != std::string::npos;
         p = text.find(from, p + to.size())) {
        text.replace(p, from.size(), to);
    }
    return text;
}

// Indexes and TTL countdowns differ between the two runs: numbers of 2+ digits become N.
std::string normalize(const std::string& text, const std::string& prefix) {
    static const std::regex index("(Index: |Index\":|\\[)[0-9]+");
    static const std::regex number("[0-9]{2,}");
    static const std::regex expiration("\"expiration\":\"[^\"]*\"");
    std::string t = replace_all(text, prefix, "/KEY");
    t = std::regex_replace(t, expiration, "\"expiration\":\"E\"");
    t = std::regex_replace(t, index, "$1N");
    return std::regex_replace(t, number, "N");
}

struct step {
    std::vector<std::string> args;  // "KEY" is replaced by the per-run prefix
    std::string input;              // stdin
    bool usage = false;             // a usage error: our help text differs, compare the rest
};

// The first line of stdout ("Incorrect Usage: ...") is Go's; the help after it is our own.
std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

// Runs the steps with both binaries (each on its own keys) and compares every step.
void same_as_go(const std::vector<step>& steps, bool with_endpoint = true) {
    const int n = ++case_counter;
    const std::string go_prefix = "/ctlgo" + std::to_string(n);
    const std::string our_prefix = "/ctlours" + std::to_string(n);
    for (const auto& s : steps) {
        std::vector<std::string> go_argv{go_binary};
        std::vector<std::string> our_argv{ours_binary()};
        if (with_endpoint) {
            for (auto* v : {&go_argv, &our_argv}) {
                v->insert(v->end(), {"--endpoints", server().endpoint()});
            }
        }
        for (const auto& a : s.args) {
            go_argv.push_back(replace_all(a, "KEY", go_prefix));
            our_argv.push_back(replace_all(a, "KEY", our_prefix));
        }
        const run_result go = run_tool(go_argv, s.input);
        const run_result ours = run_tool(our_argv, s.input);
        std::string line;
        for (const auto& a : s.args) {
            line += a + " ";
        }
        INFO("etcdctl " << line);
        if (s.usage) {
            CHECK(first_line(ours.out) == first_line(go.out));
        } else {
            CHECK(normalize(ours.out, our_prefix) == normalize(go.out, go_prefix));
        }
        CHECK(normalize(ours.err, our_prefix) == normalize(go.err, go_prefix));
        CHECK(ours.code == go.code);
    }
}

// Answers every request with 200 and `members_json` (GET /v2/members) or 404, until stopped.
// Lets cluster-health and the sync see members whose client URLs are down or missing.
class fake_members_server {
public:
    explicit fake_members_server(std::string members_json) : _body(std::move(members_json)) {
        port = _listener.port;
        _thread = std::thread([this] { serve(); });
    }
    ~fake_members_server() {
        _stop = true;
        ::shutdown(_listener.fd(), SHUT_RDWR);
        _thread.join();
    }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port); }
    int port = 0;

private:
    void serve() {
        for (int served = 0; served < 1000 && !_stop; ++served) {
            pollfd p{_listener.fd(), POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) {
                continue;
            }
            const int c = ::accept(_listener.fd(), nullptr, nullptr);
            if (c < 0) {
                continue;
            }
            const std::string got = read_request_head(c);
            const bool members = got.starts_with("GET /v2/members ");
            const std::string body = members ? _body : "404 page not found\n";
            const std::string status = members ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found";
            const std::string reply = status +
                                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                                      std::to_string(body.size()) +
                                      "\r\nConnection: close\r\n\r\n" + body;
            ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
            ::close(c);
        }
    }
    loopback_listener _listener;
    std::string _body;
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

}  // namespace

TEST_CASE("etcdctl: cluster-health with unreachable members; sync without client URLs",
    "[etcdctl]") {
    const std::string dead_a = "http://127.0.0.1:" + std::to_string(free_port());
    const std::string dead_b = "http://127.0.0.1:" + std::to_string(free_port());
    fake_members_server fake(R"({"members":[{"id":"aaa","name":"a","peerURLs":["http://x:2"],)"
                             R"("clientURLs":[")" + dead_a + R"(",")" + dead_b + R"("]},)"
                             R"({"id":"bbb","name":"b","peerURLs":["http://x:4"],"clientURLs":[]},)"
                             R"({"id":"ccc","name":"c","peerURLs":["http://x:5"],"clientURLs":[")" +
                             server().endpoint() + R"("]}]})");
    same_as_go({{{"--endpoints", fake.endpoint(), "cluster-health"}},
                   {{"--no-sync", "--endpoints", fake.endpoint(), "member", "list"}},
                   {{"--endpoints", dead_a, "cluster-health"}},
                   {{"--no-sync", "--endpoints", fake.endpoint(), "member", "add", "x",
                       "http://127.0.0.1:9"}},
                   {{"--no-sync", "--endpoints", fake.endpoint(), "member", "remove", "aaa"}},
                   {{"--no-sync", "--endpoints", fake.endpoint(), "member", "remove", "b"}},
                   {{"--no-sync", "--endpoints", fake.endpoint(), "member", "remove", "zz"}}},
        false);
    fake_members_server empty(R"({"members":[{"id":"aaa","name":"a","peerURLs":["http://x:2"],)"
                              R"("clientURLs":[]}]})");
    same_as_go({{{"--endpoints", empty.endpoint(), "get", "/a"}},
                   {{"--debug", "--endpoints", empty.endpoint(), "get", "/a"}}},
        false);
}

TEST_CASE("etcdctl: quick start", "[etcdctl]") {
    const std::string ep = server().endpoint();
    auto set = run_tool({ours_binary(), "--endpoints", ep, "set", "mykey", "this is awesome"});
    CHECK(set.out == "this is awesome\n");
    CHECK(set.code == 0);
    auto get = run_tool({ours_binary(), "--endpoints", ep, "get", "mykey"});
    CHECK(get.out == "this is awesome\n");
    CHECK(get.err.empty());
    CHECK(get.code == 0);
}

TEST_CASE("etcdctl: set, get and the output formats", "[etcdctl]") {
    same_as_go({{{"set", "KEY/a", "hello"}}, {{"get", "KEY/a"}},
        {{"-o", "extended", "set", "KEY/a", "x2"}}, {{"-o", "json", "get", "KEY/a"}},
        {{"-o", "extended", "get", "KEY/a"}}, {{"-o", "json", "set", "KEY/b", "v", "--ttl", "30"}},
        {{"--output", "extended", "get", "KEY/b"}}, {{"get", "--quorum", "KEY/a"}},
        {{"get", "-q", "KEY/a"}}, {{"get", "KEY/nokey"}}, {{"-o", "json", "get", "KEY/nokey"}},
        {{"get", "KEY"}}, {{"-o", "bogus", "get", "KEY/a"}}, {{"set", "KEY/u", "a b&c=d/é"}},
        {{"-o", "json", "get", "KEY/u"}}, {{"set", "KEY/neg", "--", "-5"}}});
}

TEST_CASE("etcdctl: swaps, mk, update", "[etcdctl]") {
    same_as_go({{{"set", "KEY/a", "1"}}, {{"set", "KEY/a", "2", "--swap-with-value", "nope"}},
        {{"set", "KEY/a", "2", "--swap-with-value", "1"}},
        {{"set", "KEY/a", "3", "--swap-with-index", "1"}}, {{"mk", "KEY/a", "3"}},
        {{"mk", "KEY/c", "3"}}, {{"-o", "json", "mk", "--in-order", "KEY/q", "x"}},
        {{"mk", "KEY/q", "y", "--in-order", "--ttl", "40"}}, {{"update", "KEY/nope", "1"}},
        {{"-o", "extended", "update", "KEY/c", "4"}}, {{"update", "--ttl", "20", "KEY/c", "5"}}});
}

TEST_CASE("etcdctl: values from stdin", "[etcdctl]") {
    same_as_go({{{"set", "KEY/s"}, "from stdin\n"}, {{"get", "KEY/s"}},
        {{"mk", "KEY/m"}, "{\"x\":\"<&>\"}"}, {{"-o", "json", "get", "KEY/m"}},
        {{"update", "KEY/m"}, "v2"}, {{"set", "KEY/e"}, ""}, {{"set"}, ""}});
}

TEST_CASE("etcdctl: directories", "[etcdctl]") {
    same_as_go({{{"mkdir", "KEY/d"}}, {{"mkdir", "KEY/d"}},
        {{"-o", "json", "mkdir", "KEY/d2", "--ttl", "50"}}, {{"setdir", "KEY/d"}},
        {{"-o", "extended", "setdir", "KEY/d3"}}, {{"-o", "extended", "updatedir", "KEY/d",
        "--ttl", "20"}}, {{"updatedir", "KEY/zz"}}, {{"rmdir", "KEY/d2"}},
        {{"-o", "json", "rmdir", "KEY/d3"}}, {{"rmdir", "KEY/none"}}, {{"mkdir"}}});
}

TEST_CASE("etcdctl: rm", "[etcdctl]") {
    same_as_go({{{"set", "KEY/a", "1"}}, {{"rm", "KEY/a"}}, {{"set", "KEY/c", "1"}},
        {{"-o", "extended", "rm", "KEY/c"}}, {{"mkdir", "KEY/d"}}, {{"rm", "KEY/d"}},
        {{"rm", "--dir", "KEY/d"}}, {{"set", "KEY/e/f", "1"}}, {{"rm", "KEY/e"}},
        {{"-o", "json", "rm", "-r", "KEY/e"}}, {{"set", "KEY/w", "1"}},
        {{"rm", "KEY/w", "--with-value", "2"}}, {{"rm", "KEY/w", "--with-index", "1"}},
        {{"rm", "KEY/w", "--with-value", "1"}}, {{"rm", "KEY/w"}}, {{"rm"}}});
}

TEST_CASE("etcdctl: ls", "[etcdctl]") {
    same_as_go({{{"set", "KEY/a/b", "1"}}, {{"set", "KEY/a/c/d", "2"}}, {{"mkdir", "KEY/e"}},
        {{"ls", "--sort", "KEY"}}, {{"ls", "--sort", "-r", "KEY"}},
        {{"ls", "--sort", "--recursive", "-p", "KEY"}}, {{"ls", "KEY/a/b"}},
        {{"-o", "json", "ls", "--sort", "-r", "KEY"}}, {{"-o", "extended", "ls", "KEY/e"}},
        {{"ls", "KEY/none"}}, {{"ls", "-q", "KEY/e"}}});
}

TEST_CASE("etcdctl: watch and exec-watch from history", "[etcdctl]") {
    same_as_go({{{"set", "KEY/a", "1"}}, {{"mkdir", "KEY/d"}}, {{"set", "KEY/a", "2"}},
        {{"watch", "--after-index", "1", "KEY/a"}},
        {{"-o", "extended", "watch", "--after-index", "1", "KEY/a"}},
        {{"-o", "json", "watch", "-r", "--after-index", "1", "KEY"}},
        {{"watch", "--recursive", "--after-index", "1", "KEY"}}, {{"watch"}},
        {{"exec-watch", "KEY"}}});
}

TEST_CASE("etcdctl: watch waits for the next change; --forever keeps going", "[etcdctl]") {
    const std::string ep = server().endpoint();
    for (const std::string& binary : {go_binary, ours_binary()}) {
        const std::string key = "/ctlwatch" + std::to_string(++case_counter);
        std::string log = server().dir.path() + key + ".log";
        // --after-index the current index: events are not missed however late it starts.
        process watcher({"/bin/sh", "-c", "exec " + binary + " --endpoints " + ep +
                                              " watch -f -r --after-index " +
                                              current_index() + " " + key},
            log, {"ETCDCTL_API=2"});
        run_tool({ours_binary(), "--endpoints", ep, "set", key + "/x", "1"});
        run_tool({ours_binary(), "--endpoints", ep, "mkdir", key + "/dir"});
        run_tool({ours_binary(), "--endpoints", ep, "set", key + "/x", "2"});
        const auto deadline = clock::now() + 5s;
        while (watcher.log().find("\n2\n") == std::string::npos && clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        watcher.signal(SIGINT);
        INFO(binary);
        CHECK(watcher.wait_exit(5s) == 0);
        CHECK(replace_all(watcher.log(), key, "/K") == "[set] /K/x\n1\n[set] /K/x\n2\n");
    }
}

TEST_CASE("etcdctl: exec-watch runs the command with the event in its environment",
    "[etcdctl]") {
    const std::string ep = server().endpoint();
    for (const std::string& binary : {go_binary, ours_binary()}) {
        const std::string key = "/ctlexec" + std::to_string(++case_counter);
        run_tool({ours_binary(), "--endpoints", ep, "set", key, "v1"});
        std::string log = server().dir.path() + key + ".log";
        // Go's 3.4 quirk kept: urfave drops the "--", so the key is the last argument.
        process watcher({binary, "--endpoints", ep, "exec-watch", "--after-index", "1", "sh",
                            "-c", "echo $ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE",
                            key},
            log, {"ETCDCTL_API=2"});
        const auto deadline = clock::now() + 5s;
        while (watcher.log().find("v1") == std::string::npos && clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        watcher.signal(SIGINT);
        INFO(binary);
        CHECK(watcher.wait_exit(5s) == 0);
        CHECK(watcher.log() == "set " + key + " v1\n");
    }
}

TEST_CASE("etcdctl: global flags, errors and exit codes", "[etcdctl]") {
    same_as_go({{{"--version"}}, {{"foo"}}, {{"--debug", "set", "KEY/a", "a b", "--ttl", "5"}},
        {{"--debug", "--no-sync", "get", "KEY/a"}}, {{"--debug", "mkdir", "KEY/sp ace?"}},
        {{"--no-sync", "-C", "http://127.0.0.1:1," + server().endpoint(), "get", "KEY/a"}},
        {{"--peers", server().endpoint(), "get", "KEY/a"}},
        {{"--timeout", "3s", "--total-timeout", "10s", "get", "KEY/a"}},
        {{"set", "KEY/a"}, ""}, {{"get"}}, {{"--total-timeout", "1ns", "get", "KEY/a"}},
        {{"--timeout", "1ns", "get", "KEY/a"}}, {{"--no-sync", "--timeout", "1ns", "get", "KEY/a"}},
        {{"get", "-x", "KEY/a"}, "", true}, {{"--bogus", "get", "KEY/a"}, "", true},
        {{"set", "KEY/t", "1", "--ttl", "abc"}, "", true}, {{"member", "foo"}},
        {{"get", "KEY/a", "extra"}}, {{"--no-sync", "get", "KEY/a", "-q", "--sort"}}});
    same_as_go({{{"--endpoints", "http://127.0.0.1:1", "get", "KEY/a"}},
                   {{"--no-sync", "--endpoints", "http://127.0.0.1:1", "get", "KEY/a"}}},
        false);
}

TEST_CASE("etcdctl: member, cluster-health, user, role, auth", "[etcdctl]") {
    same_as_go({{{"member", "list"}}, {{"cluster-health"}}, {{"member", "add"}},
        {{"member", "remove", "1234"}}, {{"member", "update", "1"}},
        {{"member", "update", "1234", "http://127.0.0.1:1"}}, {{"role", "list"}},
        {{"role", "get", "root"}}, {{"role", "get", "nobody"}}, {{"user", "list"}},
        {{"user", "get", "nobody"}}, {{"user", "grant"}}, {{"user", "grant", "x", "--roles", "r"}},
        {{"role", "grant", "r"}}, {{"role", "grant", "r", "--path", "/a//b"}},
        {{"role", "grant", "r", "--path", "/a", "--read", "--write"}}, {{"auth", "enable"}}});
}

TEST_CASE("etcdctl: member update with the member's own peer URL", "[etcdctl]") {
    const std::string ep = server().endpoint();
    auto list = run_tool({ours_binary(), "--endpoints", ep, "member", "list"});
    const std::string id = list.out.substr(0, list.out.find(':'));
    const auto peer_at = list.out.find("peerURLs=") + 9;
    const std::string peer = list.out.substr(peer_at, list.out.find(' ', peer_at) - peer_at);
    same_as_go({{{"member", "update", id, peer}}, {{"member", "update", id + "0", peer}},
        {{"member", "add", "dup", peer}}, {{"member", "list"}}});
}

TEST_CASE("etcdctl: user and role round trip", "[etcdctl]") {
    const std::string ep = server().endpoint();
    const std::string n = std::to_string(++case_counter);
    for (const std::string& who : {std::string("go"), std::string("ours")}) {
        const std::string binary = who == "go" ? go_binary : ours_binary();
        const std::string user = "u" + who + n;
        const std::string role = "r" + who + n;
        auto run = [&](std::vector<std::string> args, const std::string& input = {}) {
            args.insert(args.begin(), {binary, "--endpoints", ep});
            auto r = run_tool(args, input);
            return replace_all(replace_all(r.out + r.err, user, "U"), role, "R") + "rc=" +
                   std::to_string(r.code) + "\n";
        };
        std::string transcript = run({"user", "add", user + ":pw"}) +
                                 run({"user", "get", user}) + run({"role", "add", role}) +
                                 run({"role", "add", role}) +
                                 run({"role", "grant", role, "--path", "/x/*", "--read"}) +
                                 run({"role", "grant", role, "--path", "/x/*", "--read"}) +
                                 run({"role", "grant", role, "--path", "/y", "--rw"}) +
                                 run({"role", "get", role}) +
                                 run({"user", "grant", user, "--roles", role}) +
                                 run({"user", "get", user}) +
                                 run({"user", "revoke", user, "--roles", role}) +
                                 run({"role", "revoke", role, "--path", "/y", "--write"}) +
                                 run({"role", "get", role}) +
                                 run({"role", "revoke", role, "--path", "/z", "--read"}) +
                                 run({"user", "add", user + ":other"}) +
                                 run({"user", "revoke", user, "--roles", role}) +
                                 run({"user", "grant", user, "--roles", "nothere"}) +
                                 run({"user", "get", user}) + run({"role", "remove", role}) +
                                 run({"user", "remove", user});
        static std::string go_transcript;
        if (who == "go") {
            go_transcript = transcript;
        } else {
            CHECK(transcript == go_transcript);
        }
    }
}

// backup is tested on real data dirs in tests/durability/backup_test.cpp.
TEST_CASE("etcdctl: https dials like http; version", "[etcdctl]") {
    auto t = run_tool({ours_binary(), "--endpoints", "https://127.0.0.1:1", "get", "/a"});
    // TLS itself is tested in tests/tls; here a closed https port fails as Go's does.
    CHECK(t.code == 2);
    CHECK(t.err.find("connect: connection refused") != std::string::npos);
    auto v = run_tool({ours_binary(), "version"});
    CHECK(v.out.starts_with("etcdctl version: 3.4.23\nAPI version: 2\nuetcd version: "));
}
