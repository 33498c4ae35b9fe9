// Binary snapshot of a tree. Layout (integers little-endian):
//   "UETCDST1" | u64 index | 15 x u64 stats (no watchers) | u32 n, n x str namespace | node(root)
//   | u32 n, n x event | u64 xxh3 of all bytes before it
//   node  = u8 dir | str name | u64 created | u64 modified | i64 expire
//           | dir: u32 n, n x node (by name) | file: str value
//   event = u8 action | u8 refresh | u64 etcd_index | view | u8 has_prev [view]
//   view  = str key | u8 has_value [str value] | u8 dir | i64 expire | i64 ttl | u64 mod | u64 cre
//   str   = u32 size | bytes
#include "uetcd/store/snapshot.hpp"

#include <algorithm>
#include <cstring>

#include "binary_codec.hpp"
#include "node.hpp"
#include "uetcd/hash.hpp"
#include "uetcd/store/shard.hpp"

namespace uetcd::store {

namespace {

constexpr std::string_view magic = "UETCDST1";

// Every counter but `watchers`, which is live state, in etcd's field order.
constexpr std::uint64_t stats::*saved_stats[] = {&stats::gets_success, &stats::gets_fail,
    &stats::sets_success, &stats::sets_fail, &stats::delete_success, &stats::delete_fail,
    &stats::update_success, &stats::update_fail, &stats::create_success, &stats::create_fail,
    &stats::compare_and_swap_success, &stats::compare_and_swap_fail,
    &stats::compare_and_delete_success, &stats::compare_and_delete_fail,
    &stats::expire_count};

void save_node_header(binary_writer& w, const node& n) {
    w.u8(n.dir ? 1 : 0);
    w.str(n.name());
    w.u64(n.created_index);
    w.u64(n.modified_index);
    w.i64(n.expire_time_ns);
}

void save_node(binary_writer& w, const node& n) {
    save_node_header(w, n);
    if (!n.dir) {
        w.str(n.value());
        return;
    }
    w.u32(n.child_count);
    for (const node* child : sorted_children(n)) {
        save_node(w, *child);
    }
}

void save_view(binary_writer& w, const node_view& v) {
    UETCD_ASSERT(v.nodes.empty());  // history events never carry listings
    w.str(v.key);
    w.u8(v.value.has_value() ? 1 : 0);
    if (v.value.has_value()) {
        w.str(*v.value);
    }
    w.u8(v.dir ? 1 : 0);
    w.i64(v.expire_time_ns);
    w.i64(v.ttl_s);
    w.u64(v.modified_index);
    w.u64(v.created_index);
}

node_view load_view(binary_reader& r) {
    node_view v;
    v.key = std::string(r.str());
    if (r.boolean()) {
        v.value = std::string(r.str());
    }
    v.dir = r.boolean();
    v.expire_time_ns = r.i64();
    v.ttl_s = r.i64();
    v.modified_index = r.u64();
    v.created_index = r.u64();
    return v;
}

}  // namespace

struct tree_access {
    static void save_head(binary_writer& w, const tree& t, const stats& counters) {
        w.out.append(magic);
        w.u64(t._current_index);
        for (auto field : saved_stats) {
            w.u64(counters.*field);
        }
        w.u32(static_cast<std::uint32_t>(t._read_only.size() - 1));
        for (std::size_t i = 1; i < t._read_only.size(); ++i) {
            w.str(t._read_only[i]);
        }
    }

    static void save_history(binary_writer& w, std::span<const event_ptr> events) {
        w.u32(static_cast<std::uint32_t>(events.size()));
        for (const event_ptr& p : events) {
            const event& e = *p;
            w.u8(static_cast<std::uint8_t>(e.act));
            w.u8(e.refresh ? 1 : 0);
            w.u64(e.etcd_index);
            save_view(w, e.node);
            w.u8(e.prev_node.has_value() ? 1 : 0);
            if (e.prev_node.has_value()) {
                save_view(w, *e.prev_node);
            }
        }
    }

    static std::vector<event_ptr> history_of(const tree& t) {
        const event_history& h = t._hub.history();
        std::vector<event_ptr> events;
        events.reserve(h.size());
        for (std::size_t i = 0; i < h.size(); ++i) {
            events.push_back(h.at(i));
        }
        return events;
    }

    static void save(binary_writer& w, const tree& t) {
        save_head(w, t, t._stats);
        save_node(w, *t._root);
        save_history(w, history_of(t));
    }

