// Reactor tests on a real backend (io_uring or epoll, see engine_under_test): timers,
// cancellation, timeouts, cross-core calls, sockets and files. Results of co_await are bound
// to a name before REQUIRE: g++ 12 miscompiles co_await inside Catch's expression decomposer.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "uetcd/reactor/net.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/reactor/task.hpp"

using uetcd::reactor::cancel_slot;
using uetcd::reactor::gate;
using uetcd::reactor::local_address;
using uetcd::reactor::parse_socket_address;
using uetcd::reactor::reactor;
using uetcd::reactor::sleep_for;
using uetcd::reactor::smp;
using uetcd::reactor::smp_config;
using uetcd::reactor::socket_address;
using uetcd::reactor::spawn;
using uetcd::reactor::task;
namespace rx = uetcd::reactor;

namespace {

constexpr std::int64_t ms = 1'000'000;

// Every test runs on the engine named by UETCD_IO_ENGINE (auto, uring or epoll; meson
// registers this binary once per engine).
rx::io_engine engine_under_test() {
    const char* name = std::getenv("UETCD_IO_ENGINE");
    const std::string wanted = name == nullptr ? "" : name;
    if (wanted == "epoll") {
        return rx::io_engine::epoll;
    }
    return wanted == "uring" ? rx::io_engine::uring : rx::io_engine::automatic;
}

// Runs `body` on core 0 of a fresh set of reactors; the other cores idle until it ends.
template <typename Body>
void run_reactors(unsigned cores, Body body) {
    const smp_config config{.cores = cores, .engine = engine_under_test(), .pin_threads = false};
    std::string error = smp::run(config,
        [&](unsigned core) -> task<void> {
            if (core == 0) {
                const std::string engine = smp::current().engine_name();
                const auto wanted = engine_under_test();
                REQUIRE((wanted != rx::io_engine::epoll || engine == "epoll"));
                REQUIRE((wanted != rx::io_engine::uring || engine == "io_uring"));
                co_await body();
            }
        });
    REQUIRE(error.empty());
}

task<void> sleeper(std::vector<int>& order, int id, std::int64_t delay_ns) {
    co_await sleep_for(delay_ns);
    order.push_back(id);
}

}  // namespace

