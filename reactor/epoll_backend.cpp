// The epoll backend, for hosts that refuse io_uring. Socket ops try their syscall at once
// (non-blocking: MSG_DONTWAIT, or O_NONBLOCK for accept and connect); only on EAGAIN do they
// park on their fd, which is armed in the epoll set level-triggered and one-shot, so each
// wait costs at most one epoll_ctl and a stale registration (fd closed behind our back)
// only causes a harmless retry. File ops run on one worker thread per backend: a slow
// disk blocks that thread, never the network on this core. Every completion, even one
// known inside submit(), is reported by poll().
#include "reactor/epoll_backend.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <system_error>

#include "reactor/clock.hpp"
#include "uetcd/assert.hpp"

namespace uetcd::reactor {

namespace {


bool is_socket_op(op_kind kind) noexcept {
    return kind == op_kind::accept || kind == op_kind::connect || kind == op_kind::recv ||
        kind == op_kind::send;
}

bool waits_for_input(op_kind kind) noexcept {
    return kind == op_kind::accept || kind == op_kind::recv || kind == op_kind::read;
}

// Accept, connect and read/write on a pipe-like fd have no per-call "don't wait" flag: the
// fd itself must be non-blocking. Sockets from tcp_socket() start blocking (io_uring
// prefers that), and so do signalfds and pipes.
int make_nonblocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
        return -errno;
    }
    if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return -errno;
    }
    return 0;
}

// Linux moves at most this much per read/write call, and it fits the int32 result.
constexpr std::uint64_t max_transfer_bytes = 0x7ffff000;

std::int32_t syscall_result(long rc) noexcept {
    return rc < 0 ? -errno : static_cast<std::int32_t>(rc);
}

std::int32_t run_file_job(const file_job& job) noexcept {
    const std::size_t size = std::min(job.size_bytes, max_transfer_bytes);
    const auto offset = static_cast<off_t>(job.offset);
    long rc = 0;
    do {
        switch (job.kind) {
        case op_kind::read: rc = ::pread(job.fd, job.buffer, size, offset); break;
        case op_kind::write: rc = ::pwrite(job.fd, job.buffer, size, offset); break;
        case op_kind::fdatasync: rc = ::fdatasync(job.fd); break;
        case op_kind::fsync: rc = ::fsync(job.fd); break;
        case op_kind::fallocate:
            rc = ::fallocate(job.fd, job.flags, offset, static_cast<off_t>(job.size_bytes));
            break;
        case op_kind::openat:
            rc = ::openat(AT_FDCWD, static_cast<const char*>(job.buffer),
                job.flags | O_CLOEXEC, job.mode);
            break;
        // Never retried: after EINTR the fd is closed already on Linux.
        case op_kind::close: return syscall_result(::close(job.fd));
        default: return -EINVAL;
        }
    } while (rc < 0 && errno == EINTR);
    return syscall_result(rc);
}

}  // namespace

epoll_backend::epoll_backend() = default;

epoll_backend::~epoll_backend() {
    if (_file_thread.joinable()) {
        {
            const std::lock_guard lock(_file_mutex);
            _file_stop = true;
        }
        _file_wakeup.notify_one();
        _file_thread.join();
    }
    if (_wake_fd >= 0) {
        ::close(_wake_fd);
    }
    if (_epoll_fd >= 0) {
        ::close(_epoll_fd);
    }
}

std::string epoll_backend::init(unsigned queue_depth) {
    _epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (_epoll_fd < 0) {
        return std::string("epoll_create1: ") + std::strerror(errno);
    }
    _wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_wake_fd < 0) {
        return std::string("eventfd: ") + std::strerror(errno);
    }
    epoll_event wake_event{};
    wake_event.events = EPOLLIN;
    wake_event.data.fd = _wake_fd;
    if (::epoll_ctl(_epoll_fd, EPOLL_CTL_ADD, _wake_fd, &wake_event) != 0) {
        return std::string("epoll_ctl: ") + std::strerror(errno);
    }
    _file_queue_capacity = std::clamp<std::size_t>(queue_depth, 16, 4096);
    _file_queue.reserve(_file_queue_capacity);
    _file_done.reserve(_file_queue_capacity);
    _file_results.reserve(_file_queue_capacity);
    _finished.reserve(256);
    _delivering.reserve(256);
    try {
        _file_thread = std::thread([this] { file_worker_main(); });
    } catch (const std::system_error& e) {
        return std::string("cannot start the file I/O thread: ") + e.what();
    }
    return {};
}

