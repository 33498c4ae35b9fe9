// Engine-level tests: the epoll backend driven directly (no reactor), make_backend's choice
// and notice, and the io_uring feature probe with its UETCD_URING_PLAIN switch.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "reactor/epoll_backend.hpp"
#include "reactor/uring_backend.hpp"
#include "reactor/uring_probe.hpp"
#include "uetcd/reactor/net.hpp"

namespace rx = uetcd::reactor;
using rx::io_op;
using rx::op_kind;

namespace {

constexpr std::int64_t ms = 1'000'000;

struct collecting_sink final : rx::completion_sink {
    std::vector<std::pair<io_op*, std::int32_t>> done;
    void complete(io_op& op, std::int32_t result) noexcept override {
        op.in_flight = false;
        op.result = result;
        done.emplace_back(&op, result);
    }
};

io_op socket_op(op_kind kind, int fd, void* buffer, std::size_t size_bytes) {
    io_op op;
    op.kind = kind;
    op.fd = fd;
    op.buffer = buffer;
    op.size_bytes = size_bytes;
    op.flags = kind == op_kind::send ? MSG_NOSIGNAL : 0;
    op.in_flight = true;
    return op;
}

// Polls until `count` completions arrived or about two seconds passed.
void poll_until(rx::backend& engine, collecting_sink& sink, std::size_t count) {
    for (int round = 0; round < 200 && sink.done.size() < count; ++round) {
        engine.poll(10 * ms, sink);
    }
}

struct socket_pair {
    int fds[2] = {-1, -1};
    socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
    ~socket_pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

std::unique_ptr<rx::epoll_backend> make_epoll(unsigned queue_depth = 64) {
    auto engine = std::make_unique<rx::epoll_backend>();
    REQUIRE(engine->init(queue_depth).empty());
    return engine;
}

}  // namespace

TEST_CASE("epoll: a finished op is reported by poll, never inside submit", "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    socket_pair pair;  // blocking fds: the engine must not block on them
    char byte = 'x';
    io_op nop;
    nop.in_flight = true;
    io_op sent = socket_op(op_kind::send, pair.fds[1], &byte, 1);
    engine->submit(nop);
    engine->submit(sent);
    REQUIRE(sink.done.empty());
    engine->poll(0, sink);
    REQUIRE(sink.done.size() == 2);
    REQUIRE(sent.result == 1);
    REQUIRE(nop.result == 0);
}

TEST_CASE("epoll: a recv that would block waits for data, then completes once", "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    socket_pair pair;
    char buffer[8] = {};
    io_op received = socket_op(op_kind::recv, pair.fds[0], buffer, sizeof(buffer));
    engine->submit(received);
    engine->poll(5 * ms, sink);
    REQUIRE(sink.done.empty());
    REQUIRE(::write(pair.fds[1], "abc", 3) == 3);
    poll_until(*engine, sink, 1);
    REQUIRE(sink.done.size() == 1);
    REQUIRE(received.result == 3);
    REQUIRE(std::string(buffer, 3) == "abc");
    engine->poll(5 * ms, sink);
    REQUIRE(sink.done.size() == 1);
}

TEST_CASE("epoll: waiting recvs on one fd complete in submission order", "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    socket_pair pair;
    char first[2] = {};
    char second[2] = {};
    io_op a = socket_op(op_kind::recv, pair.fds[0], first, sizeof(first));
    io_op b = socket_op(op_kind::recv, pair.fds[0], second, sizeof(second));
    engine->submit(a);
    engine->submit(b);
    REQUIRE(::write(pair.fds[1], "1122", 4) == 4);
    poll_until(*engine, sink, 2);
    REQUIRE(sink.done.size() == 2);
    REQUIRE(sink.done[0].first == &a);
    REQUIRE(std::string(first, 2) == "11");
    REQUIRE(std::string(second, 2) == "22");
}

TEST_CASE("epoll: cancel completes a waiting recv with -ECANCELED exactly once", "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    socket_pair pair;
    char buffer[4];
    io_op received = socket_op(op_kind::recv, pair.fds[0], buffer, sizeof(buffer));
    engine->submit(received);
    engine->poll(0, sink);
    engine->cancel(received);
    REQUIRE(sink.done.empty());
    engine->poll(0, sink);
    REQUIRE(sink.done.size() == 1);
    REQUIRE(received.result == -ECANCELED);
    // Data arriving later finds nobody waiting and completes nothing.
    REQUIRE(::write(pair.fds[1], "z", 1) == 1);
    engine->poll(5 * ms, sink);
    engine->cancel(received);
    engine->poll(0, sink);
    REQUIRE(sink.done.size() == 1);
}

TEST_CASE("epoll: a closed peer gives recv 0 and send -EPIPE", "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    socket_pair pair;
    char buffer[4];
    io_op received = socket_op(op_kind::recv, pair.fds[0], buffer, sizeof(buffer));
    engine->submit(received);
    engine->poll(0, sink);
    ::shutdown(pair.fds[1], SHUT_RDWR);
    poll_until(*engine, sink, 1);
    REQUIRE(received.result == 0);
    io_op sent = socket_op(op_kind::send, pair.fds[0], buffer, 1);
    engine->submit(sent);
    poll_until(*engine, sink, 2);
    REQUIRE(sent.result == -EPIPE);
}

TEST_CASE("epoll: wake from another thread ends a poll that would wait forever", "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    std::atomic<bool> woken{false};
    std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        woken.store(true);
        engine->wake();
    });
    // A poll may also return early (EINTR, e.g. io_uring task work from an earlier test's
    // ring on this thread); only wake() may end the last one.
    int polls = 0;
    while (!woken.load() && polls < 1000) {
        engine->poll(-1, sink);
        ++polls;
    }
    waker.join();
    REQUIRE(woken.load());
    REQUIRE(sink.done.empty());
}

