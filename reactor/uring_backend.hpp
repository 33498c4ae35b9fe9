// The io_uring backend (private to reactor/): see uring_backend.cpp.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>

#include "reactor/uring_probe.hpp"
#include "uetcd/reactor/backend.hpp"

namespace uetcd::reactor {

class uring_backend final : public backend {
public:
    uring_backend();
    ~uring_backend() override;
    uring_backend(const uring_backend&) = delete;
    uring_backend& operator=(const uring_backend&) = delete;

    // Returns "" on success, else why io_uring cannot be used here. `plain` turns every
    // optional feature off (UETCD_URING_PLAIN=1): no setup flags, no feature probes.
    std::string init(unsigned queue_depth, bool plain);
    const uring_features& features() const noexcept { return _features; }

    const char* name() const noexcept override { return "io_uring"; }
    void submit(io_op& op) noexcept override;
    void cancel(io_op& op) noexcept override;
    void poll(std::int64_t timeout_ns, completion_sink& sink) noexcept override;
    void wake() noexcept override;
    std::int64_t now_ns() const noexcept override;
    std::int64_t wall_ns() const noexcept override;

private:
    std::string setup_ring(unsigned queue_depth, bool plain);
    io_uring_sqe* next_sqe() noexcept;
    void arm_wake() noexcept;

    io_uring _ring{};
    bool _ring_ready = false;
    uring_features _features;
    int _wake_fd = -1;
    std::uint64_t _wake_value = 0;
    io_op _wake_op;
    bool _wake_armed_pending = false;
};

}  // namespace uetcd::reactor