void epoll_backend::submit(io_op& op) noexcept {
    if (op.kind == op_kind::nop) {
        _finished.emplace_back(&op, 0);
    } else if (is_socket_op(op.kind)) {
        submit_pollable(op);
    } else {
        submit_file(op);
    }
}

void epoll_backend::cancel(io_op& op) noexcept {
    // Ops that already finished (in _finished, or run by the worker) complete normally.
    if (is_socket_op(op.kind)) {
        cancel_waiting(op);
    } else if (op.kind != op_kind::nop && !cancel_waiting(op)) {
        cancel_file(op);  // a read or write parked as pollable was found above
    }
}

epoll_backend::fd_waiters& epoll_backend::waiters_of(int fd) {
    UETCD_ASSERT(fd >= 0);
    const auto index = static_cast<std::size_t>(fd);
    if (index >= _fds.size()) {
        _fds.resize(std::max(index + 1, _fds.size() * 2));
    }
    return _fds[index];
}

// Socket ops, and reads/writes on fds without offsets (pipes, signalfd, eventfd: the worker
// saw ESPIPE), which like io_uring ignore the offset and wait for readiness.
void epoll_backend::submit_pollable(io_op& op) noexcept {
    if (op.fd < 0) {
        _finished.emplace_back(&op, -EBADF);
        return;
    }
    fd_waiters& waiting = waiters_of(op.fd);
    auto& queue = waits_for_input(op.kind) ? waiting.readers : waiting.writers;
    std::int32_t result = 0;
    // Behind others already waiting on this fd, an op keeps their order and waits too.
    if (!queue.empty()) {
        queue.push_back(&op);
        arm(op.fd, waiting);
        return;
    }
    if (op.kind != op_kind::recv && op.kind != op_kind::send) {
        result = make_nonblocking(op.fd);
        if (result < 0) {
            _finished.emplace_back(&op, result);
            return;
        }
    }
    if (op.kind == op_kind::connect) {
        const int rc = ::connect(op.fd, op.address, op.connect_address_length);
        if (rc == 0 || (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN)) {
            _finished.emplace_back(&op, rc == 0 ? 0 : -errno);
            return;
        }
    } else if (attempt_socket_op(op, result)) {
        _finished.emplace_back(&op, result);
        return;
    }
    queue.push_back(&op);
    arm(op.fd, waiting);
}

// Returns true when the op finished with `result`, false when it would block.
bool epoll_backend::attempt_socket_op(io_op& op, std::int32_t& result) noexcept {
    if (op.kind == op_kind::connect) {
        return finish_connect(op, result);
    }
    const std::size_t size = std::min(op.size_bytes, max_transfer_bytes);
    for (;;) {
        long rc = 0;
        switch (op.kind) {
        case op_kind::recv: rc = ::recv(op.fd, op.buffer, size, op.flags | MSG_DONTWAIT); break;
        case op_kind::send:
            rc = ::send(op.fd, op.buffer, size, op.flags | MSG_DONTWAIT | MSG_NOSIGNAL);
            break;
        case op_kind::accept:
            rc = ::accept4(op.fd, op.address, op.address_length, SOCK_CLOEXEC | SOCK_NONBLOCK);
            break;
        case op_kind::read: rc = ::read(op.fd, op.buffer, size); break;
        case op_kind::write: rc = ::write(op.fd, op.buffer, size); break;
        default: UETCD_ASSERT(false && "not a pollable op");
        }
        if (rc >= 0) {
            result = static_cast<std::int32_t>(rc);
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return false;
        }
        if (errno != EINTR) {
            result = -errno;
            return true;
        }
    }
}

// A connect in progress is done once SO_ERROR holds its error, or the peer is known.
bool epoll_backend::finish_connect(io_op& op, std::int32_t& result) noexcept {
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        result = -errno;
        return true;
    }
    if (error != 0) {
        result = -error;
        return true;
    }
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof(peer);
    if (::getpeername(op.fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0) {
        result = 0;
        return true;
    }
    return false;  // ENOTCONN: still connecting (a stale readiness report woke us)
}

void epoll_backend::arm(int fd, fd_waiters& waiting) noexcept {
    std::uint32_t wanted = 0;
    if (!waiting.readers.empty()) {
        wanted |= EPOLLIN | EPOLLRDHUP;
    }
    if (!waiting.writers.empty()) {
        wanted |= EPOLLOUT;
    }
    if (wanted == 0 || (waiting.armed_events & wanted) == wanted) {
        return;
    }
    epoll_event event{};
    event.events = wanted | EPOLLONESHOT;
    event.data.fd = fd;
    int rc = ::epoll_ctl(_epoll_fd, waiting.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
        &event);
    // Our record can be stale: the fd may have been closed and its number reused.
    if (rc != 0 && errno == ENOENT) {
        rc = ::epoll_ctl(_epoll_fd, EPOLL_CTL_ADD, fd, &event);
    } else if (rc != 0 && errno == EEXIST) {
        rc = ::epoll_ctl(_epoll_fd, EPOLL_CTL_MOD, fd, &event);
    }
    if (rc != 0) {
        fail_waiters(waiting, -errno);
        return;
    }
    waiting.registered = true;
    waiting.armed_events = wanted;
}

