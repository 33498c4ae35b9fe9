// /v2/keys and the cluster endpoints against our real binary on loopback: every operation,
// etcd's headers and indexes, TTL expiry, watches (long-poll, stream, history, 401, a client
// that leaves), and a property test: a client re-watching from index+1 sees every event of a
// random write load exactly once, in order. Expected bodies were checked on etcd 3.4.23.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <thread>

#include "support/process.hpp"

using namespace uetcd::testing;

namespace {

std::string request(int port, const std::string& method, const std::string& target,
    const std::string& form = {}, const std::string& extra_headers = {}) {
    connection c(port);
    if (!c.connected()) {
        return {};
    }
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        extra_headers + "Connection: close\r\n";
    if (!form.empty()) {
        req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
            std::to_string(form.size()) + "\r\n";
    }
    req += "\r\n" + form;
    c.send_all(req);
    return c.read_until_close();
}

std::string request_body(int port, const std::string& method, const std::string& target,
    const std::string& content_type, const std::string& body) {
    connection c(port);
    c.send_all(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " +
        content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body);
    return c.read_until_close();
}

std::string header(const std::string& response, const std::string& name) {
    const auto head_end = response.find("\r\n\r\n");
    const std::string key = "\r\n" + name + ": ";
    const auto at = response.find(key);
    if (at == std::string::npos || at > head_end) {
        return {};
    }
    const auto start = at + key.size();
    return response.substr(start, response.find("\r\n", start) - start);
}

// The body of a chunked response, de-chunked (as much as arrived).
std::string dechunk(const std::string& body) {
    std::string out;
    std::size_t at = 0;
    while (at < body.size()) {
        const auto line_end = body.find("\r\n", at);
        if (line_end == std::string::npos) {
            break;
        }
        const auto size = std::stoul(body.substr(at, line_end - at), nullptr, 16);
        if (size == 0) {
            break;
        }
        out += body.substr(line_end + 2, size);
        at = line_end + 2 + size + 2;
    }
    return out;
}

std::uint64_t node_modified_index(const std::string& event) {
    const auto node = event.find("\"node\":");
    const auto at = event.find("\"modifiedIndex\":", node);
    return at == std::string::npos ? 0 : std::stoull(event.substr(at + 16));
}

std::uint64_t watchers(int port) {
    const std::string body = body_of(request(port, "GET", "/v2/stats/store"));
    const auto at = body.find("\"watchers\":");
    return at == std::string::npos ? 999 : std::stoull(body.substr(at + 11));
}

bool wait_for_watchers(int port, std::uint64_t expected) {
    for (int i = 0; i < 200; ++i) {
        if (watchers(port) == expected) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

TEST_CASE("keys: first write is index 4, headers and bodies as etcd", "[keys]") {
    // Advertised peer URL fixed: member id = sha1("http://127.0.0.1:24880etcd-cluster")[:8].
    etcd_server srv({"--initial-advertise-peer-urls", "http://127.0.0.1:24880",
        "--initial-cluster", "test=http://127.0.0.1:24880"});
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    auto r = request(p, "GET", "/v2/keys/");
    CHECK(status_of(r) == 200);
    CHECK(body_of(r) == "{\"action\":\"get\",\"node\":{\"dir\":true}}\n");
    CHECK(header(r, "X-Etcd-Cluster-Id") == "57c69c50e00107aa");
    CHECK(header(r, "X-Etcd-Index") == "3");
    CHECK(header(r, "X-Raft-Index") == "4");
    CHECK(header(r, "X-Raft-Term") == "2");
    CHECK(header(r, "Content-Type") == "application/json");

    r = request(p, "PUT", "/v2/keys/message", "value=Hello world");
    CHECK(status_of(r) == 201);
    CHECK(body_of(r) == "{\"action\":\"set\",\"node\":{\"key\":\"/message\",\"value\":"
        "\"Hello world\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
    CHECK(header(r, "X-Etcd-Index") == "4");
    CHECK(header(r, "X-Raft-Index") == "5");

    r = request(p, "PUT", "/v2/keys/message?value=Hello%20etcd");
    CHECK(status_of(r) == 200);
    CHECK(body_of(r).find("\"prevNode\":{\"key\":\"/message\",\"value\":\"Hello world\"") !=
        std::string::npos);
    r = request(p, "DELETE", "/v2/keys/message");
    CHECK(body_of(r) == "{\"action\":\"delete\",\"node\":{\"key\":\"/message\","
        "\"modifiedIndex\":6,\"createdIndex\":5},\"prevNode\":{\"key\":\"/message\","
        "\"value\":\"Hello etcd\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
    r = request(p, "GET", "/v2/keys/message");
    CHECK(status_of(r) == 404);
    CHECK(body_of(r) == "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":"
        "\"/message\",\"index\":6}\n");
    CHECK(header(r, "X-Etcd-Index") == "6");
    CHECK(header(r, "X-Raft-Index").empty());

    r = request(p, "GET", "/v2/members");
    CHECK(body_of(r).find("\"id\":\"5ebad3b8a0c93a74\",\"name\":\"test\"") != std::string::npos);
    CHECK(header(r, "X-Etcd-Cluster-Id") == "57c69c50e00107aa");
}

TEST_CASE("keys: every operation and error path", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    CHECK(status_of(request(p, "PUT", "/v2/keys/d?dir=true")) == 201);
    CHECK(status_of(request(p, "PUT", "/v2/keys/d?dir=true")) == 403);  // 102 on a dir
    auto r = request(p, "POST", "/v2/keys/q", "value=job");
    CHECK(status_of(r) == 201);
    CHECK(body_of(r).find("\"key\":\"/q/00000000000000000005\"") != std::string::npos);
    CHECK(status_of(request(p, "PUT", "/v2/keys/c?prevExist=false&value=1")) == 201);
    CHECK(status_of(request(p, "PUT", "/v2/keys/c?prevExist=false&value=1")) == 412);
    r = request(p, "PUT", "/v2/keys/c?prevValue=2&value=3");
    CHECK(status_of(r) == 412);
    CHECK(body_of(r).find("\"cause\":\"[2 != 1]\"") != std::string::npos);
    r = request(p, "PUT", "/v2/keys/c?prevValue=1&value=3");
    CHECK(body_of(r).find("\"action\":\"compareAndSwap\"") != std::string::npos);
    r = request(p, "PUT", "/v2/keys/c?prevExist=true&value=4&noValueOnSuccess=true");
    CHECK(status_of(r) == 200);
    CHECK(body_of(r) == "{\"action\":\"update\"}\n");
    r = request(p, "DELETE", "/v2/keys/c?prevValue=4");
    CHECK(body_of(r).find("\"action\":\"compareAndDelete\"") != std::string::npos);
    CHECK(status_of(request(p, "DELETE", "/v2/keys/d")) == 403);
    CHECK(status_of(request(p, "DELETE", "/v2/keys/d?dir=true")) == 200);
    r = request(p, "PUT", "/v2/keys/");
    CHECK(body_of(r).find("\"errorCode\":107") != std::string::npos);
    r = request(p, "HEAD", "/v2/keys/q?recursive=true");
    CHECK(status_of(r) == 200);
    CHECK(body_of(r).empty());
    r = request(p, "GET", "/v2/keys/q?recursive=true&sorted=true&quorum=true");
    CHECK(body_of(r).find("\"nodes\":[{\"key\":\"/q/00000000000000000005\"") !=
        std::string::npos);
    r = request(p, "PATCH", "/v2/keys/x");
    CHECK(status_of(r) == 405);
    CHECK(header(r, "Allow") == "HEAD,GET,PUT,POST,DELETE");
    CHECK(header(r, "X-Etcd-Cluster-Id").empty());
    r = request(p, "PUT", "/v2/keys/x?ttl=abc");
    CHECK(status_of(r) == 400);
    CHECK(header(r, "X-Etcd-Index") == "0");
    CHECK(body_of(r) == "{\"errorCode\":202,\"message\":\"The given TTL in POST form is not a "
        "number\",\"cause\":\"invalid value for \\\"ttl\\\"\",\"index\":0}\n");
    r = request(p, "GET", "/v2/keys/x?wait=true&quorum=true");  // quorum wins: a plain get
    CHECK(status_of(r) == 404);
}

TEST_CASE("keys: cluster endpoints", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    const std::string client = "http://127.0.0.1:" + std::to_string(p);
    auto r = request(p, "GET", "/v2/machines");
    CHECK(body_of(r) == client);
    CHECK(status_of(request(p, "PUT", "/v2/machines")) == 405);
    r = request(p, "GET", "/v2/members/leader");
    CHECK(body_of(r).find("\"clientURLs\":[\"" + client + "\"]}\n") != std::string::npos);
    CHECK(status_of(request(p, "GET", "/v2/members/zz")) == 404);
    CHECK(status_of(request(p, "DELETE", "/v2/members/1234")) == 404);
    CHECK(status_of(request(p, "HEAD", "/v2/members")) == 405);
    r = request_body(p, "POST", "/v2/members", "application/json", "not-json");
    CHECK(status_of(r) == 400);
    CHECK(body_of(r) == "{\"message\":\"invalid character 'o' in literal null (expecting "
        "'u')\"}");
    r = request_body(p, "POST", "/v2/members", "text/plain", "{}");
    CHECK(status_of(r) == 415);
    CHECK(body_of(r) == "{\"message\":\"Bad Content-Type text/plain, accept "
        "application/json\"}");
    r = request_body(p, "POST", "/v2/members", "application/json; charset=utf-8",
        "{\"peerURLs\":[\"bad url\"]}");
    CHECK(body_of(r) == "{\"message\":\"URL scheme must be http, https, unix, or unixs: "
        "bad url\"}");
    r = request(p, "GET", "/v2/stats/self");
    CHECK(body_of(r).find("\"state\":\"StateLeader\"") != std::string::npos);
    r = request(p, "GET", "/v2/stats/leader");
    CHECK(body_of(r).find("\"followers\":{}}") != std::string::npos);
    r = request(p, "GET", "/v2/stats/store");
    // Three keys requests... none yet: only the start-up auth probe failed.
    CHECK(body_of(r).rfind("{\"getsSuccess\":0,\"getsFail\":1,\"setsSuccess\":2", 0) == 0);
}

TEST_CASE("keys: a TTL key expires within about a second", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    auto r = request(p, "PUT", "/v2/keys/t?ttl=1&value=v");
    REQUIRE(status_of(r) == 201);
    CHECK(body_of(r).find("\"ttl\":1,") != std::string::npos);
    const auto start = clock::now();
    while (status_of(request(p, "GET", "/v2/keys/t")) == 200 &&
        clock::now() - start < std::chrono::seconds(3)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto took = clock::now() - start;
    CHECK(took < std::chrono::milliseconds(1500));
    CHECK(status_of(request(p, "GET", "/v2/keys/t")) == 404);
    CHECK(body_of(request(p, "GET", "/v2/stats/store")).find("\"expireCount\":1") !=
        std::string::npos);
    r = request(p, "GET", "/v2/keys/t?wait=true&waitIndex=4");
    CHECK(dechunk(body_of(r)).find("\"action\":\"set\"") != std::string::npos);
    r = request(p, "GET", "/v2/keys/t?wait=true&waitIndex=5");
    CHECK(dechunk(body_of(r)).rfind("{\"action\":\"expire\"", 0) == 0);
}

TEST_CASE("keys: long-poll watch is told of a write from another connection", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    connection watch(p);
    watch.send_all("GET /v2/keys/w?wait=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    REQUIRE(wait_for_watchers(p, 1));
    CHECK(status_of(request(p, "PUT", "/v2/keys/w?value=x")) == 201);
    const std::string r = watch.read_until_close();
    CHECK(status_of(r) == 200);
    CHECK(header(r, "Transfer-Encoding") == "chunked");
    CHECK(header(r, "X-Etcd-Index") == "3");  // the index when the watch started
    CHECK(dechunk(body_of(r)) == "{\"action\":\"set\",\"node\":{\"key\":\"/w\",\"value\":\"x\","
        "\"modifiedIndex\":4,\"createdIndex\":4}}\n");
    CHECK(wait_for_watchers(p, 0));
}

TEST_CASE("keys: stream watch gets every event, one chunk each", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    connection watch(p, 3000);
    watch.send_all("GET /v2/keys/s?wait=true&stream=true&recursive=true HTTP/1.1\r\n"
                   "Host: x\r\n\r\n");
    REQUIRE(wait_for_watchers(p, 1));
    for (int i = 0; i < 3; ++i) {
        request(p, "PUT", "/v2/keys/s/" + std::to_string(i) + "?value=v");
    }
    request(p, "PUT", "/v2/keys/other?value=v");
    std::string got;
    char buf[4096];
    while (dechunk(body_of(got)).size() < 3 * 80) {
        const auto n = ::recv(watch.fd(), buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    const std::string events = dechunk(body_of(got));
    CHECK(events.find("/s/0") < events.find("/s/1"));
    CHECK(events.find("/s/1") < events.find("/s/2"));
    CHECK(events.find("/other") == std::string::npos);
    CHECK(watchers(p) == 1);  // a stream watcher stays
}

TEST_CASE("keys: a client leaving a watch frees its watcher at once", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    {
        connection a(p);
        connection b(p);
        a.send_all("GET /v2/keys/x?wait=true HTTP/1.1\r\nHost: x\r\n\r\n");
        b.send_all("GET /v2/keys/y?wait=true&stream=true HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(wait_for_watchers(p, 2));
    }
    CHECK(wait_for_watchers(p, 0));
    // The server still serves, and a later write tells nobody.
    CHECK(status_of(request(p, "PUT", "/v2/keys/x?value=1")) == 201);
}

TEST_CASE("keys: waitIndex reaches into the 1000-event history, older is 401", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    connection c(p);
    for (int i = 0; i < 1010; ++i) {
        c.send_all("PUT /v2/keys/h?value=" + std::to_string(i) +
            " HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(status_of(c.read_response()) / 100 == 2);
    }
    // Indexes 4..1013 are user writes; the history holds the last 1000: 14..1013.
    auto r = request(p, "GET", "/v2/keys/h?wait=true&waitIndex=10");
    CHECK(status_of(r) == 400);
    CHECK(header(r, "X-Etcd-Index") == "1013");
    CHECK(body_of(r) == "{\"errorCode\":401,\"message\":\"The event in requested index is "
        "outdated and cleared\",\"cause\":\"the requested history has been cleared "
        "[14/10]\",\"index\":1013}\n");
    r = request(p, "GET", "/v2/keys/h?wait=true&waitIndex=500");
    CHECK(header(r, "X-Etcd-Index") == "1013");
    CHECK(node_modified_index(dechunk(body_of(r))) == 500);
}

TEST_CASE("keys: re-watching from index+1 sees every event once, in order", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    constexpr int writes = 300;
    std::vector<std::uint64_t> written;  // the writer's; read after done
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> last_index{0};
    std::thread writer([&] {
        std::mt19937 rng(12345);
        connection c(p);
        for (int i = 0; i < writes; ++i) {
            const std::string key = "/v2/keys/p/k" + std::to_string(rng() % 5);
            const bool del = rng() % 4 == 0;
            const std::string target = del ? key : key + "?value=" + std::to_string(i);
            c.send_all(std::string(del ? "DELETE " : "PUT ") + target +
                " HTTP/1.1\r\nHost: x\r\n\r\n");
            const std::string r = c.read_response();
            if (status_of(r) / 100 == 2) {
                written.push_back(node_modified_index(body_of(r)));
                last_index = written.back();
            }
            if (rng() % 8 == 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        done = true;
    });
    std::vector<std::uint64_t> seen;
    std::uint64_t next = 4;
    const auto deadline = clock::now() + std::chrono::seconds(60);
    while (clock::now() < deadline && !(done && next > last_index)) {
        const auto r = request(p, "GET", "/v2/keys/p?wait=true&recursive=true&waitIndex=" +
            std::to_string(next));
        const std::uint64_t index = node_modified_index(dechunk(body_of(r)));
        if (index == 0) {
            continue;  // the read timed out while the writer finished: check again
        }
        seen.push_back(index);
        next = index + 1;
    }
    writer.join();
    CHECK(written.size() > writes / 2);
    CHECK(seen == written);
}

TEST_CASE("keys: answers over 2 KiB are chunked; HTTP/1.0 watches are not", "[keys]") {
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    const std::string value(100, 'v');
    for (int i = 0; i < 30; ++i) {
        request(p, "PUT", "/v2/keys/big/k" + std::to_string(i) + "?value=" + value);
    }
    auto r = request(p, "GET", "/v2/keys/big?sorted=true");
    CHECK(header(r, "Transfer-Encoding") == "chunked");
    CHECK(header(r, "Content-Length").empty());
    const std::string body = dechunk(body_of(r));
    CHECK(body.size() > 2048);
    CHECK(body.rfind("{\"action\":\"get\",\"node\":{\"key\":\"/big\",\"dir\":true,", 0) == 0);
    r = request(p, "HEAD", "/v2/keys/big?sorted=true");
    CHECK(std::stoul(header(r, "Content-Length")) == body.size());

    connection c(p);
    c.send_all("GET /v2/keys/big/k1?wait=true&waitIndex=4 HTTP/1.0\r\n\r\n");
    r = c.read_until_close();
    CHECK(header(r, "Transfer-Encoding").empty());
    CHECK(body_of(r).rfind("{\"action\":\"set\",\"node\":{\"key\":\"/big/k0\"", 0) != 0);
    CHECK(body_of(r).find("\"key\":\"/big/k1\"") != std::string::npos);
    CHECK(c.peer_closed());
}
