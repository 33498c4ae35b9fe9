// The TLS layer from C++: server contexts (load errors, expiry warning, reload of renewed
// files) without a reactor, and the reactor HTTP client over https against our etcd
// (keep-alive on one TLS connection, large bodies both ways, Go-like failure texts).
// Certificates are made here with the openssl command. Arguments of co_await calls are
// named variables (g++ 12, see tests/integration/http_client_test.cpp).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "support/on_reactor.hpp"
#include "support/process.hpp"
#include "uetcd/http/client.hpp"
#include "uetcd/http/tls.hpp"
#include "uetcd/reactor/smp.hpp"

using namespace uetcd::testing;
using namespace std::chrono_literals;
namespace http = uetcd::http;
namespace rx = uetcd::reactor;

namespace {

void run(const std::string& command) {
    REQUIRE(std::system((command + " 2>/dev/null").c_str()) == 0);
}

// ca, server (SAN 127.0.0.1), server2 (same names, new key), client (CN alice), wrongca,
// expired: PEM files in `d`.
void make_certs(const std::string& d) {
    const std::string req = "openssl req -newkey rsa:2048 -nodes -subj ";
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=ca -keyout " + d +
        "/ca.key -out " + d + "/ca.pem");
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=wrong -keyout " + d +
        "/wrongca.key -out " + d + "/wrongca.pem");
    std::ofstream(d + "/san.ext") << "subjectAltName=IP:127.0.0.1\n";
    for (const auto& [name, cn, days] : {std::tuple{"server", "localhost", "30"},
             std::tuple{"server2", "localhost", "30"}, std::tuple{"client", "alice", "30"},
             std::tuple{"expired", "localhost", "-1"}}) {
        const std::string base = d + "/" + name;
        run(req + "/CN=" + cn + " -keyout " + base + ".key -out " + base + ".csr");
        run("openssl x509 -req -in " + base + ".csr -CA " + d + "/ca.pem -CAkey " + d +
            "/ca.key -CAcreateserial -days " + days + " -extfile " + d + "/san.ext -out " +
            base + ".pem");
    }
    std::ofstream(d + "/nocert.pem") << "not a certificate\n";
}

std::string load_error(const http::tls_options& options) {
    auto ctx = http::tls_server_context::load(options, nullptr);
    return ctx ? std::string("ok") : ctx.error();
}

}  // namespace

TEST_CASE("tls: server context load errors are one Go-like line", "[tls]") {
    temp_dir dir;
    const std::string d = dir.path();
    make_certs(d);
    CHECK(load_error({.cert_file = d + "/nope.pem", .key_file = d + "/server.key"}) ==
        "open " + d + "/nope.pem: no such file or directory");
    CHECK(load_error({.cert_file = d + "/server.pem", .key_file = d + "/client.key"}) ==
        "tls: private key does not match public key");
    CHECK(load_error({.cert_file = d + "/nocert.pem", .key_file = d + "/server.key"}) ==
        "tls: failed to find any PEM data in certificate input");
    CHECK(load_error({.cert_file = d + "/server.pem", .key_file = d + "/nocert.pem"}) ==
        "tls: failed to find any PEM data in key input");
    CHECK(load_error({.cert_file = d + "/server.pem", .key_file = d + "/server.key",
              .trusted_ca_file = d + "/nocert.pem"}) ==
        "tls: no certificate found in CA file " + d + "/nocert.pem");
    CHECK(load_error({.cert_file = d + "/server.pem", .key_file = d + "/server.key",
              .cipher_list = "NO-SUCH-CIPHER"}) ==
        "tls: unsupported cipher suites \"NO-SUCH-CIPHER\"");
    std::vector<std::string> warnings;
    auto expired = http::tls_server_context::load(
        {.cert_file = d + "/expired.pem", .key_file = d + "/expired.key"}, &warnings);
    REQUIRE(expired);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].starts_with("certificate " + d + "/expired.pem has expired (not after "));
}

