// Helpers shared by the store unit tests: a tree with etcd's namespaces and JSON renderers.
#pragma once

#include <string>

#include "uetcd/store/tree.hpp"

namespace store_test {

using namespace uetcd::store;

inline constexpr time_ns t0_ns = 1'764'000'000LL * 1'000'000'000LL;  // 2025-11-24T16:00:00Z
inline constexpr time_ns second_ns = 1'000'000'000LL;

inline std::string to_json(const event& e) {
    std::string out;
    write_event_json(out, e, json_options{keys_prefix, false});
    return out;
}

inline std::string to_json(const write_result& r) {
    std::string out;
    if (!r) {
        write_error_json(out, r.error(), keys_prefix);
        return out;
    }
    return to_json(*r.value());
}

inline std::string to_json(const uetcd::result<event, error>& r) {
    std::string out;
    if (!r) {
        write_error_json(out, r.error(), keys_prefix);
        return out;
    }
    return to_json(r.value());
}

inline ttl_options ttl_at(time_ns expire_ns) { return ttl_options{expire_ns, false}; }

}  // namespace store_test
