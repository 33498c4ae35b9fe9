// Awaitable I/O: `co_await recv(fd, buf, n)` and friends. Each awaiter owns its io_op in
// the coroutine frame (no allocation) and may carry a timeout, after which the op is
// cancelled and completes with -ETIMEDOUT. Results are >= 0 or -errno, never exceptions.
#pragma once

#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <utility>

#include "uetcd/assert.hpp"
#include "uetcd/reactor/reactor.hpp"

namespace uetcd::reactor {

inline constexpr std::int64_t no_timeout = -1;

// Lets another coroutine on the same core cancel whatever op is currently registered.
class cancel_slot {
public:
    void cancel() noexcept {
        _cancelled = true;
        if (_op != nullptr && _op->in_flight && !_op->cancel_requested) {
            _op->cancel_requested = true;
            reactor::current().io().cancel(*_op);
        }
    }
    bool cancelled() const noexcept { return _cancelled; }
    void attach(io_op* op) noexcept { _op = op; }

private:
    io_op* _op = nullptr;
    bool _cancelled = false;
};

class op_awaiter {
public:
    op_awaiter() noexcept = default;
    // Movable only before it is awaited: the backend holds &op while it is in flight.
    op_awaiter(op_awaiter&& other) noexcept
        : op(other.op), _timeout_ns(other._timeout_ns), _slot(other._slot) {
        UETCD_ASSERT(!other.op.in_flight);
        UETCD_ASSERT(!other._timer.armed());
    }
    op_awaiter& operator=(op_awaiter&&) = delete;

    bool await_ready() noexcept {
        if (_slot != nullptr && _slot->cancelled()) {
            op.result = -ECANCELED;
            return true;
        }
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        auto& r = reactor::current();
        op.waiter = h;
        op.in_flight = true;
        r.io().submit(op);
        if (_timeout_ns >= 0) {
            _timer.deadline_ns = r.now_ns() + _timeout_ns;
            _timer.on_fire = &op_awaiter::on_timeout;
            _timer.context = this;
            r.add_timer(_timer);
        }
        if (_slot != nullptr) {
            _slot->attach(&op);
        }
    }
    std::int32_t await_resume() noexcept {
        if (_timer.armed()) {
            reactor::current().remove_timer(_timer);
        }
        if (_slot != nullptr) {
            _slot->attach(nullptr);
        }
        if (_timed_out && op.result == -ECANCELED) {
            return -ETIMEDOUT;
        }
        return op.result;
    }

    // A negative timeout means none.
    op_awaiter with_timeout(std::int64_t timeout_ns) && noexcept {
        _timeout_ns = timeout_ns;
        return std::move(*this);
    }
    op_awaiter with_cancel(cancel_slot& slot) && noexcept {
        _slot = &slot;
        return std::move(*this);
    }

    io_op op;

private:
    static void on_timeout(void* context) noexcept {
        auto* self = static_cast<op_awaiter*>(context);
        if (self->op.in_flight && !self->op.cancel_requested) {
            self->_timed_out = true;
            self->op.cancel_requested = true;
            reactor::current().io().cancel(self->op);
        }
    }

    timer_node _timer;
    std::int64_t _timeout_ns = no_timeout;
    cancel_slot* _slot = nullptr;
    bool _timed_out = false;
};

// Builders: `co_await recv(fd, buf, n)`, optionally `.with_timeout(ns)` first.
namespace detail {
template <typename Init>
struct op_builder : op_awaiter {
    explicit op_builder(Init init) noexcept { init(op); }
};
}  // namespace detail

inline auto recv(int fd, void* buffer, std::size_t size_bytes, int flags = 0) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::recv;
        op.fd = fd;
        op.buffer = buffer;
        op.size_bytes = size_bytes;
        op.flags = flags;
    });
}

inline auto send(int fd, const void* buffer, std::size_t size_bytes, int flags = 0) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::send;
        op.fd = fd;
        op.buffer = const_cast<void*>(buffer);
        op.size_bytes = size_bytes;
        op.flags = flags | MSG_NOSIGNAL;
    });
}

inline auto accept(int fd, sockaddr* address, socklen_t* address_length) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::accept;
        op.fd = fd;
        op.address = address;
        op.address_length = address_length;
    });
}

inline auto connect(int fd, const sockaddr* address, socklen_t address_length) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::connect;
        op.fd = fd;
        op.address = const_cast<sockaddr*>(address);
        op.connect_address_length = address_length;
    });
}

inline auto read_at(int fd, void* buffer, std::size_t size_bytes, std::uint64_t offset) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::read;
        op.fd = fd;
        op.buffer = buffer;
        op.size_bytes = size_bytes;
        op.offset = offset;
    });
}

inline auto write_at(int fd, const void* buffer, std::size_t size_bytes,
    std::uint64_t offset) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::write;
        op.fd = fd;
        op.buffer = const_cast<void*>(buffer);
        op.size_bytes = size_bytes;
        op.offset = offset;
    });
}

inline auto fdatasync(int fd) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::fdatasync;
        op.fd = fd;
    });
}

inline auto fsync(int fd) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::fsync;
        op.fd = fd;
    });
}

inline auto fallocate(int fd, int mode, std::uint64_t offset, std::uint64_t length) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::fallocate;
        op.fd = fd;
        op.flags = mode;
        op.offset = offset;
        op.size_bytes = length;
    });
}

// `path` must stay valid until the open completes (it is read by the kernel).
inline auto open_file(const char* path, int flags, std::uint32_t mode = 0644) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::openat;
        op.buffer = const_cast<char*>(path);
        op.flags = flags;
        op.mode = mode;
    });
}

inline auto close_fd(int fd) noexcept {
    return detail::op_builder([=](io_op& op) {
        op.kind = op_kind::close;
        op.fd = fd;
    });
}

// Waits until `deadline_ns` on the reactor's monotonic clock.
class sleep_awaiter {
public:
    explicit sleep_awaiter(std::int64_t deadline_ns) noexcept { _timer.deadline_ns = deadline_ns; }
    sleep_awaiter(const sleep_awaiter&) = delete;
    sleep_awaiter& operator=(const sleep_awaiter&) = delete;
    bool await_ready() const noexcept {
        return _timer.deadline_ns <= reactor::current().now_ns();
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        _timer.waiter = h;
        reactor::current().add_timer(_timer);
    }
    void await_resume() const noexcept {}

private:
    timer_node _timer;
};

inline sleep_awaiter sleep_until(std::int64_t deadline_ns) noexcept {
    return sleep_awaiter{deadline_ns};
}
inline sleep_awaiter sleep_for(std::int64_t duration_ns) noexcept {
    return sleep_awaiter{reactor::current().now_ns() + duration_ns};
}

// Lets the other coroutines on this core run before continuing.
struct yield_awaiter {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const { reactor::current().schedule(h); }
    void await_resume() const noexcept {}
};
inline yield_awaiter yield() noexcept { return {}; }

}  // namespace uetcd::reactor
