// raft::step and the per-role step functions (etcd raft.go, second half): term
// handling, votes, and what leader, candidate and follower do with each message.
#include <algorithm>

#include "uetcd/raft/raft.hpp"

namespace uetcd::raft {

namespace {
const bytes campaign_transfer_ctx = "campaign_transfer";

bool is_leader_message(message_type t) {
    return t == message_type::msg_app || t == message_type::msg_heartbeat ||
           t == message_type::msg_snap;
}
}  // namespace

status raft::step(const message& m) {
    const raft_term term_before = _term;
    if (m.term > _term) {
        if (!step_higher_term(m)) {
            return ok_status();
        }
    } else if (m.term != 0 && m.term < _term) {
        step_lower_term(m);
        return ok_status();
    }
    status st = ok_status();
    switch (m.type) {
    case message_type::msg_hup: st = step_hup(); break;
    case message_type::msg_vote:
    case message_type::msg_pre_vote: step_vote_request(m); break;
    default: st = (this->*_step)(m); break;
    }
    UETCD_ASSERT(_term >= term_before);
    check_invariants();
    return st;
}

bool raft::step_higher_term(const message& m) {
    const bool is_vote_request =
        m.type == message_type::msg_vote || m.type == message_type::msg_pre_vote;
    if (is_vote_request) {
        const bool force = m.context == campaign_transfer_ctx;
        // Lease check (thesis §4.2.3): with check-quorum on, a member that heard from a
        // leader within the election timeout ignores votes, so it cannot be disrupted.
        const bool in_lease =
            _check_quorum && _lead != no_node && _election_elapsed < _election_ticks;
        if (!force && in_lease) {
            return false;
        }
    }
    if (m.type == message_type::msg_pre_vote) {
        return true;  // a pre-vote never changes our term
    }
    if (m.type == message_type::msg_pre_vote_resp && !m.reject) {
        return true;  // our term moves when the pre-vote reaches a quorum
    }
    become_follower(m.term, is_leader_message(m.type) ? m.from : no_node);
    return true;
}

void raft::step_lower_term(const message& m) {
    if ((_check_quorum || _pre_vote) &&
        (m.type == message_type::msg_heartbeat || m.type == message_type::msg_app)) {
        // A stale leader behind a partition learns our term and steps down; without this
        // check-quorum/pre-vote could leave it stuck (etcd issue 5451).
        message resp;
        resp.type = message_type::msg_app_resp;
        resp.to = m.from;
        send(std::move(resp));
    } else if (m.type == message_type::msg_pre_vote) {
        message resp;
        resp.type = message_type::msg_pre_vote_resp;
        resp.to = m.from;
        resp.term = _term;
        resp.reject = true;
        send(std::move(resp));
    }
}

status raft::step_hup() {
    if (_state == role::leader) {
        return ok_status();
    }
    // A committed but unapplied conf change may remove us or change the quorum.
    if (has_unapplied_conf_change()) {
        return ok_status();
    }
    campaign(_pre_vote, false);
    return ok_status();
}

void raft::step_vote_request(const message& m) {
    const bool pre = m.type == message_type::msg_pre_vote;
    const bool can_vote = _vote == m.from || (_vote == no_node && _lead == no_node) ||
                          (pre && m.term > _term);
    message resp;
    resp.type = pre ? message_type::msg_pre_vote_resp : message_type::msg_vote_resp;
    resp.to = m.from;
    if (can_vote && _log.is_up_to_date(m.index, m.log_term)) {
        // The response carries the request's term so the candidate counts it.
        resp.term = m.term;
        if (!pre) {
            _election_elapsed = 0;
            _vote = m.from;
        }
    } else {
        resp.term = _term;
        resp.reject = true;
    }
    send(std::move(resp));
}

status raft::step_leader(const message& m) {
    switch (m.type) {
    case message_type::msg_beat: bcast_heartbeat({}); return ok_status();
    case message_type::msg_check_quorum:
        if (!check_quorum_active()) {
            become_follower(_term, no_node);  // lost contact with a quorum: step down
        }
        return ok_status();
    case message_type::msg_prop: return leader_propose(m);
    case message_type::msg_read_index: leader_read_index(m); return ok_status();
    default: break;
    }
    auto it = _prs.find(m.from);
    if (it == _prs.end()) {
        return ok_status();  // a removed member; ignore
    }
    progress& pr = it->second;
    switch (m.type) {
    case message_type::msg_app_resp: leader_app_resp(m, pr); break;
    case message_type::msg_heartbeat_resp: leader_heartbeat_resp(m, pr); break;
    case message_type::msg_snap_status: leader_snap_status(m, pr); break;
    case message_type::msg_unreachable:
        // The transport failed: the optimistic window is lost, probe again.
        if (pr.state == progress_state::replicate) {
            pr.become_probe();
        }
        break;
    case message_type::msg_transfer_leader: leader_transfer(m, pr); break;
    default: break;
    }
    return ok_status();
}

status raft::leader_propose(const message& m) {
    UETCD_ASSERT(!m.entries.empty());
    if (!promotable() || _lead_transferee != no_node) {
        return failure{raft_error::proposal_dropped};
    }
    std::vector<entry> ents = m.entries;
    for (std::size_t i = 0; i < ents.size(); ++i) {
        if (ents[i].type != entry_type::conf_change) {
            continue;
        }
        if (_pending_conf_index > _log.applied()) {
            // One change at a time: a second one becomes an empty entry (as etcd does).
            ents[i] = entry{};
        } else {
            _pending_conf_index = _log.last_index() + i + 1;
        }
    }
    if (!append_entry(std::move(ents))) {
        return failure{raft_error::proposal_dropped};  // too much uncommitted: back-pressure
    }
    // Batching: msg_app goes out once per ready (flush_appends), carrying every entry
    // proposed since the last one, instead of one msg_app per proposal.
    _append_pending = true;
    return ok_status();
}

void raft::answer_read(const message& req, raft_index index) {
    UETCD_ASSERT(!req.entries.empty());
    if (req.from == no_node || req.from == _id) {
        read_states.push_back(read_state{index, req.entries[0].data});
        return;
    }
    message resp;
    resp.type = message_type::msg_read_index_resp;
    resp.to = req.from;
    resp.index = index;
    resp.entries = req.entries;
    send(std::move(resp));
}

void raft::leader_read_index(const message& m) {
    if (m.entries.empty()) {
        return;
    }
    if (quorum() == 1) {
        answer_read(m, _log.committed());
        return;
    }
    // Until an entry of our term commits, our commit index may lag the cluster's
    // (thesis §6.4): drop the request, the client retries.
    if (_log.term_or_zero(_log.committed()) != _term) {
        return;
    }
    if (_read_only.add_request(_log.committed(), m)) {
        _read_only.recv_ack(_id, m.entries[0].data);
        bcast_heartbeat(m.entries[0].data);
    }
}

void raft::leader_app_resp(const message& m, progress& pr) {
    pr.recent_active = true;
    if (m.reject) {
        // Fast back-off: skip every entry of the follower's conflicting term at once.
        raft_index next_probe = m.reject_hint;
        if (m.log_term > 0) {
            next_probe = _log.find_conflict_by_term(m.reject_hint, m.log_term);
        }
        if (pr.maybe_decr_to(m.index, next_probe)) {
            if (pr.state == progress_state::replicate) {
                pr.become_probe();
            }
            maybe_send_append(m.from, true);
        }
        return;
    }
    const bool old_paused = pr.is_paused();
    if (!pr.maybe_update(m.index)) {
        return;
    }
    if (pr.state == progress_state::probe) {
        pr.become_replicate();
    } else if (pr.state == progress_state::snapshot && pr.match >= pr.pending_snapshot) {
        pr.become_probe();
    } else if (pr.state == progress_state::replicate) {
        pr.ins.free_to(m.index);
    }
    if (maybe_commit()) {
        bcast_append();
    } else if (old_paused) {
        maybe_send_append(m.from, true);
    }
    // Fill the window: send as much as the inflights limit and message size allow.
    for (int i = 0; i < 1024 && maybe_send_append(m.from, false); ++i) {
    }
    if (m.from == _lead_transferee && pr.match == _log.last_index()) {
        send_timeout_now(m.from);
    }
}

void raft::leader_heartbeat_resp(const message& m, progress& pr) {
    pr.recent_active = true;
    pr.probe_sent = false;
    // A full window with a live follower means acks were lost: free one slot to retry.
    if (pr.state == progress_state::replicate && pr.ins.full()) {
        pr.ins.free_first_one();
    }
    if (pr.match < _log.last_index()) {
        maybe_send_append(m.from, true);
    }
    if (m.context.empty() || _read_only.recv_ack(m.from, m.context) < quorum()) {
        return;
    }
    for (const read_index_status& rs : _read_only.advance(m.context)) {
        answer_read(rs.req, rs.index);
    }
}

void raft::leader_snap_status(const message& m, progress& pr) {
    if (pr.state != progress_state::snapshot) {
        return;
    }
    if (m.reject) {
        pr.pending_snapshot = 0;
    }
    pr.become_probe();
    // Wait for a heartbeat response before probing: the snapshot may still be applying.
    pr.probe_sent = true;
}

void raft::leader_transfer(const message& m, progress& pr) {
    const node_id transferee = m.from;
    if (_lead_transferee != no_node) {
        if (_lead_transferee == transferee) {
            return;  // already transferring to it
        }
        abort_leader_transfer();
    }
    if (transferee == _id) {
        return;
    }
    // The transfer must finish within one election timeout (tick_heartbeat aborts it).
    _election_elapsed = 0;
    _lead_transferee = transferee;
    if (pr.match == _log.last_index()) {
        send_timeout_now(transferee);
    } else {
        maybe_send_append(transferee, true);
    }
}

status raft::step_candidate(const message& m) {
    const message_type resp_type = _state == role::pre_candidate
                                       ? message_type::msg_pre_vote_resp
                                       : message_type::msg_vote_resp;
    switch (m.type) {
    case message_type::msg_prop: return failure{raft_error::proposal_dropped};
    case message_type::msg_app:
        become_follower(m.term, m.from);
        handle_append_entries(m);
        return ok_status();
    case message_type::msg_heartbeat:
        become_follower(m.term, m.from);
        handle_heartbeat(m);
        return ok_status();
    case message_type::msg_snap:
        become_follower(m.term, m.from);
        handle_snapshot(m);
        return ok_status();
    default: break;
    }
    if (m.type != resp_type) {
        return ok_status();  // includes msg_timeout_now: a candidate is already campaigning
    }
    switch (poll(m.from, !m.reject)) {
    case vote_result::won:
        if (_state == role::pre_candidate) {
            campaign(false, false);
        } else {
            become_leader();
            bcast_append();
        }
        break;
    case vote_result::lost: become_follower(_term, no_node); break;
    case vote_result::pending: break;
    }
    return ok_status();
}

status raft::step_follower(const message& m) {
    switch (m.type) {
    case message_type::msg_prop:
        if (_lead == no_node || _disable_forwarding) {
            return failure{raft_error::proposal_dropped};
        }
        [[fallthrough]];
    case message_type::msg_transfer_leader:
    case message_type::msg_read_index:
        if (_lead != no_node) {
            message fwd = m;
            fwd.to = _lead;
            // A request that already crossed the network carries a term; send() sets ours.
            fwd.term = 0;
            send(std::move(fwd));
        }
        return ok_status();
    case message_type::msg_app:
    case message_type::msg_heartbeat:
    case message_type::msg_snap:
        _election_elapsed = 0;
        _lead = m.from;
        if (m.type == message_type::msg_app) {
            handle_append_entries(m);
        } else if (m.type == message_type::msg_heartbeat) {
            handle_heartbeat(m);
        } else {
            handle_snapshot(m);
        }
        return ok_status();
    case message_type::msg_timeout_now:
        // Leader transfer skips pre-vote: the old leader asked for it, so no partition.
        if (promotable()) {
            campaign(false, true);
        }
        return ok_status();
    case message_type::msg_read_index_resp:
        if (m.entries.size() == 1) {
            read_states.push_back(read_state{m.index, m.entries[0].data});
        }
        return ok_status();
    default: return ok_status();
    }
}

void raft::handle_append_entries(const message& m) {
    message resp;
    resp.type = message_type::msg_app_resp;
    resp.to = m.from;
    if (m.index < _log.committed()) {
        resp.index = _log.committed();  // already have these: tell where we are
        send(std::move(resp));
        return;
    }
    if (auto last = _log.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
        resp.index = *last;
        send(std::move(resp));
        return;
    }
    // Reject with a hint: the largest index <= m.index whose term is <= m.log_term, so
    // the leader skips a whole conflicting term per round trip.
    raft_index hint = std::min(m.index, _log.last_index());
    hint = _log.find_conflict_by_term(hint, m.log_term);
    resp.index = m.index;
    resp.reject = true;
    resp.reject_hint = hint;
    resp.log_term = _log.term_or_zero(hint);
    send(std::move(resp));
}

void raft::handle_heartbeat(const message& m) {
    _log.commit_to(m.commit);
    message resp;
    resp.type = message_type::msg_heartbeat_resp;
    resp.to = m.from;
    resp.context = m.context;
    send(std::move(resp));
}

void raft::handle_snapshot(const message& m) {
    message resp;
    resp.type = message_type::msg_app_resp;
    resp.to = m.from;
    if (m.snap && restore(*m.snap)) {
        resp.index = _log.last_index();
    } else {
        resp.index = _log.committed();
    }
    send(std::move(resp));
}

bool raft::restore(const snapshot& s) {
    if (s.meta.index <= _log.committed()) {
        return false;
    }
    if (_log.match_term(s.meta.index, s.meta.term)) {
        // We already have the snapshot's last entry: just move the commit index.
        _log.commit_to(s.meta.index);
        return false;
    }
    _log.restore(s);
    if (!s.meta.conf.voters.empty()) {
        reset_voters(s.meta.conf.voters);
    }
    UETCD_ASSERT(_log.committed() == s.meta.index);
    UETCD_ASSERT(_log.last_index() == s.meta.index);
    return true;
}

}  // namespace uetcd::raft