    // The root of the one tree: "/1" holds every shard's children, each other top-level
    // node comes from the shard owning it, in name order as save_node writes them.
    static void save_merged_root(binary_writer& w, std::span<const tree* const> shards) {
        const auto count = static_cast<std::uint32_t>(shards.size());
        std::vector<const node*> top;
        std::vector<const node*> keys_children;
        for (std::uint32_t s = 0; s < count; ++s) {
            for (const node* child : sorted_children(*shards[s]->_root)) {
                const std::string path = "/" + std::string(child->name());
                if (path == keys_prefix) {
                    if (s == 0) {
                        top.push_back(child);
                    }
                    for_each_child(*child, [&](const node* c) { keys_children.push_back(c); });
                } else if (shard_of(path, count) == s) {
                    top.push_back(child);
                }
            }
        }
        const auto by_name = [](const node* a, const node* b) { return a->name() < b->name(); };
        std::sort(top.begin(), top.end(), by_name);
        std::sort(keys_children.begin(), keys_children.end(), by_name);
        save_node_header(w, *shards[0]->_root);
        w.u32(static_cast<std::uint32_t>(top.size()));
        for (const node* n : top) {
            if ("/" + std::string(n->name()) != keys_prefix) {
                save_node(w, *n);
                continue;
            }
            save_node_header(w, *n);
            w.u32(static_cast<std::uint32_t>(keys_children.size()));
            for (const node* child : keys_children) {
                save_node(w, *child);
            }
        }
    }

    static void save_sharded(binary_writer& w, std::span<const tree* const> shards) {
        stats counters;
        std::vector<event_ptr> events;
        for (const tree* t : shards) {
            UETCD_ASSERT(!t->in_provisional());
            UETCD_ASSERT(t->_current_index == shards[0]->_current_index);
            for (auto field : saved_stats) {
                counters.*field += t->_stats.*field;
            }
            for (event_ptr& e : history_of(*t)) {
                events.push_back(std::move(e));
            }
        }
        // The one tree's window: the last event_history_capacity events of the store. Each
        // shard holds all of its events in that window (and maybe older ones).
        std::sort(events.begin(), events.end(),
            [](const event_ptr& a, const event_ptr& b) { return a->index() < b->index(); });
        const std::size_t skip = events.size() > event_history_capacity
                                     ? events.size() - event_history_capacity
                                     : 0;
        save_head(w, *shards[0], counters);
        save_merged_root(w, shards);
        save_history(w, std::span<const event_ptr>(events).subspan(skip));
    }

    // Reads one node and its subtree under `parent` (null for the root).
    static std::unique_ptr<node> load_node(binary_reader& r, tree& t, node* parent,
        std::size_t depth) {
        if (depth > snapshot_depth_max) {
            r.fail();
            return nullptr;
        }
        const bool dir = r.boolean();
        const std::string_view name = r.str();
        const std::uint64_t created = r.u64();
        const std::uint64_t modified = r.u64();
        const time_ns expire = r.i64();
        // A file's value comes next: read it first, so the node's text is allocated once.
        const std::string_view value = dir ? std::string_view{} : r.str();
        const bool name_ok = parent == nullptr ? name.empty()
                                               : !name.empty() && name.find('/') == name.npos &&
                                                     name != "." && name != "..";
        if (r.failed() || !name_ok || created > t._current_index ||
            modified > t._current_index || (parent == nullptr && expire != permanent)) {
            r.fail();
            return nullptr;
        }
        auto n = make_node(name, dir, value, created, expire);
        n->modified_index = modified;
        n->parent = parent;
        if (!dir) {
            return n;
        }
        const std::uint32_t count = r.u32();
        // Each child takes at least 30 bytes: refuse counts the input cannot hold.
        if (r.failed() || count > r.left() / 30) {
            r.fail();
            return nullptr;
        }
        reserve_children(*n, count);
        for (std::uint32_t i = 0; i < count; ++i) {
            auto child = load_node(r, t, n.get(), depth + 1);
            if (child == nullptr || find_child(*n, child->name()) != nullptr) {
                r.fail();
                return nullptr;
            }
            insert_child(*n, std::move(child));
        }
        return n;
    }

    static void rebuild_heap(tree& t, node* n) {
        t._node_count++;
        if (!n->is_permanent()) {
            t.heap_push(n);
        }
        if (n->dir) {
            for_each_child(*n, [&](node* child) { rebuild_heap(t, child); });
        }
    }

    static bool load_history(binary_reader& r, tree& t) {
        const std::uint32_t count = r.u32();
        if (r.failed() || count > event_history_capacity) {
            return false;
        }
        std::uint64_t previous_index = 0;
        for (std::uint32_t i = 0; i < count; ++i) {
            auto e = std::make_shared<event>();
            const std::uint8_t act = r.u8();
            e->refresh = r.boolean();
            e->etcd_index = r.u64();
            e->node = load_view(r);
            if (r.boolean()) {
                e->prev_node = load_view(r);
            }
            if (r.failed() || act > static_cast<std::uint8_t>(action::expire) ||
                e->index() <= previous_index || e->index() > t._current_index) {
                return false;
            }
            e->act = static_cast<action>(act);
            previous_index = e->index();
            t._hub.history().add(std::move(e));
        }
        return true;
    }

    // An empty copy of a top-level dir (a namespace or "/1") for a shard's root.
    static void ensure_top_dir(tree& t, const node& like) {
        if (find_child(*t._root, like.name()) != nullptr) {
            return;
        }
        auto copy = make_node(like.name(), true, "", like.created_index, like.expire_time_ns);
        copy->modified_index = like.modified_index;
        insert_child(*t._root, std::move(copy));
    }

