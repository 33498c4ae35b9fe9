// /v2/stats/store counters (etcd v3.4 v2store stats.go), in etcd's JSON field order.
// Writes are counted where they are applied, gets and watches where they are served.
#pragma once

#include <cstdint>
#include <string>

namespace uetcd::store {

struct stats {
    std::uint64_t gets_success = 0;
    std::uint64_t gets_fail = 0;
    std::uint64_t sets_success = 0;
    std::uint64_t sets_fail = 0;
    std::uint64_t delete_success = 0;
    std::uint64_t delete_fail = 0;
    std::uint64_t update_success = 0;
    std::uint64_t update_fail = 0;
    std::uint64_t create_success = 0;
    std::uint64_t create_fail = 0;
    std::uint64_t compare_and_swap_success = 0;
    std::uint64_t compare_and_swap_fail = 0;
    std::uint64_t compare_and_delete_success = 0;
    std::uint64_t compare_and_delete_fail = 0;
    std::uint64_t expire_count = 0;
    std::uint64_t watchers = 0;  // filled from the watcher hub when written
};

// {"getsSuccess":..,...,"watchers":N} with no trailing newline (json.Marshal).
void write_stats_json(std::string& out, const stats& s);

}  // namespace uetcd::store
