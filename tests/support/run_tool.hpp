// Runs a command line to completion for tests: stdin fed from a string, stdout and stderr
// captured apart, the process killed after a timeout (every run is bounded). ETCDCTL_API=2
// is set, as every etcdctl the tests run is the v2 one.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace uetcd::testing {

struct run_result {
    std::string out;
    std::string err;
    int code = -1;  // the exit status; -1 when killed, signalled or not started
};

namespace detail {

// Reads both pipes until they close or the deadline passes.
inline void drain_pipes(int out_fd, int err_fd, run_result& r,
    std::chrono::steady_clock::time_point deadline) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_count = 2;
    while (open_count > 0 && std::chrono::steady_clock::now() < deadline) {
        if (::poll(fds, 2, 100) <= 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) {
                continue;
            }
            char buf[4096];
            const auto n = ::read(fds[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& f : fds) {
        if (f.fd >= 0) {
            ::close(f.fd);
        }
    }
}

}  // namespace detail

// Runs `argv` (argv[0] is the program's path) with `input` on stdin.
inline run_result run_tool(const std::vector<std::string>& argv, const std::string& input = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    run_result r;
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (argv.empty() || ::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) {
        return r;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0],
                 err_pipe[1]}) {
            ::close(fd);
        }
        ::setenv("ETCDCTL_API", "2", 1);
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (!input.empty()) {
        (void)!::write(in_pipe[1], input.data(), input.size());
    }
    ::close(in_pipe[1]);
    detail::drain_pipes(out_pipe[0], err_pipe[0], r,
        std::chrono::steady_clock::now() + timeout);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace uetcd::testing
