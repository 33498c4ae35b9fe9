// Micro-benchmarks of the sharded store in its single-threaded driver: batches of 256 sets of
// 64-byte values over 10k keys, applied through both steps on 1, 2 and 4 shards, against
// apply_command on one plain tree. The driver runs every shard on one thread, so this is the
// cost of the two-step protocol, not the speed-up of shards on several cores.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "uetcd/store/shard_driver.hpp"

namespace {

using namespace uetcd::store;

constexpr time_ns now_ns = 1'764'000'000LL * 1'000'000'000LL;
constexpr std::size_t batch_commands = 256;
constexpr std::size_t key_count = 10'000;

// 100 top-level dirs of 100 keys: writes spread over the shards like an application's.
std::vector<command> batch_of_sets(std::size_t batch_number) {
    std::vector<command> log;
    log.reserve(batch_commands);
    for (std::size_t i = 0; i < batch_commands; ++i) {
        const std::size_t k = (batch_number * batch_commands + i) * 7919 % key_count;
        command c;
        c.path = "/1/d" + std::to_string(k / 100) + "/k" + std::to_string(k);
        c.value = std::string(64, 'v');
        log.push_back(std::move(c));
    }
    return log;
}

void BM_shard_driver_apply_batch_of_256_sets(benchmark::State& state) {
    shard_driver driver(static_cast<std::uint32_t>(state.range(0)));
    std::vector<std::vector<command>> batches;
    for (std::size_t b = 0; b < 64; ++b) {
        batches.push_back(batch_of_sets(b));
    }
    std::size_t b = 0;
    for (auto _ : state) {
        auto answers = driver.apply(batches[b % batches.size()], now_ns);
        benchmark::DoNotOptimize(answers.data());
        b++;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_commands));
}
BENCHMARK(BM_shard_driver_apply_batch_of_256_sets)->Arg(1)->Arg(2)->Arg(4)->ArgName("shards");

void BM_shard_plain_tree_apply_256_sets(benchmark::State& state) {
    tree t;
    std::vector<std::vector<command>> batches;
    for (std::size_t b = 0; b < 64; ++b) {
        batches.push_back(batch_of_sets(b));
    }
    std::vector<notification> drained;
    std::size_t b = 0;
    for (auto _ : state) {
        for (const command& c : batches[b % batches.size()]) {
            auto r = apply_command(t, c, now_ns);
            benchmark::DoNotOptimize(r);
        }
        t.hub().take_notifications(drained);
        b++;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_commands));
}
BENCHMARK(BM_shard_plain_tree_apply_256_sets);

// Core 0's serial share of a batch on 4 shards: plan (routing, copies) and resolve (final
// indexes), with every entry succeeding. The shards' work runs on their own cores.
void BM_shard_sequencer_plan_and_resolve_256(benchmark::State& state) {
    sequencer seq(4);
    std::vector<std::vector<command>> batches;
    for (std::size_t b = 0; b < 64; ++b) {
        batches.push_back(batch_of_sets(b));
    }
    std::size_t b = 0;
    for (auto _ : state) {
        const batch_plan p = seq.plan(batches[b++ % batches.size()], now_ns);
        std::vector<batch_evaluation> evaluations(4);
        for (std::uint32_t s = 0; s < 4; ++s) {
            evaluations[s].success.assign(p.requests[s].entries.size(), true);
        }
        auto commits = seq.resolve(p, evaluations);
        benchmark::DoNotOptimize(commits.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_commands));
}
BENCHMARK(BM_shard_sequencer_plan_and_resolve_256);

}  // namespace
