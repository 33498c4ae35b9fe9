// v2 auth against real processes on loopback: Go etcdctl's user, role, auth and --username
// commands print the same against uetcd as against etcd 3.4; no clear-text password reaches
// the data dir or the log; 64 clients sending wrong passwords do not hold up other clients.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/process.hpp"
#include "support/run_tool.hpp"

using namespace uetcd::testing;
using namespace std::chrono_literals;

namespace {

struct tool_result {
    std::string output;  // stdout then stderr
    int code = -1;
};

// Runs Go etcdctl (API 2) with `input` on stdin; killed after `timeout`. Bounded.
tool_result run_etcdctl(const std::vector<std::string>& args, const std::string& input = {},
    std::chrono::milliseconds timeout = 20s) {
    std::vector<std::string> argv{"/usr/bin/etcdctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    run_result r = run_tool(argv, input, timeout);
    return {r.out + r.err, r.code};
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    std::size_t at = s.find(from);
    while (at != std::string::npos) {
        s.replace(at, from.size(), to);
        at = s.find(from, at + to.size());
    }
    return s;
}

// etcd 3.4 on free loopback ports, stopped on destruction.
struct reference_etcd {
    reference_etcd() {
        port = free_port();
        const int peer = free_port();
        const std::string url = "http://127.0.0.1:" + std::to_string(port);
        const std::string purl = "http://127.0.0.1:" + std::to_string(peer);
        proc.emplace(std::vector<std::string>{"/usr/bin/etcd", "--enable-v2", "--name", "ref",
                         "--data-dir", dir.path() + "/ref", "--listen-client-urls", url,
                         "--advertise-client-urls", url, "--listen-peer-urls", purl,
                         "--initial-advertise-peer-urls", purl, "--initial-cluster",
                         "ref=" + purl},
            dir.path() + "/ref.log");
    }
    temp_dir dir;
    int port = 0;
    std::optional<process> proc;
};

// One request on a fresh connection: the whole response.
std::string request(int port, const std::string& method, const std::string& target,
    const std::string& body = {}, const std::string& extra_headers = {}) {
    connection c(port);
    if (!c.connected()) {
        return {};
    }
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      extra_headers + "Connection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    c.send_all(req);
    return c.read_response();
}

// The commands of an operator's session; "@root" runs with --username root:rp.
const std::vector<std::vector<std::string>> etcdctl_session = {
    {"auth", "enable"},
    {"user", "add", "root:rp"},
    {"user", "add", "alice:ap"},
    {"user", "get", "alice"},
    {"user", "list"},
    {"role", "add", "app"},
    {"role", "add", "app"},
    {"role", "grant", "app", "--path", "/app/*", "--readwrite"},
    {"role", "grant", "app", "--path", "/app/*", "--read"},
    {"role", "grant", "app", "--path", "/ro", "--read"},
    {"role", "get", "app"},
    {"role", "list"},
    {"user", "grant", "alice", "--roles", "app"},
    {"user", "get", "alice"},
    {"auth", "enable"},
    {"user", "list"},
    {"@root", "user", "list"},
    {"@root", "role", "list"},
    {"@root", "role", "get", "guest"},
    {"--username", "alice:ap", "set", "/app/x", "1"},
    {"--username", "alice:ap", "get", "/app/x"},
    {"--username", "alice:wrong", "get", "/app/x"},
    {"--username", "nobody:x", "get", "/app/x"},
    {"--username", "alice:ap", "set", "/other", "1"},
    {"--username", "alice:ap", "ls", "/app"},
    {"--username", "alice:ap", "ls", "--recursive", "/app"},
    {"--username", "alice:ap", "user", "list"},
    {"--username", "alice:ap", "auth", "disable"},
    {"get", "/app/x"},
    {"@root", "role", "revoke", "guest", "--path", "/*", "--readwrite"},
    {"get", "/app/x"},
    {"set", "/app/y", "1"},
    {"@root", "user", "revoke", "alice", "--roles", "app"},
    {"--username", "alice:ap", "get", "/app/x"},
    {"@root", "user", "grant", "alice", "--roles", "app"},
    {"@root", "user", "passwd", "alice"},
    {"--username", "alice:ap", "get", "/app/x"},
    {"--username", "alice:np", "get", "/app/x"},
    {"@root", "user", "remove", "root"},
    {"--username", "alice:np", "member", "add", "x", "http://127.0.0.1:1"},
    {"@root", "auth", "disable"},
    {"auth", "disable"},
    {"user", "remove", "alice"},
    {"user", "remove", "alice"},
    {"role", "remove", "app"},
    {"role", "remove", "guest"},
    {"role", "remove", "root"},
    {"user", "remove", "root"},
    {"user", "list"},
    {"role", "list"},
};

std::string run_session(int port) {
    const std::string ep = "http://127.0.0.1:" + std::to_string(port);
    std::string transcript;
    for (auto args : etcdctl_session) {
        if (args.front() == "@root") {
            args.front() = "root:rp";
            args.insert(args.begin(), "--username");
        }
        args.insert(args.begin(), {"--endpoints", ep});
        const bool passwd = std::find(args.begin(), args.end(), "passwd") != args.end();
        auto r = run_etcdctl(args, passwd ? "np\n" : "");
        std::string line;
        for (std::size_t i = 2; i < args.size(); ++i) {  // without --endpoints EP
            line += args[i] + " ";
        }
        transcript += "$ " + line + "\n" + replace_all(r.output, ep, "EP") + "rc=" +
                      std::to_string(r.code) + "\n";
    }
    return transcript;
}

std::string base64(std::string_view in) {
    static constexpr char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) {
            v |= static_cast<unsigned char>(in[i + 1]) << 8;
        }
        if (i + 2 < in.size()) {
            v |= static_cast<unsigned char>(in[i + 2]);
        }
        out.push_back(table[(v >> 18) & 63]);
        out.push_back(table[(v >> 12) & 63]);
        out.push_back(i + 1 < in.size() ? table[(v >> 6) & 63] : '=');
        out.push_back(i + 2 < in.size() ? table[v & 63] : '=');
    }
    return out;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("Go etcdctl user, role, auth and --username print the same against uetcd and etcd 3.4",
    "[auth][etcdctl]") {
    if (!std::filesystem::exists("/usr/bin/etcd") || !std::filesystem::exists("/usr/bin/etcdctl")) {
        WARN("no etcd 3.4 / etcdctl: skipped");
        return;
    }
    reference_etcd ref;
    etcd_server ours;
    REQUIRE(wait_until_serving(ref.port, 20s));
    REQUIRE(ours.wait_ready());
    const std::string expected = run_session(ref.port);
    const std::string actual = run_session(ours.client_port);
    CHECK(actual == expected);
    // The session really exercised auth: a refused --username and an enabled switch.
    CHECK(expected.find("Insufficient credentials") != std::string::npos);
    CHECK(expected.find("Authentication Enabled") != std::string::npos);
}

TEST_CASE("no clear-text password reaches the data dir or the log", "[auth][canary]") {
    const std::string canary = "Canary-pw-6d1f9e";
    const std::string canary2 = "Canary-pw-b27c40";
    std::string data_dir;
    std::string log_path;
    std::string listing;
    {
        etcd_server ours;
        REQUIRE(ours.wait_ready());
        data_dir = ours.dir.path();
        const std::string json = "Content-Type: application/json\r\n";
        CHECK(status_of(request(ours.client_port, "PUT", "/v2/auth/users/canary",
                  "{\"user\":\"canary\",\"password\":\"" + canary + "\"}", json)) == 201);
        CHECK(status_of(request(ours.client_port, "PUT", "/v2/auth/users/root",
                  "{\"user\":\"root\",\"password\":\"" + canary + "r\"}", json)) == 201);
        CHECK(status_of(request(ours.client_port, "PUT", "/v2/auth/users/canary",
                  "{\"user\":\"canary\",\"password\":\"" + canary2 + "\"}", json)) == 200);
        const std::string ep = "http://127.0.0.1:" + std::to_string(ours.client_port);
        auto r = run_etcdctl({"--endpoints", ep, "user", "passwd", "canary"}, canary + "x\n");
        CHECK(r.code == 0);
        CHECK(status_of(request(ours.client_port, "PUT", "/v2/auth/enable")) == 200);
        // root:<canary>r grants the guest role, so the user may read.
        const std::string root = "Authorization: Basic cm9vdDpDYW5hcnktcHctNmQxZjllcg==\r\n";
        CHECK(status_of(request(ours.client_port, "PUT", "/v2/auth/users/canary",
                  "{\"user\":\"canary\",\"grant\":[\"guest\"]}", json + root)) == 200);
        // canary:<canary>x, the password etcdctl set last.
        const std::string good = "Authorization: Basic Y2FuYXJ5OkNhbmFyeS1wdy02ZDFmOWV4\r\n";
        CHECK(status_of(request(ours.client_port, "GET", "/v2/keys/", {}, good)) == 200);
        const std::string bad = "Authorization: Basic Y2FuYXJ5OkNhbmFyeS1wdy02ZDFmOWU=\r\n";
        CHECK(status_of(request(ours.client_port, "GET", "/v2/keys/", {}, bad)) == 401);
        // Grep while it runs, then after a clean stop.
        for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir)) {
            if (e.is_regular_file()) {
                const std::string text = read_file(e.path());
                CHECK(text.find(canary) == std::string::npos);
                CHECK(text.find(canary2) == std::string::npos);
            }
        }
        // SIGTERM still shuts down cleanly once the bcrypt workers exist (they block signals).
        ours.proc->signal(SIGTERM);
        CHECK(ours.proc->wait_exit(10s) == std::optional<int>(0));
        for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir)) {
            if (!e.is_regular_file()) {
                continue;
            }
            const std::string text = read_file(e.path());
            CHECK(text.find(canary) == std::string::npos);
            CHECK(text.find(canary2) == std::string::npos);
            listing += e.path().lexically_relative(data_dir).string() + " (" +
                       std::to_string(text.size()) + " bytes" +
                       (text.find("$2a$10$") != std::string::npos ? ", holds bcrypt hashes" : "") +
                       ")\n";
        }
    }
    INFO("data dir held:\n" << listing);
    CHECK(!listing.empty());
    WARN("canary test: data dir held:\n" << listing);
}

