// The in-process driver of a sharded store (include/uetcd/store/shard_driver.hpp): the two
// apply steps of each batch in order, root reads gathered from every shard, and watches whose
// parts live on several shards. Single-threaded.
#include "uetcd/store/shard_driver.hpp"

#include <algorithm>

namespace uetcd::store {

namespace {

void add_stats(stats& sum, const stats& s) {
    sum.gets_success += s.gets_success;
    sum.gets_fail += s.gets_fail;
    sum.sets_success += s.sets_success;
    sum.sets_fail += s.sets_fail;
    sum.delete_success += s.delete_success;
    sum.delete_fail += s.delete_fail;
    sum.update_success += s.update_success;
    sum.update_fail += s.update_fail;
    sum.create_success += s.create_success;
    sum.create_fail += s.create_fail;
    sum.compare_and_swap_success += s.compare_and_swap_success;
    sum.compare_and_swap_fail += s.compare_and_swap_fail;
    sum.compare_and_delete_success += s.compare_and_delete_success;
    sum.compare_and_delete_fail += s.compare_and_delete_fail;
    sum.expire_count += s.expire_count;
}

}  // namespace

shard_driver::shard_driver(std::uint32_t shard_count) : _sequencer(shard_count) {
    for (std::uint32_t s = 0; s < shard_count; ++s) {
        _shards.push_back(std::make_unique<shard>(s, shard_count));
    }
}

shard_driver::shard_driver(sharded_recovery recovered)
    : _sequencer(static_cast<std::uint32_t>(recovered.shards.size()),
          recovered.shards.at(0).index(), recovered.history_start_index) {
    const auto count = static_cast<std::uint32_t>(recovered.shards.size());
    for (std::uint32_t s = 0; s < count; ++s) {
        _shards.push_back(std::make_unique<shard>(s, count, std::move(recovered.shards[s])));
    }
}

std::string shard_driver::save_snapshot() const {
    std::vector<const tree*> trees;
    for (const auto& s : _shards) {
        trees.push_back(&s->store());
    }
    return save_sharded_snapshot(trees);
}

std::vector<result<event_ptr, error>> shard_driver::apply(std::span<const command> log,
    time_ns now_ns) {
    std::vector<result<event_ptr, error>> out;
    out.reserve(log.size());
    std::size_t at = 0;
    while (at < log.size()) {
        batch_plan p = _sequencer.plan(log.subspan(at), now_ns);
        UETCD_ASSERT(p.command_count >= 1);
        at += p.command_count;
        apply_batch(p, out);
    }
    UETCD_ASSERT(out.size() == log.size());
    return out;
}

// The order the server keeps too: every involved shard evaluates, core 0 resolves, every
// shard commits, then answers and notifications go out.
void shard_driver::apply_batch(batch_plan& p, std::vector<result<event_ptr, error>>& out) {
    const std::uint32_t count = shard_count();
    std::vector<batch_evaluation> evaluations(count);
    for (std::uint32_t s = 0; s < count; ++s) {
        if (!p.requests[s].entries.empty()) {
            evaluations[s] = _shards[s]->evaluate(std::move(p.requests[s]));
        }
    }
    const std::vector<batch_commit> commits = _sequencer.resolve(p, evaluations);
    std::vector<std::vector<entry_answer>> answers(count);
    for (std::uint32_t s = 0; s < count; ++s) {
        answers[s] = _shards[s]->commit(commits[s]);
        UETCD_ASSERT(_shards[s]->store().index() == _sequencer.index());
    }
    for (auto& a : gather_answers(p, std::move(answers))) {
        out.push_back(std::move(a));
    }
    _batch_count++;
    collect_notifications();
}

void shard_driver::collect_notifications() {
    _scratch.clear();
    std::vector<notification> taken;
    for (std::uint32_t s = 0; s < shard_count(); ++s) {
        _shards[s]->store().hub().take_notifications(taken);
        for (notification& n : taken) {
            _scratch.emplace_back(s, std::move(n));
        }
    }
    // Each shard's list is in index order; merging keeps one event's notifications together.
    std::stable_sort(_scratch.begin(), _scratch.end(), [](const auto& a, const auto& b) {
        return a.second.ev->index() < b.second.ev->index();
    });
    for (const auto& [s, n] : _scratch) {
        deliver(s, n);
    }
    _scratch.clear();
}

void shard_driver::deliver(std::uint32_t shard_index, const notification& n) {
    UETCD_ASSERT(n.tag < _watches.size());
    const auto slot = static_cast<std::uint32_t>(n.tag);
    driver_watch& w = _watches[slot];
    const auto part = std::pair<std::uint32_t, watcher_id>{shard_index, n.id};
    if (!w.live || std::find(w.parts.begin(), w.parts.end(), part) == w.parts.end()) {
        return;  // a one-shot watch already answered by a lower index on another shard
    }
    _pending.push_back(notification{watcher_id{slot, w.generation}, w.tag, n.ev, !w.stream});
    if (!w.stream) {
        drop_parts(w, slot);
    }
}

void shard_driver::drop_parts(driver_watch& w, std::uint32_t slot) {
    UETCD_ASSERT(w.live);
    for (const auto& [s, id] : w.parts) {
        (void)_shards[s]->store().remove_watcher(id);  // the part that fired is gone already
    }
    w.parts.clear();
    w.live = false;
    w.generation++;
    _free_slots.push_back(slot);
    UETCD_ASSERT(_live_watches > 0);
    _live_watches--;
}

std::uint32_t shard_driver::new_slot() {
    if (!_free_slots.empty()) {
        const std::uint32_t slot = _free_slots.back();
        _free_slots.pop_back();
        return slot;
    }
    UETCD_ASSERT(_watches.size() < UINT32_MAX);
    _watches.emplace_back();
    return static_cast<std::uint32_t>(_watches.size() - 1);
}

result<event, error> shard_driver::get(std::string_view path, bool recursive, bool sorted,
    time_ns now_ns) {
    const std::string key = clean_path(path);
    const std::uint32_t owner = shard_of(key, shard_count());
    if (owner != all_shards) {
        return _shards[owner]->store().get(key, recursive, sorted, now_ns);
    }
    std::vector<event> parts;
    for (std::uint32_t s = 0; s < shard_count(); ++s) {
        tree& t = _shards[s]->store();
        // The GET is counted once, on shard 0.
        auto got = s == 0 ? t.get(key, recursive, sorted, now_ns)
                          : t.view(key, recursive, sorted, now_ns);
        UETCD_ASSERT(got.ok());
        parts.push_back(std::move(got).value());
    }
    return merge_root_get(key, sorted, std::move(parts));
}

// The lowest-index history event matching the watch on any shard. Not only the owner: etcd's
// scan also matches the deletion of a dir whose key is a string prefix of the watched key
// ("/1/fo" for "/1/foo"), and that dir may live on another shard.
event_ptr shard_driver::scan_all(std::string_view key, bool recursive,
    std::uint64_t since_index) const {
    event_ptr best;
    for (const auto& s : _shards) {
        event_ptr hit = s->store().scan_history(key, recursive, since_index);
        if (hit != nullptr && (best == nullptr || hit->index() < best->index())) {
            best = std::move(hit);
        }
    }
    return best;
}

result<watch_result, error> shard_driver::watch(std::string_view path, bool recursive,
    bool stream, std::uint64_t since_index, std::uint64_t tag) {
    const std::string key = clean_path(path);
    const std::uint64_t store_index = index();
    if (since_index == 0) {
        since_index = store_index + 1;
    }
    if (auto cleared = _sequencer.check_wait_index(since_index)) {
        return failure(std::move(*cleared));
    }
    watch_result out;
    out.start_index = store_index;
    if (since_index <= store_index) {
        if (event_ptr hit = scan_all(key, recursive, since_index)) {
            auto copy = std::make_shared<event>(*hit);
            copy->etcd_index = store_index;  // etcd stamps the watch's store index
            out.immediate = std::move(copy);
            return out;
        }
    }
    const std::uint32_t slot = new_slot();
    driver_watch& w = _watches[slot];
    UETCD_ASSERT(!w.live && w.parts.empty());
    w.tag = tag;
    w.stream = stream;
    w.live = true;
    const std::uint32_t owner = shard_of(key, shard_count());
    for (std::uint32_t s = 0; s < shard_count(); ++s) {
        if (owner != all_shards && owner != s) {
            continue;
        }
        auto part = _shards[s]->store().watch(key, recursive, stream, since_index, slot, false);
        UETCD_ASSERT(part.ok() && part->immediate == nullptr);
        w.parts.emplace_back(s, part->id);
    }
    _live_watches++;
    out.id = watcher_id{slot, w.generation};
    return out;
}

bool shard_driver::remove_watcher(watcher_id id) {
    if (id.slot >= _watches.size()) {
        return false;
    }
    driver_watch& w = _watches[id.slot];
    if (!w.live || w.generation != id.generation) {
        return false;
    }
    drop_parts(w, id.slot);
    return true;
}

void shard_driver::take_notifications(std::vector<notification>& out) {
    out.clear();
    out.swap(_pending);
}

stats shard_driver::current_stats() const {
    stats sum;
    for (const auto& s : _shards) {
        add_stats(sum, s->store().current_stats());
    }
    sum.watchers = _live_watches;
    return sum;
}

void shard_driver::assert_invariants() const {
    std::uint64_t parts = 0;
    for (const driver_watch& w : _watches) {
        UETCD_ASSERT(w.live || w.parts.empty());
        parts += w.parts.size();
    }
    std::uint64_t hub_watchers = 0;
    for (const auto& s : _shards) {
        UETCD_ASSERT(!s->pending());
        UETCD_ASSERT(s->store().index() == index());
        s->store().assert_invariants();
        hub_watchers += s->store().hub().count();
    }
    UETCD_ASSERT(hub_watchers == parts);
}

}  // namespace uetcd::store
