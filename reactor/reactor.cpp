// The per-core event loop: run ready coroutines, drain cross-core messages, fire timers,
// then let the backend submit and reap I/O, sleeping only when nothing is runnable.
#include "uetcd/reactor/reactor.hpp"

#include <algorithm>
#include <cstring>

#include "reactor/epoll_backend.hpp"
#include "reactor/uring_backend.hpp"
#include "uetcd/assert.hpp"
#include "uetcd/reactor/smp.hpp"

namespace uetcd::reactor {

namespace {
thread_local reactor* current_reactor = nullptr;
}  // namespace

const char* op_kind_name(op_kind kind) noexcept {
    switch (kind) {
    case op_kind::nop: return "nop";
    case op_kind::accept: return "accept";
    case op_kind::connect: return "connect";
    case op_kind::recv: return "recv";
    case op_kind::send: return "send";
    case op_kind::read: return "read";
    case op_kind::write: return "write";
    case op_kind::fdatasync: return "fdatasync";
    case op_kind::fsync: return "fsync";
    case op_kind::fallocate: return "fallocate";
    case op_kind::openat: return "openat";
    case op_kind::close: return "close";
    }
    return "?";
}

reactor::reactor(std::unique_ptr<backend> engine, unsigned core_id)
    : _engine(std::move(engine)), _core_id(core_id) {
    UETCD_ASSERT(_engine != nullptr);
    UETCD_ASSERT(current_reactor == nullptr);
    current_reactor = this;
    _ready.reserve(1024);
    _running.reserve(1024);
    _timers.reserve(1024);
}

reactor::~reactor() {
    UETCD_ASSERT(current_reactor == this);
    current_reactor = nullptr;
}

reactor& reactor::current() noexcept {
    UETCD_ASSERT(current_reactor != nullptr);
    return *current_reactor;
}

reactor* reactor::current_or_null() noexcept { return current_reactor; }

void reactor::complete(io_op& op, std::int32_t result) noexcept {
    UETCD_ASSERT(op.in_flight);
    op.in_flight = false;
    op.result = result;
    _ready.push_back(op.waiter);
}

void reactor::run_ready() {
    // Coroutines resumed now may schedule more; those run in the next round, so that I/O
    // and timers get their turn between rounds.
    _running.swap(_ready);
    for (auto h : _running) {
        h.resume();
    }
    _running.clear();
}

void reactor::add_timer(timer_node& timer) {
    UETCD_ASSERT(!timer.armed());
    timer.heap_index = static_cast<std::uint32_t>(_timers.size());
    _timers.push_back(&timer);
    heap_up(timer.heap_index);
}

void reactor::remove_timer(timer_node& timer) noexcept {
    UETCD_ASSERT(timer.armed());
    const std::uint32_t index = timer.heap_index;
    UETCD_ASSERT(index < _timers.size() && _timers[index] == &timer);
    const auto last = static_cast<std::uint32_t>(_timers.size() - 1);
    if (index != last) {
        heap_swap(index, last);
    }
    _timers.pop_back();
    timer.heap_index = timer_node::not_armed;
    if (index != last) {
        heap_down(index);
        heap_up(index);
    }
}

void reactor::heap_swap(std::uint32_t a, std::uint32_t b) noexcept {
    std::swap(_timers[a], _timers[b]);
    _timers[a]->heap_index = a;
    _timers[b]->heap_index = b;
}

void reactor::heap_up(std::uint32_t index) noexcept {
    while (index > 0) {
        const std::uint32_t parent = (index - 1) / 2;
        if (_timers[parent]->deadline_ns <= _timers[index]->deadline_ns) {
            break;
        }
        heap_swap(parent, index);
        index = parent;
    }
}

void reactor::heap_down(std::uint32_t index) noexcept {
    const auto size = static_cast<std::uint32_t>(_timers.size());
    for (;;) {
        const std::uint32_t left = 2 * index + 1;
        const std::uint32_t right = left + 1;
        std::uint32_t smallest = index;
        if (left < size && _timers[left]->deadline_ns < _timers[smallest]->deadline_ns) {
            smallest = left;
        }
        if (right < size && _timers[right]->deadline_ns < _timers[smallest]->deadline_ns) {
            smallest = right;
        }
        if (smallest == index) {
            return;
        }
        heap_swap(index, smallest);
        index = smallest;
    }
}

void reactor::fire_timers() {
    if (_timers.empty()) {
        return;
    }
    const std::int64_t now = now_ns();
    while (!_timers.empty() && _timers.front()->deadline_ns <= now) {
        timer_node* timer = _timers.front();
        remove_timer(*timer);
        if (timer->on_fire != nullptr) {
            timer->on_fire(timer->context);
        } else {
            _ready.push_back(timer->waiter);
        }
    }
}

std::int64_t reactor::poll_timeout_ns() const noexcept {
    if (!_ready.empty() || _stop_requested) {
        return 0;
    }
    if (_timers.empty()) {
        return -1;
    }
    return std::max<std::int64_t>(0, _timers.front()->deadline_ns - now_ns());
}

void reactor::stop_from_any_thread() noexcept {
    _stop_from_other_thread.store(true, std::memory_order_seq_cst);
    _engine->wake();
}

void reactor::run() {
    while (!_stop_requested) {
        ++_iterations;
        run_ready();
        if (_smp != nullptr) {
            _smp->poll_messages(_core_id);
        }
        fire_timers();
        if (_stop_from_other_thread.load(std::memory_order_relaxed)) {
            _stop_requested = true;
        }
        std::int64_t timeout_ns = poll_timeout_ns();
        if (timeout_ns != 0) {
            // Announce the sleep, then look once more: a sender that saw us awake did not
            // wake us, so its message must be visible now (seq_cst on both sides).
            _sleeping.store(true, std::memory_order_seq_cst);
            const bool pending = (_smp != nullptr && _smp->has_messages(_core_id)) ||
                _stop_from_other_thread.load(std::memory_order_seq_cst);
            if (pending) {
                timeout_ns = 0;
            }
        }
        _engine->poll(timeout_ns, *this);
        _sleeping.store(false, std::memory_order_relaxed);
    }
}

void gate::leave() noexcept {
    UETCD_ASSERT(_count > 0);
    --_count;
    if (_count == 0 && _waiter) {
        auto h = std::exchange(_waiter, {});
        reactor::current().schedule(h);
    }
}

// The notice says which engine runs and, for `auto`, why io_uring was passed over:
//   "using io_uring; io_uring features: +single_issuer ... +registered_files"
//   "using epoll (--io-engine epoll)"
//   "io_uring refused (io_uring_queue_init: operation not permitted: ...); using epoll"
backend_choice make_backend(io_engine wanted, unsigned queue_depth) {
    backend_choice choice;
    std::string uring_error;
    if (wanted != io_engine::epoll) {
        auto uring = std::make_unique<uring_backend>();
        uring_error = uring->init(queue_depth, uring_plain_requested());
        if (uring_error.empty()) {
            choice.error = "using io_uring; " + describe_uring_features(uring->features());
            choice.engine = std::move(uring);
            return choice;
        }
        if (wanted == io_engine::uring) {
            choice.error = "io_uring is not available: " + uring_error;
            return choice;
        }
    }
    auto epoll = std::make_unique<epoll_backend>();
    const std::string epoll_error = epoll->init(queue_depth);
    if (!epoll_error.empty()) {
        choice.error = wanted == io_engine::epoll
            ? "the epoll engine cannot start: " + epoll_error
            : "io_uring refused (" + uring_error + ") and epoll failed: " + epoll_error;
        return choice;
    }
    choice.error = wanted == io_engine::epoll ? std::string("using epoll (--io-engine epoll)")
                                              : "io_uring refused (" + uring_error +
            "); using epoll";
    choice.engine = std::move(epoll);
    return choice;
}

}  // namespace uetcd::reactor