TEST_CASE("64 clients sending wrong passwords do not hold up other clients' GETs",
    "[auth][flood]") {
    etcd_server ours;
    REQUIRE(ours.wait_ready());
    const int port = ours.client_port;
    const std::string json = "Content-Type: application/json\r\n";
    REQUIRE(status_of(request(port, "PUT", "/v2/auth/users/root",
                "{\"user\":\"root\",\"password\":\"rp\"}", json)) == 201);
    REQUIRE(status_of(request(port, "PUT", "/v2/keys/flood", "value=1",
                "Content-Type: application/x-www-form-urlencoded\r\n")) == 201);
    REQUIRE(status_of(request(port, "PUT", "/v2/auth/enable")) == 200);
    const std::string root = "Authorization: Basic cm9vdDpycA==\r\n";
    REQUIRE(status_of(request(port, "GET", "/v2/keys/flood", {}, root)) == 200);

    std::atomic<bool> stop{false};
    std::atomic<int> refused{0};
    std::vector<std::thread> attackers;
    for (int i = 0; i < 64; ++i) {
        attackers.emplace_back([&, i] {
            const std::string bad = "GET /v2/keys/flood HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                    "Basic cm9vdDp3cm9uZw==\r\n\r\n";  // root:wrong
            connection c(port, 10000);
            while (!stop.load() && c.connected()) {
                if (!c.send_all(bad) || status_of(c.read_response()) != 401) {
                    break;
                }
                refused.fetch_add(1);
            }
            (void)i;
        });
    }
    std::this_thread::sleep_for(300ms);  // the pool's queue fills up
    std::vector<double> anonymous_ms, cached_ms;
    connection anon(port), authed(port);
    REQUIRE(anon.connected());
    REQUIRE(authed.connected());
    const std::string anon_get = "GET /v2/keys/flood HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string auth_get =
        "GET /v2/keys/flood HTTP/1.1\r\nHost: x\r\n" + root + "\r\n";
    const auto deadline = clock::now() + 3s;
    while (clock::now() < deadline && anonymous_ms.size() < 2000) {
        for (auto* sample : {&anonymous_ms, &cached_ms}) {
            const auto start = clock::now();
            auto& conn = sample == &anonymous_ms ? anon : authed;
            REQUIRE(conn.send_all(sample == &anonymous_ms ? anon_get : auth_get));
            REQUIRE(status_of(conn.read_response()) == 200);
            sample->push_back(
                std::chrono::duration<double, std::milli>(clock::now() - start).count());
        }
    }
    stop = true;
    for (auto& t : attackers) {
        t.join();
    }
    auto p99 = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, v.size() * 99 / 100)];
    };
    const double anon_p99 = p99(anonymous_ms);
    const double cached_p99 = p99(cached_ms);
    WARN("during the flood: anonymous GET p99 " << anon_p99 << " ms, cached basic-auth GET p99 "
         << cached_p99 << " ms over " << anonymous_ms.size() << " samples each; "
         << refused.load() << " wrong-password requests refused");
    CHECK(refused.load() > 0);
    // Generous: the machine is shared; the real target (10 ms) is measured in bench/load.
    CHECK(anon_p99 < 100.0);
    CHECK(cached_p99 < 100.0);
}

