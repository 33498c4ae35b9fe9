// Watch fan-out measurement (issue #3): N long-poll watchers on one key, one connection each,
// then ONE write; prints the time from sending the write to the last watcher's notification,
// and p50/p99 over the watchers. Works against any etcd v2 server (ours, etcd 3.4 with
// --enable-v2). Loopback only; every wait is bounded.
//
// Usage: watch-fanout http://127.0.0.1:PORT [watchers=10000] [key=/v2/keys/fan/k]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
constexpr int io_timeout_ms = 5000;
constexpr auto register_timeout = std::chrono::seconds(30);
constexpr auto notify_timeout = std::chrono::seconds(30);

int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{io_timeout_ms / 1000, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string& data) {
    std::size_t at = 0;
    while (at < data.size()) {
        const auto n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        at += static_cast<std::size_t>(n);
    }
    return true;
}

// One request on a fresh connection (Connection: close); the whole answer, "" on failure.
std::string request(int port, const std::string& method, const std::string& target) {
    const int fd = connect_to(port);
    if (fd < 0) {
        return {};
    }
    std::string out;
    if (send_all(fd, method + " " + target +
            " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) {
        char buf[8192];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return out;
}

long watchers_registered(int port) {
    const std::string r = request(port, "GET", "/v2/stats/store");
    const auto at = r.find("\"watchers\":");
    return at == std::string::npos ? -1 : std::strtol(r.c_str() + at + 11, nullptr, 10);
}

bool wait_for_watchers(int port, long expected) {
    const auto deadline = clock_type::now() + register_timeout;
    while (clock_type::now() < deadline) {
        if (watchers_registered(port) >= expected) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

struct watcher {
    int fd = -1;
    std::string reply;
    double notified_ms = -1;  // after the write was sent; -1 until the event arrived
};

// Waits on every watcher through one epoll set (registered before the write, so the wait
// costs O(ready) and not O(watchers) per wake-up) until all are notified or the timeout
// passes. A watcher counts as notified when its reply holds the event's "action" (headers may
// come earlier).
int collect(std::vector<watcher>& ws, int epoll_fd, clock_type::time_point write_sent) {
    constexpr int events_max = 1024;
    int notified = 0;
    epoll_event ready[events_max];
    char buf[4096];
    const auto deadline = write_sent + notify_timeout;
    while (notified < static_cast<int>(ws.size()) && clock_type::now() < deadline) {
        const int n_ready = ::epoll_wait(epoll_fd, ready, events_max, 100);
        for (int k = 0; k < n_ready; ++k) {
            watcher& w = ws[ready[k].data.u64];
            if (w.fd < 0 || w.notified_ms >= 0) {
                continue;
            }
            const auto n = ::recv(w.fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0) {
                w.reply.append(buf, static_cast<std::size_t>(n));
                if (w.reply.find("\"action\":") != std::string::npos) {
                    w.notified_ms = std::chrono::duration<double, std::milli>(
                        clock_type::now() - write_sent).count();
                    ++notified;
                    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, w.fd, nullptr);
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, w.fd, nullptr);
                ::close(w.fd);
                w.fd = -1;  // closed without the event: counted as not notified
            }
        }
    }
    return notified;
}

// One epoll set holding every watcher's socket (level-triggered, readable).
int watch_all(const std::vector<watcher>& ws) {
    const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < ws.size() && epoll_fd >= 0; ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ws[i].fd, &ev);
    }
    return epoll_fd;
}

int port_of(const std::string& url) {
    const auto colon = url.rfind(':');
    return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

void raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, std::max(limit.rlim_cur, wanted));
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

bool open_watchers(std::vector<watcher>& ws, int port, const std::string& key) {
    const std::string req = "GET " + key +
        "?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    for (auto& w : ws) {
        w.fd = connect_to(port);
        if (w.fd < 0 || !send_all(w.fd, req)) {
            return false;
        }
    }
    return true;
}

double percentile(const std::vector<double>& sorted, double p) {
    const auto at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[at];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s http://127.0.0.1:PORT [watchers] [key path]\n", argv[0]);
        return 2;
    }
    const int port = port_of(argv[1]);
    const long count = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 10000;
    const std::string key = argc > 3 ? argv[3] : "/v2/keys/fan/k";
    raise_fd_limit(static_cast<rlim_t>(count) + 1000);
    std::vector<watcher> ws(static_cast<std::size_t>(count));
    const auto open_start = clock_type::now();
    if (!open_watchers(ws, port, key) || !wait_for_watchers(port, count)) {
        std::fprintf(stderr, "could not open and register %ld watchers (registered: %ld)\n",
            count, watchers_registered(port));
        return 1;
    }
    const double register_ms =
        std::chrono::duration<double, std::milli>(clock_type::now() - open_start).count();
    const int epoll_fd = watch_all(ws);
    if (epoll_fd < 0) {
        std::perror("epoll_create1");
        return 1;
    }
    const int writer = connect_to(port);
    const auto write_sent = clock_type::now();
    send_all(writer, "PUT " + key + "?value=x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: close\r\nContent-Length: 0\r\n\r\n");
    const int notified = collect(ws, epoll_fd, write_sent);
    std::vector<double> times;
    for (const auto& w : ws) {
        if (w.notified_ms >= 0) {
            times.push_back(w.notified_ms);
        }
        if (w.fd >= 0) {
            ::close(w.fd);
        }
    }
    ::close(writer);
    ::close(epoll_fd);
    std::sort(times.begin(), times.end());
    std::printf("watchers=%ld registered_in_ms=%.0f notified=%d\n", count, register_ms, notified);
    if (times.empty()) {
        return 1;
    }
    std::printf("write->first_ms=%.1f p50_ms=%.1f p99_ms=%.1f last_ms=%.1f\n", times.front(),
        percentile(times, 0.50), percentile(times, 0.99), times.back());
    return notified == count ? 0 : 1;
}
