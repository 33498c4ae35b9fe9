// The etcd v2 key tree as a deterministic state machine (etcd v3.4 v2store store.go):
// files and directories, TTLs, hidden keys, in-order keys, the etcd index, the event history
// and the watcher hub. No I/O, no clock (every call that needs the time takes it), no
// threads: one tree is owned by one core. Paths are internal ("/1/foo" for user key /foo);
// the HTTP layer adds and strips the "/1" prefix (json_options::key_prefix).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/store/errors.hpp"
#include "uetcd/store/event.hpp"
#include "uetcd/store/stats.hpp"
#include "uetcd/store/watcher_hub.hpp"

namespace uetcd::store {

struct node;  // store/node.hpp

// etcd v3.4 etcdserver: the cluster (members, version) lives under /0, user keys under /1,
// v2 auth under /2 (created by the first auth write). All share one etcd index.
inline constexpr std::string_view cluster_prefix = "/0";
inline constexpr std::string_view keys_prefix = "/1";
inline constexpr std::string_view auth_prefix = "/2";

// etcd TTLOptionSet. expire_time_ns = permanent (0) makes the node permanent.
struct ttl_options {
    time_ns expire_time_ns = permanent;
    bool refresh = false;  // keep the value, only move the expiry; no watcher is told
};

using write_result = result<event_ptr, error>;

// Batch mode (sharding, include/uetcd/store/shard.hpp): a write evaluated before its final
// etcd index is known gets the provisional index provisional_index_bit | k, k = its 1-based
// success number in the batch. The bit cannot collide with a real index (2^62 writes).
inline constexpr std::uint64_t provisional_index_bit = std::uint64_t{1} << 62;
inline constexpr bool is_provisional_index(std::uint64_t index) noexcept {
    return (index & provisional_index_bit) != 0;
}

// A node removed by expire(): (expiry, key) is the order every member and every shard count
// expirations in, so merging the shards' lists by it gives the single tree's order.
struct expired_key {
    time_ns expire_time_ns = permanent;
    std::string key;
    friend auto operator<=>(const expired_key&, const expired_key&) = default;
};

struct tree_batch;  // tree.cpp: what a provisional batch touched and must publish

class tree {
public:
    // Creates "/" and the namespace dirs (at index 0); "/" and the namespaces are read only.
    explicit tree(std::initializer_list<std::string_view> namespaces = {cluster_prefix,
                      keys_prefix});
    ~tree();
    tree(tree&&) noexcept;
    tree& operator=(tree&&) noexcept;
    tree(const tree&) = delete;
    tree& operator=(const tree&) = delete;

    std::uint64_t index() const noexcept { return _current_index; }

    // Reads: no index moves. `now_ns` only feeds the ttl fields of the answer.
    result<event, error> get(std::string_view path, bool recursive, bool sorted,
        time_ns now_ns);
    // get() without counting stats: one shard's part of a listing gathered from all shards.
    // Counts a GET of the clean path `clean` in the stats (getsSuccess if the node exists,
    // else getsFail) without building an answer: etcd's per-request GET of /2/enabled.
    void count_get(std::string_view clean) noexcept;

    result<event, error> view(std::string_view path, bool recursive, bool sorted,
        time_ns now_ns) const;

    // Writes: on success the index moves by exactly one and the event goes to the history
    // and the watchers. On failure nothing changes but the stats.
    write_result set(std::string_view path, bool dir, std::string_view value,
        ttl_options ttl, time_ns now_ns);
    // unique=true is POST: the node is path + "/" + the new index on 20 digits.
    write_result create(std::string_view path, bool dir, std::string_view value, bool unique,
        ttl_options ttl, time_ns now_ns);
    write_result update(std::string_view path, std::string_view value, ttl_options ttl,
        time_ns now_ns);
    // prev_value "" and prev_index 0 mean "do not check" (etcd node.Compare).
    write_result compare_and_swap(std::string_view path, std::string_view prev_value,
        std::uint64_t prev_index, std::string_view value, ttl_options ttl, time_ns now_ns);
    write_result remove(std::string_view path, bool dir, bool recursive, time_ns now_ns);
    write_result compare_and_delete(std::string_view path, std::string_view prev_value,
        std::uint64_t prev_index, time_ns now_ns);