TEST_CASE("a changed password, a revoked role or the auth switch take effect at once on every core",
    "[auth][cache]") {
    etcd_server ours;
    REQUIRE(ours.wait_ready());
    const int port = ours.client_port;
    const std::string json = "Content-Type: application/json\r\n";
    const std::string root = "Authorization: Basic cm9vdDpycA==\r\n";
    REQUIRE(status_of(request(port, "PUT", "/v2/auth/users/root",
                "{\"user\":\"root\",\"password\":\"rp\"}", json)) == 201);
    REQUIRE(status_of(request(port, "PUT", "/v2/auth/roles/app",
                "{\"role\":\"app\",\"permissions\":{\"kv\":{\"read\":[\"/app/*\"]}}}", json)) ==
        201);
    REQUIRE(status_of(request(port, "PUT", "/v2/auth/users/alice",
                "{\"user\":\"alice\",\"password\":\"p0\",\"roles\":[\"app\"]}", json)) == 200);
    REQUIRE(status_of(request(port, "PUT", "/v2/keys/app/x", "value=1",
                "Content-Type: application/x-www-form-urlencoded\r\n")) == 201);
    REQUIRE(status_of(request(port, "PUT", "/v2/auth/enable")) == 200);
    // Keep-alive connections: the kernel spreads them over the server's cores.
    std::vector<connection> conns;
    for (int i = 0; i < 8; ++i) {
        conns.emplace_back(port);
        REQUIRE(conns.back().connected());
    }
    auto statuses = [&](const std::string& password) {
        std::string seen;
        const std::string req = "GET /v2/keys/app/x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
                                base64("alice:" + password) + "\r\n\r\n";
        for (auto& c : conns) {
            REQUIRE(c.send_all(req));
            seen += std::to_string(status_of(c.read_response())) + " ";
        }
        return seen;
    };
    const std::string all_ok = "200 200 200 200 200 200 200 200 ";
    const std::string all_refused = "401 401 401 401 401 401 401 401 ";
    for (int n = 1; n <= 3; ++n) {
        const std::string old_pw = "p" + std::to_string(n - 1);
        const std::string new_pw = "p" + std::to_string(n);
        CHECK(statuses(old_pw) == all_ok);  // now remembered on every core
        CHECK(status_of(request(port, "PUT", "/v2/auth/users/alice",
                  "{\"user\":\"alice\",\"password\":\"" + new_pw + "\"}", json + root)) == 200);
        CHECK(statuses(old_pw) == all_refused);
        CHECK(statuses(new_pw) == all_ok);
    }
    CHECK(status_of(request(port, "PUT", "/v2/auth/users/alice",
              "{\"user\":\"alice\",\"revoke\":[\"app\"]}", json + root)) == 200);
    CHECK(statuses("p3") == all_refused);
    CHECK(status_of(request(port, "PUT", "/v2/auth/users/alice",
              "{\"user\":\"alice\",\"grant\":[\"app\"]}", json + root)) == 200);
    CHECK(statuses("p3") == all_ok);
    CHECK(status_of(request(port, "PUT", "/v2/auth/roles/app",
              "{\"role\":\"app\",\"revoke\":{\"kv\":{\"read\":[\"/app/*\"]}}}", json + root)) ==
        200);
    CHECK(statuses("p3") == all_refused);
    CHECK(status_of(request(port, "DELETE", "/v2/auth/enable", {}, root)) == 200);
    CHECK(statuses("wrong") == all_ok);  // auth off: credentials are not looked at
    CHECK(status_of(request(port, "PUT", "/v2/auth/enable", {}, root)) == 200);
    CHECK(statuses("p3") == all_refused);
}
