// Node allocation and the open-addressing child table (linear probing, backward-shift delete).
#include "node.hpp"

#include <algorithm>

#include "uetcd/hash.hpp"

namespace uetcd::store {

namespace {

constexpr std::uint8_t min_capacity_log2 = 2;

std::size_t home_slot(std::string_view name, std::size_t mask) noexcept {
    return static_cast<std::size_t>(hash64(name)) & mask;
}

void place(node& dir, std::unique_ptr<node> child) {
    const std::size_t mask = dir.capacity() - 1;
    std::size_t i = home_slot(child->name(), mask);
    while (dir.slots[i] != nullptr) {
        i = (i + 1) & mask;
    }
    dir.slots[i] = std::move(child);
}

void rehash(node& dir, std::uint8_t capacity_log2) {
    UETCD_ASSERT(capacity_log2 >= min_capacity_log2);
    UETCD_ASSERT((std::size_t{1} << capacity_log2) > dir.child_count);
    const std::size_t old_capacity = dir.capacity();
    auto old_slots = std::move(dir.slots);
    dir.capacity_log2 = capacity_log2;
    dir.slots = std::make_unique<std::unique_ptr<node>[]>(std::size_t{1} << capacity_log2);
    for (std::size_t i = 0; i < old_capacity; ++i) {
        if (old_slots[i] != nullptr) {
            place(dir, std::move(old_slots[i]));
        }
    }
}

std::size_t find_slot(const node& dir, std::string_view name) noexcept {
    const std::size_t capacity = dir.capacity();
    if (capacity == 0) {
        return SIZE_MAX;
    }
    const std::size_t mask = capacity - 1;
    for (std::size_t i = home_slot(name, mask);; i = (i + 1) & mask) {
        const node* candidate = dir.slots[i].get();
        if (candidate == nullptr) {
            return SIZE_MAX;
        }
        if (candidate->name() == name) {
            return i;
        }
    }
}

}  // namespace

std::unique_ptr<node> make_node(std::string_view name, bool dir, std::string_view value,
    std::uint64_t created_index, time_ns expire_time_ns) {
    UETCD_ASSERT(name.size() < UINT32_MAX);
    UETCD_ASSERT(!dir || value.empty());
    auto n = std::make_unique<node>();
    n->dir = dir;
    n->created_index = created_index;
    n->modified_index = created_index;
    n->expire_time_ns = expire_time_ns;
    n->name_bytes = static_cast<std::uint32_t>(name.size());
    set_value(*n, value);
    std::memcpy(n->text.get(), name.data(), name.size());
    return n;
}

void set_value(node& n, std::string_view value) {
    UETCD_ASSERT(value.size() < UINT32_MAX);
    auto text = std::make_unique_for_overwrite<char[]>(n.name_bytes + value.size());
    if (n.text != nullptr) {
        std::memcpy(text.get(), n.text.get(), n.name_bytes);
    }
    if (!value.empty()) {
        std::memcpy(text.get() + n.name_bytes, value.data(), value.size());
    }
    n.text = std::move(text);
    n.value_bytes = static_cast<std::uint32_t>(value.size());
}

node* find_child(const node& dir, std::string_view name) noexcept {
    const std::size_t i = find_slot(dir, name);
    return i == SIZE_MAX ? nullptr : dir.slots[i].get();
}

void insert_child(node& dir, std::unique_ptr<node> child) {
    UETCD_ASSERT(dir.dir);
    UETCD_ASSERT(find_child(dir, child->name()) == nullptr);
    // Keep the load at or under 3/4 so probes stay short.
    if ((dir.child_count + 1) * 4 > dir.capacity() * 3) {
        const auto grown = static_cast<std::uint8_t>(
            dir.slots == nullptr ? min_capacity_log2 : dir.capacity_log2 + 1);
        rehash(dir, grown);
    }
    child->parent = &dir;
    place(dir, std::move(child));
    dir.child_count++;
}

void reserve_children(node& dir, std::size_t count) {
    UETCD_ASSERT(dir.dir && dir.child_count == 0);
    if (count == 0) {
        return;
    }
    // The smallest table that holds `count` at insert_child's load limit (3/4).
    auto capacity_log2 = min_capacity_log2;
    while ((std::size_t{1} << capacity_log2) * 3 < count * 4) {
        ++capacity_log2;
    }
    rehash(dir, capacity_log2);
}

std::unique_ptr<node> take_child(node& dir, std::string_view name) {
    std::size_t hole = find_slot(dir, name);
    UETCD_ASSERT(hole != SIZE_MAX);
    std::unique_ptr<node> taken = std::move(dir.slots[hole]);
    const std::size_t mask = dir.capacity() - 1;
    // Backward-shift deletion: move later members of the probe run into the hole.
    for (std::size_t j = (hole + 1) & mask; dir.slots[j] != nullptr; j = (j + 1) & mask) {
        const std::size_t home = home_slot(dir.slots[j]->name(), mask);
        const bool home_in_gap = hole <= j ? (home <= hole || home > j)
                                           : (home <= hole && home > j);
        if (home_in_gap) {
            dir.slots[hole] = std::move(dir.slots[j]);
            hole = j;
        }
    }
    dir.child_count--;
    taken->parent = nullptr;
    // Give memory back when a big directory empties (load under 1/8).
    if (dir.child_count == 0) {
        dir.slots.reset();
        dir.capacity_log2 = 0;
    } else if (dir.capacity_log2 > min_capacity_log2 && dir.child_count * 8 < dir.capacity()) {
        rehash(dir, static_cast<std::uint8_t>(dir.capacity_log2 - 2));
    }
    return taken;
}

std::vector<node*> sorted_children(const node& dir) {
    std::vector<node*> children;
    children.reserve(dir.child_count);
    for_each_child(dir, [&](node* child) { children.push_back(child); });
    std::sort(children.begin(), children.end(),
        [](const node* a, const node* b) { return a->name() < b->name(); });
    return children;
}

std::string node_path(const node& n) {
    if (n.parent == nullptr) {
        return "/";
    }
    std::size_t size_bytes = 0;
    for (const node* p = &n; p->parent != nullptr; p = p->parent) {
        size_bytes += p->name_bytes + 1;
    }
    std::string path(size_bytes, '/');
    std::size_t end = size_bytes;
    for (const node* p = &n; p->parent != nullptr; p = p->parent) {
        end -= p->name_bytes;
        std::memcpy(path.data() + end, p->text.get(), p->name_bytes);
        end -= 1;
    }
    UETCD_ASSERT(end == 0);
    return path;
}

std::string join_path(std::string_view parent_path, std::string_view name) {
    std::string path;
    path.reserve(parent_path.size() + 1 + name.size());
    path.append(parent_path);
    if (path.empty() || path.back() != '/') {
        path.push_back('/');
    }
    path.append(name);
    return path;
}

}  // namespace uetcd::store
