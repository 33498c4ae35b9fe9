// Key-space sharding of the v2 store (DESIGN.md "Threads and shards", "Writes"): N trees, each
// owning the keys whose first user path segment hashes to it, answering a committed log exactly
// as one tree would (same events, errors, indexes, history window, watch notifications, stats).
// Pure: the messages below are plain values; the server moves them between cores. The
// single-threaded shard_driver (shard_driver.hpp) runs every shard in-process.
//
// One batch of committed commands, two steps:
//   1. core 0: sequencer::plan() -> one batch_request per shard; each shard: evaluate()
//      (writes applied with provisional indexes, nothing published) -> batch_evaluation.
//   2. core 0: sequencer::resolve(plan, evaluations) -> one batch_commit per shard (also to
//      shards without entries: the store index moved); each shard: commit() -> its answers,
//      after patching indexes and publishing to its history and watchers.
//   gather_answers() puts the answers of all shards back in log order (and merges a quorum GET
//   of the root). No read or watch may reach a shard between its evaluate and its commit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/store/command.hpp"
#include "uetcd/store/tree.hpp"

namespace uetcd::store {

// One shard per core; 256 cores is far beyond the machines we target.
inline constexpr std::uint32_t shard_count_max = 256;
// Commands per batch: bounds the per-batch vectors; group commit rarely gathers more.
inline constexpr std::size_t batch_entries_max = 4096;
// shard_of() for "/" and "/1": a read there gathers from every shard.
inline constexpr std::uint32_t all_shards = UINT32_MAX;

// The owner of a clean internal path: "/1/<seg>/..." -> hash(seg); any other top-level
// namespace ("/0/...", "/2/...") goes whole to hash("0"), hash("2"); "/" and "/1" -> all_shards.
std::uint32_t shard_of(std::string_view clean_path, std::uint32_t shard_count) noexcept;
bool is_cross_shard_path(std::string_view clean_path) noexcept;

// Entries whose evaluation needs final indexes, or all shards at one point of the log, run
// alone in their batch: POST (the name is the index), compares with prev_index, quorum GET
// (renders indexes), sync (expirations are ordered across shards), anything on "/" or "/1".
bool is_serial(const command& c) noexcept;

// provisional: writes get provisional indexes, fixed at commit (plain batches and sync).
// final: one serial entry on a store at base_index, applied as the single tree would.
enum class index_mode : std::uint8_t { provisional, final };

struct shard_entry {
    std::uint32_t position = 0;  // in the batch, 0-based
    command cmd;
    // A quorum GET of the root: every shard answers its part; only one counts the stats.
    bool count_stats = true;
};

struct batch_request {
    std::uint64_t base_index = 0;  // store index before the batch
    index_mode mode = index_mode::provisional;
    time_ns now_ns = 0;  // only feeds ttl fields of answers
    std::vector<shard_entry> entries;  // in log order
};

struct batch_evaluation {
    std::vector<bool> success;          // per entry of the request, in its order
    std::vector<expired_key> expired;   // sync: this shard's expirations, in slot order
};

struct batch_commit {
    std::uint64_t final_index = 0;               // store index after the whole batch
    std::vector<std::uint64_t> slot_index;       // final index of each provisional slot
    std::vector<std::uint64_t> entry_index;      // store index before each entry (errors)
};

struct entry_answer {
    std::uint32_t position = 0;
    result<event_ptr, error> answer;  // sync: a null event_ptr, as apply_command gives
};

class shard {
public:
    shard(std::uint32_t id, std::uint32_t shard_count);
    // A shard recovered from a snapshot (recover_sharded_snapshot's shards[id]).
    shard(std::uint32_t id, std::uint32_t shard_count, tree recovered);

    // Step 1 (on the shard's core). Precondition: no batch pending, base_index == index().
    batch_evaluation evaluate(batch_request request);
    // Step 2 (on the shard's core): for every shard after every batch, with or without a
    // pending evaluation. The answers are in request order; their events are immutable from
    // here on (safe to read from another core while the event_ptr is held).
    std::vector<entry_answer> commit(const batch_commit& c);
    bool pending() const noexcept { return _pending; }

    std::uint32_t id() const noexcept { return _id; }
    // Reads and watches between batches.
    tree& store() noexcept { return _tree; }
    const tree& store() const noexcept { return _tree; }

private:
    result<event_ptr, error> apply_entry(const shard_entry& e, time_ns now_ns);

    std::uint32_t _id;
    tree _tree;
    bool _pending = false;
    index_mode _mode = index_mode::provisional;
    std::vector<std::uint32_t> _positions;
    std::vector<result<event_ptr, error>> _answers;
};

struct batch_plan {
    std::uint64_t base_index = 0;
    index_mode mode = index_mode::provisional;
    std::size_t command_count = 0;       // commands of the log this batch consumed
    std::vector<std::uint32_t> owner;    // per position: its shard, or all_shards
    std::vector<command_method> method;  // per position
    std::vector<batch_request> requests; // per shard; no entries: skip its step 1
    bool root_sorted = false;            // a quorum GET of the root: sorted=true
};

// Core 0's part: forms batches, turns outcomes into final indexes, knows the store index and
// the window of the last 1000 events of the whole store.
class sequencer {
public:
    // After a recovery: the store index and the history start index of the whole store.
    explicit sequencer(std::uint32_t shard_count, std::uint64_t index = 0,
        std::uint64_t history_start_index = 0);

    // The next batch from the front of `log` (non-empty): a serial command alone, else the
    // longest run of non-serial ones, at most batch_entries_max.
    batch_plan plan(std::span<const command> log, time_ns now_ns) const;
    // evaluations[s] is shard s's answer to requests[s] (empty for shards not involved).
    std::vector<batch_commit> resolve(const batch_plan& p,
        std::span<const batch_evaluation> evaluations);

    std::uint64_t index() const noexcept { return _index; }
    std::uint32_t shard_count() const noexcept { return _shard_count; }
    // etcd's history start index for the whole store (0 while no event exists).
    std::uint64_t history_start_index() const noexcept;
    // etcd 401 for a since_index (already defaulted to index() + 1) older than the window.
    std::optional<error> check_wait_index(std::uint64_t since_index) const;

private:
    void resolve_sync(const batch_plan& p, std::span<const batch_evaluation> evaluations,
        std::vector<batch_commit>& commits, std::uint64_t& successes) const;

    std::uint32_t _shard_count;
    std::uint64_t _index;
    std::uint64_t _first_event_index = 0;  // 0: no event since start
};

// The answers of one batch in log order. answers[s] is shard s's commit() result.
std::vector<result<event_ptr, error>> gather_answers(const batch_plan& p,
    std::vector<std::vector<entry_answer>> answers);

// A read of "/" or "/1" from per-shard views (parts[s] from shard s's tree::view).
event merge_root_get(std::string_view clean_path, bool sorted, std::vector<event> parts);

}  // namespace uetcd::store
