// The Raft vocabulary: entries, hard state, snapshots, configuration changes and messages,
// named as in etcd's raft library (raftpb). Plain values: no I/O, no behaviour beyond
// small helpers. The binary form lives in codec.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "uetcd/result.hpp"

namespace uetcd::raft {

using node_id = std::uint64_t;
using raft_term = std::uint64_t;
using raft_index = std::uint64_t;
// Opaque bytes (entry payloads, contexts, snapshot data). The core never looks inside.
using bytes = std::string;

inline constexpr node_id no_node = 0;
inline constexpr std::uint64_t no_limit = UINT64_MAX;

// Expected failures, returned as values (STYLE.md). Names follow etcd's Err* values.
enum class raft_error : std::uint8_t {
    compacted,                         // ErrCompacted: index below the first available one
    unavailable,                       // ErrUnavailable: index above the last one
    snapshot_out_of_date,              // ErrSnapOutOfDate
    snapshot_temporarily_unavailable,  // ErrSnapshotTemporarilyUnavailable
    proposal_dropped,                  // ErrProposalDropped: no leader, transfer, forwarding off
    step_local_message,                // ErrStepLocalMsg: a local-only type from the network
    step_peer_not_found,               // ErrStepPeerNotFound: response from an unknown member
    conf_change_pending,               // a configuration change is already in flight
    invalid_message,                   // a network message that breaks the protocol's shape
};
const char* to_string(raft_error e) noexcept;

using status = result<std::monostate, raft_error>;
inline status ok_status() { return status(std::monostate{}); }

enum class entry_type : std::uint8_t { normal = 0, conf_change = 1 };

struct entry {
    raft_term term = 0;
    raft_index index = 0;
    entry_type type = entry_type::normal;
    bytes data;
    bool operator==(const entry&) const = default;
};

struct hard_state {
    raft_term term = 0;
    node_id vote = no_node;
    raft_index commit = 0;
    bool empty() const noexcept { return term == 0 && vote == no_node && commit == 0; }
    bool operator==(const hard_state&) const = default;
};

// The voters of the cluster. Learners and joint consensus are not supported (docs/raft.md).
struct conf_state {
    std::vector<node_id> voters;
    bool operator==(const conf_state&) const = default;
};

struct snapshot_meta {
    conf_state conf;
    raft_index index = 0;
    raft_term term = 0;
    bool operator==(const snapshot_meta&) const = default;
};

struct snapshot {
    bytes data;
    snapshot_meta meta;
    bool empty() const noexcept { return meta.index == 0; }
    bool operator==(const snapshot&) const = default;
};

enum class conf_change_type : std::uint8_t { add_node = 0, remove_node = 1, update_node = 2 };

// A single-member change. `context` is opaque to the core (uetcd puts the member's URLs there).
struct conf_change {
    std::uint64_t id = 0;
    conf_change_type type = conf_change_type::add_node;
    node_id node = no_node;
    bytes context;
    bool operator==(const conf_change&) const = default;
};

enum class message_type : std::uint8_t {
    msg_hup = 0,
    msg_beat,
    msg_prop,
    msg_app,
    msg_app_resp,
    msg_vote,
    msg_vote_resp,
    msg_snap,
    msg_heartbeat,
    msg_heartbeat_resp,
    msg_unreachable,
    msg_snap_status,
    msg_check_quorum,
    msg_transfer_leader,
    msg_timeout_now,
    msg_read_index,
    msg_read_index_resp,
    msg_pre_vote,
    msg_pre_vote_resp,
};
inline constexpr std::uint8_t message_type_count = 19;
const char* to_string(message_type t) noexcept;

// Local messages never cross the network (etcd: IsLocalMsg).
bool is_local_message(message_type t) noexcept;
// Responses are addressed to a member that must know the sender (etcd: IsResponseMsg).
bool is_response_message(message_type t) noexcept;

struct message {
    message_type type = message_type::msg_hup;
    node_id to = no_node;
    node_id from = no_node;
    raft_term term = 0;
    raft_term log_term = 0;
    raft_index index = 0;
    std::vector<entry> entries;
    raft_index commit = 0;
    std::optional<snapshot> snap;
    bool reject = false;
    raft_index reject_hint = 0;
    bytes context;
    bool operator==(const message&) const = default;
};

// The payload size etcd counts against max_size_per_msg.
inline std::uint64_t payload_bytes(const entry& e) noexcept { return e.data.size(); }
std::uint64_t entry_bytes(const entry& e) noexcept;

}  // namespace uetcd::raft