void epoll_backend::fail_waiters(fd_waiters& waiting, std::int32_t result) noexcept {
    for (io_op* op : waiting.readers) {
        _finished.emplace_back(op, result);
    }
    for (io_op* op : waiting.writers) {
        _finished.emplace_back(op, result);
    }
    waiting.readers.clear();
    waiting.writers.clear();
}

void epoll_backend::on_ready(int fd, std::uint32_t events, completion_sink& sink) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= _fds.size()) {
        return;
    }
    fd_waiters& waiting = _fds[static_cast<std::size_t>(fd)];
    waiting.armed_events = 0;  // one-shot: the report disarmed the fd
    const std::uint32_t failed = EPOLLERR | EPOLLHUP;
    if ((events & (EPOLLIN | EPOLLRDHUP | failed)) != 0) {
        retry_waiting(waiting.readers, sink);
    }
    if ((events & (EPOLLOUT | failed)) != 0) {
        retry_waiting(waiting.writers, sink);
    }
    arm(fd, waiting);
}

void epoll_backend::retry_waiting(std::vector<io_op*>& waiting, completion_sink& sink) noexcept {
    std::size_t done = 0;
    while (done < waiting.size()) {
        std::int32_t result = 0;
        if (!attempt_socket_op(*waiting[done], result)) {
            break;
        }
        sink.complete(*waiting[done], result);
        ++done;
    }
    waiting.erase(waiting.begin(), waiting.begin() + static_cast<std::ptrdiff_t>(done));
}

bool epoll_backend::cancel_waiting(io_op& op) noexcept {
    if (op.fd < 0 || static_cast<std::size_t>(op.fd) >= _fds.size()) {
        return false;
    }
    fd_waiters& waiting = _fds[static_cast<std::size_t>(op.fd)];
    auto& queue = waits_for_input(op.kind) ? waiting.readers : waiting.writers;
    const auto found = std::find(queue.begin(), queue.end(), &op);
    if (found == queue.end()) {
        return false;
    }
    queue.erase(found);
    // The fd stays armed; a later readiness report with nobody waiting is ignored.
    _finished.emplace_back(&op, -ECANCELED);
    return true;
}

