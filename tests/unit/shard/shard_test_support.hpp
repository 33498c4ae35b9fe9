// Shared by the shard tests: a seeded generator of committed commands of every kind, and
// renderers that turn answers into the bytes a client would see (JSON + X-Etcd-Index).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "uetcd/prng.hpp"
#include "uetcd/store/command.hpp"
#include "uetcd/store/shard_driver.hpp"

namespace shard_test {

using namespace uetcd::store;

inline constexpr time_ns t0_ns = 1'764'000'000LL * 1'000'000'000LL;  // 2025-11-24T16:00:00Z
inline constexpr time_ns second_ns = 1'000'000'000LL;

// Sorts every listing by key: etcd lists a dir in any order, and a root listing merged from
// shards is in shard order.
inline void sort_listing(node_view& n) {
    std::sort(n.nodes.begin(), n.nodes.end(),
        [](const node_view& a, const node_view& b) { return a.key < b.key; });
    for (node_view& child : n.nodes) {
        sort_listing(child);
    }
}

inline std::string render(const event& e, bool canonical_order) {
    std::string out = "index=" + std::to_string(e.etcd_index) + " ";
    if (canonical_order) {
        event copy = e;
        sort_listing(copy.node);
        write_event_json(out, copy, json_options{});
    } else {
        write_event_json(out, e, json_options{});
    }
    return out;
}

inline std::string render(const error& e) {
    std::string out = "index=" + std::to_string(e.index) + " ";
    write_error_json(out, e);
    return out;
}

inline std::string render(const uetcd::result<event_ptr, error>& r, bool canonical_order) {
    if (!r) {
        return render(r.error());
    }
    return r.value() == nullptr ? std::string("null") : render(*r.value(), canonical_order);
}

inline std::string render(const uetcd::result<event, error>& r, bool canonical_order) {
    return r ? render(r.value(), canonical_order) : render(r.error());
}

inline std::string render(const stats& s) {
    std::string out;
    write_stats_json(out, s);
    return out;
}

// A key space small enough that operations collide: first segments that are string prefixes
// of each other (etcd's dir-prefix watch quirk across shards), hidden names, namespaces.
class command_generator {
public:
    explicit command_generator(std::uint64_t seed) : _rng(seed) {}

    uetcd::prng& rng() noexcept { return _rng; }

    std::string path() {
        static const char* const tops[] = {"a", "ab", "abc", "b", "c", "d", "_h", "e", "f"};
        static const char* const subs[] = {"x", "y", "_z", "w"};
        const std::uint64_t roll = _rng.below(100);
        if (roll < 3) {
            return roll == 0 ? "/" : "/1";
        }
        if (roll < 6) {
            return roll == 3 ? "/0/members" : "/2/users/u" + std::to_string(_rng.below(2));
        }
        std::string p = "/1/";
        p += tops[_rng.below(std::size(tops))];
        const std::uint64_t depth = _rng.below(3);
        for (std::uint64_t i = 0; i < depth; ++i) {
            p += '/';
            p += subs[_rng.below(std::size(subs))];
        }
        return p;
    }

    std::string value() { return "v" + std::to_string(_rng.below(4)); }

    // `index` is the store index now (for plausible prevIndex values).
    command next(time_ns now_ns, std::uint64_t index) {
        command c;
        c.path = path();
        const std::uint64_t kind = _rng.below(100);
        if (kind < 52) {
            make_put(c, now_ns, index);
        } else if (kind < 70) {
            make_delete(c, index);
        } else if (kind < 77) {
            c.method = command_method::post;
            c.dir = _rng.chance(200);
            c.value = value();
            c.expiration_ns = _rng.chance(300) ? ttl(now_ns) : permanent;
            if (_rng.chance(300)) {
                c.path = "/1/q";
            }
        } else if (kind < 85) {
            c.method = command_method::qget;
            c.recursive = _rng.chance(500);
            c.sorted = _rng.chance(500);
            if (_rng.chance(300)) {
                c.path = _rng.chance(500) ? "/1" : "/";
            }
        } else {
            c.method = command_method::sync;
            c.path.clear();
            c.sync_time_ns = now_ns;
        }
        return c;
    }

private:
    time_ns ttl(time_ns now_ns) {
        return now_ns + static_cast<time_ns>(1 + _rng.below(6)) * second_ns;
    }

    std::uint64_t recent_index(std::uint64_t index) {
        const std::uint64_t back = _rng.below(8);
        return index > back ? index - back : 1;
    }

    void make_put(command& c, time_ns now_ns, std::uint64_t index) {
        c.method = command_method::put;
        c.value = value();
        c.dir = _rng.chance(120);
        if (c.dir) {
            c.value.clear();
        }
        if (_rng.chance(250)) {
            c.expiration_ns = ttl(now_ns);
            c.refresh = _rng.chance(300);
            if (c.refresh) {
                c.value.clear();
            }
        }
        const std::uint64_t mode = _rng.below(10);
        if (mode < 2) {
            c.prev_exist = mode == 0;
        }
        if (_rng.chance(200)) {
            c.prev_value = value();
        }
        if (_rng.chance(150)) {
            c.prev_index = recent_index(index);
        }
    }

    void make_delete(command& c, std::uint64_t index) {
        c.method = command_method::del;
        c.dir = _rng.chance(300);
        c.recursive = _rng.chance(300);
        if (_rng.chance(150)) {
            c.prev_value = value();
        }
        if (_rng.chance(150)) {
            c.prev_index = recent_index(index);
        }
    }

    uetcd::prng _rng;
};

}  // namespace shard_test
