// One event loop per core: a run queue of coroutines, a timer heap and a backend that does
// the I/O. A reactor is owned by one thread; only wake-ups and cross-core messages (see
// smp.hpp) cross threads.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <vector>

#include "uetcd/reactor/backend.hpp"

namespace uetcd::reactor {

class smp;

// A timer in the reactor's heap. Lives in the frame of whoever waits for it.
struct timer_node {
    std::int64_t deadline_ns = 0;
    std::uint32_t heap_index = not_armed;
    // Either resume `waiter`, or call `on_fire(context)` (used to cancel timed-out I/O).
    std::coroutine_handle<> waiter;
    void (*on_fire)(void* context) = nullptr;
    void* context = nullptr;

    static constexpr std::uint32_t not_armed = UINT32_MAX;
    bool armed() const noexcept { return heap_index != not_armed; }
};

class reactor final : private completion_sink {
public:
    reactor(std::unique_ptr<backend> engine, unsigned core_id);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    // The reactor of the calling thread. Precondition: the thread runs one.
    static reactor& current() noexcept;
    static reactor* current_or_null() noexcept;

    backend& io() noexcept { return *_engine; }
    unsigned core() const noexcept { return _core_id; }
    std::int64_t now_ns() const noexcept { return _engine->now_ns(); }
    std::int64_t wall_ns() const noexcept { return _engine->wall_ns(); }

    // Resumes `h` on this core soon, after what is already queued.
    void schedule(std::coroutine_handle<> h) { _ready.push_back(h); }

    void add_timer(timer_node& timer);
    void remove_timer(timer_node& timer) noexcept;

    // Runs the loop until stop() is called. Must run on the thread that owns the reactor.
    void run();
    // Ends run() after the current iteration. Same thread only (use smp to stop others).
    void stop() noexcept { _stop_requested = true; }
    // Thread-safe: asks the loop to stop and wakes it.
    void stop_from_any_thread() noexcept;

    // Cross-core plumbing (smp.hpp): a hook that drains this core's inbound messages and
    // the flag that tells senders whether a wake-up is needed.
    void attach(smp* owner) noexcept { _smp = owner; }
    std::atomic<bool>& sleeping() noexcept { return _sleeping; }
    std::uint64_t loop_iterations() const noexcept { return _iterations; }

private:
    void complete(io_op& op, std::int32_t result) noexcept override;
    void run_ready();
    void fire_timers();
    std::int64_t poll_timeout_ns() const noexcept;
    void heap_up(std::uint32_t index) noexcept;
    void heap_down(std::uint32_t index) noexcept;
    void heap_swap(std::uint32_t a, std::uint32_t b) noexcept;

    std::unique_ptr<backend> _engine;
    unsigned _core_id;
    smp* _smp = nullptr;
    std::vector<std::coroutine_handle<>> _ready;
    std::vector<std::coroutine_handle<>> _running;
    std::vector<timer_node*> _timers;
    bool _stop_requested = false;
    std::atomic<bool> _stop_from_other_thread{false};
    std::atomic<bool> _sleeping{false};
    std::uint64_t _iterations = 0;
};

// Tracks background coroutines of one owner on one core; close() waits for all of them.
class gate {
public:
    void enter() noexcept { ++_count; }
    void leave() noexcept;
    bool closing() const noexcept { return _closing; }
    std::uint64_t count() const noexcept { return _count; }
    // Awaitable: marks the gate closing and resumes when the count reaches zero.
    auto close() noexcept {
        struct awaiter {
            gate& g;
            bool await_ready() const noexcept { return g._count == 0; }
            void await_suspend(std::coroutine_handle<> h) noexcept { g._waiter = h; }
            void await_resume() const noexcept {}
        };
        _closing = true;
        return awaiter{*this};
    }

private:
    std::uint64_t _count = 0;
    bool _closing = false;
    std::coroutine_handle<> _waiter;
};

// A one-shot signal on one core: coroutines that wait on it resume once set() is called.
class event {
public:
    bool is_set() const noexcept { return _set; }
    void set() {
        _set = true;
        for (auto h : _waiters) {
            reactor::current().schedule(h);
        }
        _waiters.clear();
    }
    auto wait() noexcept {
        struct awaiter {
            event& e;
            bool await_ready() const noexcept { return e._set; }
            void await_suspend(std::coroutine_handle<> h) { e._waiters.push_back(h); }
            void await_resume() const noexcept {}
        };
        return awaiter{*this};
    }

private:
    bool _set = false;
    std::vector<std::coroutine_handle<>> _waiters;
};

}  // namespace uetcd::reactor
