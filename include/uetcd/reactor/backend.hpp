// The kernel interface of one reactor core: every syscall that may block and every clock
// read goes through a backend. io_uring is the main one; an epoll engine and a simulated
// backend implement the same interface, and nothing above it knows which one runs.
#pragma once

#include <sys/socket.h>

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>

namespace uetcd::reactor {

enum class op_kind : std::uint8_t {
    nop,
    accept,
    connect,
    recv,
    send,
    read,       // pread at offset
    write,      // pwrite at offset
    fdatasync,
    fsync,
    fallocate,
    openat,
    close,
};

const char* op_kind_name(op_kind kind) noexcept;

// One I/O operation. It lives in the awaiting coroutine's frame, so no operation
// allocates; the backend keeps a pointer to it until it completes exactly once.
struct io_op {
    op_kind kind = op_kind::nop;
    bool in_flight = false;
    bool cancel_requested = false;
    int fd = -1;
    int flags = 0;            // msg flags for send/recv, open flags, fallocate mode
    std::uint32_t mode = 0;   // openat mode
    void* buffer = nullptr;   // recv/read destination, send/write source, path for openat
    std::uint64_t size_bytes = 0;
    std::uint64_t offset = 0;
    sockaddr* address = nullptr;        // accept (out) and connect (in)
    socklen_t* address_length = nullptr;
    socklen_t connect_address_length = 0;
    // Set by the backend when the op completes: >= 0 on success, -errno on failure.
    std::int32_t result = 0;
    std::coroutine_handle<> waiter;
};

// Where a backend reports a finished operation: the reactor resumes its waiter.
class completion_sink {
public:
    virtual void complete(io_op& op, std::int32_t result) noexcept = 0;

protected:
    ~completion_sink() = default;
};

class backend {
public:
    virtual ~backend() = default;

    virtual const char* name() const noexcept = 0;
    // Starts `op`. Its completion is reported through poll(); never synchronously.
    virtual void submit(io_op& op) noexcept = 0;
    // Asks the kernel to stop `op` early; it still completes exactly once (often -ECANCELED).
    virtual void cancel(io_op& op) noexcept = 0;
    // Flushes submissions and reports completions; waits at most `timeout_ns` for the
    // first one (0: do not wait, negative: wait until something completes or wake()).
    virtual void poll(std::int64_t timeout_ns, completion_sink& sink) noexcept = 0;
    // Interrupts a poll() that waits. The only call that is safe from another thread.
    virtual void wake() noexcept = 0;
    // Monotonic time in nanoseconds.
    virtual std::int64_t now_ns() const noexcept = 0;
    // Wall-clock time in nanoseconds since the Unix epoch (Date headers, logs, TTLs).
    virtual std::int64_t wall_ns() const noexcept = 0;
};

enum class io_engine : std::uint8_t { automatic, uring, epoll };

struct backend_choice {
    std::unique_ptr<backend> engine;
    std::string error;  // why no backend could be made, or why `auto` fell back
};

// Makes the backend for one core. `auto` tries io_uring and falls back to epoll.
backend_choice make_backend(io_engine wanted, unsigned queue_depth);

}  // namespace uetcd::reactor
