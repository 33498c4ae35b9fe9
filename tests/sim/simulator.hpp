// simulator: one deterministic run of an N-member raft cluster (raw_nodes over
// memory_storage) on a simulated network that drops, delays, duplicates, reorders and
// partitions, with crashes that keep only persisted state, and KV clients. One seed
// decides every choice. After every step the safety checks run; a run returns the first
// violation found.
#pragma once

#include <cstdint>
#include <string>

namespace uetcd::sim {

struct sim_options {
    std::uint64_t seed = 1;
    std::size_t nodes = 3;
    std::uint64_t steps = 600;
    bool break_commit_rule = false;
    bool verbose = false;
};

struct sim_outcome {
    bool ok = true;
    std::string failure;  // what was violated, at which step
    std::uint64_t committed = 0;
    std::uint64_t history_ops = 0;
    bool lin_budget_exceeded = false;
    // Coverage counters: a run that exercises nothing proves nothing.
    std::uint64_t ops_completed = 0;
    std::uint64_t reads_served = 0;
    std::uint64_t snapshots_installed = 0;
    std::uint64_t leaders_elected = 0;
    std::uint64_t crashes = 0;
    std::uint64_t conf_changes = 0;
};

sim_outcome run_simulation(const sim_options& opt);

}  // namespace uetcd::sim