TEST_CASE("reactor: timers fire in deadline order, not start order", "[reactor]") {
    std::vector<int> order;
    run_reactors(1, [&]() -> task<void> {
        gate g;
        auto run = [&](int id, std::int64_t d) -> task<void> {
            co_await sleeper(order, id, d);
            g.leave();
        };
        for (auto [id, d] : std::vector<std::pair<int, std::int64_t>>{
                 {3, 30 * ms}, {1, 10 * ms}, {2, 20 * ms}, {0, 0}}) {
            g.enter();
            spawn(run(id, d));
        }
        co_await g.close();
    });
    REQUIRE(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("reactor: sleep waits at least its duration", "[reactor]") {
    std::int64_t elapsed = 0;
    run_reactors(1, [&]() -> task<void> {
        const auto start = reactor::current().now_ns();
        co_await sleep_for(20 * ms);
        elapsed = reactor::current().now_ns() - start;
    });
    REQUIRE(elapsed >= 20 * ms);
}

TEST_CASE("reactor: recv with a timeout completes with -ETIMEDOUT", "[reactor][timeout]") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    std::int32_t result = 0;
    run_reactors(1, [&]() -> task<void> {
        char buf[16];
        result = co_await rx::recv(fds[0], buf, sizeof(buf)).with_timeout(10 * ms);
    });
    REQUIRE(result == -ETIMEDOUT);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("reactor: a cancel slot stops a pending recv", "[reactor][cancel]") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    std::int32_t result = 0;
    run_reactors(1, [&]() -> task<void> {
        cancel_slot slot;
        gate g;
        g.enter();
        auto reader = [&]() -> task<void> {
            char buf[16];
            result = co_await rx::recv(fds[0], buf, sizeof(buf)).with_cancel(slot);
            g.leave();
        };
        spawn(reader());
        co_await sleep_for(5 * ms);
        slot.cancel();
        co_await g.close();
    });
    REQUIRE(result == -ECANCELED);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("reactor: data sent on a socket pair arrives intact", "[reactor][net]") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    std::string received;
    run_reactors(1, [&]() -> task<void> {
        const std::string message = "hello over io_uring";
        const auto sent = co_await rx::send(fds[1], message.data(), message.size());
        REQUIRE(sent == static_cast<std::int32_t>(message.size()));
        char buf[64];
        const auto n = co_await rx::recv(fds[0], buf, sizeof(buf));
        REQUIRE(n > 0);
        received.assign(buf, static_cast<std::size_t>(n));
    });
    REQUIRE(received == "hello over io_uring");
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("reactor: TCP accept and connect on loopback", "[reactor][net]") {
    auto address = parse_socket_address("127.0.0.1:0");
    REQUIRE(address.ok());
    auto listener = rx::listen_tcp(*address, {.reuse_port = false});
    REQUIRE(listener.ok());
    const socket_address bound = local_address(listener->get());
    REQUIRE(bound.port() != 0);
    std::string echoed;
    run_reactors(1, [&]() -> task<void> {
        gate g;
        g.enter();
        auto server = [&]() -> task<void> {
            socket_address peer;
            peer.length = sizeof(peer.storage);
            const int fd = co_await rx::accept(listener->get(), peer.get(), &peer.length);
            REQUIRE(fd >= 0);
            char buf[32];
            const auto n = co_await rx::recv(fd, buf, sizeof(buf));
            REQUIRE(n > 0);
            co_await rx::send(fd, buf, static_cast<std::size_t>(n));
            co_await rx::close_fd(fd);
            g.leave();
        };
        spawn(server());
        auto client = rx::tcp_socket(AF_INET);
        REQUIRE(client.ok());
        {
            const auto got = co_await rx::connect(client->get(), bound.get(), bound.length);
            REQUIRE(got == 0);
        }
        co_await rx::send(client->get(), "ping", 4);
        char buf[32];
        const auto n = co_await rx::recv(client->get(), buf, sizeof(buf));
        REQUIRE(n == 4);
        echoed.assign(buf, 4);
        co_await g.close();
    });
    REQUIRE(echoed == "ping");
}

TEST_CASE("reactor: listening on a taken port fails with a clear reason", "[reactor][net]") {
    auto address = parse_socket_address("127.0.0.1:0");
    auto first = rx::listen_tcp(*address, {.reuse_port = false});
    REQUIRE(first.ok());
    const socket_address bound = local_address(first->get());
    auto second = rx::listen_tcp(bound, {.reuse_port = true, .check_exclusive = true});
    REQUIRE_FALSE(second.ok());
    REQUIRE(second.error().find("address already in use") != std::string::npos);
}

TEST_CASE("reactor: file open, fallocate, write, fdatasync, read back", "[reactor][file]") {
    char path[] = "/tmp/uetcd-reactor-test-XXXXXX";
    const int tmp = ::mkstemp(path);
    REQUIRE(tmp >= 0);
    ::close(tmp);
    std::string read_back;
    run_reactors(1, [&]() -> task<void> {
        const int fd = co_await rx::open_file(path, O_RDWR | O_TRUNC);
        REQUIRE(fd >= 0);
        {
            const auto got = co_await rx::fallocate(fd, 0, 0, 4096);
            REQUIRE(got == 0);
        }
        const std::string data = "durable bytes";
        const auto wrote = co_await rx::write_at(fd, data.data(), data.size(), 100);
        REQUIRE(wrote == static_cast<std::int32_t>(data.size()));
        const auto synced = co_await rx::fdatasync(fd);
        REQUIRE(synced == 0);
        char buf[32] = {};
        const auto got = co_await rx::read_at(fd, buf, data.size(), 100);
        REQUIRE(got == static_cast<std::int32_t>(data.size()));
        read_back.assign(buf, data.size());
        const auto closed = co_await rx::close_fd(fd);
        REQUIRE(closed == 0);
    });
    ::unlink(path);
    REQUIRE(read_back == "durable bytes");
}

TEST_CASE("smp: submit_to runs on the target core and returns its value", "[smp]") {
    std::vector<unsigned> seen_cores;
    int task_result = 0;
    run_reactors(2, [&]() -> task<void> {
        auto& s = smp::current();
        const unsigned there = co_await s.submit_to(1, [] { return reactor::current().core(); });
        seen_cores.push_back(there);
        seen_cores.push_back(reactor::current().core());
        task_result = co_await s.submit_to(1, []() -> task<int> {
            co_await sleep_for(1 * ms);
            co_return 41 + static_cast<int>(reactor::current().core());
        });
        co_await s.submit_to(0, [] {});
    });
    REQUIRE(seen_cores == std::vector<unsigned>{1, 0});
    REQUIRE(task_result == 42);
}

TEST_CASE("smp: many concurrent cross-core calls all complete (ring overflow)", "[smp]") {
    // More calls in flight than one ring holds: the overflow list must carry the rest.
    constexpr int calls = 5000;
    long long sum = 0;
    run_reactors(2, [&]() -> task<void> {
        gate g;
        auto one = [&](int i) -> task<void> {
            sum += co_await smp::current().submit_to(1, [i] { return i; });
            g.leave();
        };
        for (int i = 0; i < calls; ++i) {
            g.enter();
            spawn(one(i));
        }
        co_await g.close();
    });
    REQUIRE(sum == static_cast<long long>(calls) * (calls - 1) / 2);
}

TEST_CASE("reactor: a send larger than the socket buffer completes as the peer reads",
    "[reactor][net]") {
    // The writer must wait for room (EAGAIN, then writable) while the reader drains.
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    constexpr std::size_t total_bytes = 4 << 20;
    std::vector<char> out(total_bytes);
    for (std::size_t i = 0; i < total_bytes; ++i) {
        out[i] = static_cast<char>(i * 7 + i / 4096);
    }
    std::vector<char> in;
    in.reserve(total_bytes);
    run_reactors(1, [&]() -> task<void> {
        gate g;
        g.enter();
        auto reader = [&]() -> task<void> {
            char buf[16384];
            while (in.size() < total_bytes) {
                const auto n = co_await rx::recv(fds[0], buf, sizeof(buf));
                if (n <= 0) {
                    break;
                }
                in.insert(in.end(), buf, buf + n);
            }
            g.leave();
        };
        spawn(reader());
        std::size_t sent = 0;
        while (sent < total_bytes) {
            const auto n = co_await rx::send(fds[1], out.data() + sent, total_bytes - sent);
            REQUIRE(n > 0);
            sent += static_cast<std::size_t>(n);
        }
        co_await g.close();
    });
    REQUIRE(in == out);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("reactor: connect to a closed port fails with -ECONNREFUSED", "[reactor][net]") {
    // Bind a port, then close it, so nothing listens there.
    auto address = parse_socket_address("127.0.0.1:0");
    socket_address closed;
    {
        auto listener = rx::listen_tcp(*address, {.reuse_port = false});
        REQUIRE(listener.ok());
        closed = local_address(listener->get());
    }
    std::int32_t result = 0;
    run_reactors(1, [&]() -> task<void> {
        auto client = rx::tcp_socket(AF_INET);
        REQUIRE(client.ok());
        result = co_await rx::connect(client->get(), closed.get(), closed.length);
    });
    REQUIRE(result == -ECONNREFUSED);
}

TEST_CASE("reactor: many loopback clients are accepted and echoed concurrently",
    "[reactor][net]") {
    constexpr int clients = 64;
    auto address = parse_socket_address("127.0.0.1:0");
    auto listener = rx::listen_tcp(*address, {.reuse_port = false});
    REQUIRE(listener.ok());
    const socket_address bound = local_address(listener->get());
    int echoed = 0;
    run_reactors(1, [&]() -> task<void> {
        gate g;
        auto serve_one = [&](int fd) -> task<void> {
            char buf[16];
            const auto n = co_await rx::recv(fd, buf, sizeof(buf));
            if (n > 0) {
                co_await rx::send(fd, buf, static_cast<std::size_t>(n));
            }
            co_await rx::close_fd(fd);
            g.leave();
        };
        auto server = [&]() -> task<void> {
            for (int i = 0; i < clients; ++i) {
                socket_address peer;
                peer.length = sizeof(peer.storage);
                const int fd = co_await rx::accept(listener->get(), peer.get(), &peer.length);
                REQUIRE(fd >= 0);
                spawn(serve_one(fd));
            }
            g.leave();
        };
        auto client = [&](int id) -> task<void> {
            auto socket = rx::tcp_socket(AF_INET);
            REQUIRE(socket.ok());
            const auto connected = co_await rx::connect(socket->get(), bound.get(), bound.length);
            REQUIRE(connected == 0);
            const std::string text = std::to_string(id);
            co_await rx::send(socket->get(), text.data(), text.size());
            char buf[16];
            const auto n = co_await rx::recv(socket->get(), buf, sizeof(buf));
            if (n > 0 && std::string(buf, static_cast<std::size_t>(n)) == text) {
                ++echoed;
            }
            g.leave();
        };
        g.enter();
        spawn(server());
        for (int i = 0; i < clients; ++i) {
            g.enter();  // the client
            g.enter();  // its server side
            spawn(client(i));
        }
        co_await g.close();
    });
    REQUIRE(echoed == clients);
}

TEST_CASE("reactor: read_at and write_at on a pipe wait for it, as on a signalfd",
    "[reactor][file]") {
    // The server reads its signalfd with read_at(fd, ..., 0): the offset of a pipe-like fd
    // is ignored and the read waits for data without holding up file I/O.
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    std::string received;
    std::int32_t wrote = 0;
    run_reactors(1, [&]() -> task<void> {
        gate g;
        g.enter();
        auto reader = [&]() -> task<void> {
            char buf[16];
            const auto n = co_await rx::read_at(pipe_fds[0], buf, sizeof(buf), 0);
            if (n > 0) {
                received.assign(buf, static_cast<std::size_t>(n));
            }
            g.leave();
        };
        spawn(reader());
        co_await sleep_for(5 * ms);
        // File I/O still flows while the pipe read waits.
        char path[] = "/tmp/uetcd-reactor-pipe-XXXXXX";
        const int tmp = ::mkstemp(path);
        REQUIRE(tmp >= 0);
        const auto synced = co_await rx::fdatasync(tmp);
        REQUIRE(synced == 0);
        ::close(tmp);
        ::unlink(path);
        REQUIRE(received.empty());
        wrote = co_await rx::write_at(pipe_fds[1], "signal", 6, 0);
        co_await g.close();
    });
    REQUIRE(wrote == 6);
    REQUIRE(received == "signal");
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
}
