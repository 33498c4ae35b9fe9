// The real etcd binary on loopback: what it answers, how it treats bad input (each row is
// answered and the server still serves afterwards), slow clients, many idle connections,
// shutdown, and start-up failures.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"

using namespace uetcd::testing;
using namespace std::chrono_literals;

namespace {

void require_still_serving(int port) {
    const std::string r = http_get(port, "/version");
    INFO("response after the bad request: " << r);
    REQUIRE(status_of(r) == 200);
}

}  // namespace

TEST_CASE("etcd answers /version and /health as etcd 2.3.8 does", "[integration]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const std::string version = http_get(srv.client_port, "/version");
    REQUIRE(status_of(version) == 200);
    REQUIRE(body_of(version) == R"({"etcdserver":"2.3.8","etcdcluster":"2.3.0"})");
    REQUIRE(version.find("Content-Type: application/json\r\n") != std::string::npos);
    const std::string health = http_get(srv.client_port, "/health");
    REQUIRE(status_of(health) == 200);
    REQUIRE(body_of(health) == R"({"health": "true"})");
    const std::string missing = http_get(srv.client_port, "/v2/nothing-here");
    REQUIRE(status_of(missing) == 404);
    REQUIRE(body_of(missing) == "404 page not found\n");
}

TEST_CASE("keep-alive connections serve pipelined requests in order", "[integration]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    connection c(srv.client_port);
    REQUIRE(c.connected());
    REQUIRE(c.send_all("GET /version HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                       "HEAD /version HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"));
    const std::string first = c.read_response();
    const std::string second = c.read_response();
    REQUIRE(body_of(first).find("etcdserver") != std::string::npos);
    REQUIRE(body_of(second) == R"({"health": "true"})");
    // HEAD: /version allows GET only (etcd 2.3.8), so a 405 whose 19-byte body is left
    // out; the next pipelined response must follow directly.
    const std::string head = c.read_response();
    REQUIRE(status_of(head) == 405);
    REQUIRE(head.find("Content-Length: 19\r\n") != std::string::npos);
    const std::string rest = body_of(head) + c.read_response();
    REQUIRE(rest.rfind("HTTP/1.1 404 Not Found", 0) == 0);
}

TEST_CASE("Expect: 100-continue gets an interim 100 before the body", "[integration]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    connection c(srv.client_port);
    REQUIRE(c.send_all("PUT /version HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    const std::string interim = c.read_response();
    REQUIRE(interim == "HTTP/1.1 100 Continue\r\n\r\n");
    REQUIRE(c.send_all("hello"));
    const std::string final_response = c.read_response();
    REQUIRE(status_of(final_response) == 405);
}

TEST_CASE("a chunked request body is accepted", "[integration]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    connection c(srv.client_port);
    REQUIRE(c.send_all("PUT /version HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;ext=1\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\n"
                       "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"));
    REQUIRE(status_of(c.read_response()) == 405);
    REQUIRE(status_of(c.read_response()) == 200);
}

struct bad_input {
    const char* what;
    std::string bytes;
    int expected_status;  // 0: the connection is closed without an answer
};

TEST_CASE("bad input is answered and the server keeps serving", "[integration][bad-input]") {
    const std::string long_target(9000, 'a');
    const std::string big_header = "X-Big: " + std::string(70000, 'b') + "\r\n";
    std::string client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    client_hello += std::string(64, '\x42');
    std::string garbage;
    for (int i = 0; i < 512; ++i) {
        garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
    }
    const std::vector<bad_input> rows = {
        {"bad percent-escape in the path", "GET /v2/keys/%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"request line over 8 KiB", "GET /" + long_target + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
        {"headers over 64 KiB", "GET / HTTP/1.1\r\nHost: a\r\n" + big_header + "\r\n", 431},
        {"Content-Length and Transfer-Encoding (smuggling)",
            "POST /version HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"negative Content-Length",
            "POST /version HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        {"oversized Content-Length",
            "POST /version HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 413},
        {"HTTP/1.1 without Host", "GET /version HTTP/1.1\r\n\r\n", 400},
        {"binary garbage", garbage, 400},
        {"a TLS ClientHello on the plain port", client_hello, 400},
        {"unknown method", "BREW /version HTTP/1.1\r\nHost: a\r\n\r\n", 405},
        {"unsupported Transfer-Encoding",
            "POST /version HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"HTTP/2.0 request line", "GET /version HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    };
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    for (const auto& row : rows) {
        INFO(row.what);
        connection c(srv.client_port);
        REQUIRE(c.connected());
        c.send_all(row.bytes);
        const std::string answer = c.read_response();
        CHECK(status_of(answer) == row.expected_status);
        require_still_serving(srv.client_port);
    }
}

TEST_CASE("a body shorter than its Content-Length times out with 408",
    "[integration][slow]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    connection c(srv.client_port, 30000);
    const auto start = clock::now();
    REQUIRE(c.send_all("PUT /version HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nshort"));
    const std::string answer = c.read_until_close();
    const auto waited = clock::now() - start;
    REQUIRE(status_of(answer) == 408);
    REQUIRE(c.peer_closed());
    REQUIRE(waited < 30s);
    require_still_serving(srv.client_port);
}

TEST_CASE("a slowloris client is closed within 30 s", "[integration][slow]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    connection c(srv.client_port, 1000);
    const auto start = clock::now();
    const std::string head = "GET /version HTTP/1.1\r\nHost: a\r\nX-Slow: ";
    // One byte every 500 ms: each recv is active, only the head deadline can stop it.
    bool closed = false;
    for (int i = 0; i < 70 && !closed; ++i) {
        if (!c.send_all(std::string(1, i < static_cast<int>(head.size()) ? head[i] : 'z'))) {
            closed = true;
            break;
        }
        char probe[256];
        const auto n = ::recv(c.fd(), probe, sizeof(probe), MSG_DONTWAIT);
        if (n == 0 || (n > 0 && std::string(probe, static_cast<std::size_t>(n)).find(
                                    "408") != std::string::npos)) {
            closed = true;
            break;
        }
        std::this_thread::sleep_for(500ms);
    }
    REQUIRE(closed);
    REQUIRE(clock::now() - start < 30s);
    require_still_serving(srv.client_port);
}

TEST_CASE("10,000 idle connections stay open with bounded memory per connection",
    "[integration][idle]") {
    constexpr int idle_count = 10000;
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < idle_count + 100) {
        limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, idle_count + 1000);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    REQUIRE(limit.rlim_cur >= idle_count + 100);
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const long rss_before_kib = srv.proc->rss_kib();
    std::vector<connection> idle;
    idle.reserve(idle_count);
    for (int i = 0; i < idle_count; ++i) {
        idle.emplace_back(srv.client_port);
        REQUIRE(idle.back().connected());
    }
    // Each connection has been accepted and is waiting in a recv once a request on a new
    // connection is answered after all of them (one accept queue per core, FIFO).
    require_still_serving(srv.client_port);
    std::this_thread::sleep_for(300ms);
    const long rss_after_kib = srv.proc->rss_kib();
    const double per_connection_bytes =
        static_cast<double>(rss_after_kib - rss_before_kib) * 1024.0 / idle_count;
    WARN("RSS " << rss_before_kib << " KiB -> " << rss_after_kib << " KiB with " << idle_count
                << " idle connections: " << per_connection_bytes << " bytes per connection");
    REQUIRE(per_connection_bytes < 8192);
    // Every one of them still works.
    for (int i = 0; i < idle_count; i += 997) {
        REQUIRE(idle[static_cast<std::size_t>(i)].send_all(
            "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"));
        REQUIRE(status_of(idle[static_cast<std::size_t>(i)].read_response()) == 200);
    }
}

TEST_CASE("SIGTERM and SIGINT stop the server cleanly with exit status 0", "[integration]") {
    for (const int sig : {SIGTERM, SIGINT}) {
        etcd_server srv;
        REQUIRE(srv.wait_ready());
        connection idle(srv.client_port);
        REQUIRE(idle.send_all("GET /health HTTP/1.1\r\nHost: a\r\n\r\n"));
        REQUIRE(status_of(idle.read_response()) == 200);
        srv.proc->signal(sig);
        const auto status = srv.proc->wait_exit(5s);
        REQUIRE(status.has_value());
        REQUIRE(*status == 0);
        REQUIRE(srv.proc->log().find("shutting down") != std::string::npos);
    }
}

TEST_CASE("start-up failures print one clear line and exit non-zero", "[integration]") {
    temp_dir dir;
    const int port = free_port();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    const std::string peer = "http://127.0.0.1:" + std::to_string(free_port());
    const std::vector<std::string> base = {etcd_binary(), "--data-dir", dir.path() + "/d",
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "default=" + peer};

    SECTION("client port in use") {
        loopback_listener holder(port);  // a plain socket holds the client port
        REQUIRE(holder.bound());
        auto argv = base;
        argv.insert(argv.end(), {"--listen-client-urls", url, "--advertise-client-urls", url});
        process p(argv, dir.path() + "/log");
        const auto status = p.wait_exit(5s);
        REQUIRE(status.has_value());
        REQUIRE(*status == 1);
        REQUIRE(p.log().find("bind: address already in use") != std::string::npos);
    }
    SECTION("unknown flag") {
        auto argv = base;
        argv.push_back("--no-such-flag");
        process p(argv, dir.path() + "/log");
        const auto status = p.wait_exit(5s);
        REQUIRE(status == 2);
        REQUIRE(p.log().find("flag provided but not defined: -no-such-flag") !=
            std::string::npos);
    }
    SECTION("bad URL") {
        auto argv = base;
        argv.insert(argv.end(), {"--listen-client-urls", "ftp://127.0.0.1:1",
                                    "--advertise-client-urls", url});
        process p(argv, dir.path() + "/log");
        const auto status = p.wait_exit(5s);
        REQUIRE(status.has_value());
        REQUIRE(*status != 0);
        REQUIRE(p.log().find("ftp://127.0.0.1:1") != std::string::npos);
    }
    SECTION("unwritable data dir") {
        const std::string file = dir.path() + "/a-file";
        { std::ofstream(file) << "x"; }
        std::vector<std::string> argv = {etcd_binary(), "--data-dir", file + "/data",
            "--listen-client-urls", url, "--advertise-client-urls", url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "default=" + peer};
        process p(argv, dir.path() + "/log");
        const auto status = p.wait_exit(5s);
        REQUIRE(status == 1);
        REQUIRE(p.log().find("cannot access data directory") != std::string::npos);
    }
}

TEST_CASE("where io_uring is refused, auto falls back to epoll and serves; uring refuses",
    "[integration][seccomp]") {
    const std::string launcher = std::string(UETCD_BUILD_ROOT) + "/tests/seccomp/no-uring";
    for (const std::string errno_name : {"EPERM", "ENOSYS"}) {
        INFO("io_uring refused with " << errno_name);
        etcd_server srv({}, {}, {launcher, "--errno=" + errno_name});
        REQUIRE(srv.wait_ready());
        const std::string log = srv.proc->log();
        REQUIRE(log.find("io_uring refused") != std::string::npos);
        REQUIRE(log.find("; using epoll") != std::string::npos);
        REQUIRE(status_of(http_get(srv.client_port, "/health")) == 200);
    }
    etcd_server strict({"--io-engine", "uring"}, {}, {launcher});
    const auto status = strict.proc->wait_exit(5s);
    REQUIRE(status == 1);
    REQUIRE(strict.proc->log().find("io_uring is not available") != std::string::npos);
}

TEST_CASE("the epoll engine serves the same answers", "[integration][epoll]") {
    etcd_server srv({"--io-engine", "epoll"});
    REQUIRE(srv.wait_ready());
    REQUIRE(srv.proc->log().find("using epoll") != std::string::npos);
    REQUIRE(body_of(http_get(srv.client_port, "/health")) == R"({"health": "true"})");
    connection c(srv.client_port);
    REQUIRE(c.send_all("GET /version HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"));
    REQUIRE(status_of(c.read_response()) == 200);
    REQUIRE(status_of(c.read_response()) == 200);
}

TEST_CASE("a keep-alive connection idle past the buffer release still serves",
    "[integration][slow]") {
    // After 5 s idle the connection gives its buffers back and waits with a peek.
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    connection c(srv.client_port, 10000);
    REQUIRE(c.send_all("GET /health HTTP/1.1\r\nHost: a\r\n\r\n"));
    REQUIRE(status_of(c.read_response()) == 200);
    std::this_thread::sleep_for(6s);
    REQUIRE(c.send_all("GET /version HTTP/1.1\r\nHost: a\r\n\r\n"));
    REQUIRE(status_of(c.read_response()) == 200);
}
