// Save and recover a whole tree (nodes, etcd index, stats, the event history) as compact
// binary bytes for raft snapshots. Watchers are not saved (etcd saves none either).
// The encoding is canonical: children in name order, so equal trees give equal bytes on
// every member. Decoding is total: any malformed input is an error value, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/store/tree.hpp"

namespace uetcd::store {

// Deepest path a snapshot may hold; deeper input is refused (the decoder recurses).
inline constexpr std::size_t snapshot_depth_max = 4096;

std::string save_snapshot(const tree& t);
result<tree, std::string> recover_snapshot(std::string_view bytes);

// A sharded store (shard.hpp) saves the bytes save_snapshot gives for the one tree holding all
// its keys, history and counters, so that members with different core counts exchange and
// compare snapshots. shards[s] is shard s's tree, all at the same index, none mid-batch.
std::string save_sharded_snapshot(std::span<const tree* const> shards);

struct sharded_recovery {
    std::vector<tree> shards;             // shards[s] holds the keys shard_of() gives s
    std::uint64_t history_start_index = 0; // of the whole store, for the sequencer
};
// Any snapshot split into shard_count trees (counters all on shard 0, each event in the
// history of the shard owning its key).
result<sharded_recovery, std::string> recover_sharded_snapshot(std::string_view bytes,
    std::uint32_t shard_count);

}  // namespace uetcd::store