TEST_CASE("epoll: a poll timeout below a millisecond is honoured, not rounded to 0",
    "[epoll]") {
    auto engine = make_epoll();
    collecting_sink sink;
    // Up to three tries: a poll may end early on EINTR, which the reactor tolerates.
    std::int64_t longest_ns = 0;
    for (int attempt = 0; attempt < 3 && longest_ns < 300'000; ++attempt) {
        const auto start = engine->now_ns();
        engine->poll(300'000, sink);
        longest_ns = std::max(longest_ns, engine->now_ns() - start);
    }
    REQUIRE(longest_ns >= 300'000);
}

TEST_CASE("epoll: more file writes than the worker queue holds all complete", "[epoll][file]") {
    auto engine = make_epoll(16);  // the smallest queue: most writes wait in the backlog
    collecting_sink sink;
    char path[] = "/tmp/uetcd-epoll-test-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    constexpr int writes = 100;
    std::vector<io_op> ops(writes);
    std::vector<char> bytes(writes);
    for (int i = 0; i < writes; ++i) {
        bytes[static_cast<std::size_t>(i)] = static_cast<char>('a' + i % 26);
        io_op& op = ops[static_cast<std::size_t>(i)];
        op.kind = op_kind::write;
        op.fd = fd;
        op.buffer = &bytes[static_cast<std::size_t>(i)];
        op.size_bytes = 1;
        op.offset = static_cast<std::uint64_t>(i);
        op.in_flight = true;
        engine->submit(op);
    }
    poll_until(*engine, sink, writes);
    REQUIRE(sink.done.size() == static_cast<std::size_t>(writes));
    for (const io_op& op : ops) {
        REQUIRE(op.result == 1);
    }
    char back[writes] = {};
    REQUIRE(::pread(fd, back, writes, 0) == writes);
    REQUIRE(std::string(back, writes) == std::string(bytes.begin(), bytes.end()));
    ::close(fd);
    ::unlink(path);
}

TEST_CASE("epoll: a file op on a bad fd fails with -EBADF through poll", "[epoll][file]") {
    auto engine = make_epoll();
    collecting_sink sink;
    io_op synced;
    synced.kind = op_kind::fdatasync;
    synced.fd = 1'000'000;
    synced.in_flight = true;
    engine->submit(synced);
    REQUIRE(sink.done.empty());
    poll_until(*engine, sink, 1);
    REQUIRE(synced.result == -EBADF);
}

TEST_CASE("make_backend: epoll is chosen when asked for, with a notice", "[engine]") {
    rx::backend_choice choice = rx::make_backend(rx::io_engine::epoll, 64);
    REQUIRE(choice.engine != nullptr);
    REQUIRE(std::string(choice.engine->name()) == "epoll");
    REQUIRE(choice.error == "using epoll (--io-engine epoll)");
}

TEST_CASE("make_backend: auto runs io_uring here or says why it fell back", "[engine]") {
    rx::backend_choice choice = rx::make_backend(rx::io_engine::automatic, 64);
    REQUIRE(choice.engine != nullptr);
    const std::string name = choice.engine->name();
    if (name == "io_uring") {
        REQUIRE(choice.error.rfind("using io_uring; io_uring features:", 0) == 0);
    } else {
        REQUIRE(name == "epoll");
        REQUIRE(choice.error.rfind("io_uring refused (", 0) == 0);
        REQUIRE(choice.error.find("); using epoll") != std::string::npos);
    }
}

TEST_CASE("uring: UETCD_URING_PLAIN=1 turns every optional feature off", "[engine][uring]") {
    rx::uring_backend probe;
    if (!probe.init(8, false).empty()) {
        WARN("io_uring is not available here; nothing to check");
        return;
    }
    INFO(rx::describe_uring_features(probe.features()));
    REQUIRE(probe.features().ext_arg);
    ::setenv("UETCD_URING_PLAIN", "1", 1);
    rx::backend_choice choice = rx::make_backend(rx::io_engine::uring, 8);
    ::unsetenv("UETCD_URING_PLAIN");
    REQUIRE(choice.engine != nullptr);
    const std::string& notice = choice.error;
    REQUIRE(notice.find("-single_issuer -coop_taskrun -defer_taskrun") != std::string::npos);
    REQUIRE(notice.find("-multishot_accept -buffer_rings -registered_files") !=
            std::string::npos);
    REQUIRE(notice.find("(plain: UETCD_URING_PLAIN=1)") != std::string::npos);
}

TEST_CASE("uring: a refused setup is explained in words an operator can act on", "[uring]") {
    const std::string denied = rx::explain_uring_setup_error(EPERM);
    REQUIRE(denied.rfind("io_uring_queue_init: operation not permitted: ", 0) == 0);
    const int disabled = rx::read_io_uring_disabled();
    if (disabled <= 0) {
        REQUIRE(denied.find("seccomp") != std::string::npos);
    } else {
        REQUIRE(denied.find("kernel.io_uring_disabled=") != std::string::npos);
    }
    REQUIRE(rx::explain_uring_setup_error(ENOSYS).find("gVisor") != std::string::npos);
    REQUIRE(rx::explain_uring_setup_error(ENOMEM).find("RLIMIT_MEMLOCK") != std::string::npos);
}
