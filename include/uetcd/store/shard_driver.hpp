// All shards of a sharded store in one thread: the sequencer, N shards, and the gathering of
// cross-shard reads and watches, driven by plain calls. The tests use it to check that 1, 2
// and 4 shards answer a log exactly as one tree does; the benchmark measures batch apply.
// The server runs the same steps with one shard per core (shard.hpp); this file shows the
// order of messages it must keep.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "uetcd/store/shard.hpp"
#include "uetcd/store/snapshot.hpp"

namespace uetcd::store {

class shard_driver {
public:
    explicit shard_driver(std::uint32_t shard_count);
    // From recover_sharded_snapshot (no watchers: etcd saves none).
    explicit shard_driver(sharded_recovery recovered);
    // save_sharded_snapshot of every shard: the one tree's bytes.
    std::string save_snapshot() const;

    // Applies committed commands in log order, batch by batch; one answer per command, as
    // apply_command gives it (sync: a null event_ptr). Notifications are queued.
    std::vector<result<event_ptr, error>> apply(std::span<const command> log, time_ns now_ns);

    // A plain GET: served by the owning shard, or gathered from all for "/" and "/1".
    result<event, error> get(std::string_view path, bool recursive, bool sorted,
        time_ns now_ns);

    // etcd store.Watch over all shards. Ids and notifications are the driver's own (the
    // notification's tag is the caller's tag).
    result<watch_result, error> watch(std::string_view path, bool recursive, bool stream,
        std::uint64_t since_index, std::uint64_t tag);
    bool remove_watcher(watcher_id id);
    // Notifications since the last call, in index order across shards.
    void take_notifications(std::vector<notification>& out);

    // The counters of all shards summed (watchers: live watches of the driver).
    stats current_stats() const;
    std::uint64_t index() const noexcept { return _sequencer.index(); }
    std::uint64_t batch_count() const noexcept { return _batch_count; }
    std::uint32_t shard_count() const noexcept { return _sequencer.shard_count(); }
    const shard& at(std::uint32_t s) const { return *_shards.at(s); }
    void assert_invariants() const;

private:
    struct driver_watch {
        std::uint64_t tag = 0;
        std::vector<std::pair<std::uint32_t, watcher_id>> parts;  // (shard, its watcher)
        std::uint32_t generation = 0;
        bool live = false;
        bool stream = false;
    };

    void apply_batch(batch_plan& p, std::vector<result<event_ptr, error>>& out);
    void collect_notifications();
    void deliver(std::uint32_t shard_index, const notification& n);
    void drop_parts(driver_watch& w, std::uint32_t slot);
    event_ptr scan_all(std::string_view key, bool recursive, std::uint64_t since_index) const;
    std::uint32_t new_slot();

    sequencer _sequencer;
    std::vector<std::unique_ptr<shard>> _shards;
    std::vector<driver_watch> _watches;
    std::vector<std::uint32_t> _free_slots;
    std::uint64_t _live_watches = 0;
    std::uint64_t _batch_count = 0;
    std::vector<notification> _pending;
    std::vector<std::pair<std::uint32_t, notification>> _scratch;
};

}  // namespace uetcd::store
