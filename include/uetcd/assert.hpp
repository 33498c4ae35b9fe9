// Assertions that stay on in release builds. A failed assertion is a bug: it prints
// where and what, and aborts. There is no way to recover from corrupt state.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace uetcd::detail {
[[noreturn, gnu::cold, gnu::noinline]] inline void assert_failed(const char* expr,
    const char* file, int line, const char* func) noexcept {
    std::fprintf(stderr, "uetcd: assertion failed: %s\n  at %s:%d in %s\n", expr, file, line,
        func);
    std::fflush(stderr);
    std::abort();
}
}  // namespace uetcd::detail

#define UETCD_ASSERT(expr)                                                                  \
    do {                                                                                    \
        if (!(expr)) [[unlikely]] {                                                          \
            ::uetcd::detail::assert_failed(#expr, __FILE__, __LINE__, __func__);             \
        }                                                                                   \
    } while (false)

#ifdef NDEBUG
#define UETCD_ASSERT_DEBUG(expr) \
    do {                         \
    } while (false)
#else
#define UETCD_ASSERT_DEBUG(expr) UETCD_ASSERT(expr)
#endif

#define UETCD_UNREACHABLE() \
    ::uetcd::detail::assert_failed("unreachable", __FILE__, __LINE__, __func__)
