// The replicated v2 request (etcd v3.4 etcdserver RequestV2) and how a committed one is applied
// to a tree (etcdserver/apply_v2.go applierV2store): which store operation each method and
// flag combination means. Pure: the receiving member fills `expiration_ns` (now + ttl) and the
// leader fills `sync_time_ns`, so every member applies the same bytes to the same effect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "uetcd/result.hpp"
#include "uetcd/store/tree.hpp"

namespace uetcd::store {

enum class command_method : std::uint8_t {
    put,   // set / create / update / compareAndSwap, by prev_exist and the compare fields
    post,  // create with an in-order name
    del,   // delete / compareAndDelete
    qget,  // a quorum GET, linearized through the log
    sync,  // the leader's expiry tick: expire(sync_time_ns)
};

struct command {
    command_method method = command_method::put;
    std::string path;  // internal and clean, e.g. "/1/foo"
    std::string value;
    std::string prev_value;  // "" = not compared
    std::uint64_t prev_index = 0;  // 0 = not compared
    std::optional<bool> prev_exist;
    bool dir = false;
    bool recursive = false;
    bool sorted = false;
    bool refresh = false;
    time_ns expiration_ns = permanent;  // absolute expiry from the request's ttl
    time_ns sync_time_ns = 0;           // sync only

    friend bool operator==(const command&, const command&) = default;
};

// Binary encoding for the raft log; decode is total (malformed bytes -> error text).
std::string encode_command(const command& c);
result<command, std::string> decode_command(std::string_view bytes);

// Applies a committed command. Writes and qget return their event; sync returns a null
// event_ptr (its expire events went to the history and the watchers). `now_ns` only feeds
// the ttl fields of the answer.
result<event_ptr, error> apply_command(tree& t, const command& c, time_ns now_ns);

}  // namespace uetcd::store
