// kv_model: the simulator's replicated state machine, a tiny KV store with put, get and
// cas over a few integer keys, plus the encoding of operations into raft entries. Applying
// an operation twice (a duplicated msg_prop) has no second effect: ids are remembered.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace uetcd::sim {

inline constexpr std::size_t kv_key_count = 3;
// Keys below this one are in the checked history; the last key takes untracked load
// once the history is full, so long runs keep committing without growing the check.
inline constexpr std::uint8_t kv_tracked_keys = 2;

enum class op_kind : std::uint8_t { put, get, cas };

struct kv_op {
    std::uint64_t id = 0;
    op_kind kind = op_kind::put;
    std::uint8_t key = 0;
    std::int64_t arg1 = 0;  // put: value; cas: expected
    std::int64_t arg2 = 0;  // cas: new value
};

// put -> 0; get -> value; cas -> 1 if swapped else 0.
using op_result = std::int64_t;

struct kv_state {
    std::array<std::int64_t, kv_key_count> values{};
    std::set<std::uint64_t> seen;

    // Applies op; returns its result, or nullopt when the id was applied before.
    std::optional<op_result> apply(const kv_op& op);
    std::string encode() const;
    static std::optional<kv_state> decode(const std::string& data);
};

// The pure model used by the linearizability checker (no dedup).
op_result model_apply(std::array<std::int64_t, kv_key_count>& values, const kv_op& op);

std::string encode_op(const kv_op& op);
std::optional<kv_op> decode_op(const std::string& data);

}  // namespace uetcd::sim
