// Event history and watcher hub (etcd v3.4 v2store event_history.go, watcher_hub.go).
#include "uetcd/store/watcher_hub.hpp"

#include "uetcd/assert.hpp"
#include "uetcd/store/tree.hpp"

namespace uetcd::store {

namespace {

constexpr std::uint32_t none = UINT32_MAX;

// etcd isHidden(watchPath, keyPath): the part of the key below the watched path has a
// segment starting with '_'. A watch deeper than the key (a deleted dir) is never hidden.
bool is_hidden(std::string_view watch_path, std::string_view key_path) {
    if (watch_path.size() > key_path.size()) {
        return false;
    }
    const std::string after = clean_path(key_path.substr(watch_path.size()));
    return after.find("/_") != std::string::npos;
}

}  // namespace

void event_history::add(event_ptr e) {
    UETCD_ASSERT(e != nullptr);
    if (_ring.empty()) {
        _ring.resize(event_history_capacity);
    }
    if (_size == _ring.size()) {
        _ring[_front] = std::move(e);
        _front = (_front + 1) % _ring.size();
    } else {
        _ring[(_front + _size) % _ring.size()] = std::move(e);
        _size++;
    }
    _last_index = at(_size - 1)->index();
    _start_index = at(0)->index();
    UETCD_ASSERT(_start_index <= _last_index);
}

const event_ptr& event_history::at(std::size_t i) const {
    UETCD_ASSERT(i < _size);
    return _ring[(_front + i) % _ring.size()];
}

void event_history::clear() {
    _ring.clear();
    _front = 0;
    _size = 0;
    _start_index = 0;
    _last_index = 0;
}

result<event_ptr, error> event_history::scan(std::string_view key, bool recursive,
    std::uint64_t since_index) const {
    if (since_index < _start_index) {
        return failure(make_error(error_code::event_index_cleared,
            "the requested history has been cleared [" + std::to_string(_start_index) + "/" +
                std::to_string(since_index) + "]",
            0));
    }
    return scan_from(key, recursive, since_index);
}

event_ptr event_history::scan_from(std::string_view key, bool recursive,
    std::uint64_t since_index) const {
    if (_size == 0 || since_index > _last_index) {
        return event_ptr{};  // a future index: the caller registers a watcher
    }
    std::string prefix(key);
    if (prefix.back() != '/') {
        prefix += '/';
    }
    // etcd computes the offset as since_index - start_index (one event per index). A binary
    // search finds the same event and stays right when a shard's history has gaps.
    std::size_t lo = 0;
    std::size_t hi = _size;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (at(mid)->index() < since_index) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (std::size_t i = lo; i < _size; ++i) {
        const event_ptr& e = at(i);
        if (e->refresh) {
            continue;
        }
        bool match = e->node.key == key || (recursive && e->node.key.starts_with(prefix));
        const bool removal = e->act == action::del || e->act == action::expire;
        if (removal && e->prev_node.has_value() && e->prev_node->dir) {
            // etcd quirk: a string prefix, so deleting dir /fo matches a watch on /foo.
            match = match || key.starts_with(e->prev_node->key);
        }
        if (match) {
            return e;
        }
    }
    return event_ptr{};
}

result<watch_result, error> watcher_hub::watch(std::string_view key, bool recursive,
    bool stream, std::uint64_t since_index, std::uint64_t store_index, std::uint64_t tag,
    bool check_window) {
    UETCD_ASSERT(!key.empty() && key[0] == '/');
    UETCD_ASSERT(since_index != 0);
    auto scanned = check_window ? _history.scan(key, recursive, since_index)
                                : result<event_ptr, error>(_history.scan_from(key, recursive,
                                      since_index));
    if (!scanned) {
        error e = std::move(scanned).error();
        e.index = store_index;
        return failure(std::move(e));
    }
    watch_result out;
    out.start_index = store_index;
    if (scanned.value() != nullptr) {
        // etcd clones the event and stamps the store index of the watch on it.
        auto copy = std::make_shared<event>(*scanned.value());
        copy->etcd_index = store_index;
        out.immediate = std::move(copy);
        return out;
    }
    std::uint32_t index = _free_head;
    if (index == none) {
        UETCD_ASSERT(_slots.size() < none);
        index = static_cast<std::uint32_t>(_slots.size());
        _slots.emplace_back();
    } else {
        _free_head = _slots[index].next;
    }
    slot& s = _slots[index];
    UETCD_ASSERT(!s.live);
    auto [it, inserted] = _by_path.try_emplace(std::string(key));
    path_list& list = it->second;
    s = slot{since_index, tag, &*it, s.generation, list.tail, none, true, recursive, stream};
    if (list.tail == none) {
        list.head = index;
    } else {
        _slots[list.tail].next = index;
    }
    list.tail = index;
    _count++;
    out.id = watcher_id{index, s.generation};
    return out;
}

void watcher_hub::unlink(std::uint32_t index) {
    slot& s = _slots[index];
    UETCD_ASSERT(s.live);
    path_list& list = s.entry->second;
    if (s.prev == none) {
        list.head = s.next;
    } else {
        _slots[s.prev].next = s.next;
    }
    if (s.next == none) {
        list.tail = s.prev;
    } else {
        _slots[s.next].prev = s.prev;
    }
    if (list.head == none) {
        _by_path.erase(s.entry->first);
    }
    s.live = false;
    s.entry = nullptr;
    s.generation++;
    s.prev = none;
    s.next = _free_head;
    _free_head = index;
    UETCD_ASSERT(_count > 0);
    _count--;
}

bool watcher_hub::remove(watcher_id id) {
    if (id.slot >= _slots.size()) {
        return false;
    }
    const slot& s = _slots[id.slot];
    if (!s.live || s.generation != id.generation) {
        return false;
    }
    unlink(id.slot);
    return true;
}

void watcher_hub::notify(const event_ptr& e) {
    _history.add(e);
    // etcd: tell the watchers on "/", then on every prefix of the key, then the key itself.
    const std::string& key = e->node.key;
    notify_path(e, "/", false);
    for (std::size_t i = 1; i <= key.size(); ++i) {
        if (i == key.size() || key[i] == '/') {
            if (i > 1) {
                notify_path(e, std::string_view(key).substr(0, i), false);
            }
        }
    }
}

void watcher_hub::notify_path(const event_ptr& e, std::string_view path, bool deleted) {
    if (_by_path.empty()) {
        return;
    }
    const auto it = _by_path.find(path);
    if (it == _by_path.end()) {
        return;
    }
    const bool original_path = e->node.key == path;
    if (!original_path && is_hidden(path, e->node.key)) {
        return;
    }
    for (std::uint32_t i = it->second.head; i != none;) {
        const std::uint32_t next = _slots[i].next;
        const slot& s = _slots[i];
        if ((s.recursive || original_path || deleted) && e->index() >= s.since_index) {
            const watcher_id id{i, s.generation};
            _pending.push_back(notification{id, s.tag, e, !s.stream});
            if (!s.stream) {
                unlink(i);  // may erase `it`; `next` stays valid
            }
        }
        i = next;
    }
}

void watcher_hub::take_notifications(std::vector<notification>& out) {
    out.clear();
    out.swap(_pending);
}

}  // namespace uetcd::store
