// The io_uring backend: each io_op becomes one SQE whose user_data points at the op; each
// CQE completes that op. Submission is batched: SQEs queue up during a loop iteration and
// go to the kernel in one io_uring_submit_and_wait per poll().
#include "reactor/uring_backend.hpp"

#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "reactor/clock.hpp"
#include "uetcd/assert.hpp"

namespace uetcd::reactor {

namespace {


// The wake-up eventfd read uses this op; cancel SQEs carry user_data 0 and are ignored.
constexpr std::uint64_t ignored_user_data = 0;

}  // namespace

uring_backend::uring_backend() = default;

uring_backend::~uring_backend() {
    if (_ring_ready) {
        io_uring_queue_exit(&_ring);
    }
    if (_wake_fd >= 0) {
        ::close(_wake_fd);
    }
}

std::string uring_backend::init(unsigned queue_depth, bool plain) {
    std::string error = setup_ring(queue_depth, plain);
    if (!error.empty()) {
        return error;
    }
    if (!_features.ext_arg) {
        return "io_uring lacks IORING_FEAT_EXT_ARG (kernel older than 5.11)";
    }
    error = check_uring_opcodes(_ring);
    if (!error.empty()) {
        return error;
    }
    if (!plain) {
        probe_optional_uring_features(_features);
    }
    _wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_wake_fd < 0) {
        return std::string("eventfd: ") + std::strerror(errno);
    }
    _wake_op.kind = op_kind::read;
    _wake_op.fd = _wake_fd;
    _wake_op.buffer = &_wake_value;
    _wake_op.size_bytes = sizeof(_wake_value);
    arm_wake();
    return {};
}

std::string uring_backend::setup_ring(unsigned queue_depth, bool plain) {
    // Newest first: SINGLE_ISSUER needs 6.0 and COOP_TASKRUN 5.19; older kernels say EINVAL.
    const unsigned attempts[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, IORING_SETUP_COOP_TASKRUN, 0};
    io_uring_params params{};
    int rc = -EINVAL;
    for (const unsigned flags : attempts) {
        if (plain && flags != 0) {
            continue;
        }
        params = io_uring_params{};
        params.flags = flags;
        rc = io_uring_queue_init_params(queue_depth, &_ring, &params);
        if (rc != -EINVAL) {
            break;
        }
    }
    if (rc < 0) {
        return explain_uring_setup_error(-rc);
    }
    _ring_ready = true;
    _features.plain = plain;
    _features.single_issuer = (params.flags & IORING_SETUP_SINGLE_ISSUER) != 0;
    _features.coop_taskrun = (params.flags & IORING_SETUP_COOP_TASKRUN) != 0;
    _features.fast_poll = (params.features & IORING_FEAT_FAST_POLL) != 0;
    _features.ext_arg = (params.features & IORING_FEAT_EXT_ARG) != 0;
    return {};
}

io_uring_sqe* uring_backend::next_sqe() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&_ring);
    while (sqe == nullptr) {
        // The SQ is full: hand what we have to the kernel and take a fresh slot.
        const int rc = io_uring_submit(&_ring);
        UETCD_ASSERT(rc >= 0 || rc == -EBUSY || rc == -EAGAIN || rc == -EINTR);
        sqe = io_uring_get_sqe(&_ring);
    }
    return sqe;
}

void uring_backend::arm_wake() noexcept {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_read(sqe, _wake_fd, &_wake_value, sizeof(_wake_value), 0);
    io_uring_sqe_set_data(sqe, &_wake_op);
}

void uring_backend::submit(io_op& op) noexcept {
    io_uring_sqe* sqe = next_sqe();
    const auto size = static_cast<unsigned>(op.size_bytes);
    switch (op.kind) {
    case op_kind::nop: io_uring_prep_nop(sqe); break;
    case op_kind::accept:
        io_uring_prep_accept(sqe, op.fd, op.address, op.address_length,
            SOCK_CLOEXEC | SOCK_NONBLOCK);
        break;
    case op_kind::connect:
        io_uring_prep_connect(sqe, op.fd, op.address, op.connect_address_length);
        break;
    case op_kind::recv: io_uring_prep_recv(sqe, op.fd, op.buffer, size, op.flags); break;
    case op_kind::send: io_uring_prep_send(sqe, op.fd, op.buffer, size, op.flags); break;
    case op_kind::read: io_uring_prep_read(sqe, op.fd, op.buffer, size, op.offset); break;
    case op_kind::write: io_uring_prep_write(sqe, op.fd, op.buffer, size, op.offset); break;
    case op_kind::fdatasync: io_uring_prep_fsync(sqe, op.fd, IORING_FSYNC_DATASYNC); break;
    case op_kind::fsync: io_uring_prep_fsync(sqe, op.fd, 0); break;
    case op_kind::fallocate:
        io_uring_prep_fallocate(sqe, op.fd, op.flags, static_cast<off_t>(op.offset),
            static_cast<off_t>(op.size_bytes));
        break;
    case op_kind::openat:
        io_uring_prep_openat(sqe, AT_FDCWD, static_cast<const char*>(op.buffer),
            op.flags | O_CLOEXEC, op.mode);
        break;
    case op_kind::close: io_uring_prep_close(sqe, op.fd); break;
    }
    io_uring_sqe_set_data(sqe, &op);
}

void uring_backend::cancel(io_op& op) noexcept {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_cancel(sqe, &op, 0);
    io_uring_sqe_set_data64(sqe, ignored_user_data);
}

void uring_backend::poll(std::int64_t timeout_ns, completion_sink& sink) noexcept {
    io_uring_cqe* cqe = nullptr;
    int rc = 0;
    if (timeout_ns == 0) {
        rc = io_uring_submit(&_ring);
    } else if (timeout_ns < 0) {
        rc = io_uring_submit_and_wait(&_ring, 1);
    } else {
        __kernel_timespec ts{};
        ts.tv_sec = timeout_ns / 1'000'000'000;
        ts.tv_nsec = timeout_ns % 1'000'000'000;
        rc = io_uring_submit_and_wait_timeout(&_ring, &cqe, 1, &ts, nullptr);
    }
    // -ETIME (timeout), -EINTR (signal) and -EBUSY (CQ overflow backlog) are normal here.
    UETCD_ASSERT(rc >= 0 || rc == -ETIME || rc == -EINTR || rc == -EBUSY || rc == -EAGAIN);
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&_ring, head, cqe) {
        ++seen;
        const std::uint64_t data = io_uring_cqe_get_data64(cqe);
        if (data == ignored_user_data) {
            continue;
        }
        auto* op = reinterpret_cast<io_op*>(data);
        if (op == &_wake_op) {
            _wake_armed_pending = true;
            continue;
        }
        std::int32_t res = cqe->res;
        if (op->kind == op_kind::connect && res == -EISCONN) {
            // Some kernels retry a connect that went EINPROGRESS and report EISCONN for
            // the retry: the socket is connected.
            res = 0;
        }
        sink.complete(*op, res);
    }
    io_uring_cq_advance(&_ring, seen);
    if (_wake_armed_pending) {
        _wake_armed_pending = false;
        arm_wake();
    }
}

void uring_backend::wake() noexcept {
    const std::uint64_t one = 1;
    // A full counter (EAGAIN) means a wake-up is pending already.
    [[maybe_unused]] const auto n = ::write(_wake_fd, &one, sizeof(one));
}

std::int64_t uring_backend::now_ns() const noexcept { return clock_ns(CLOCK_MONOTONIC); }

std::int64_t uring_backend::wall_ns() const noexcept { return clock_ns(CLOCK_REALTIME); }

}  // namespace uetcd::reactor
