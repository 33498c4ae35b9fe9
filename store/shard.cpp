// Key-space sharding: routing, the shard's two apply steps, core 0's sequencer, and merging
// root listings (include/uetcd/store/shard.hpp). No I/O and no threads: callers move the
// messages between cores.
#include "uetcd/store/shard.hpp"

#include <algorithm>

#include "uetcd/hash.hpp"

namespace uetcd::store {

namespace {

std::string_view first_segment(std::string_view clean, std::size_t from) {
    const std::size_t end = clean.find('/', from);
    return clean.substr(from, end == std::string_view::npos ? clean.size() - from : end - from);
}

// etcd internalCreate's in-order name: the path a POST creates at base_index + 1.
std::string post_path(const command& c, std::uint64_t base_index) {
    const std::string digits = std::to_string(base_index + 1);
    std::string path = clean_path(c.path);
    path.append(path.size() > 1 ? "/" : "");
    path.append(20 - std::min<std::size_t>(20, digits.size()), '0').append(digits);
    return path;
}

// True when clean_path(p) == p: saves an allocation per routed command (commands carry
// clean paths; the check keeps routing right if one does not).
bool is_clean(std::string_view p) {
    if (p.empty() || p[0] != '/') {
        return false;
    }
    if (p.size() > 1 && p.back() == '/') {
        return false;
    }
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] != '/') {
            continue;
        }
        const std::string_view rest = p.substr(i + 1);
        if (rest.starts_with('/') || rest == "." || rest.starts_with("./") || rest == ".." ||
            rest.starts_with("../")) {
            return false;
        }
    }
    return true;
}

// Calls fn(clean path of c) without allocating when the path is clean already.
template <typename Fn>
auto with_clean_path(const command& c, Fn&& fn) {
    if (is_clean(c.path)) {
        return fn(std::string_view(c.path));
    }
    const std::string clean = clean_path(c.path);
    return fn(std::string_view(clean));
}

bool is_root_qget(const command& c) {
    return c.method == command_method::qget &&
           with_clean_path(c, [](std::string_view p) { return is_cross_shard_path(p); });
}

}  // namespace

bool is_cross_shard_path(std::string_view clean) noexcept {
    return clean == "/" || clean == keys_prefix;
}

std::uint32_t shard_of(std::string_view clean, std::uint32_t shard_count) noexcept {
    UETCD_ASSERT(shard_count >= 1 && shard_count <= shard_count_max);
    UETCD_ASSERT(!clean.empty() && clean[0] == '/');
    if (is_cross_shard_path(clean)) {
        return all_shards;
    }
    std::string_view segment = first_segment(clean, 1);
    if (segment == keys_prefix.substr(1)) {
        segment = first_segment(clean, keys_prefix.size() + 1);
    }
    return static_cast<std::uint32_t>(hash64(segment) % shard_count);
}

bool is_serial(const command& c) noexcept {
    switch (c.method) {
    case command_method::post:
    case command_method::qget:
    case command_method::sync:
        return true;
    case command_method::put:
    case command_method::del:
        return c.prev_index != 0 ||
               with_clean_path(c, [](std::string_view p) { return is_cross_shard_path(p); });
    }
    UETCD_UNREACHABLE();
}

shard::shard(std::uint32_t id, std::uint32_t shard_count) : _id(id) {
    UETCD_ASSERT(shard_count >= 1 && shard_count <= shard_count_max);
    UETCD_ASSERT(id < shard_count);
}

shard::shard(std::uint32_t id, std::uint32_t shard_count, tree recovered)
    : _id(id), _tree(std::move(recovered)) {
    UETCD_ASSERT(shard_count >= 1 && shard_count <= shard_count_max);
    UETCD_ASSERT(id < shard_count);
    UETCD_ASSERT(!_tree.in_provisional());
}

