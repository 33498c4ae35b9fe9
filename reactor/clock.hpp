// The clock reads of the real backends (private to reactor/): vDSO, no syscall.
#pragma once

#include <cstdint>
#include <ctime>

namespace uetcd::reactor {

inline std::int64_t clock_ns(clockid_t clock) noexcept {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace uetcd::reactor
