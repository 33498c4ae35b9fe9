// The machine's floor for watch fan-out (issue #3): what N notifications cost the kernel
// alone, with no HTTP server at all. A receiver process opens N loopback TCP connections and
// waits on all of them with epoll, as bench/load/watch_fanout.cpp does; the sender process
// then writes one 220-byte message (about the size of a watch notification) on each of its
// N accepted sockets from SENDERS threads (one per core, as a reactor would). Prints the time
// from the first send to the last message received. A server cannot notify N watchers faster
// than this on the same machine. Usage: fanout-floor [N=10000] [SENDERS=2]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t message_bytes = 220;
constexpr int receive_timeout_ms = 10'000;

std::int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

void raise_fd_limit() {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

bool write_value(int fd, std::int64_t v) {
    return ::write(fd, &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v));
}

bool read_value(int fd, std::int64_t& v) {
    return ::read(fd, &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v));
}

// The receiver: connects N times, reports "ready", then reports the time the last message
// arrived (or -1 after the timeout).
int receive(const sockaddr_in& addr, int n, int report_fd) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<int> fds(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        fds[static_cast<std::size_t>(i)] = ::socket(AF_INET, SOCK_STREAM, 0);
        const int fd = fds[static_cast<std::size_t>(i)];
        if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
            std::perror("fanout-floor: connect");
            return 1;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    write_value(report_fd, 0);
    std::vector<std::size_t> received(static_cast<std::size_t>(n), 0);
    int complete = 0;
    epoll_event ready[1024];
    char buf[4096];
    const std::int64_t deadline = monotonic_ns() + receive_timeout_ms * 1'000'000LL;
    while (complete < n && monotonic_ns() < deadline) {
        const int k = ::epoll_wait(ep, ready, 1024, 100);
        for (int j = 0; j < k; ++j) {
            const std::uint32_t i = ready[j].data.u32;
            const auto got = ::recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
            if (got > 0 && (received[i] += static_cast<std::size_t>(got)) >= message_bytes) {
                ::epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
                ++complete;
            }
        }
    }
    write_value(report_fd, complete == n ? monotonic_ns() : -1);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int senders = argc > 2 ? std::atoi(argv[2]) : 2;
    if (n <= 0 || senders <= 0) {
        std::fprintf(stderr, "usage: %s [N=10000] [SENDERS=2]\n", argv[0]);
        return 2;
    }
    raise_fd_limit();
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listener, 4096) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("fanout-floor: listen");
        return 1;
    }
    int report[2];
    if (::pipe(report) != 0) {
        return 1;
    }
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(report[0]);
        ::_exit(receive(addr, n, report[1]));
    }
    ::close(report[1]);
    std::vector<int> conns;
    while (static_cast<int>(conns.size()) < n) {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) {
            std::perror("fanout-floor: accept");
            return 1;
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conns.push_back(fd);
    }
    std::int64_t ready = 0;
    if (!read_value(report[0], ready)) {
        return 1;
    }
    static const std::vector<char> message(message_bytes, 'x');
    const std::int64_t start = monotonic_ns();
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s) {
        threads.emplace_back([&conns, s, senders] {
            for (std::size_t i = static_cast<std::size_t>(s); i < conns.size();
                 i += static_cast<std::size_t>(senders)) {
                (void)::send(conns[i], message.data(), message.size(), MSG_NOSIGNAL);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const std::int64_t sent = monotonic_ns();
    std::int64_t last = -1;
    const bool reported = read_value(report[0], last);
    ::waitpid(child, nullptr, 0);
    if (!reported || last < 0) {
        std::fprintf(stderr, "fanout-floor: not every message arrived\n");
        return 1;
    }
    std::printf("floor: connections=%d senders=%d sends_done_ms=%.1f last_received_ms=%.1f\n", n,
        senders, static_cast<double>(sent - start) / 1e6, static_cast<double>(last - start) / 1e6);
    return 0;
}
