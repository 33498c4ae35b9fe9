// Events and external nodes: what every store operation returns and every watcher receives,
// with writers that produce etcd v2's JSON byte for byte (etcd v3.4 v2store event.go and
// node_extern.go, encoded as Go's encoding/json does). No I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uetcd::store {

// Wall-clock instants are nanoseconds since the Unix epoch, UTC. The store never reads a clock:
// the caller passes them. 0 means "no expiry" (etcd's zero time.Time, "Permanent").
using time_ns = std::int64_t;
inline constexpr time_ns permanent = 0;
// etcd v3.4 v2store store.go minExpireTime: expiry times before 2000-01-01T00:00:00Z given to
// create/set count as permanent (they come from JavaScript zero dates).
inline constexpr time_ns min_expire_time_ns = 946'684'800LL * 1'000'000'000LL;

enum class action : std::uint8_t {
    get,
    create,
    set,
    update,
    del,  // "delete"
    compare_and_swap,
    compare_and_delete,
    expire,
};

std::string_view action_name(action a) noexcept;

// etcd's NodeExtern. Every field is omitempty in the JSON; `value` is a pointer in Go, so it is
// written when present even if empty (files) and absent for directories.
struct node_view {
    std::string key;
    std::optional<std::string> value;
    bool dir = false;
    time_ns expire_time_ns = permanent;  // "expiration" when != permanent
    std::int64_t ttl_s = 0;              // computed from `now` when the view was built
    std::uint64_t modified_index = 0;
    std::uint64_t created_index = 0;
    std::vector<node_view> nodes;  // only for get of a directory
};

struct event {
    action act = action::get;
    node_view node;
    std::optional<node_view> prev_node;
    std::uint64_t etcd_index = 0;  // store index after the operation (X-Etcd-Index of a write)
    bool refresh = false;          // TTL refresh: kept in history, never sent to live watchers

    // The modified index of the node: the event's place in the history.
    std::uint64_t index() const noexcept { return node.modified_index; }
    // etcd Event.IsCreated: the HTTP layer answers 201 when true, else 200.
    bool is_created() const noexcept {
        return act == action::create || (act == action::set && !prev_node.has_value());
    }
};

using event_ptr = std::shared_ptr<const event>;

// ttl as etcd's node.expirationAndTTL computes it: ceil((expire - now) / 1s) with Go's
// truncating division (negative remainders do not round), 0 for permanent nodes.
std::int64_t ttl_seconds(time_ns expire_time_ns, time_ns now_ns) noexcept;

// Go's time.Time.MarshalJSON for a UTC instant (RFC 3339 with nanoseconds, trailing zeros
// trimmed), without the quotes: 2026-11-24T13:30:21.44067822Z
void append_rfc3339_nano(std::string& out, time_ns t);

struct json_options {
    // Stripped from every key (etcd v2http trimNodeExternPrefix strips "/1", so the /1 dir
    // itself becomes "" and its key is omitted).
    std::string_view key_prefix = {};
    // etcd v3.4 noValueOnSuccess: set/create/update/compareAndSwap events drop node and prevNode.
    bool no_value_on_success = false;
};

void write_node_json(std::string& out, const node_view& n, std::string_view key_prefix);
// The event as json.NewEncoder(w).Encode(ev) writes it, including the trailing "\n".
void write_event_json(std::string& out, const event& e, const json_options& options);

}  // namespace uetcd::store