result<event_ptr, error> shard::apply_entry(const shard_entry& e, time_ns now_ns) {
    if (!is_root_qget(e.cmd)) {
        return apply_command(_tree, e.cmd, now_ns);
    }
    // This shard's part of a quorum GET of the root; one shard counts it.
    auto got = e.count_stats ? _tree.get(e.cmd.path, e.cmd.recursive, e.cmd.sorted, now_ns)
                             : _tree.view(e.cmd.path, e.cmd.recursive, e.cmd.sorted, now_ns);
    UETCD_ASSERT(got.ok());  // "/" and "/1" always exist
    return event_ptr(std::make_shared<event>(std::move(got).value()));
}

batch_evaluation shard::evaluate(batch_request request) {
    UETCD_ASSERT(!_pending);
    UETCD_ASSERT(request.base_index == _tree.index());
    UETCD_ASSERT(request.entries.size() <= batch_entries_max);
    _pending = true;
    _mode = request.mode;
    _positions.clear();
    _answers.clear();
    if (_mode == index_mode::provisional) {
        _tree.begin_provisional();
    } else {
        UETCD_ASSERT(request.entries.size() == 1);
    }
    batch_evaluation out;
    out.success.reserve(request.entries.size());
    for (const shard_entry& e : request.entries) {
        UETCD_ASSERT_DEBUG(_mode == index_mode::final || !is_serial(e.cmd) ||
                           e.cmd.method == command_method::sync);
        _positions.push_back(e.position);
        _answers.push_back(apply_entry(e, request.now_ns));
        out.success.push_back(_answers.back().ok() && e.cmd.method != command_method::qget &&
                              e.cmd.method != command_method::sync);
    }
    if (_mode == index_mode::provisional) {
        out.expired = _tree.provisional_expired();
    }
    return out;
}

std::vector<entry_answer> shard::commit(const batch_commit& c) {
    std::vector<entry_answer> out;
    if (!_pending) {
        UETCD_ASSERT(c.slot_index.empty());
        _tree.advance_index(c.final_index);
        return out;
    }
    UETCD_ASSERT(c.entry_index.size() == _answers.size());
    if (_mode == index_mode::provisional) {
        _tree.finish_provisional(c.slot_index, c.final_index);
    } else {
        UETCD_ASSERT(c.slot_index.empty());
        _tree.advance_index(c.final_index);
    }
    out.reserve(_answers.size());
    for (std::size_t i = 0; i < _answers.size(); ++i) {
        if (_answers[i].ok()) {
            out.push_back(entry_answer{_positions[i], std::move(_answers[i])});
            continue;
        }
        // A failed write leaves the index where the entries before it put it.
        error e = std::move(_answers[i]).error();
        e.index = c.entry_index[i];
        out.push_back(entry_answer{_positions[i], failure(std::move(e))});
    }
    _answers.clear();
    _pending = false;
    return out;
}

sequencer::sequencer(std::uint32_t shard_count, std::uint64_t index,
    std::uint64_t history_start_index)
    : _shard_count(shard_count), _index(index), _first_event_index(history_start_index) {
    UETCD_ASSERT(shard_count >= 1 && shard_count <= shard_count_max);
    UETCD_ASSERT(!is_provisional_index(index));
    UETCD_ASSERT(history_start_index <= index);
}

batch_plan sequencer::plan(std::span<const command> log, time_ns now_ns) const {
    UETCD_ASSERT(!log.empty());
    batch_plan p;
    p.base_index = _index;
    p.requests.resize(_shard_count);
    for (batch_request& r : p.requests) {
        r.base_index = _index;
        r.now_ns = now_ns;
    }
    const command& first = log.front();
    if (is_serial(first)) {
        p.command_count = 1;
        p.method.push_back(first.method);
        const bool everywhere = first.method == command_method::sync || is_root_qget(first);
        p.mode = first.method == command_method::sync ? index_mode::provisional
                                                      : index_mode::final;
        if (everywhere) {
            p.owner.push_back(all_shards);
            p.root_sorted = first.sorted;
            for (std::uint32_t s = 0; s < _shard_count; ++s) {
                p.requests[s].mode = p.mode;
                p.requests[s].entries.push_back(shard_entry{0, first, s == 0});
            }
            return p;
        }
        const std::string path = first.method == command_method::post
                                     ? post_path(first, _index)
                                     : clean_path(first.path);
        const std::uint32_t owner = is_cross_shard_path(path) ? 0 : shard_of(path, _shard_count);
        p.owner.push_back(owner);
        p.requests[owner].mode = p.mode;
        p.requests[owner].entries.push_back(shard_entry{0, first, true});
        return p;
    }
    p.mode = index_mode::provisional;
    for (const command& c : log) {
        if (is_serial(c) || p.command_count == batch_entries_max) {
            break;
        }
        const std::uint32_t owner = with_clean_path(
            c, [&](std::string_view path) { return shard_of(path, _shard_count); });
        const auto position = static_cast<std::uint32_t>(p.command_count);
        p.owner.push_back(owner);
        p.method.push_back(c.method);
        p.requests[owner].entries.push_back(shard_entry{position, c, true});
        p.command_count++;
    }
    return p;
}

