// The in-memory node of the key tree and a directory's child table. Private to store/.
// A node is 72 bytes: no full path (rebuilt from parents when needed), name and value in one
// allocation, and a directory's children in an open-addressing table of owning pointers
// (8 bytes a slot, load <= 3/4), looked up by xxh3 of the name.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/assert.hpp"
#include "uetcd/store/event.hpp"

namespace uetcd::store {

inline constexpr std::uint32_t no_heap_slot = UINT32_MAX;

struct node {
    node* parent = nullptr;
    std::unique_ptr<char[]> text;  // name bytes, then value bytes (files)
    std::uint64_t created_index = 0;
    std::uint64_t modified_index = 0;
    time_ns expire_time_ns = permanent;
    std::uint32_t name_bytes = 0;
    std::uint32_t value_bytes = 0;
    std::uint32_t heap_slot = no_heap_slot;
    std::uint32_t child_count = 0;
    std::unique_ptr<std::unique_ptr<node>[]> slots;  // dirs; capacity = 1 << capacity_log2
    std::uint8_t capacity_log2 = 0;
    bool dir = false;

    std::string_view name() const noexcept { return {text.get(), name_bytes}; }
    std::string_view value() const noexcept { return {text.get() + name_bytes, value_bytes}; }
    std::size_t capacity() const noexcept {
        return slots == nullptr ? 0 : std::size_t{1} << capacity_log2;
    }
    bool is_permanent() const noexcept { return expire_time_ns == permanent; }
    // etcd node.IsHidden: the last path segment starts with '_'.
    bool is_hidden() const noexcept { return name_bytes > 0 && text[0] == '_'; }
};

std::unique_ptr<node> make_node(std::string_view name, bool dir, std::string_view value,
    std::uint64_t created_index, time_ns expire_time_ns);
void set_value(node& n, std::string_view value);

node* find_child(const node& dir, std::string_view name) noexcept;
void insert_child(node& dir, std::unique_ptr<node> child);
// Sizes an empty directory's table for `count` children, so that inserting them (snapshot
// loading) never rehashes.
void reserve_children(node& dir, std::size_t count);
std::unique_ptr<node> take_child(node& dir, std::string_view name);

// Children in table order (deterministic for a given history; use sorted for output order).
template <typename Fn>
void for_each_child(const node& dir, Fn&& fn) {
    const std::size_t capacity = dir.capacity();
    for (std::size_t i = 0; i < capacity; ++i) {
        if (dir.slots[i] != nullptr) {
            fn(dir.slots[i].get());
        }
    }
}
std::vector<node*> sorted_children(const node& dir);

// The node's full internal path ("/" for the root), rebuilt from its ancestors.
std::string node_path(const node& n);
// Child path as Go's path.Join(parent, name) gives it for a clean parent.
std::string join_path(std::string_view parent_path, std::string_view name);

}  // namespace uetcd::store
