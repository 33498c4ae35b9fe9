// The etcd v2 store operations (etcd v3.4 etcdserver/api/v2store/store.go), as a pure state
// machine over store/node.hpp. Each write moves the index by one on success and by nothing on
// failure; each comment "etcd:" names the etcd behaviour a branch reproduces.
#include "uetcd/store/tree.hpp"

#include <algorithm>

#include "node.hpp"

namespace uetcd::store {

// What a provisional batch did, kept until finish_provisional(): the paths of the nodes it
// created or modified (node pointers could dangle: a later entry may delete them), and the
// hub calls to replay once the indexes are final.
struct tree_batch {
    enum class hub_call : std::uint8_t { notify, add_to_history, notify_deleted };
    struct deferred {
        hub_call call;
        event_ptr e;
        std::string path;  // notify_deleted only
    };
    std::uint64_t base_index = 0;
    std::vector<std::string> touched;
    std::vector<deferred> calls;
    std::vector<expired_key> expired;
};

namespace {

std::string pad20(std::uint64_t index) {
    // etcd internalCreate: fmt.Sprintf("%020s", strconv.FormatUint(nextIndex, 10)).
    const std::string digits = std::to_string(index);
    std::string out(20 - std::min<std::size_t>(20, digits.size()), '0');
    out.append(digits);
    return out;
}

// etcd getCompareFailCause: "[prevValue != value]", "[prevIndex != modifiedIndex]" or both.
std::string compare_fail_cause(const node& n, std::string_view prev_value,
    std::uint64_t prev_index) {
    const bool index_match = prev_index == 0 || n.modified_index == prev_index;
    const bool value_match = prev_value.empty() || n.value() == prev_value;
    UETCD_ASSERT(!(index_match && value_match));
    std::string cause;
    if (!value_match) {
        cause.append("[").append(prev_value).append(" != ").append(n.value()).append("]");
    }
    if (!index_match) {
        cause.append(value_match ? "[" : " [").append(std::to_string(prev_index));
        cause.append(" != ").append(std::to_string(n.modified_index)).append("]");
    }
    return cause;
}

bool compare_ok(const node& n, std::string_view prev_value, std::uint64_t prev_index) {
    return (prev_index == 0 || n.modified_index == prev_index) &&
           (prev_value.empty() || n.value() == prev_value);
}

void set_expiration(node_view& view, const node& n, time_ns now_ns) {
    view.expire_time_ns = n.expire_time_ns;
    view.ttl_s = ttl_seconds(n.expire_time_ns, now_ns);
}

node_view repr(const node& n, std::string key, bool recursive, bool sorted, time_ns now_ns);

// etcd loadInternalNode/Repr: the non-hidden children, each with its own subtree when
// recursive. Unsorted listings come in table order (etcd: Go map order, i.e. any order).
void add_children(node_view& view, const node& n, bool recursive, bool sorted,
    time_ns now_ns) {
    const auto add_child = [&](const node* child) {
        if (!child->is_hidden()) {
            view.nodes.push_back(
                repr(*child, join_path(view.key, child->name()), recursive, sorted, now_ns));
        }
    };
    view.nodes.reserve(n.child_count);
    if (sorted) {
        for (const node* child : sorted_children(n)) {
            add_child(child);
        }
    } else {
        for_each_child(n, add_child);
    }
}

// etcd node.Repr: a node and, when recursive, its non-hidden descendants.
node_view repr(const node& n, std::string key, bool recursive, bool sorted, time_ns now_ns) {
    node_view view;
    view.key = std::move(key);
    view.modified_index = n.modified_index;
    view.created_index = n.created_index;
    set_expiration(view, n, now_ns);
    if (!n.dir) {
        view.value = std::string(n.value());
        return view;
    }
    view.dir = true;
    if (recursive) {
        add_children(view, n, true, sorted, now_ns);
    }
    return view;
}

std::shared_ptr<event> new_event(action act, std::string key, std::uint64_t modified_index,
    std::uint64_t created_index) {
    auto e = std::make_shared<event>();
    e->act = act;
    e->node.key = std::move(key);
    e->node.modified_index = modified_index;
    e->node.created_index = created_index;
    return e;
}

bool heap_less(const node* a, const node* b) {
    if (a->expire_time_ns != b->expire_time_ns) {
        return a->expire_time_ns < b->expire_time_ns;
    }
    // Equal expiry: order by key so every member (and a recovered snapshot) expires in the
    // same order; etcd's Go heap leaves ties unspecified.
    return node_path(*a) < node_path(*b);
}

}  // namespace

std::string clean_path(std::string_view p) {
    // Go path.Clean("/" + p) for a rooted path: drop empty and "." segments, ".." pops.
    std::string out = "/";
    std::size_t i = 0;
    while (i < p.size()) {
        std::size_t end = p.find('/', i);
        if (end == std::string_view::npos) {
            end = p.size();
        }
        const std::string_view segment = p.substr(i, end - i);
        i = end + 1;
        if (segment.empty() || segment == ".") {
            continue;
        }
        if (segment == "..") {
            const std::size_t slash = out.rfind('/');
            out.resize(slash == 0 ? 1 : slash);
            continue;
        }
        if (out.size() > 1) {
            out += '/';
        }
        out.append(segment);
    }
    return out;
}

tree::tree(std::initializer_list<std::string_view> namespaces)
    : _root(make_node("", true, "", 0, permanent)) {
    _read_only.emplace_back("/");
    for (std::string_view ns : namespaces) {
        const std::string clean = clean_path(ns);
        UETCD_ASSERT(clean.size() > 1);
        UETCD_ASSERT(clean.find('/', 1) == std::string::npos);
        insert_child(*_root, make_node(std::string_view(clean).substr(1), true, "", 0, permanent));
        _read_only.push_back(clean);
        _node_count++;
    }
}

tree::~tree() = default;
tree::tree(tree&&) noexcept = default;
tree& tree::operator=(tree&&) noexcept = default;

bool tree::is_read_only(std::string_view clean) const {
    return std::find(_read_only.begin(), _read_only.end(), clean) != _read_only.end();
}

// etcd internalGet: the first missing prefix is the 100 cause; walking through a file is 104
// with the file's path as the cause.
result<node*, error> tree::find(std::string_view clean) const {
    UETCD_ASSERT(!clean.empty() && clean[0] == '/');
    node* current = _root.get();
    std::size_t i = 1;
    while (i < clean.size()) {
        std::size_t end = clean.find('/', i);
        if (end == std::string_view::npos) {
            end = clean.size();
        }
        if (!current->dir) {
            // The path so far names the file: everything before this segment's slash.
            const std::string_view file_path = clean.substr(0, i - 1);
            return failure(make_error(error_code::not_dir,
                std::string(file_path.empty() ? "/" : file_path), _current_index));
        }
        node* child = find_child(*current, clean.substr(i, end - i));
        if (child == nullptr) {
            return failure(make_error(error_code::key_not_found, std::string(clean.substr(0, end)),
                _current_index));
        }
        current = child;
        i = end + 1;
    }
    return current;
}

// etcd walk(dirName, checkDir): missing dirs are created at the index of this write.
result<node*, error> tree::walk_create_dirs(std::string_view dir_path,
    std::uint64_t new_index) {
    node* current = _root.get();
    std::size_t i = 1;
    while (i < dir_path.size()) {
        std::size_t end = dir_path.find('/', i);
        if (end == std::string_view::npos) {
            end = dir_path.size();
        }
        const std::string_view name = dir_path.substr(i, end - i);
        i = end + 1;
        if (name.empty()) {
            break;
        }
        node* child = find_child(*current, name);
        if (child != nullptr && !child->dir) {
            return failure(make_error(error_code::not_dir, node_path(*child), _current_index));
        }
        if (child == nullptr) {
            auto created = make_node(name, true, "", new_index, permanent);
            child = created.get();
            insert_child(*current, std::move(created));
            _node_count++;
            touch(dir_path.substr(0, end));
        }
        current = child;
    }
    return current;
}

result<event, error> tree::get(std::string_view path, bool recursive, bool sorted,
    time_ns now_ns) {
    auto got = view(path, recursive, sorted, now_ns);
    if (got) {
        _stats.gets_success++;
    } else {
        _stats.gets_fail++;
    }
    return got;
}

void tree::count_get(std::string_view clean) noexcept {
    UETCD_ASSERT(!clean.empty() && clean[0] == '/');
    const node* current = _root.get();
    for (std::size_t i = 1; i < clean.size() && current != nullptr;) {
        const std::size_t end = std::min(clean.find('/', i), clean.size());
        current = current->dir ? find_child(*current, clean.substr(i, end - i)) : nullptr;
        i = end + 1;
    }
    if (current != nullptr) {
        _stats.gets_success++;
    } else {
        _stats.gets_fail++;
    }
}

result<event, error> tree::view(std::string_view path, bool recursive, bool sorted,
    time_ns now_ns) const {
    UETCD_ASSERT(!in_provisional());
    std::string clean = clean_path(path);
    auto found = find(clean);
    if (!found) {
        return failure(std::move(found).error());
    }
    const node& n = *found.value();
    event e;
    e.act = action::get;
    e.etcd_index = _current_index;
    // etcd loadInternalNode: the target dir lists its children even when not recursive.
    e.node = repr(n, std::move(clean), false, sorted, now_ns);
    if (n.dir) {
        add_children(e.node, n, recursive, sorted, now_ns);
    }
    return e;
}

write_result tree::internal_create(std::string path, bool dir, std::string_view value,
    bool unique, bool replace, time_ns expire_ns, action act, time_ns now_ns) {
    const std::uint64_t current_index = _current_index;
    const std::uint64_t next_index = current_index + 1;
    if (unique) {
        UETCD_ASSERT(!in_provisional());  // the name is the final index
        path.append("/").append(pad20(next_index));
    }
    const std::string clean = clean_path(path);
    if (is_read_only(clean)) {
        return failure(make_error(error_code::root_read_only, "/", current_index));
    }
    if (expire_ns < min_expire_time_ns) {
        expire_ns = permanent;  // etcd: expiry before 2000 means permanent
    }
    const std::size_t slash = clean.rfind('/');
    const std::string_view dir_path = std::string_view(clean).substr(0, slash + 1);
    const std::string_view name = std::string_view(clean).substr(slash + 1);
    auto parent = walk_create_dirs(dir_path, next_index);
    if (!parent) {
        _stats.sets_fail++;  // etcd counts a failed walk as setsFail too
        return failure(std::move(parent).error());
    }
    auto e = new_event(act, clean, next_index, next_index);
    if (node* existing = find_child(*parent.value(), name); existing != nullptr) {
        if (!replace) {
            return failure(make_error(error_code::node_exist, clean, current_index));
        }
        if (existing->dir) {
            return failure(make_error(error_code::not_file, clean, current_index));
        }
        e->prev_node = repr(*existing, clean, false, false, now_ns);
        remove_subtree(existing, nullptr, false);
    }
    auto created = make_node(name, dir, dir ? std::string_view{} : value, next_index, expire_ns);
    node* n = created.get();
    insert_child(*parent.value(), std::move(created));
    _node_count++;
    touch(clean);
    if (dir) {
        e->node.dir = true;
    } else {
        e->node.value = std::string(value);
    }
    if (!n->is_permanent()) {
        heap_push(n);
        set_expiration(e->node, *n, now_ns);
    }
    _current_index = next_index;
    e->etcd_index = next_index;
    return event_ptr(std::move(e));
}

write_result tree::set(std::string_view path, bool dir, std::string_view value,
    ttl_options ttl, time_ns now_ns) {
    const std::string clean = clean_path(path);
    auto found = find(clean);
    if (!found && found.error().code != error_code::key_not_found) {
        _stats.sets_fail++;
        return failure(std::move(found).error());
    }
    std::string new_value(value);
    if (ttl.refresh) {
        if (!found) {
            _stats.sets_fail++;
            return failure(std::move(found).error());
        }
        new_value = std::string(found.value()->value());
    }
    auto created = internal_create(clean, dir, new_value, false, true, ttl.expire_time_ns,
        action::set, now_ns);
    if (!created) {
        _stats.sets_fail++;
        return created;
    }
    _stats.sets_success++;
    publish(std::const_pointer_cast<event>(created.value()), ttl.refresh);
    return created;
}

write_result tree::create(std::string_view path, bool dir, std::string_view value,
    bool unique, ttl_options ttl, time_ns now_ns) {
    auto created = internal_create(std::string(path), dir, value, unique, false,
        ttl.expire_time_ns, action::create, now_ns);
    if (!created) {
        _stats.create_fail++;
        return created;
    }
    _stats.create_success++;
    hub_notify(created.value());
    return created;
}

// etcd: a refresh goes into the history (marked, so scans skip it) but to no watcher.
void tree::publish(const std::shared_ptr<event>& e, bool refresh) {
    UETCD_ASSERT(e->etcd_index == _current_index);
    e->refresh = refresh;
    if (refresh) {
        hub_add_to_history(e);
    } else {
        hub_notify(e);
    }
}

void tree::hub_notify(const event_ptr& e) {
    if (_batch != nullptr) {
        _batch->calls.push_back({tree_batch::hub_call::notify, e, {}});
        return;
    }
    _hub.notify(e);
}

void tree::hub_add_to_history(const event_ptr& e) {
    if (_batch != nullptr) {
        _batch->calls.push_back({tree_batch::hub_call::add_to_history, e, {}});
        return;
    }
    _hub.add_to_history(e);
}

void tree::hub_notify_deleted(const event_ptr& e, std::string_view path) {
    if (_batch != nullptr) {
        _batch->calls.push_back({tree_batch::hub_call::notify_deleted, e, std::string(path)});
        return;
    }
    _hub.notify_deleted(e, path);
}

void tree::touch(std::string_view clean) {
    if (_batch != nullptr) {
        _batch->touched.emplace_back(clean);
    }
}

void tree::update_ttl(node* n, time_ns expire_ns) {
    // etcd node.UpdateTTL: no 2000-01-01 floor here, unlike create and set.
    if (!n->is_permanent()) {
        n->expire_time_ns = expire_ns;
        if (expire_ns == permanent) {
            heap_remove(n);
        } else {
            heap_fix(n);
        }
        return;
    }
    if (expire_ns != permanent) {
        n->expire_time_ns = expire_ns;
        heap_push(n);
    }
}

write_result tree::update(std::string_view path, std::string_view value, ttl_options ttl,
    time_ns now_ns) {
    const std::string clean = clean_path(path);
    // etcd quirk: errors returned without assigning the named `err` count as successes.
    if (is_read_only(clean)) {
        _stats.update_success++;
        return failure(make_error(error_code::root_read_only, "/", _current_index));
    }
    auto found = find(clean);
    if (!found) {
        _stats.update_fail++;
        return failure(std::move(found).error());
    }
    node* n = found.value();
    if (n->dir && !value.empty()) {
        _stats.update_success++;  // etcd quirk, as above
        return failure(make_error(error_code::not_file, clean, _current_index));
    }
    const std::uint64_t next_index = _current_index + 1;
    std::string new_value = ttl.refresh ? std::string(n->value()) : std::string(value);
    auto e = new_event(action::update, clean, next_index, n->created_index);
    e->prev_node = repr(*n, clean, false, false, now_ns);
    if (n->dir) {
        // etcd: node.Write fails on a dir, so the dir keeps its modifiedIndex while the
        // event reports the new one.
        e->node.dir = true;
    } else {
        set_value(*n, new_value);
        n->modified_index = next_index;
        e->node.value = std::move(new_value);
        touch(clean);
    }
    update_ttl(n, ttl.expire_time_ns);
    set_expiration(e->node, *n, now_ns);
    _current_index = next_index;
    e->etcd_index = next_index;
    _stats.update_success++;
    publish(e, ttl.refresh);
    return event_ptr(std::move(e));
}

write_result tree::compare_and_swap(std::string_view path, std::string_view prev_value,
    std::uint64_t prev_index, std::string_view value, ttl_options ttl, time_ns now_ns) {
    const std::string clean = clean_path(path);
    const auto fail = [&](error_code code, std::string cause) -> write_result {
        _stats.compare_and_swap_fail++;
        return failure(make_error(code, std::move(cause), _current_index));
    };
    if (is_read_only(clean)) {
        // etcd quirk: this error does not set the named `err`, so it counts as a success.
        _stats.compare_and_swap_success++;
        return failure(make_error(error_code::root_read_only, "/", _current_index));
    }
    auto found = find(clean);
    if (!found) {
        _stats.compare_and_swap_fail++;
        return failure(std::move(found).error());
    }
    node* n = found.value();
    if (n->dir) {
        return fail(error_code::not_file, clean);
    }
    // A prev_index compare reads a node's index, which a batch may not have made final yet.
    UETCD_ASSERT(prev_index == 0 || !in_provisional());
    if (!compare_ok(*n, prev_value, prev_index)) {
        return fail(error_code::test_failed, compare_fail_cause(*n, prev_value, prev_index));
    }
    std::string new_value = ttl.refresh ? std::string(n->value()) : std::string(value);
    _current_index++;
    auto e = new_event(action::compare_and_swap, clean, _current_index, n->created_index);
    e->etcd_index = _current_index;
    e->prev_node = repr(*n, clean, false, false, now_ns);
    set_value(*n, new_value);
    n->modified_index = _current_index;
    touch(clean);
    update_ttl(n, ttl.expire_time_ns);
    e->node.value = std::move(new_value);
    set_expiration(e->node, *n, now_ns);
    _stats.compare_and_swap_success++;
    publish(e, ttl.refresh);
    return event_ptr(std::move(e));
}

// etcd node.Remove with its callback: every removed node (children before their dir) tells
// the watchers on its own path, then the subtree is freed.
void tree::remove_subtree(node* n, const event_ptr& e, bool notify) {
    struct walker {
        tree& owner;
        const event_ptr& e;
        bool notify;
        void visit(node* current, std::string& path) {
            if (current->dir) {
                for_each_child(*current, [&](node* child) {
                    const std::size_t size = path.size();
                    path += '/';
                    path.append(child->name());
                    visit(child, path);
                    path.resize(size);
                });
            }
            if (current->heap_slot != no_heap_slot) {
                owner.heap_remove(current);
            }
            if (notify) {
                owner.hub_notify_deleted(e, path);
            }
            owner._node_count--;
        }
    };
    UETCD_ASSERT(n->parent != nullptr);
    const bool any_watcher = notify && !_hub.empty();
    std::string path = any_watcher ? node_path(*n) : std::string{};
    walker{*this, e, any_watcher}.visit(n, path);
    take_child(*n->parent, n->name());
}

write_result tree::remove(std::string_view path, bool dir, bool recursive, time_ns now_ns) {
    const std::string clean = clean_path(path);
    const auto fail = [&](error_code code, std::string cause) -> write_result {
        _stats.delete_fail++;
        return failure(make_error(code, std::move(cause), _current_index));
    };
    if (is_read_only(clean)) {
        // etcd quirk: this error does not set the named `err`, so it counts as a success.
        _stats.delete_success++;
        return failure(make_error(error_code::root_read_only, "/", _current_index));
    }
    dir = dir || recursive;  // etcd: recursive implies dir
    auto found = find(clean);
    if (!found) {
        _stats.delete_fail++;
        return failure(std::move(found).error());
    }
    node* n = found.value();
    if (n->dir && !dir) {
        return fail(error_code::not_file, clean);
    }
    if (n->dir && n->child_count != 0 && !recursive) {
        return fail(error_code::dir_not_empty, clean);
    }
    const std::uint64_t next_index = _current_index + 1;
    auto e = new_event(action::del, clean, next_index, n->created_index);
    e->etcd_index = next_index;
    e->prev_node = repr(*n, clean, false, false, now_ns);
    e->node.dir = n->dir;
    const event_ptr shared = e;
    remove_subtree(n, shared, true);
    _current_index = next_index;
    _stats.delete_success++;
    hub_notify(shared);
    return shared;
}

write_result tree::compare_and_delete(std::string_view path, std::string_view prev_value,
    std::uint64_t prev_index, time_ns now_ns) {
    // etcd: no read-only check here, so the keys root answers 102 (cause "/1", trimmed to
    // nothing by the HTTP layer).
    const std::string clean = clean_path(path);
    auto found = find(clean);
    if (!found) {
        _stats.compare_and_delete_fail++;
        return failure(std::move(found).error());
    }
    node* n = found.value();
    // etcd quirk: these errors do not set the named `err`, so they count as successes.
    const auto fail = [&](error_code code, std::string cause) -> write_result {
        _stats.compare_and_delete_success++;
        return failure(make_error(code, std::move(cause), _current_index));
    };
    if (n->dir) {
        return fail(error_code::not_file, clean);
    }
    UETCD_ASSERT(prev_index == 0 || !in_provisional());
    if (!compare_ok(*n, prev_value, prev_index)) {
        return fail(error_code::test_failed, compare_fail_cause(*n, prev_value, prev_index));
    }
    _current_index++;
    auto e = new_event(action::compare_and_delete, clean, _current_index, n->created_index);
    e->etcd_index = _current_index;
    e->prev_node = repr(*n, clean, false, false, now_ns);
    const event_ptr shared = e;
    remove_subtree(n, shared, true);
    _stats.compare_and_delete_success++;
    hub_notify(shared);
    return shared;
}

std::size_t tree::expire(time_ns cutoff_ns) {
    std::size_t expired = 0;
    while (!_ttl_heap.empty() && _ttl_heap.front()->expire_time_ns <= cutoff_ns) {
        node* n = _ttl_heap.front();
        UETCD_ASSERT(n->parent != nullptr);
        _current_index++;
        std::string key = node_path(*n);
        if (_batch != nullptr) {
            _batch->expired.push_back(expired_key{n->expire_time_ns, key});
        }
        auto e = new_event(action::expire, key, _current_index, n->created_index);
        e->etcd_index = _current_index;
        // The ttl shown in prevNode is computed at the cutoff, as etcd computes it at apply.
        e->prev_node = repr(*n, std::move(key), false, false, cutoff_ns);
        e->node.dir = n->dir;  // etcd 3.4: the expire event of a dir has "dir":true
        const event_ptr shared = e;
        remove_subtree(n, shared, true);
        _stats.expire_count++;
        hub_notify(shared);
        expired++;
    }
    return expired;
}

time_ns tree::next_expiry() const noexcept {
    return _ttl_heap.empty() ? permanent : _ttl_heap.front()->expire_time_ns;
}

result<watch_result, error> tree::watch(std::string_view path, bool recursive, bool stream,
    std::uint64_t since_index, std::uint64_t tag, bool check_window) {
    UETCD_ASSERT(!in_provisional());
    const std::string key = clean_path(path);
    if (since_index == 0) {
        since_index = _current_index + 1;
    }
    return _hub.watch(key, recursive, stream, since_index, _current_index, tag, check_window);
}

event_ptr tree::scan_history(std::string_view path, bool recursive,
    std::uint64_t since_index) const {
    UETCD_ASSERT(!in_provisional());
    return _hub.history().scan_from(clean_path(path), recursive, since_index);
}

void tree::begin_provisional() {
    UETCD_ASSERT(_batch == nullptr);
    UETCD_ASSERT(!is_provisional_index(_current_index));
    _batch = std::make_unique<tree_batch>();
    _batch->base_index = _current_index;
    _current_index = provisional_index_bit;
}

std::uint64_t tree::provisional_count() const noexcept {
    UETCD_ASSERT(_batch != nullptr);
    return _current_index & ~provisional_index_bit;
}

const std::vector<expired_key>& tree::provisional_expired() const noexcept {
    UETCD_ASSERT(_batch != nullptr);
    return _batch->expired;
}

// Rewrites every provisional index the batch left in its nodes and events. Idempotent per
// value (a final index never has the provisional bit), so a node touched twice is fine.
void tree::patch_batch(std::span<const std::uint64_t> slot_index) {
    const auto patch = [&](std::uint64_t& index) {
        if (is_provisional_index(index)) {
            const std::uint64_t slot = index & ~provisional_index_bit;
            UETCD_ASSERT(slot >= 1);
            UETCD_ASSERT(slot <= slot_index.size());
            index = slot_index[slot - 1];
        }
    };
    for (const std::string& path : _batch->touched) {
        if (auto found = find(path); found) {
            patch(found.value()->created_index);
            patch(found.value()->modified_index);
        }
    }
    for (tree_batch::deferred& d : _batch->calls) {
        // The tree made these events and nobody reads them before the batch is published.
        auto& e = const_cast<event&>(*d.e);
        patch(e.etcd_index);
        patch(e.node.created_index);
        patch(e.node.modified_index);
        if (e.prev_node.has_value()) {
            patch(e.prev_node->created_index);
            patch(e.prev_node->modified_index);
        }
    }
}

void tree::finish_provisional(std::span<const std::uint64_t> slot_index,
    std::uint64_t final_index) {
    UETCD_ASSERT(_batch != nullptr);
    UETCD_ASSERT(slot_index.size() == provisional_count());
    UETCD_ASSERT(final_index >= _batch->base_index + slot_index.size());
    for (std::size_t i = 0; i < slot_index.size(); ++i) {
        UETCD_ASSERT(slot_index[i] > _batch->base_index && slot_index[i] <= final_index);
        UETCD_ASSERT(i == 0 || slot_index[i - 1] < slot_index[i]);
    }
    patch_batch(slot_index);
    _current_index = final_index;
    std::unique_ptr<tree_batch> batch = std::move(_batch);
    for (const tree_batch::deferred& d : batch->calls) {
        switch (d.call) {
        case tree_batch::hub_call::notify:
            _hub.notify(d.e);
            break;
        case tree_batch::hub_call::add_to_history:
            _hub.add_to_history(d.e);
            break;
        case tree_batch::hub_call::notify_deleted:
            _hub.notify_deleted(d.e, d.path);
            break;
        }
    }
}

void tree::advance_index(std::uint64_t final_index) {
    UETCD_ASSERT(_batch == nullptr);
    UETCD_ASSERT(final_index >= _current_index);
    UETCD_ASSERT(!is_provisional_index(final_index));
    _current_index = final_index;
}

stats tree::current_stats() const noexcept {
    stats s = _stats;
    s.watchers = _hub.count();
    return s;
}

void tree::assert_invariants() const {
    UETCD_ASSERT(_batch == nullptr);
    std::size_t nodes = 0;
    std::size_t ttl_nodes = 0;
    const auto visit = [&](const auto& self, const node& n) -> void {
        nodes++;
        UETCD_ASSERT(n.created_index <= _current_index);
        UETCD_ASSERT(n.modified_index <= _current_index);
        UETCD_ASSERT(n.dir || n.child_count == 0);
        if (!n.is_permanent()) {
            ttl_nodes++;
            UETCD_ASSERT(n.heap_slot < _ttl_heap.size());
            UETCD_ASSERT(_ttl_heap[n.heap_slot] == &n);
        } else {
            UETCD_ASSERT(n.heap_slot == no_heap_slot);
        }
        std::size_t children = 0;
        for_each_child(n, [&](const node* child) {
            children++;
            UETCD_ASSERT(child->parent == &n);
            UETCD_ASSERT(find_child(n, child->name()) == child);
            self(self, *child);
        });
        UETCD_ASSERT(children == n.child_count);
        UETCD_ASSERT(n.capacity() == 0 || n.child_count * 4 <= n.capacity() * 3);
    };
    UETCD_ASSERT(_root->parent == nullptr);
    visit(visit, *_root);
    UETCD_ASSERT(nodes == _node_count);
    UETCD_ASSERT(ttl_nodes == _ttl_heap.size());
    for (std::size_t i = 1; i < _ttl_heap.size(); ++i) {
        UETCD_ASSERT(!heap_less(_ttl_heap[i], _ttl_heap[(i - 1) / 2]));
    }
    UETCD_ASSERT(_hub.history().last_index() <= _current_index);
}

// The TTL heap: a binary min-heap of node pointers; node::heap_slot tracks each position so
// removal and re-keying are O(log n).
void tree::heap_push(node* n) {
    UETCD_ASSERT(n->heap_slot == no_heap_slot);
    UETCD_ASSERT(!n->is_permanent());
    n->heap_slot = static_cast<std::uint32_t>(_ttl_heap.size());
    _ttl_heap.push_back(n);
    heap_fix(n);
}

void tree::heap_fix(node* n) {
    std::size_t i = n->heap_slot;
    UETCD_ASSERT(i < _ttl_heap.size() && _ttl_heap[i] == n);
    const auto swap_slots = [&](std::size_t a, std::size_t b) {
        std::swap(_ttl_heap[a], _ttl_heap[b]);
        _ttl_heap[a]->heap_slot = static_cast<std::uint32_t>(a);
        _ttl_heap[b]->heap_slot = static_cast<std::uint32_t>(b);
    };
    while (i > 0 && heap_less(_ttl_heap[i], _ttl_heap[(i - 1) / 2])) {
        swap_slots(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        std::size_t smallest = i;
        for (std::size_t child = 2 * i + 1; child <= 2 * i + 2; ++child) {
            if (child < _ttl_heap.size() && heap_less(_ttl_heap[child], _ttl_heap[smallest])) {
                smallest = child;
            }
        }
        if (smallest == i) {
            return;
        }
        swap_slots(i, smallest);
        i = smallest;
    }
}

void tree::heap_remove(node* n) {
    const std::size_t i = n->heap_slot;
    UETCD_ASSERT(i < _ttl_heap.size() && _ttl_heap[i] == n);
    node* last = _ttl_heap.back();
    _ttl_heap.pop_back();
    n->heap_slot = no_heap_slot;
    if (last != n) {
        _ttl_heap[i] = last;
        last->heap_slot = static_cast<std::uint32_t>(i);
        heap_fix(last);
    }
}

}  // namespace uetcd::store
