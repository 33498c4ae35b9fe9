// Binary snapshot of a tree. Layout (integers little-endian):
//   "UETCDST1" | u64 index | 15 x u64 stats (no watchers) | u32 n, n x str namespace | node(root)
//   | u32 n, n x event | u64 xxh3 of all bytes before it
//   node  = u8 dir | str name | u64 created | u64 modified | i64 expire
//           | dir: u32 n, n x node (by name) | file: str value
//   event = u8 action | u8 refresh | u64 etcd_index | view | u8 has_prev [view]
//   view  = str key | u8 has_value [str value] | u8 dir | i64 expire | i64 ttl | u64 mod | u64 cre
//   str   = u32 size | bytes
#include "uetcd/store/snapshot.hpp"

#include <cstring>

#include "binary_codec.hpp"
#include "node.hpp"
#include "uetcd/hash.hpp"

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

void save_node(binary_writer& w, const node& n) {
    w.u8(n.dir ? 1 : 0);
    w.str(n.name());
    w.u64(n.created_index);
    w.u64(n.modified_index);
    w.i64(n.expire_time_ns);
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
    static void save(binary_writer& w, const tree& t) {
        w.out.append(magic);
        w.u64(t._current_index);
        for (auto field : saved_stats) {
            w.u64(t._stats.*field);
        }
        w.u32(static_cast<std::uint32_t>(t._read_only.size() - 1));
        for (std::size_t i = 1; i < t._read_only.size(); ++i) {
            w.str(t._read_only[i]);
        }
        save_node(w, *t._root);
        const event_history& h = t._hub.history();
        w.u32(static_cast<std::uint32_t>(h.size()));
        for (std::size_t i = 0; i < h.size(); ++i) {
            const event& e = *h.at(i);
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
        const bool name_ok = parent == nullptr ? name.empty()
                                               : !name.empty() && name.find('/') == name.npos &&
                                                     name != "." && name != "..";
        if (r.failed() || !name_ok || created > t._current_index ||
            modified > t._current_index || (parent == nullptr && expire != permanent)) {
            r.fail();
            return nullptr;
        }
        auto n = make_node(name, dir, "", created, expire);
        n->modified_index = modified;
        n->parent = parent;
        if (!dir) {
            set_value(*n, r.str());
            return r.failed() ? nullptr : std::move(n);
        }
        const std::uint32_t count = r.u32();
        // Each child takes at least 30 bytes: refuse counts the input cannot hold.
        if (r.failed() || count > r.left() / 30) {
            r.fail();
            return nullptr;
        }
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

}  // namespace uetcd::store