// Expirations from every shard in (expiry, key) order: the order one tree's heap pops them.
void sequencer::resolve_sync(const batch_plan& p, std::span<const batch_evaluation> evaluations,
    std::vector<batch_commit>& commits, std::uint64_t& successes) const {
    struct ranked {
        const expired_key* key;
        std::uint32_t shard;
    };
    std::vector<ranked> all;
    for (std::uint32_t s = 0; s < _shard_count; ++s) {
        for (const expired_key& k : evaluations[s].expired) {
            all.push_back(ranked{&k, s});
        }
    }
    // Stable, and each shard's list is already sorted: its slots stay in order.
    std::stable_sort(all.begin(), all.end(),
        [](const ranked& a, const ranked& b) { return *a.key < *b.key; });
    for (const ranked& r : all) {
        successes++;
        commits[r.shard].slot_index.push_back(p.base_index + successes);
    }
    for (std::uint32_t s = 0; s < _shard_count; ++s) {
        commits[s].entry_index.assign(evaluations[s].success.size(), p.base_index);
    }
}

std::vector<batch_commit> sequencer::resolve(const batch_plan& p,
    std::span<const batch_evaluation> evaluations) {
    UETCD_ASSERT(p.base_index == _index);
    UETCD_ASSERT(evaluations.size() == _shard_count);
    std::vector<batch_commit> commits(_shard_count);
    std::uint64_t successes = 0;
    if (p.method.size() == 1 && p.method[0] == command_method::sync) {
        resolve_sync(p, evaluations, commits, successes);
    } else {
        std::vector<std::size_t> cursor(_shard_count, 0);
        for (std::size_t position = 0; position < p.owner.size(); ++position) {
            const std::uint32_t owner = p.owner[position];
            if (owner == all_shards) {
                continue;  // a root read: no index move, no error
            }
            const std::size_t i = cursor[owner]++;
            UETCD_ASSERT(i < evaluations[owner].success.size());
            commits[owner].entry_index.push_back(p.base_index + successes);
            if (evaluations[owner].success[i]) {
                successes++;
                if (p.mode == index_mode::provisional) {
                    commits[owner].slot_index.push_back(p.base_index + successes);
                }
            }
        }
        for (std::uint32_t s = 0; s < _shard_count; ++s) {
            if (p.owner.size() == 1 && p.owner[0] == all_shards) {
                commits[s].entry_index.assign(1, p.base_index);
            }
            UETCD_ASSERT(commits[s].entry_index.size() == evaluations[s].success.size());
        }
    }
    UETCD_ASSERT(p.mode == index_mode::provisional || successes <= 1);
    if (successes > 0 && _first_event_index == 0) {
        _first_event_index = _index + 1;
    }
    _index += successes;
    for (batch_commit& c : commits) {
        c.final_index = _index;
    }
    return commits;
}

std::uint64_t sequencer::history_start_index() const noexcept {
    if (_first_event_index == 0) {
        return 0;
    }
    // Every successful write and expiration is one event at its own index: the window is the
    // last event_history_capacity indexes.
    const std::uint64_t window_start =
        _index >= event_history_capacity ? _index - event_history_capacity + 1 : 0;
    return std::max(_first_event_index, window_start);
}

