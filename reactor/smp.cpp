// Starting the per-core threads, pinning them, and moving cross_call messages between
// cores through SPSC rings with an intrusive overflow list per source core.
#include "uetcd/reactor/smp.hpp"

#include <pthread.h>
#include <sched.h>

#include <thread>

#include "uetcd/assert.hpp"

namespace uetcd::reactor {

namespace {
thread_local smp* current_smp = nullptr;
}  // namespace

smp::smp(unsigned cores)
    : _core_count(cores), _reactors(cores, nullptr), _overflow_heads(cores, nullptr) {
    UETCD_ASSERT(cores > 0);
    _rings.reserve(static_cast<std::size_t>(cores) * cores);
    for (unsigned i = 0; i < cores * cores; ++i) {
        _rings.push_back(std::make_unique<spsc_ring>());
    }
}

smp& smp::current() noexcept {
    UETCD_ASSERT(current_smp != nullptr);
    return *current_smp;
}

void smp::post(cross_call& call) noexcept {
    const unsigned source = reactor::current().core();
    const unsigned target = call.is_reply ? call.source_core : call.target_core;
    UETCD_ASSERT(target < _core_count);
    // Keep order per pair: once something overflowed, later messages queue behind it.
    if (_overflow_heads[source] != nullptr || !ring(source, target).push(&call)) {
        call.next = nullptr;
        cross_call** tail = &_overflow_heads[source];
        while (*tail != nullptr) {
            tail = &(*tail)->next;
        }
        *tail = &call;
        return;
    }
    reactor* receiver = _reactors[target];
    if (target != source && receiver->sleeping().load(std::memory_order_seq_cst)) {
        receiver->io().wake();
    }
}

std::size_t smp::poll_messages(unsigned core) noexcept {
    std::size_t handled = 0;
    // Retry this core's overflowed sends first.
    cross_call* pending = std::exchange(_overflow_heads[core], nullptr);
    while (pending != nullptr) {
        cross_call* next = pending->next;
        post(*pending);
        pending = next;
    }
    for (unsigned source = 0; source < _core_count; ++source) {
        spsc_ring& inbound = ring(source, core);
        // Bounded per round so one busy peer cannot starve this core's own work.
        for (std::size_t i = 0; i < spsc_ring::capacity; ++i) {
            cross_call* call = inbound.pop();
            if (call == nullptr) {
                break;
            }
            ++handled;
            if (call->is_reply) {
                reactor::current().schedule(call->waiter);
            } else {
                call->run_on_target(call);
            }
        }
    }
    return handled;
}

bool smp::has_messages(unsigned core) const noexcept {
    if (_overflow_heads[core] != nullptr) {
        return true;
    }
    for (unsigned source = 0; source < _core_count; ++source) {
        if (!_rings[source * _core_count + core]->empty()) {
            return true;
        }
    }
    return false;
}

void smp::stop_all() noexcept {
    for (reactor* r : _reactors) {
        if (r != nullptr) {
            r->stop_from_any_thread();
        }
    }
}

namespace {

void pin_to_cpu(unsigned core) {
    // Pin core i to the i-th CPU this process may run on.
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
        return;
    }
    unsigned seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) {
            continue;
        }
        if (seen++ == core) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
            return;
        }
    }
}

task<void> run_main(smp& owner, task<void> main, std::atomic<unsigned>& running) {
    co_await std::move(main);
    if (running.fetch_sub(1) == 1) {
        owner.stop_all();
    }
}

}  // namespace

void smp::run_core(unsigned core, const smp_config& config,
    const std::function<task<void>(unsigned)>& core_main, std::string* error) {
    if (config.pin_threads) {
        pin_to_cpu(core);
    }
    backend_choice choice = make_backend(config.engine, config.queue_depth);
    if (!choice.engine) {
        *error = choice.error;
        _failed.store(true);
        _started.fetch_add(1);
        _finished.fetch_add(1);
        return;
    }
    reactor r(std::move(choice.engine), core);
    r.attach(this);
    current_smp = this;
    _reactors[core] = &r;
    // Every reactor must exist before any core sends a message.
    _started.fetch_add(1);
    while (_started.load() < _core_count) {
        std::this_thread::yield();
    }
    if (core == 0) {
        _engine_name = r.io().name();
    }
    if (!_failed.load()) {
        spawn(run_main(*this, core_main(core), _running_mains));
        r.run();
    }
    _finished.fetch_add(1);
    // Others may still post replies to this core until they stop; wait for all of them.
    while (_finished.load() < _core_count) {
        std::this_thread::yield();
    }
    current_smp = nullptr;
}

std::string smp::run(const smp_config& config,
    std::function<task<void>(unsigned core)> core_main, std::string* notice) {
    const unsigned cores = config.cores == 0 ? 1 : config.cores;
    // Probe once on this thread, so a refusal is reported before threads start.
    backend_choice probe = make_backend(config.engine, 8);
    if (!probe.engine) {
        return probe.error;
    }
    if (notice != nullptr) {
        *notice = probe.error;
    }
    probe.engine.reset();

    smp owner(cores);
    owner._running_mains.store(cores);
    std::vector<std::string> errors(cores);
    std::vector<std::thread> threads;
    threads.reserve(cores - 1);
    for (unsigned core = 1; core < cores; ++core) {
        threads.emplace_back([&, core] { owner.run_core(core, config, core_main, &errors[core]); });
    }
    owner.run_core(0, config, core_main, &errors[0]);
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& e : errors) {
        if (!e.empty()) {
            return e;
        }
    }
    return {};
}

}  // namespace uetcd::reactor
