// task<T>: a lazy coroutine with symmetric transfer, and spawn() for detached work.
// A task starts when awaited and resumes its awaiter when it finishes; nothing here
// touches the kernel. Exceptions are programming errors: unhandled_exception() aborts.
#pragma once

#include <coroutine>
#include <cstdlib>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "uetcd/assert.hpp"

namespace uetcd::reactor {

template <typename T>
class task;

namespace detail {

struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
        auto continuation = self.promise().continuation;
        return continuation ? continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
};

struct promise_base {
    std::coroutine_handle<> continuation;
    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }
    [[noreturn]] void unhandled_exception() const noexcept {
        UETCD_ASSERT(!"exception escaped a reactor coroutine");
        std::abort();
    }
};

template <typename T>
struct promise : promise_base {
    std::optional<T> value;
    task<T> get_return_object() noexcept;
    template <typename U>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value.emplace(std::forward<U>(v));
    }
};

template <>
struct promise<void> : promise_base {
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
};

}  // namespace detail

template <typename T = void>
class [[nodiscard]] task {
public:
    using promise_type = detail::promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;

    task() noexcept = default;
    explicit task(handle_type h) noexcept : _handle(h) {}
    task(task&& other) noexcept : _handle(std::exchange(other._handle, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            _handle = std::exchange(other._handle, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    bool valid() const noexcept { return static_cast<bool>(_handle); }

    auto operator co_await() && noexcept {
        struct awaiter {
            handle_type handle;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
                handle.promise().continuation = caller;
                return handle;
            }
            T await_resume() {
                if constexpr (!std::is_void_v<T>) {
                    UETCD_ASSERT(handle.promise().value.has_value());
                    return std::move(*handle.promise().value);
                }
            }
        };
        UETCD_ASSERT(_handle);
        return awaiter{_handle};
    }

    // Gives up ownership; used by spawn() and cross-core runners.
    handle_type release() noexcept { return std::exchange(_handle, {}); }

private:
    void destroy() noexcept {
        if (_handle) {
            _handle.destroy();
            _handle = {};
        }
    }
    handle_type _handle;
};

namespace detail {
template <typename T>
task<T> promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<promise<T>>::from_promise(*this)};
}
inline task<void> promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<promise<void>>::from_promise(*this)};
}

// A self-destroying coroutine that runs a task to completion with nobody awaiting it.
struct detached {
    struct promise_type {
        detached get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        [[noreturn]] void unhandled_exception() const noexcept { std::abort(); }
    };
};

inline detached run_detached(task<void> t) { co_await std::move(t); }
}  // namespace detail

// Starts `t` now, on the calling thread, and lets it run to completion on its own.
// The caller must make sure everything `t` refers to outlives it (use a gate).
inline void spawn(task<void> t) { detail::run_detached(std::move(t)); }

}  // namespace uetcd::reactor
