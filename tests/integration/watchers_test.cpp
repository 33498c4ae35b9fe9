// Watch fan-out against our real binary on loopback (issue #3): 10,000 long-poll watchers on
// one key, one connection each, all registered; one write from another connection; every
// watcher gets the set event within a bounded time and the watcher count returns to 0.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <thread>

#include "support/process.hpp"

using namespace uetcd::testing;
using namespace std::chrono_literals;

namespace {

constexpr int watcher_count = 10000;

std::string request(int port, const std::string& method, const std::string& target) {
    connection c(port);
    if (!c.connected()) {
        return {};
    }
    c.send_all(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    return c.read_until_close();
}

std::uint64_t watchers(int port) {
    const std::string body = body_of(request(port, "GET", "/v2/stats/store"));
    const auto at = body.find("\"watchers\":");
    return at == std::string::npos ? 999999 : std::stoull(body.substr(at + 11));
}

bool wait_for_watchers(int port, std::uint64_t expected, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        if (watchers(port) == expected) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

void raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, wanted);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    getrlimit(RLIMIT_NOFILE, &limit);
    REQUIRE(limit.rlim_cur >= wanted);
}

// Reads every watcher until its peer closes (Connection: close) or `timeout` passes, with
// poll() over all still-open sockets. Returns how many closed; `replies` gets what arrived.
int read_all_until_closed(std::vector<connection>& watches, std::vector<std::string>& replies,
    std::chrono::milliseconds timeout) {
    std::vector<bool> done(watches.size(), false);
    int closed = 0;
    const auto deadline = clock::now() + timeout;
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    char buf[4096];
    while (closed < static_cast<int>(watches.size()) && clock::now() < deadline) {
        fds.clear();
        index.clear();
        for (std::size_t i = 0; i < watches.size(); ++i) {
            if (!done[i]) {
                fds.push_back(pollfd{watches[i].fd(), POLLIN, 0});
                index.push_back(i);
            }
        }
        if (::poll(fds.data(), fds.size(), 100) <= 0) {
            continue;
        }
        for (std::size_t k = 0; k < fds.size(); ++k) {
            if (fds[k].revents == 0) {
                continue;
            }
            const std::size_t i = index[k];
            const auto n = ::recv(fds[k].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0) {
                replies[i].append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                done[i] = true;
                ++closed;
            }
        }
    }
    return closed;
}

}  // namespace

TEST_CASE("watchers: 10,000 long-poll watchers on one key all get one write's event",
    "[watchers]") {
    raise_fd_limit(watcher_count + 1000);
    etcd_server srv;
    REQUIRE(srv.wait_ready());
    const int p = srv.client_port;
    std::vector<connection> watches;
    watches.reserve(watcher_count);
    for (int i = 0; i < watcher_count; ++i) {
        watches.emplace_back(p);
        REQUIRE(watches.back().connected());
        REQUIRE(watches.back().send_all(
            "GET /v2/keys/fan/k?wait=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    }
    REQUIRE(wait_for_watchers(p, watcher_count, 10s));

    const auto write_start = clock::now();
    REQUIRE(status_of(request(p, "PUT", "/v2/keys/fan/k?value=x")) == 201);
    std::vector<std::string> replies(watches.size());
    const int closed = read_all_until_closed(watches, replies, 10s);
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        clock::now() - write_start).count();
    WARN(closed << " of " << watcher_count << " watchers told and closed in " << elapsed_ms
                << " ms after the write");
    REQUIRE(closed == watcher_count);

    int good = 0;
    for (const auto& r : replies) {
        const std::string body = body_of(r);
        if (status_of(r) == 200 && body.find("\"action\":\"set\"") != std::string::npos &&
            body.find("\"key\":\"/fan/k\",\"value\":\"x\"") != std::string::npos) {
            ++good;
        }
    }
    if (good != watcher_count) {
        const auto bad = std::find_if(replies.begin(), replies.end(), [](const std::string& r) {
            return body_of(r).find("\"action\":\"set\"") == std::string::npos;
        });
        INFO("first bad reply: " << (bad == replies.end() ? std::string() : *bad));
        CHECK(good == watcher_count);
    }
    CHECK(wait_for_watchers(p, 0, 5s));
}
