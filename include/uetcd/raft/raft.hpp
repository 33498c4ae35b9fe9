// raft: the consensus state machine (etcd's `raft` struct). Messages and ticks in, state
// changes and outgoing messages (in `msgs`) out. Pure: no clock, socket, thread or disk;
// randomness is a prng seeded from config.seed ^ id. Most callers want raw_node.hpp.
#pragma once

#include <map>
#include <vector>

#include "uetcd/prng.hpp"
#include "uetcd/raft/progress.hpp"
#include "uetcd/raft/raft_log.hpp"
#include "uetcd/raft/read_only.hpp"

namespace uetcd::raft {

enum class role : std::uint8_t { follower, candidate, leader, pre_candidate };
const char* to_string(role r) noexcept;

struct soft_state {
    node_id lead = no_node;
    enum role role = role::follower;
    bool operator==(const soft_state&) const = default;
};

struct config {
    node_id id = no_node;
    // Voters on first boot, used only when storage holds no configuration (no snapshot).
    std::vector<node_id> peers;
    // A follower campaigns after a randomized timeout in [election_ticks, 2*election_ticks).
    int election_ticks = 10;
    int heartbeat_ticks = 1;
    const log_storage* storage = nullptr;
    // The last applied index when restarting (etcd Config.Applied).
    raft_index applied = 0;
    // Payload bytes per msg_app (etcd MaxSizePerMsg); one entry is always allowed.
    std::uint64_t max_size_per_msg_bytes = 1024 * 1024;
    // Bound on msg_app in flight per follower in replicate state. 256 x 1 MiB bounds the
    // memory one slow follower can pin; etcd v2.3.8 used 512.
    std::size_t max_inflight_msgs = 256;
    // Payload bytes of committed entries handed out per ready (etcd MaxCommittedSizePerReady):
    // a restart over a long log applies it in slices instead of one huge batch.
    std::uint64_t max_committed_size_per_ready_bytes = 64 * 1024 * 1024;
    // Payload bytes a leader accepts beyond its commit index before it drops proposals
    // (etcd MaxUncommittedEntriesSize): a leader cut off from its quorum stops growing.
    std::uint64_t max_uncommitted_entries_bytes = 64 * 1024 * 1024;
    bool check_quorum = false;
    bool pre_vote = false;
    bool disable_proposal_forwarding = false;
    std::uint64_t seed = 0;
    // TEST ONLY: commits on a minority (quorum - 1 matches) so that the simulator can show
    // that its checks catch a broken commit rule. Never set outside tests/sim.
    bool test_only_break_commit_rule = false;
};

class raft {
public:
    explicit raft(const config& c);

    status step(const message& m);
    void tick();
    void apply_conf_change(const conf_change& cc);

    node_id id() const { return _id; }
    raft_term term() const { return _term; }
    node_id vote() const { return _vote; }
    node_id lead() const { return _lead; }
    enum role state() const { return _state; }
    node_id lead_transferee() const { return _lead_transferee; }
    soft_state soft() const { return {_lead, _state}; }
    hard_state hard() const { return {_term, _vote, _log.committed()}; }
    const raft_log& log() const { return _log; }
    raft_log& log() { return _log; }
    const std::map<node_id, progress>& prs() const { return _prs; }
    std::vector<node_id> voters() const;
    bool promotable() const { return _prs.count(_id) != 0; }
    int randomized_election_ticks() const { return _randomized_election_ticks; }

    // Outputs drained by raw_node::ready().
    std::vector<message> msgs;
    std::vector<read_state> read_states;

    // Configuration is tracked by voter id only; restore() and raw_node use this.
    void reset_voters(const std::vector<node_id>& ids);
    void advance_applied(raft_index i);

private:
    using step_fn = status (raft::*)(const message&);

    void become_follower(raft_term t, node_id lead);
    void become_candidate();
    void become_pre_candidate();
    void become_leader();
    void reset(raft_term t);
    void reset_randomized_election_timeout();
    void tick_election();
    void tick_heartbeat();
    bool past_election_timeout() const;

    void campaign(bool pre_vote, bool transfer);
    enum class vote_result : std::uint8_t { pending, won, lost };
    vote_result poll(node_id from, bool granted);
    bool step_higher_term(const message& m);
    void step_lower_term(const message& m);
    status step_hup();
    void step_vote_request(const message& m);

    status step_leader(const message& m);
    status step_candidate(const message& m);
    status step_follower(const message& m);
    status leader_propose(const message& m);
    void leader_read_index(const message& m);
    void leader_app_resp(const message& m, progress& pr);
    void leader_heartbeat_resp(const message& m, progress& pr);
    void leader_snap_status(const message& m, progress& pr);
    void leader_transfer(const message& m, progress& pr);
    void answer_read(const message& req, raft_index index);

    void handle_append_entries(const message& m);
    void handle_heartbeat(const message& m);
    void handle_snapshot(const message& m);
    bool restore(const snapshot& s);

    void send(message m);
    bool maybe_send_append(node_id to, bool send_if_empty);
    bool send_snapshot(node_id to, progress& pr);
    void send_heartbeat(node_id to, const bytes& ctx);
    void send_timeout_now(node_id to);
    void bcast_append();
    void bcast_heartbeat(const bytes& ctx);
    bool append_entry(std::vector<entry> ents);
    bool maybe_commit();
    raft_index quorum_match_index() const;
    std::size_t quorum() const { return _prs.size() / 2 + 1; }
    bool check_quorum_active();

public:
    bool conf_change_pending() const;
    // Sends the msg_app owed to followers for proposals since the last call (batching).
    void flush_appends();
    bool append_pending() const { return _append_pending; }
    std::uint64_t max_committed_size_per_ready_bytes() const { return _max_committed_bytes; }
    // Called by raw_node::advance with the entries just applied.
    void reduce_uncommitted_size(const std::vector<entry>& applied);

private:
    void abort_leader_transfer() { _lead_transferee = no_node; }
    bool has_unapplied_conf_change() const;
    void check_invariants() const;

    node_id _id;
    raft_term _term = 0;
    node_id _vote = no_node;
    raft_log _log;
    std::uint64_t _max_msg_bytes;
    std::size_t _max_inflight;
    std::map<node_id, progress> _prs;
    enum role _state = role::follower;
    std::map<node_id, bool> _votes;
    node_id _lead = no_node;
    node_id _lead_transferee = no_node;
    raft_index _pending_conf_index = 0;
    read_only _read_only;
    int _election_elapsed = 0;
    int _heartbeat_elapsed = 0;
    bool _check_quorum;
    bool _pre_vote;
    bool _disable_forwarding;
    bool _break_commit_rule;
    int _heartbeat_ticks;
    int _election_ticks;
    int _randomized_election_ticks = 0;
    prng _rng;
    step_fn _step = &raft::step_follower;
    bool _append_pending = false;
    std::uint64_t _max_committed_bytes;
    std::uint64_t _max_uncommitted_bytes;
    std::uint64_t _uncommitted_bytes = 0;
};

}  // namespace uetcd::raft
