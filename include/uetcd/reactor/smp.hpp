// Many cores: one pinned thread and one reactor per core, and submit_to(core, fn), which
// runs fn on another core and resumes the caller with its result. Messages travel through
// one single-producer single-consumer ring per (source, target) pair: no lock anywhere.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "uetcd/reactor/reactor.hpp"
#include "uetcd/reactor/task.hpp"

namespace uetcd::reactor {

// A message between cores. It lives in the frame of the coroutine that waits for it, so a
// cross-core call allocates nothing; `next` chains messages that found their ring full.
struct cross_call {
    void (*run_on_target)(cross_call*) = nullptr;
    std::coroutine_handle<> waiter;
    cross_call* next = nullptr;
    unsigned source_core = 0;
    unsigned target_core = 0;
    bool is_reply = false;
};

// Fixed-size SPSC ring of message pointers.
class spsc_ring {
public:
    // 1024 in-flight calls per core pair: far above what one core sends between two loop
    // iterations; a full ring spills to the sender's intrusive overflow list, never drops.
    static constexpr std::size_t capacity = 1024;

    bool push(cross_call* call) noexcept {
        const auto tail = _tail.load(std::memory_order_relaxed);
        if (tail - _head_cache == capacity) {
            _head_cache = _head.load(std::memory_order_acquire);
            if (tail - _head_cache == capacity) {
                return false;
            }
        }
        _slots[tail % capacity] = call;
        _tail.store(tail + 1, std::memory_order_release);
        return true;
    }
    cross_call* pop() noexcept {
        const auto head = _head.load(std::memory_order_relaxed);
        if (head == _tail_cache) {
            _tail_cache = _tail.load(std::memory_order_acquire);
            if (head == _tail_cache) {
                return nullptr;
            }
        }
        auto* call = _slots[head % capacity];
        _head.store(head + 1, std::memory_order_release);
        return call;
    }
    bool empty() const noexcept {
        return _head.load(std::memory_order_acquire) == _tail.load(std::memory_order_acquire);
    }

private:
    alignas(64) std::atomic<std::uint64_t> _head{0};
    std::uint64_t _tail_cache = 0;
    alignas(64) std::atomic<std::uint64_t> _tail{0};
    std::uint64_t _head_cache = 0;
    alignas(64) cross_call* _slots[capacity] = {};
};

struct smp_config {
    unsigned cores = 1;
    io_engine engine = io_engine::automatic;
    unsigned queue_depth = 1024;  // io_uring SQ entries per core
    bool pin_threads = true;
};

class smp {
public:
    // Runs `core_main(core)` on every core and returns when every one of them has finished
    // and its reactor stopped. Returns "" on success, else why the reactors could not start.
    // The backend notice (e.g. "io_uring refused ...; using epoll") goes to `notice`.
    static std::string run(const smp_config& config,
        std::function<task<void>(unsigned core)> core_main, std::string* notice = nullptr);

    // The smp of the calling reactor thread.
    static smp& current() noexcept;
    unsigned cores() const noexcept { return _core_count; }
    const char* engine_name() const noexcept { return _engine_name; }

    // Runs fn() on `target` and resumes the caller on its own core with fn's result.
    // fn may return a plain value, void, or a task<T> (then it is awaited on `target`).
    // fn must be safe to run on the other core: move values in, share nothing mutable.
    template <typename F>
    auto submit_to(unsigned target, F fn);

    // Sends `call` to its target core (or back to its source, for a reply).
    void post(cross_call& call) noexcept;
    // Drains the inbound rings and this core's overflow list; returns messages handled.
    std::size_t poll_messages(unsigned core) noexcept;
    bool has_messages(unsigned core) const noexcept;
    // Asks every reactor to stop after its current iteration.
    void stop_all() noexcept;

private:
    explicit smp(unsigned cores);
    void run_core(unsigned core, const smp_config& config,
        const std::function<task<void>(unsigned)>& core_main, std::string* error);
    spsc_ring& ring(unsigned source, unsigned target) noexcept {
        return *_rings[source * _core_count + target];
    }

    unsigned _core_count;
    std::vector<std::unique_ptr<spsc_ring>> _rings;  // [source * cores + target]
    std::vector<reactor*> _reactors;
    std::vector<cross_call*> _overflow_heads;         // per source core
    std::atomic<unsigned> _running_mains{0};
    std::atomic<unsigned> _started{0};
    std::atomic<unsigned> _finished{0};
    std::atomic<bool> _failed{false};
    const char* _engine_name = "";
};

namespace detail {

template <typename T>
struct is_task : std::false_type {
    using awaited = T;
};
template <typename T>
struct is_task<task<T>> : std::true_type {
    using awaited = T;
};

// What co_await submit_to(core, fn) yields: fn's value, or the value of the task it returns.
template <typename F>
struct call_result {
    using type = typename is_task<std::invoke_result_t<F&>>::awaited;
};

template <typename F>
class submit_awaiter : public cross_call {
public:
    using value_type = typename call_result<F>::type;
    using stored_type = std::conditional_t<std::is_void_v<value_type>, bool, value_type>;

    submit_awaiter(smp& owner, unsigned target, F fn) : _smp(owner), _fn(std::move(fn)) {
        this->target_core = target;
        this->run_on_target = &submit_awaiter::execute;
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        this->waiter = h;
        this->source_core = reactor::current().core();
        _smp.post(*this);
    }
    value_type await_resume() {
        if constexpr (!std::is_void_v<value_type>) {
            return std::move(*_result);
        }
    }

private:
    static void execute(cross_call* call) {
        auto* self = static_cast<submit_awaiter*>(call);
        if constexpr (is_task<std::invoke_result_t<F&>>::value) {
            spawn(run_task(self));
        } else {
            if constexpr (std::is_void_v<value_type>) {
                self->_fn();
                self->_result.emplace(true);
            } else {
                self->_result.emplace(self->_fn());
            }
            self->reply();
        }
    }
    static task<void> run_task(submit_awaiter* self) {
        if constexpr (std::is_void_v<value_type>) {
            co_await self->_fn();
            self->_result.emplace(true);
        } else {
            self->_result.emplace(co_await self->_fn());
        }
        self->reply();
    }
    void reply() noexcept {
        this->is_reply = true;
        _smp.post(*this);
    }

    smp& _smp;
    F _fn;
    std::optional<stored_type> _result;
};

}  // namespace detail

template <typename F>
auto smp::submit_to(unsigned target, F fn) {
    return detail::submit_awaiter<F>(*this, target, std::move(fn));
}

}  // namespace uetcd::reactor
