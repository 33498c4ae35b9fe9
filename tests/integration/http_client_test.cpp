// The reactor HTTP client against real servers on loopback: our etcd, the reference
// etcd 3.4, and a scripted raw server for the framings the others do not produce.
// Arguments of co_await calls are named variables: g++ 12 can destroy a temporary
// std::string inside a co_await full-expression twice.
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "support/on_reactor.hpp"
#include "support/process.hpp"
#include "uetcd/http/client.hpp"
#include "uetcd/reactor/smp.hpp"

using namespace uetcd::testing;
using namespace std::chrono_literals;
namespace http = uetcd::http;
namespace rx = uetcd::reactor;

namespace {

// Accepts one connection, reads one request head, writes `reply`, then closes.
class scripted_server {
public:
    explicit scripted_server(std::string reply) : _reply(std::move(reply)) {
        port = _listener.port;
        _thread = std::thread([this] {
            const int c = ::accept(_listener.fd(), nullptr, nullptr);
            request = read_request_head(c);
            ::send(c, _reply.data(), _reply.size(), MSG_NOSIGNAL);
            ::close(c);
        });
    }
    ~scripted_server() { _thread.join(); }
    int port = 0;
    std::string request;

private:
    loopback_listener _listener;
    std::string _reply;
    std::thread _thread;
};

}  // namespace

TEST_CASE("client: parse_response_head splits status, reason and headers", "[client]") {
    http::client_response r;
    auto n = http::parse_response_head("HTTP/1.1 404 Not Found\r\nX-A: 1\r\n"
                                       "Content-Length:  3 \r\n\r\nabc", r);
    REQUIRE(n.ok());
    REQUIRE(*n == 55);
    REQUIRE(r.status == 404);
    REQUIRE(r.reason == "Not Found");
    REQUIRE(r.header("content-length") == "3");
    auto partial = http::parse_response_head("HTTP/1.1 200 OK\r\nX-A: 1\r\n", r);
    REQUIRE(partial.ok());
    REQUIRE(*partial == 0);
    auto bad = http::parse_response_head("SSH-2.0-OpenSSH\r\n\r\n", r);
    REQUIRE_FALSE(bad.ok());
}

TEST_CASE("client: GET from our etcd and the reference etcd 3.4, keep-alive reused",
    "[client][reference]") {
    etcd_server ours;
    REQUIRE(ours.wait_ready());
    temp_dir dir;
    const int port = free_port();
    const int peer = free_port();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    const std::string purl = "http://127.0.0.1:" + std::to_string(peer);
    process reference({"/usr/bin/etcd", "--enable-v2", "--name", "ref", "--data-dir",
                          dir.path() + "/ref", "--listen-client-urls", url,
                          "--advertise-client-urls", url, "--listen-peer-urls", purl,
                          "--initial-advertise-peer-urls", purl, "--initial-cluster",
                          "ref=" + purl},
        dir.path() + "/ref.log");
    REQUIRE(wait_until_serving(port, 20s));
    std::string ours_body;
    std::string reference_body;
    int reused_status = 0;
    on_reactor([&]() -> rx::task<void> {
        const std::string ours_url =
            "http://127.0.0.1:" + std::to_string(ours.client_port) + "/version";
        auto a = co_await http::fetch(ours_url);
        REQUIRE(a.ok());
        ours_body = a->body;
        auto address = rx::parse_socket_address("127.0.0.1:" + std::to_string(port));
        auto conn = co_await http::client_connection::open(*address, 2'000'000'000);
        REQUIRE(conn.ok());
        http::client_request version_request{.target = "/version"};
        auto b = co_await conn->send(version_request, 2'000'000'000);
        REQUIRE(b.ok());
        reference_body = b->body;
        REQUIRE(conn->is_open());
        http::client_request health_request{.target = "/health"};
        auto c = co_await conn->send(health_request, 2'000'000'000);
        REQUIRE(c.ok());
        reused_status = c->status;
    });
    REQUIRE(ours_body == R"({"etcdserver":"2.3.8","etcdcluster":"2.3.0"})");
    REQUIRE(reference_body.find("\"etcdserver\":\"3.4") != std::string::npos);
    REQUIRE(reused_status == 200);
}

TEST_CASE("client: chunked and close-delimited bodies, interim 100", "[client]") {
    SECTION("chunked with extensions and trailers") {
        scripted_server raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"
                            "5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n");
        std::string body;
        on_reactor([&]() -> rx::task<void> {
            const std::string url = "http://127.0.0.1:" + std::to_string(raw.port) + "/x";
            const std::string data = "data";
            auto r = co_await http::fetch(url, http::method::put, data);
            REQUIRE(r.ok());
            body = r->body;
        });
        REQUIRE(body == "hello world");
    }
    SECTION("close-delimited") {
        scripted_server raw("HTTP/1.0 200 OK\r\n\r\nuntil the end");
        std::string body;
        on_reactor([&]() -> rx::task<void> {
            const std::string url = "http://127.0.0.1:" + std::to_string(raw.port);
            auto r = co_await http::fetch(url);
            REQUIRE(r.ok());
            body = r->body;
        });
        REQUIRE(body == "until the end");
    }
}

TEST_CASE("client: errors are values with Go-like text", "[client]") {
    std::string refused;
    std::string malformed;
    on_reactor([&]() -> rx::task<void> {
        const std::string closed_url = "http://127.0.0.1:" + std::to_string(free_port());
        auto r = co_await http::fetch(closed_url);
        REQUIRE_FALSE(r.ok());
        refused = r.error();
        const std::string ftp_url = "ftp://127.0.0.1:1/";
        auto u = co_await http::fetch(ftp_url);
        REQUIRE_FALSE(u.ok());
        malformed = u.error();
    });
    REQUIRE(refused.find("connect: connection refused") != std::string::npos);
    REQUIRE(malformed.find("unsupported protocol scheme") != std::string::npos);
}

TEST_CASE("client: a server that never answers times out", "[client]") {
    loopback_listener silent;  // accepts in the kernel, never answers
    std::string error;
    on_reactor([&]() -> rx::task<void> {
        const std::string url = "http://127.0.0.1:" + std::to_string(silent.port);
        auto r = co_await http::fetch(url, http::method::get, {}, {}, 200'000'000);
        REQUIRE_FALSE(r.ok());
        error = r.error();
    });
    REQUIRE(error == "i/o timeout");
}
