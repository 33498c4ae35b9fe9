// Helpers shared by the WAL tests: run a coroutine on a reactor, build segments, temp dirs.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "uetcd/prng.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/wal/record.hpp"

namespace wal_test {

namespace rx = uetcd::reactor;
namespace wl = uetcd::wal;

inline rx::io_engine engine_under_test() {
    const char* name = std::getenv("UETCD_IO_ENGINE");
    const std::string wanted = name == nullptr ? "" : name;
    if (wanted == "epoll") {
        return rx::io_engine::epoll;
    }
    return wanted == "uring" ? rx::io_engine::uring : rx::io_engine::automatic;
}

// Runs `body()` (a task<void>) on a one-core reactor and returns when it has finished.
template <typename Body>
void run_on_reactor(Body body) {
    const rx::smp_config config{.cores = 1, .engine = engine_under_test(), .pin_threads = false};
    const std::string error = rx::smp::run(config, [&](unsigned) -> rx::task<void> {
        co_await body();
    });
    REQUIRE(error.empty());
}

// A payload that depends only on (seed, index): tests can recompute what was written.
inline std::string payload_for(std::uint64_t seed, std::uint64_t index, std::uint64_t max_bytes) {
    uetcd::prng random(seed * 0x9e3779b97f4a7c15ULL + index);
    std::string bytes(1 + random.below(max_bytes), '\0');
    for (char& c : bytes) {
        c = static_cast<char>(random.next() & 0xff);
    }
    return bytes;
}

// A fresh directory under /tmp, removed when the test ends.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = "/tmp/uetcd-wal-test-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::string path;
};

}  // namespace wal_test
