// The event history (the last 1000 events, for waitIndex) and the watcher hub (etcd v3.4
// v2store event_history.go, watcher_hub.go, watcher.go). Watchers hold no thread and no
// channel: a notification is queued and the caller drains the queue after each apply.
// Single-threaded: the hub lives on the core that owns its tree.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/store/errors.hpp"
#include "uetcd/store/event.hpp"

namespace uetcd::store {

// etcd newWatchHub(1000): the window of events a waitIndex may reach back into.
inline constexpr std::uint32_t event_history_capacity = 1000;

class event_history {
public:
    void add(event_ptr e);
    // etcd EventHistory.scan: the first non-refresh event at or after since_index that
    // matches `key` (exact, under key/ when recursive, or a deleted/expired ancestor dir
    // whose key is a string prefix of `key`). No hidden-key filter (etcd quirk).
    // since_index older than the window -> 401 (index 0: the caller sets the store index).
    result<event_ptr, error> scan(std::string_view key, bool recursive,
        std::uint64_t since_index) const;
    // scan without the window check (a shard's caller checks the whole store's window).
    event_ptr scan_from(std::string_view key, bool recursive, std::uint64_t since_index) const;

    std::uint64_t start_index() const noexcept { return _start_index; }
    std::uint64_t last_index() const noexcept { return _last_index; }
    std::size_t size() const noexcept { return _size; }
    // i-th oldest event, i < size().
    const event_ptr& at(std::size_t i) const;
    void clear();

private:
    std::vector<event_ptr> _ring;  // grows to event_history_capacity, then wraps
    std::size_t _front = 0;
    std::size_t _size = 0;
    std::uint64_t _start_index = 0;
    std::uint64_t _last_index = 0;
};

struct watcher_id {
    std::uint32_t slot = UINT32_MAX;
    std::uint32_t generation = 0;
    bool valid() const noexcept { return slot != UINT32_MAX; }
    friend bool operator==(watcher_id, watcher_id) = default;
};

// One event for one watcher. `tag` is the caller's cookie given at watch time.
struct notification {
    watcher_id id;
    std::uint64_t tag = 0;
    event_ptr ev;
    // true when this one-shot watcher is gone after this event (stream watchers stay).
    bool watcher_removed = false;
};

struct watch_result {
    // A history hit: the event is answered at once and no watcher is registered (etcd
    // returns it through the channel of an unregistered watcher, even for stream=true).
    event_ptr immediate;
    watcher_id id;                  // registered watcher when `immediate` is null
    std::uint64_t start_index = 0;  // store index at watch time: the watch's X-Etcd-Index
};

class watcher_hub {
public:
    // Registers a watcher on `key` (a clean internal path). since_index 0 is not allowed
    // here: the tree turns it into current index + 1 as etcd does.
    result<watch_result, error> watch(std::string_view key, bool recursive, bool stream,
        std::uint64_t since_index, std::uint64_t store_index, std::uint64_t tag,
        bool check_window = true);
    // O(1). Removing a watcher that is already gone is a no-op (returns false).
    bool remove(watcher_id id);

    // etcd watcherHub.notify: adds e to the history, then tells watchers on every prefix of
    // the event key. A refresh event only goes into the history (etcd watcherHub.add).
    void notify(const event_ptr& e);
    void add_to_history(const event_ptr& e) { _history.add(e); }
    // etcd notifyWatchers(e, path, deleted=true): a removed node at `path`.
    void notify_deleted(const event_ptr& e, std::string_view path) {
        notify_path(e, path, true);
    }

    // Notifications queued since the last call, in delivery order. Bounded by the number of
    // watchers times the events applied between two drains; drain after each apply.
    void take_notifications(std::vector<notification>& out);
    bool has_notifications() const noexcept { return !_pending.empty(); }

    std::uint64_t count() const noexcept { return _count; }
    bool empty() const noexcept { return _count == 0; }
    const event_history& history() const noexcept { return _history; }
    event_history& history() noexcept { return _history; }

private:
    struct path_list {
        std::uint32_t head = UINT32_MAX;
        std::uint32_t tail = UINT32_MAX;
    };
    // Transparent hashing: notify looks paths up by string_view without allocating.
    struct path_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view path) const noexcept {
            return std::hash<std::string_view>{}(path);
        }
    };
    using path_map = std::unordered_map<std::string, path_list, path_hash, std::equal_to<>>;
    // 40 bytes per watcher plus its share of one map entry per watched path.
    struct slot {
        std::uint64_t since_index = 0;
        std::uint64_t tag = 0;
        path_map::value_type* entry = nullptr;  // map nodes are stable across rehash
        std::uint32_t generation = 0;
        std::uint32_t prev = UINT32_MAX;
        std::uint32_t next = UINT32_MAX;  // also the free-list link
        bool live = false;
        bool recursive = false;
        bool stream = false;
    };

    void notify_path(const event_ptr& e, std::string_view path, bool deleted);
    void unlink(std::uint32_t index);

    event_history _history;
    path_map _by_path;
    std::vector<slot> _slots;
    std::uint32_t _free_head = UINT32_MAX;
    std::uint64_t _count = 0;
    std::vector<notification> _pending;
};

}  // namespace uetcd::store
