// Names for raft enums (logs and test output) and message classification helpers.
#include "uetcd/raft/message.hpp"

namespace uetcd::raft {

const char* to_string(raft_error e) noexcept {
    switch (e) {
    case raft_error::compacted: return "requested index is unavailable due to compaction";
    case raft_error::unavailable: return "requested entry at index is unavailable";
    case raft_error::snapshot_out_of_date: return "requested index is older than the snapshot";
    case raft_error::snapshot_temporarily_unavailable:
        return "snapshot is temporarily unavailable";
    case raft_error::proposal_dropped: return "raft proposal dropped";
    case raft_error::step_local_message: return "raft: cannot step raft local message";
    case raft_error::step_peer_not_found: return "raft: cannot step as peer not found";
    case raft_error::conf_change_pending: return "raft: a configuration change is pending";
    case raft_error::invalid_message: return "raft: malformed message";
    }
    return "unknown raft error";
}

const char* to_string(message_type t) noexcept {
    static constexpr const char* names[message_type_count] = {"msg_hup", "msg_beat",
        "msg_prop", "msg_app", "msg_app_resp", "msg_vote", "msg_vote_resp", "msg_snap",
        "msg_heartbeat", "msg_heartbeat_resp", "msg_unreachable", "msg_snap_status",
        "msg_check_quorum", "msg_transfer_leader", "msg_timeout_now", "msg_read_index",
        "msg_read_index_resp", "msg_pre_vote", "msg_pre_vote_resp"};
    const auto i = static_cast<std::uint8_t>(t);
    return i < message_type_count ? names[i] : "msg_unknown";
}

bool is_local_message(message_type t) noexcept {
    return t == message_type::msg_hup || t == message_type::msg_beat ||
           t == message_type::msg_unreachable || t == message_type::msg_snap_status ||
           t == message_type::msg_check_quorum;
}

bool is_response_message(message_type t) noexcept {
    return t == message_type::msg_app_resp || t == message_type::msg_vote_resp ||
           t == message_type::msg_heartbeat_resp || t == message_type::msg_unreachable ||
           t == message_type::msg_pre_vote_resp;
}

std::uint64_t entry_bytes(const entry& e) noexcept { return e.data.size() + 24; }

}  // namespace uetcd::raft
