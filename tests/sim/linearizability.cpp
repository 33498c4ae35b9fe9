// Depth-first search over linearization orders. At each point the candidates are the
// operations invoked before the earliest return among the unlinearized completed ones;
// pending operations may take effect at any later point or never.
#include "linearizability.hpp"

#include <unordered_set>

#include "uetcd/assert.hpp"

namespace uetcd::sim {

namespace {

struct search {
    const std::vector<history_op>& h;
    std::uint64_t budget;
    std::uint64_t completed_mask = 0;
    std::unordered_set<std::uint64_t> visited;
    bool exhausted = false;

    std::uint64_t key(std::uint64_t mask, const std::array<std::int64_t, kv_key_count>& v) {
        std::uint64_t x = mask * 0x9e3779b97f4a7c15ULL;
        for (std::int64_t val : v) {
            x = (x ^ static_cast<std::uint64_t>(val)) * 0xff51afd7ed558ccdULL;
            x ^= x >> 29;
        }
        return x;
    }

    bool dfs(std::uint64_t mask, std::array<std::int64_t, kv_key_count> values) {
        if ((mask & completed_mask) == completed_mask) {
            return true;
        }
        if (budget-- == 0) {
            exhausted = true;
            return true;
        }
        // A hash collision could only hide a real violation, never invent one.
        if (!visited.insert(key(mask, values)).second) {
            return false;
        }
        std::uint64_t min_ret = never_returned;
        for (std::size_t i = 0; i < h.size(); ++i) {
            if ((mask >> i & 1U) == 0 && h[i].ret < min_ret) {
                min_ret = h[i].ret;
            }
        }
        for (std::size_t i = 0; i < h.size(); ++i) {
            if ((mask >> i & 1U) != 0 || h[i].call > min_ret) {
                continue;
            }
            auto next = values;
            const op_result r = model_apply(next, h[i].op);
            if (h[i].ret != never_returned && r != h[i].result) {
                continue;
            }
            if (dfs(mask | (1ULL << i), next)) {
                return true;
            }
        }
        return false;
    }
};

}  // namespace

lin_verdict check_linearizable(const std::vector<history_op>& full_history,
    std::uint64_t budget_nodes) {
    // A read that never returned has no effect and no result: drop it, it only widens the
    // search.
    std::vector<history_op> history;
    for (const history_op& h : full_history) {
        if (h.ret != never_returned || h.op.kind != op_kind::get) {
            history.push_back(h);
        }
    }
    UETCD_ASSERT(history.size() <= 64);
    search s{history, budget_nodes, 0, {}, false};
    for (std::size_t i = 0; i < history.size(); ++i) {
        UETCD_ASSERT(history[i].call <= history[i].ret);
        if (history[i].ret != never_returned) {
            s.completed_mask |= 1ULL << i;
        }
    }
    const bool ok = s.dfs(0, {});
    if (s.exhausted) {
        return lin_verdict::budget_exceeded;
    }
    return ok ? lin_verdict::linearizable : lin_verdict::not_linearizable;
}

}  // namespace uetcd::sim