TEST_CASE("tls: a renewed certificate is picked up at most once a second", "[tls]") {
    temp_dir dir;
    const std::string d = dir.path();
    make_certs(d);
    run("cp " + d + "/server.pem " + d + "/live.pem && cp " + d + "/server.key " + d +
        "/live.key");
    auto ctx = http::tls_server_context::load(
        {.cert_file = d + "/live.pem", .key_file = d + "/live.key"}, nullptr);
    REQUIRE(ctx);
    auto* first = (*ctx)->for_handshake(1'000'000'000);
    std::this_thread::sleep_for(20ms);  // a new mtime even on coarse clocks with the size
    run("cp " + d + "/server2.key " + d + "/live.key && cp " + d + "/server2.pem " + d +
        "/live.pem");
    CHECK((*ctx)->for_handshake(1'500'000'000) == first);  // checked less than 1 s ago
    auto* renewed = (*ctx)->for_handshake(2'000'000'000);
    CHECK(renewed != first);
    CHECK((*ctx)->reloads() == 1);
    // Half-written: a key that does not match keeps the loaded context, and says why.
    run("cp " + d + "/server.key " + d + "/live.key");
    CHECK((*ctx)->for_handshake(3'000'000'000) == renewed);
    CHECK((*ctx)->last_reload_error() == "tls: private key does not match public key");
    CHECK((*ctx)->reloads() == 1);
}

TEST_CASE("tls: the reactor client over https: keep-alive, large bodies, Go-like errors",
    "[tls][client]") {
    temp_dir dir;
    const std::string d = dir.path();
    make_certs(d);
    const int plain = free_port();
    const int tls = free_port();
    const int peer = free_port();
    const std::string plain_url = "http://127.0.0.1:" + std::to_string(plain);
    const std::string tls_url = "https://127.0.0.1:" + std::to_string(tls);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    process server({etcd_binary(), "--name", "t", "--data-dir", d + "/data",
                       "--listen-client-urls", plain_url + "," + tls_url,
                       "--advertise-client-urls", tls_url, "--listen-peer-urls", peer_url,
                       "--initial-advertise-peer-urls", peer_url, "--initial-cluster",
                       "t=" + peer_url, "--cert-file", d + "/server.pem", "--key-file",
                       d + "/server.key", "--trusted-ca-file", d + "/ca.pem",
                       "--client-cert-auth"},
        d + "/etcd.log");
    REQUIRE(wait_until_serving(plain, 10s));
    auto with_cert = http::tls_client_context::load({.cert_file = d + "/client.pem",
        .key_file = d + "/client.key", .trusted_ca_file = d + "/ca.pem"});
    auto without_cert = http::tls_client_context::load({.trusted_ca_file = d + "/ca.pem"});
    auto wrong_ca = http::tls_client_context::load({.cert_file = d + "/client.pem",
        .key_file = d + "/client.key", .trusted_ca_file = d + "/wrongca.pem"});
    REQUIRE((with_cert && without_cert && wrong_ca));
    const std::string big(300'000, 'x');
    std::vector<int> statuses;
    std::string big_back;
    bool reused = false;
    std::string no_cert_error;
    std::string wrong_ca_error;
    std::string wrong_name_error;
    on_reactor([&]() -> rx::task<void> {
        auto address = rx::parse_socket_address("127.0.0.1:" + std::to_string(tls));
        const std::string name = "127.0.0.1";
        auto conn = co_await http::client_connection::open(*address, 2'000'000'000,
            with_cert->get(), name);
        REQUIRE(conn);
        REQUIRE(conn->is_tls());
        http::client_request put;
        put.method = http::method::put;
        put.target = "/v2/keys/big";
        put.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        put.body = "value=" + big;
        auto put_answer = co_await conn->send(std::move(put), 5'000'000'000);
        REQUIRE(put_answer);
        statuses.push_back(put_answer->status);
        for (int i = 0; i < 2; ++i) {
            http::client_request get;
            get.target = "/v2/keys/big";
            auto got = co_await conn->send(std::move(get), 5'000'000'000);
            REQUIRE(got);
            statuses.push_back(got->status);
            big_back = got->body;
        }
        reused = conn->is_open();
        const std::string url = tls_url + "/version";
        auto refused = co_await http::fetch(url, http::method::get, {}, {}, 2'000'000'000,
            without_cert->get());
        no_cert_error = refused ? "answered" : refused.error();
        auto untrusted = co_await http::fetch(url, http::method::get, {}, {}, 2'000'000'000,
            wrong_ca->get());
        wrong_ca_error = untrusted ? "answered" : untrusted.error();
        const std::string other_name = "127.0.0.2";
        auto misnamed = co_await http::client_connection::open(*address, 2'000'000'000,
            with_cert->get(), other_name);
        wrong_name_error = misnamed ? "connected" : misnamed.error();
    });
    CHECK(statuses == std::vector<int>{201, 200, 200});
    CHECK(big_back.find(big) != std::string::npos);
    CHECK(reused);
    CHECK(no_cert_error == "remote error: tls: certificate required");
    CHECK(wrong_ca_error == "x509: certificate signed by unknown authority");
    CHECK(wrong_name_error == "x509: certificate is not valid for 127.0.0.2");
}
