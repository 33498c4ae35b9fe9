// result<T, E>: an expected failure is a value, never an exception. A thin layer over a
// variant-like pair so that request paths stay exception-free (STYLE.md).
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "uetcd/assert.hpp"

namespace uetcd {

template <typename E>
struct failure {
    E error;
};
template <typename E>
failure(E) -> failure<E>;

template <typename T, typename E>
class result {
public:
    result(T value) : _v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
    result(failure<E> f) : _v(std::in_place_index<1>, std::move(f.error)) {}  // NOLINT

    bool ok() const noexcept { return _v.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & {
        UETCD_ASSERT(ok());
        return *std::get_if<0>(&_v);
    }
    const T& value() const& {
        UETCD_ASSERT(ok());
        return *std::get_if<0>(&_v);
    }
    T&& value() && {
        UETCD_ASSERT(ok());
        return std::move(*std::get_if<0>(&_v));
    }
    const E& error() const& {
        UETCD_ASSERT(!ok());
        return *std::get_if<1>(&_v);
    }
    E&& error() && {
        UETCD_ASSERT(!ok());
        return std::move(*std::get_if<1>(&_v));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, E> _v;
};

}  // namespace uetcd
