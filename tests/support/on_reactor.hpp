// Runs a test body (a coroutine) on a one-core reactor and waits for it: for tests of code
// that only runs on the reactor (the HTTP client, TLS sessions). Needs Catch2.
#pragma once

#include <string>

#include "uetcd/reactor/smp.hpp"

namespace uetcd::testing {

template <typename Body>
void on_reactor(Body body) {
    namespace rx = uetcd::reactor;
    const std::string error = rx::smp::run(rx::smp_config{.cores = 1, .pin_threads = false},
        [&](unsigned) -> rx::task<void> { co_await body(); });
    REQUIRE(error.empty());
}

}  // namespace uetcd::testing
