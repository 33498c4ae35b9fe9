// linearizability: a Wing & Gong style checker (with Lowe's memoisation of visited
// (linearized-set, state) pairs) for the simulator's KV histories. Histories are kept
// small (<= 64 operations) so the search is fast; a search budget bounds the worst case.
#pragma once

#include <vector>

#include "kv_model.hpp"

namespace uetcd::sim {

inline constexpr std::uint64_t never_returned = UINT64_MAX;

struct history_op {
    kv_op op;
    std::uint64_t call = 0;                // event sequence number of the invocation
    std::uint64_t ret = never_returned;    // pending/indeterminate when never_returned
    op_result result = 0;
};

enum class lin_verdict : std::uint8_t { linearizable, not_linearizable, budget_exceeded };

lin_verdict check_linearizable(const std::vector<history_op>& history,
    std::uint64_t budget_nodes = 2'000'000);

}  // namespace uetcd::sim
