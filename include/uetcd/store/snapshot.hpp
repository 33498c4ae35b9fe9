// Save and recover a whole tree (nodes, etcd index, stats, the event history) as compact
// binary bytes for raft snapshots. Watchers are not saved (etcd saves none either).
// The encoding is canonical: children in name order, so equal trees give equal bytes on
// every member. Decoding is total: any malformed input is an error value, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "uetcd/result.hpp"
#include "uetcd/store/tree.hpp"

namespace uetcd::store {

// Deepest path a snapshot may hold; deeper input is refused (the decoder recurses).
inline constexpr std::size_t snapshot_depth_max = 4096;

std::string save_snapshot(const tree& t);
result<tree, std::string> recover_snapshot(std::string_view bytes);

}  // namespace uetcd::store