    // etcd DeleteExpiredKeys(cutoff), applied from the leader's replicated SYNC: removes every
    // node with expiry <= cutoff, earliest first (ties: by key), one "expire" event and one
    // index each. Returns the number of nodes expired.
    std::size_t expire(time_ns cutoff_ns);
    bool has_ttl_keys() const noexcept { return !_ttl_heap.empty(); }
    // Earliest expiry, or permanent when none: lets the leader decide when to SYNC.
    time_ns next_expiry() const noexcept;

    // etcd store.Watch. since_index 0 means "from the next write". A history hit returns the
    // event at once; otherwise a watcher is registered and later events are queued in
    // hub().take_notifications(). Counts no stats (etcd does not).
    // check_window=false: the caller (the shard sequencer) has checked since_index against
    // the window of the whole store, which a shard's own history does not know.
    result<watch_result, error> watch(std::string_view path, bool recursive, bool stream,
        std::uint64_t since_index, std::uint64_t tag, bool check_window = true);
    // The first history event at or after since_index matching the watch, or null; no 401
    // check and no watcher (a cross-shard watch gathers these from every shard).
    event_ptr scan_history(std::string_view path, bool recursive,
        std::uint64_t since_index) const;
    bool remove_watcher(watcher_id id) { return _hub.remove(id); }
    watcher_hub& hub() noexcept { return _hub; }
    const watcher_hub& hub() const noexcept { return _hub; }

    // Counters, with `watchers` filled in.
    stats current_stats() const noexcept;
    // Gets and watches served elsewhere (e.g. from another core) may be counted here.
    stats& mutable_stats() noexcept { return _stats; }

    std::size_t node_count() const noexcept { return _node_count; }

    // Batch mode. Between begin_provisional() and finish_provisional() writes use provisional
    // indexes (error indexes too: the caller replaces them), and nothing reaches the history or
    // the watchers. Reads must not run in between: they would see provisional indexes.
    // POST and compares with prev_index need final indexes: they must not run in this mode.
    void begin_provisional();
    bool in_provisional() const noexcept { return _batch != nullptr; }
    // Provisional slots used so far (successful writes and expirations).
    std::uint64_t provisional_count() const noexcept;
    // Nodes expired in this batch, in slot order.
    const std::vector<expired_key>& provisional_expired() const noexcept;
    // slot_index[k - 1] is the final index of provisional slot k. Patches the nodes and events
    // of the batch, sets the index to `final_index` (the store index after the whole batch, on
    // every shard), then publishes the events to the history and the watchers in slot order.
    void finish_provisional(std::span<const std::uint64_t> slot_index,
        std::uint64_t final_index);
    // Another shard's writes moved the store index: no node or event here changes.
    void advance_index(std::uint64_t final_index);

    // O(n) check of every structural invariant (parent links, child tables, counts, the TTL
    // heap, indexes); aborts through UETCD_ASSERT on the first broken one. For tests and the
    // simulator, not for the request path.
    void assert_invariants() const;

private:
    friend struct tree_access;  // store/*.cpp internals (snapshot, helpers)

    result<node*, error> find(std::string_view clean_path) const;
    result<node*, error> walk_create_dirs(std::string_view dir_path, std::uint64_t new_index);
    write_result internal_create(std::string path, bool dir, std::string_view value,
        bool unique, bool replace, time_ns expire_ns, action act, time_ns now_ns);
    void remove_subtree(node* n, const event_ptr& e, bool notify);
    void publish(const std::shared_ptr<event>& e, bool refresh);
    // Hub calls, deferred in batch mode.
    void hub_notify(const event_ptr& e);
    void hub_add_to_history(const event_ptr& e);
    void hub_notify_deleted(const event_ptr& e, std::string_view path);
    void touch(std::string_view clean_path);
    void patch_batch(std::span<const std::uint64_t> slot_index);
    void heap_push(node* n);
    void heap_remove(node* n);
    void heap_fix(node* n);
    void update_ttl(node* n, time_ns expire_ns);
    bool is_read_only(std::string_view clean_path) const;

    std::unique_ptr<node> _root;
    std::vector<node*> _ttl_heap;  // min-heap by (expiry, key); node::heap_slot is the position
    std::vector<std::string> _read_only;
    std::uint64_t _current_index = 0;
    std::size_t _node_count = 1;
    stats _stats;
    watcher_hub _hub;
    std::unique_ptr<tree_batch> _batch;  // non-null between begin and finish_provisional
};

// Go's path.Clean(path.Join("/", p)): the canonical form every operation uses.
std::string clean_path(std::string_view p);

}  // namespace uetcd::store