std::optional<error> sequencer::check_wait_index(std::uint64_t since_index) const {
    const std::uint64_t start = history_start_index();
    if (since_index >= start) {
        return std::nullopt;
    }
    // etcd EventHistory.scan's message and cause; the index is the store's.
    return make_error(error_code::event_index_cleared,
        "the requested history has been cleared [" + std::to_string(start) + "/" +
            std::to_string(since_index) + "]",
        _index);
}

std::vector<result<event_ptr, error>> gather_answers(const batch_plan& p,
    std::vector<std::vector<entry_answer>> answers) {
    std::vector<std::optional<result<event_ptr, error>>> slots(p.owner.size());
    std::vector<event> root_parts;
    for (std::vector<entry_answer>& shard_answers : answers) {
        for (entry_answer& a : shard_answers) {
            UETCD_ASSERT(a.position < slots.size());
            if (p.owner[a.position] == all_shards && p.method[a.position] == command_method::qget) {
                root_parts.push_back(*a.answer.value());
                continue;
            }
            if (!slots[a.position].has_value()) {
                slots[a.position].emplace(std::move(a.answer));  // sync: every shard's null
            }
        }
    }
    if (!root_parts.empty()) {
        UETCD_ASSERT(slots.size() == 1);
        const std::string key = root_parts[0].node.key;
        slots[0].emplace(event_ptr(std::make_shared<event>(
            merge_root_get(key, p.root_sorted, std::move(root_parts)))));
    }
    std::vector<result<event_ptr, error>> out;
    out.reserve(slots.size());
    for (auto& s : slots) {
        UETCD_ASSERT(s.has_value());
        out.push_back(std::move(*s));
    }
    return out;
}

namespace {

void sort_by_key(std::vector<node_view>& nodes) {
    std::sort(nodes.begin(), nodes.end(),
        [](const node_view& a, const node_view& b) { return a.key < b.key; });
}

// "/1" as one tree lists it: every shard's children of "/1", in shard order (etcd lists a
// dir in Go map order, i.e. any order), or by key when sorted.
node_view merge_keys_dir(std::vector<node_view*> parts, bool sorted) {
    node_view merged = std::move(*parts[0]);
    for (std::size_t s = 1; s < parts.size(); ++s) {
        for (node_view& child : parts[s]->nodes) {
            merged.nodes.push_back(std::move(child));
        }
    }
    if (sorted) {
        sort_by_key(merged.nodes);
    }
    return merged;
}

}  // namespace

event merge_root_get(std::string_view clean, bool sorted, std::vector<event> parts) {
    UETCD_ASSERT(!parts.empty() && parts.size() <= shard_count_max);
    UETCD_ASSERT(is_cross_shard_path(clean));
    const auto shard_count = static_cast<std::uint32_t>(parts.size());
    std::vector<node_view*> views;
    for (event& e : parts) {
        UETCD_ASSERT(e.node.key == clean && e.etcd_index == parts[0].etcd_index);
        views.push_back(&e.node);
    }
    if (clean == keys_prefix) {
        node_view merged = merge_keys_dir(views, sorted);
        event out = std::move(parts[0]);
        out.node = std::move(merged);
        return out;
    }
    // "/": "/1" merged from all shards; every other top-level dir from its owner ("/0"
    // exists on every shard, its children only on the owner of "0").
    std::vector<node_view*> keys_dirs;
    for (node_view* v : views) {
        for (node_view& child : v->nodes) {
            if (child.key == keys_prefix) {
                keys_dirs.push_back(&child);
            }
        }
    }
    UETCD_ASSERT(keys_dirs.size() == shard_count);
    node_view root = *views[0];
    root.nodes.clear();
    for (std::uint32_t s = 0; s < shard_count; ++s) {
        for (node_view& child : views[s]->nodes) {
            if (&child == keys_dirs[s]) {
                if (s == 0) {
                    root.nodes.push_back(merge_keys_dir(keys_dirs, sorted));
                }
            } else if (shard_of(child.key, shard_count) == s) {
                root.nodes.push_back(std::move(child));
            }
        }
    }
    if (sorted) {
        sort_by_key(root.nodes);
    }
    event out = std::move(parts[0]);
    out.node = std::move(root);
    return out;
}

}  // namespace uetcd::store
