// The epoll backend (private to reactor/): see epoll_backend.cpp.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "uetcd/reactor/backend.hpp"

namespace uetcd::reactor {

// A file operation handed to the worker thread: a copy of what the syscall needs, so the
// worker reads nothing of the io_op but its buffer, and writes only `result`.
struct file_job {
    io_op* op = nullptr;
    op_kind kind = op_kind::nop;
    int fd = -1;
    int flags = 0;
    std::uint32_t mode = 0;
    void* buffer = nullptr;
    std::uint64_t size_bytes = 0;
    std::uint64_t offset = 0;
    std::int32_t result = 0;
};

class epoll_backend final : public backend {
public:
    epoll_backend();
    ~epoll_backend() override;
    epoll_backend(const epoll_backend&) = delete;
    epoll_backend& operator=(const epoll_backend&) = delete;

    // Returns "" on success, else why the engine cannot run. `queue_depth` bounds the
    // worker's queue of file operations.
    std::string init(unsigned queue_depth);

    const char* name() const noexcept override { return "epoll"; }
    void submit(io_op& op) noexcept override;
    void cancel(io_op& op) noexcept override;
    void poll(std::int64_t timeout_ns, completion_sink& sink) noexcept override;
    void wake() noexcept override;
    std::int64_t now_ns() const noexcept override;
    std::int64_t wall_ns() const noexcept override;

private:
    // Socket ops parked on one fd until it is ready, oldest first.
    struct fd_waiters {
        std::vector<io_op*> readers;     // accept, recv, read on a pipe-like fd
        std::vector<io_op*> writers;     // connect, send, write on a pipe-like fd
        std::uint32_t armed_events = 0;  // EPOLLIN/EPOLLOUT armed (one-shot) right now
        bool registered = false;         // in the epoll set, perhaps disarmed
    };
    using finished_op = std::pair<io_op*, std::int32_t>;

    void submit_pollable(io_op& op) noexcept;
    bool attempt_socket_op(io_op& op, std::int32_t& result) noexcept;
    bool finish_connect(io_op& op, std::int32_t& result) noexcept;
    fd_waiters& waiters_of(int fd);
    void arm(int fd, fd_waiters& waiting) noexcept;
    void fail_waiters(fd_waiters& waiting, std::int32_t result) noexcept;
    void on_ready(int fd, std::uint32_t events, completion_sink& sink) noexcept;
    void retry_waiting(std::vector<io_op*>& waiting, completion_sink& sink) noexcept;
    bool cancel_waiting(io_op& op) noexcept;
    int wait_for_events(std::int64_t timeout_ns) noexcept;
    void drain_wake_fd() noexcept;

    void submit_file(io_op& op) noexcept;
    bool cancel_file(io_op& op) noexcept;
    void collect_file_results(completion_sink& sink) noexcept;
    void file_worker_main() noexcept;

    int _epoll_fd = -1;
    int _wake_fd = -1;  // wake() and the file worker both signal here
    bool _use_epoll_pwait2 = true;
    std::vector<fd_waiters> _fds;            // indexed by fd
    std::vector<finished_op> _finished;      // done without waiting; reported by poll()
    std::vector<finished_op> _delivering;
    std::array<epoll_event, 256> _events{};  // readiness reported per epoll_wait, at most

    // File I/O worker. The queue is bounded by _file_queue_capacity; ops beyond it wait
    // in _file_backlog (reactor thread only) and move over as the worker drains.
    std::size_t _file_queue_capacity = 0;
    std::size_t _files_in_flight = 0;        // reactor thread only
    std::vector<file_job> _file_backlog;     // reactor thread only
    std::vector<file_job> _file_results;     // reactor thread only (swapped with _file_done)
    std::mutex _file_mutex;
    std::condition_variable _file_wakeup;
    std::vector<file_job> _file_queue;       // guarded by _file_mutex
    std::vector<file_job> _file_done;        // guarded by _file_mutex
    bool _file_stop = false;                 // guarded by _file_mutex
    std::thread _file_thread;
};

}  // namespace uetcd::reactor
