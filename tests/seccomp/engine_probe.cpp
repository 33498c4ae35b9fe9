// engine-probe: starts two reactors with the engine named on the command line (auto, uring
// or epoll), moves bytes over a socket pair, writes and syncs a file, makes a cross-core
// call, and prints the engine and the start-up notice. Exit 0 when all of it worked, 1 when
// the engine could not start (the reason goes to stderr), 2 when an op gave a wrong result.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/reactor/task.hpp"

namespace rx = uetcd::reactor;

namespace {

// Each co_await result is bound to a name first: g++ 12 miscompiles co_await inside
// larger expressions.
rx::task<bool> exercise(int sockets[2], const char* path) {
    const int sent = co_await rx::send(sockets[1], "ping", 4);
    char buffer[8] = {};
    const int received = co_await rx::recv(sockets[0], buffer, sizeof(buffer));
    if (sent != 4 || received != 4 || std::memcmp(buffer, "ping", 4) != 0) {
        co_return false;
    }
    const int fd = co_await rx::open_file(path, O_RDWR | O_TRUNC);
    if (fd < 0) {
        co_return false;
    }
    const int wrote = co_await rx::write_at(fd, "data", 4, 0);
    const int synced = co_await rx::fdatasync(fd);
    const int closed = co_await rx::close_fd(fd);
    const unsigned other = co_await rx::smp::current().submit_to(1,
        [] { return rx::reactor::current().core(); });
    co_return wrote == 4 && synced == 0 && closed == 0 && other == 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "auto";
    const rx::io_engine engine = name == "uring" ? rx::io_engine::uring
        : name == "epoll"                        ? rx::io_engine::epoll
                                                 : rx::io_engine::automatic;
    int sockets[2];
    char path[] = "/tmp/uetcd-engine-probe-XXXXXX";
    const int tmp = ::mkstemp(path);
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) != 0 || tmp < 0) {
        std::perror("engine-probe: set-up");
        return 2;
    }
    ::close(tmp);
    bool worked = false;
    std::string engine_name;
    std::string notice;
    const std::string error = rx::smp::run(
        rx::smp_config{.cores = 2, .engine = engine, .pin_threads = false},
        [&](unsigned core) -> rx::task<void> {
            if (core == 0) {
                engine_name = rx::smp::current().engine_name();
                worked = co_await exercise(sockets, path);
            }
        },
        &notice);
    ::unlink(path);
    ::close(sockets[0]);
    ::close(sockets[1]);
    if (!error.empty()) {
        std::fprintf(stderr, "engine-probe: cannot start the I/O engine: %s\n", error.c_str());
        return 1;
    }
    std::printf("engine: %s\nnotice: %s\n", engine_name.c_str(), notice.c_str());
    return worked ? 0 : 2;
}