int epoll_backend::wait_for_events(std::int64_t timeout_ns) noexcept {
    const int capacity = static_cast<int>(_events.size());
    int count = 0;
    if (_use_epoll_pwait2 && timeout_ns > 0) {
        timespec ts{};
        ts.tv_sec = timeout_ns / 1'000'000'000;
        ts.tv_nsec = timeout_ns % 1'000'000'000;
        count = ::epoll_pwait2(_epoll_fd, _events.data(), capacity, &ts, nullptr);
        if (count >= 0 || errno == EINTR) {
            return std::max(count, 0);
        }
        // Before 5.11, or a seccomp profile that does not know it: milliseconds will do.
        UETCD_ASSERT(errno == ENOSYS || errno == EPERM);
        _use_epoll_pwait2 = false;
    }
    int timeout_ms = -1;
    if (timeout_ns >= 0) {
        // Round up so a timer is never polled for before its deadline.
        timeout_ms = static_cast<int>(std::min<std::int64_t>(
            (timeout_ns + 999'999) / 1'000'000, INT_MAX));
    }
    count = ::epoll_wait(_epoll_fd, _events.data(), capacity, timeout_ms);
    UETCD_ASSERT(count >= 0 || errno == EINTR);
    return std::max(count, 0);
}

void epoll_backend::poll(std::int64_t timeout_ns, completion_sink& sink) noexcept {
    const int count = wait_for_events(_finished.empty() ? timeout_ns : 0);
    bool woken = false;
    for (int i = 0; i < count; ++i) {
        const epoll_event& event = _events[static_cast<std::size_t>(i)];
        if (event.data.fd == _wake_fd) {
            woken = true;
        } else {
            on_ready(event.data.fd, event.events, sink);
        }
    }
    if (woken) {
        // Drain first: a result the worker publishes after this is signalled anew.
        drain_wake_fd();
        collect_file_results(sink);
    }
    _delivering.swap(_finished);
    for (const auto& [op, result] : _delivering) {
        sink.complete(*op, result);
    }
    _delivering.clear();
}

void epoll_backend::drain_wake_fd() noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(_wake_fd, &count, sizeof(count));
}

void epoll_backend::wake() noexcept {
    const std::uint64_t one = 1;
    // A full counter (EAGAIN) means a wake-up is pending already.
    [[maybe_unused]] const auto n = ::write(_wake_fd, &one, sizeof(one));
}

void epoll_backend::submit_file(io_op& op) noexcept {
    file_job job{.op = &op, .kind = op.kind, .fd = op.fd, .flags = op.flags, .mode = op.mode,
        .buffer = op.buffer, .size_bytes = op.size_bytes, .offset = op.offset};
    if (op.kind == op_kind::close && op.fd >= 0 &&
        static_cast<std::size_t>(op.fd) < _fds.size()) {
        // Closing drops the fd from the epoll set; its number may come back as a new fd.
        _fds[static_cast<std::size_t>(op.fd)].registered = false;
        _fds[static_cast<std::size_t>(op.fd)].armed_events = 0;
    }
    ++_files_in_flight;
    if (!_file_backlog.empty()) {
        _file_backlog.push_back(job);
        return;
    }
    bool queued = false;
    {
        const std::lock_guard lock(_file_mutex);
        if (_file_queue.size() < _file_queue_capacity) {
            _file_queue.push_back(job);
            queued = true;
        }
    }
    if (queued) {
        _file_wakeup.notify_one();
    } else {
        _file_backlog.push_back(job);  // the queue is full: wait here, keeping order
    }
}

bool epoll_backend::cancel_file(io_op& op) noexcept {
    const auto is_op = [&op](const file_job& job) { return job.op == &op; };
    bool found = false;
    auto in_backlog = std::find_if(_file_backlog.begin(), _file_backlog.end(), is_op);
    if (in_backlog != _file_backlog.end()) {
        _file_backlog.erase(in_backlog);
        found = true;
    } else {
        // Still queued means not started; once the worker took it, it runs to the end.
        const std::lock_guard lock(_file_mutex);
        auto queued = std::find_if(_file_queue.begin(), _file_queue.end(), is_op);
        if (queued != _file_queue.end()) {
            _file_queue.erase(queued);
            found = true;
        }
    }
    if (found) {
        --_files_in_flight;
        _finished.emplace_back(&op, -ECANCELED);
    }
    return found;
}

void epoll_backend::collect_file_results(completion_sink& sink) noexcept {
    if (_files_in_flight == 0) {
        return;
    }
    bool refilled = false;
    {
        const std::lock_guard lock(_file_mutex);
        _file_results.swap(_file_done);
        std::size_t moved = 0;
        while (moved < _file_backlog.size() && _file_queue.size() < _file_queue_capacity) {
            _file_queue.push_back(_file_backlog[moved++]);
        }
        _file_backlog.erase(_file_backlog.begin(),
            _file_backlog.begin() + static_cast<std::ptrdiff_t>(moved));
        refilled = moved > 0;
    }
    if (refilled) {
        _file_wakeup.notify_one();
    }
    for (const file_job& job : _file_results) {
        UETCD_ASSERT(_files_in_flight > 0);
        --_files_in_flight;
        const bool positioned = job.kind == op_kind::read || job.kind == op_kind::write;
        if (positioned && job.result == -ESPIPE) {
            submit_pollable(*job.op);  // a pipe-like fd: wait for readiness here instead
        } else {
            sink.complete(*job.op, job.result);
        }
    }
    _file_results.clear();
}

void epoll_backend::file_worker_main() noexcept {
    std::vector<file_job> batch;
    batch.reserve(_file_queue_capacity);
    std::unique_lock lock(_file_mutex);
    for (;;) {
        _file_wakeup.wait(lock, [this] { return _file_stop || !_file_queue.empty(); });
        if (_file_stop) {
            return;
        }
        batch.swap(_file_queue);
        lock.unlock();
        for (file_job& job : batch) {
            job.result = run_file_job(job);
        }
        lock.lock();
        _file_done.insert(_file_done.end(), batch.begin(), batch.end());
        batch.clear();
        lock.unlock();
        wake();
        lock.lock();
    }
}

std::int64_t epoll_backend::now_ns() const noexcept { return clock_ns(CLOCK_MONOTONIC); }

std::int64_t epoll_backend::wall_ns() const noexcept { return clock_ns(CLOCK_REALTIME); }

}  // namespace uetcd::reactor