    static std::vector<std::string> child_names(const node& dir) {
        std::vector<std::string> names;
        for_each_child(dir, [&](const node* c) { names.emplace_back(c->name()); });
        return names;
    }

    // Moves each top-level node (and each child of "/1") to the shard owning it; namespace
    // dirs exist on every shard, as in a live sharded store.
    static void split_nodes(tree& whole, std::vector<tree>& shards) {
        const auto count = static_cast<std::uint32_t>(shards.size());
        for (node* n : whole._ttl_heap) {
            n->heap_slot = no_heap_slot;  // the shards rebuild their own heaps
        }
        whole._ttl_heap.clear();
        for (const std::string& name : child_names(*whole._root)) {
            const std::string path = "/" + name;
            const bool everywhere = path == keys_prefix || whole.is_read_only(path);
            for (tree& t : shards) {
                if (everywhere) {
                    ensure_top_dir(t, *find_child(*whole._root, name));
                }
            }
            std::unique_ptr<node> top = take_child(*whole._root, name);
            if (path != keys_prefix) {
                node& root = *shards[shard_of(path, count)]._root;
                if (find_child(root, name) != nullptr) {
                    (void)take_child(root, name);  // the empty copy made above
                }
                insert_child(root, std::move(top));
                continue;
            }
            for (const std::string& child : child_names(*top)) {
                const std::uint32_t owner = shard_of(path + "/" + child, count);
                insert_child(*find_child(*shards[owner]._root, name), take_child(*top, child));
            }
        }
    }

    static sharded_recovery split(tree whole, std::uint32_t count) {
        UETCD_ASSERT(count >= 1 && count <= shard_count_max);
        sharded_recovery out;
        const event_history& h = whole._hub.history();
        out.history_start_index = h.size() == 0 ? 0 : h.start_index();
        for (std::uint32_t s = 0; s < count; ++s) {
            tree t(std::initializer_list<std::string_view>{});
            t._read_only = whole._read_only;
            t._current_index = whole._current_index;
            t._root->created_index = whole._root->created_index;
            t._root->modified_index = whole._root->modified_index;
            if (s == 0) {
                t._stats = whole._stats;  // the counters are summed across shards
            }
            out.shards.push_back(std::move(t));
        }
        split_nodes(whole, out.shards);
        for (tree& t : out.shards) {
            t._node_count = 0;
            rebuild_heap(t, t._root.get());
        }
        for (std::size_t i = 0; i < h.size(); ++i) {
            const std::uint32_t owner = shard_of(h.at(i)->node.key, count);
            UETCD_ASSERT(owner != all_shards);  // "/" and "/1" are never written
            out.shards[owner]._hub.history().add(h.at(i));
        }
        return out;
    }

    static result<tree, std::string> recover(std::string_view bytes) {
        if (bytes.size() < magic.size() + 8 || !bytes.starts_with(magic)) {
            return failure(std::string("snapshot: bad magic or too short"));
        }
        const std::string_view body = bytes.substr(0, bytes.size() - 8);
        binary_reader tail(bytes.substr(bytes.size() - 8));
        if (tail.u64() != hash64(body)) {
            return failure(std::string("snapshot: checksum mismatch"));
        }
        binary_reader r(body.substr(magic.size()));
        tree t(std::initializer_list<std::string_view>{});
        t._current_index = r.u64();
        for (auto field : saved_stats) {
            t._stats.*field = r.u64();
        }
        const std::uint32_t namespaces = r.u32();
        for (std::uint32_t i = 0; i < namespaces && !r.failed(); ++i) {
            t._read_only.emplace_back(r.str());
        }
        auto root = load_node(r, t, nullptr, 0);
        if (root == nullptr || r.failed() || !root->dir) {
            return failure(std::string("snapshot: malformed tree"));
        }
        t._root = std::move(root);
        t._node_count = 0;
        rebuild_heap(t, t._root.get());
        if (!load_history(r, t) || !r.at_end()) {
            return failure(std::string("snapshot: malformed event history"));
        }
        return t;
    }
};

std::string save_snapshot(const tree& t) {
    binary_writer w;
    tree_access::save(w, t);
    w.u64(hash64(w.out));
    return std::move(w.out);
}

result<tree, std::string> recover_snapshot(std::string_view bytes) {
    return tree_access::recover(bytes);
}

std::string save_sharded_snapshot(std::span<const tree* const> shards) {
    UETCD_ASSERT(!shards.empty() && shards.size() <= shard_count_max);
    binary_writer w;
    tree_access::save_sharded(w, shards);
    w.u64(hash64(w.out));
    return std::move(w.out);
}

result<sharded_recovery, std::string> recover_sharded_snapshot(std::string_view bytes,
    std::uint32_t shard_count) {
    auto whole = tree_access::recover(bytes);
    if (!whole) {
        return failure(std::move(whole).error());
    }
    return tree_access::split(std::move(whole).value(), shard_count);
}

}  // namespace uetcd::store
