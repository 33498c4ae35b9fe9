// wal-power-loss: per seed, append records on a sim_disk with acknowledgements, lose power at
// a random operation, crash the disk (torn sectors, lost unsynced data and directory entries),
// recover, and check: every acknowledged record is present and intact, every recovered record
// is one that was appended (never garbage), or recovery refuses with a detected corruption.
// Then the recovered WAL lives again: reopened, appended to, crashed, recovered and checked.
// Usage: wal-power-loss [--seeds=N] [--seed=S]  (a failure prints the --seed=S to replay).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "uetcd/prng.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/wal/sim_disk.hpp"
#include "uetcd/wal/wal.hpp"

using namespace uetcd::wal;
using uetcd::prng;
using uetcd::reactor::task;
namespace rx = uetcd::reactor;

namespace {

const std::string wal_dir = "/data/member/wal";

std::string payload_for(std::uint64_t seed, std::uint64_t index) {
    prng random(seed * 0x9e3779b97f4a7c15ULL + index);
    std::string bytes(1 + random.below(200), '\0');
    for (char& c : bytes) {
        c = static_cast<char>(random.next() & 0xff);
    }
    return bytes;
}

hard_state state_for(std::uint64_t term) { return hard_state{term, 1, term / 2}; }

struct totals {
    std::uint64_t seeds = 0;
    std::uint64_t failed = 0;
    std::uint64_t refused = 0;
    std::uint64_t torn = 0;
    std::uint64_t failed_mid_run = 0;  // the power failed while appends were in flight
    std::uint64_t acked_records = 0;
    std::uint64_t recovered_records = 0;
};

struct run_state {
    std::uint64_t seed = 0;
    wal* log = nullptr;
    rx::gate gate;
    std::uint64_t max_acked_index = 0;
    std::uint64_t max_acked_term = 0;  // of the last acknowledged hard state
    std::uint64_t appended_index = 0;
    std::string problem;  // empty while all is well
};

task<void> append_and_ack(run_state& state, std::vector<record> batch, std::uint64_t last_index,
    std::uint64_t term) {
    auto done = co_await state.log->append(batch);
    if (done.ok()) {
        // Appends of one batch resume in any order: keep the highest acknowledged.
        state.max_acked_index = std::max(state.max_acked_index, last_index);
        state.max_acked_term = std::max(state.max_acked_term, term);
    }
    state.gate.leave();
}

wal_options options_for(prng& random) {
    wal_options options;
    options.record_bytes_max = 256;
    options.batch_bytes_max = 272 + random.below(2048);
    options.queued_bytes_max = 272 + random.below(4096);
    options.segment_bytes = (8192 + random.below(8192)) / 8 * 8;
    return options;
}

// Appends until the power fails (or 80 rounds), several appends in flight at a time.
task<void> produce(run_state& state, sim_disk& disk, prng& random) {
    for (int round = 0; round < 80 && !disk.failed() && !state.log->failure_state(); ++round) {
        std::vector<record> batch;
        const std::uint64_t count = 1 + random.below(4);
        for (std::uint64_t i = 0; i < count; ++i) {
            ++state.appended_index;
            batch.push_back(make_entry(state.appended_index, payload_for(state.seed,
                state.appended_index)));
        }
        std::uint64_t term = 0;
        if (random.chance(300)) {
            term = state.appended_index;
            batch.push_back(make_hard_state(state_for(term)));
        }
        if (std::getenv("WAL_DEBUG") != nullptr) {
            std::printf("append up to %llu failed=%d\n",
                static_cast<unsigned long long>(state.appended_index), disk.failed() ? 1 : 0);
        }
        state.gate.enter();
        rx::spawn(append_and_ack(state, std::move(batch), state.appended_index, term));
        for (std::uint64_t y = random.below(3); y > 0; --y) {
            co_await rx::yield();
        }
    }
}

// Checks what recovery returned against what was appended and acknowledged.
std::string check_recovered(const recovered_wal& got, const run_state& state,
    std::uint64_t expected_min) {
    if (got.entries.size() < expected_min) {
        return "lost acknowledged entries: recovered " + std::to_string(got.entries.size())
            + ", acknowledged up to " + std::to_string(expected_min);
    }
    for (std::uint64_t i = 0; i < got.entries.size(); ++i) {
        std::uint64_t index = 0;
        if (!record_index(got.entries[i], index) || index != i + 1) {
            return "entry " + std::to_string(i + 1) + " missing or out of order";
        }
        if (index > state.appended_index || entry_data(got.entries[i])
            != payload_for(state.seed, index)) {
            return "entry " + std::to_string(index) + " is not what was appended";
        }
    }
    if (state.max_acked_term != 0) {
        if (!got.state.has_value() || got.state->term < state.max_acked_term
            || *got.state != state_for(got.state->term)) {
            return "acknowledged hard state lost or garbled";
        }
    }
    return {};
}

// Phase 2: a second life on the recovered WAL with its own power failure (or none), then
// recovery again. What the first recovery returned is on disk now and must survive as well.
task<std::string> second_life(sim_disk& disk, const recovered_wal& got, std::uint64_t seed,
    const wal_options& options, prng& random, totals& sum) {
    run_state state;
    state.seed = seed;
    state.appended_index = got.last_index;
    state.max_acked_index = got.last_index;
    state.max_acked_term = got.state.has_value() ? got.state->term : 0;
    disk.fail_after(random.chance(500) ? 1 + random.below(120) : 0);
    auto opened = co_await wal::open(disk, wal_dir, got, options);
    if (opened.ok()) {
        state.log = opened->get();
        co_await produce(state, disk, random);
        co_await state.gate.close();
        co_await state.log->close();
    } else if (!disk.failed()) {
        co_return "reopen failed: " + opened.error().message();
    }
    disk.crash();
    auto again = co_await read_wal(disk, wal_dir, 0);
    if (!again.ok()) {
        const wal_errc code = again.error().code;
        if (code == wal_errc::corrupt || code == wal_errc::bad_header) {
            ++sum.refused;
            co_return std::string();
        }
        co_return "second recovery failed: " + again.error().message();
    }
    sum.torn += again->torn ? 1 : 0;
    co_return check_recovered(*again, state, state.max_acked_index);
}

task<std::string> run_seed(std::uint64_t seed, totals& sum) {
    sim_disk disk(seed);
    prng random(seed ^ 0x5eed5eed5eedULL);
    const wal_options options = options_for(random);
    disk.fail_after(1 + random.below(160));
    run_state state;
    state.seed = seed;
    const std::string metadata = "member-" + std::to_string(seed);
    auto created = co_await wal::create(disk, wal_dir, metadata, options);
    if (created.ok()) {
        state.log = created->get();
        co_await produce(state, disk, random);
        co_await state.gate.close();
        co_await state.log->close();
    }
    if (!state.problem.empty()) {
        co_return state.problem;
    }
    sum.failed_mid_run += disk.failed() ? 1 : 0;
    disk.crash();
    auto got = co_await read_wal(disk, wal_dir, 0);
    sum.acked_records += state.max_acked_index;
    if (!got.ok()) {
        const wal_errc code = got.error().code;
        if (code == wal_errc::missing && !created.ok()) {
            co_return std::string();  // power failed before the WAL existed
        }
        if (code == wal_errc::corrupt || code == wal_errc::bad_header) {
            ++sum.refused;  // detected and refused: allowed, counted
            co_return std::string();
        }
        co_return "recovery failed: " + got.error().message();
    }
    sum.torn += got->torn ? 1 : 0;
    sum.recovered_records += got->entries.size();
    std::string problem = check_recovered(*got, state, state.max_acked_index);
    if (!problem.empty()) {
        co_return problem;
    }
    problem = co_await second_life(disk, *got, seed, options, random, sum);
    co_return problem;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t seeds = 500;
    std::uint64_t first_seed = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--seeds=", 8) == 0) {
            seeds = std::strtoull(argv[i] + 8, nullptr, 10);
        } else if (std::strncmp(argv[i], "--seed=", 7) == 0) {
            first_seed = std::strtoull(argv[i] + 7, nullptr, 10);
            seeds = 1;
        } else {
            std::fprintf(stderr, "usage: wal-power-loss [--seeds=N] [--seed=S]\n");
            return 2;
        }
    }
    totals sum;
    const rx::smp_config config{.cores = 1, .pin_threads = false};
    const std::string error = rx::smp::run(config, [&](unsigned) -> task<void> {
        for (std::uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
            co_await rx::yield();  // start each seed on a fresh stack (see wal_test.cpp)
            const std::string problem = co_await run_seed(seed, sum);
            ++sum.seeds;
            if (!problem.empty()) {
                ++sum.failed;
                std::printf("FAIL seed %llu: %s\n  reproduce with: wal-power-loss --seed=%llu\n",
                    static_cast<unsigned long long>(seed), problem.c_str(),
                    static_cast<unsigned long long>(seed));
            }
        }
    });
    if (!error.empty()) {
        std::fprintf(stderr, "reactor: %s\n", error.c_str());
        return 2;
    }
    std::printf("wal-power-loss: %llu seeds, %llu failed; power lost mid-run in %llu; %llu "
                "recoveries refused as corrupt, %llu torn tails cut; %llu records "
                "acknowledged, %llu recovered\n",
        static_cast<unsigned long long>(sum.seeds), static_cast<unsigned long long>(sum.failed),
        static_cast<unsigned long long>(sum.failed_mid_run),
        static_cast<unsigned long long>(sum.refused), static_cast<unsigned long long>(sum.torn),
        static_cast<unsigned long long>(sum.acked_records),
        static_cast<unsigned long long>(sum.recovered_records));
    return sum.failed == 0 ? 0 : 1;
}
