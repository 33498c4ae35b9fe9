// raft: roles, ticks, elections, sending and configuration (etcd raft.go, first half).
// The step functions are in raft_step.cpp. Every public entry point ends by checking
// the invariants that must hold between calls (check_invariants).
#include "uetcd/raft/raft.hpp"

#include <algorithm>

namespace uetcd::raft {

namespace {
// Marks a vote request caused by leader transfer: it may disturb a live leader's lease.
const bytes campaign_transfer_ctx = "campaign_transfer";
}  // namespace

const char* to_string(role r) noexcept {
    switch (r) {
    case role::follower: return "follower";
    case role::candidate: return "candidate";
    case role::leader: return "leader";
    case role::pre_candidate: return "pre_candidate";
    }
    return "unknown";
}

raft::raft(const config& c)
    : _id(c.id),
      _log(*c.storage),
      _max_msg_bytes(c.max_size_per_msg_bytes),
      _max_inflight(c.max_inflight_msgs),
      _check_quorum(c.check_quorum),
      _pre_vote(c.pre_vote),
      _disable_forwarding(c.disable_proposal_forwarding),
      _break_commit_rule(c.test_only_break_commit_rule),
      _heartbeat_ticks(c.heartbeat_ticks),
      _election_ticks(c.election_ticks),
      _rng(c.seed ^ c.id),
      _max_committed_bytes(c.max_committed_size_per_ready_bytes),
      _max_uncommitted_bytes(c.max_uncommitted_entries_bytes) {
    UETCD_ASSERT(c.id != no_node);
    UETCD_ASSERT(c.storage != nullptr);
    UETCD_ASSERT(c.heartbeat_ticks > 0);
    UETCD_ASSERT(c.election_ticks > c.heartbeat_ticks);
    UETCD_ASSERT(c.max_inflight_msgs > 0);
    const initial_state st = c.storage->initial();
    reset_voters(st.conf.voters.empty() ? c.peers : st.conf.voters);
    if (!st.hard.empty()) {
        UETCD_ASSERT(st.hard.commit >= _log.committed());
        UETCD_ASSERT(st.hard.commit <= _log.last_index());
        _log.commit_to(st.hard.commit);
        _term = st.hard.term;
        _vote = st.hard.vote;
    }
    if (c.applied > 0) {
        _log.applied_to(c.applied);
    }
    become_follower(_term, no_node);
}

std::vector<node_id> raft::voters() const {
    std::vector<node_id> out;
    for (const auto& [id, pr] : _prs) {
        out.push_back(id);
    }
    return out;
}

void raft::reset_voters(const std::vector<node_id>& ids) {
    _prs.clear();
    for (node_id id : ids) {
        UETCD_ASSERT(id != no_node);
        auto [it, inserted] = _prs.emplace(id, progress(_log.last_index() + 1, _max_inflight));
        if (id == _id) {
            it->second.match = _log.last_index();
        }
    }
}

void raft::advance_applied(raft_index i) { _log.applied_to(i); }

void raft::check_invariants() const {
    UETCD_ASSERT(_log.committed() <= _log.last_index());
    UETCD_ASSERT(_log.applied() <= _log.committed());
    UETCD_ASSERT(_state != role::leader || _lead == _id);
    UETCD_ASSERT(_state != role::candidate || _vote == _id);
}

void raft::reset(raft_term t) {
    if (_term != t) {
        UETCD_ASSERT(t > _term);  // terms only move forward (Raft §5.1)
        _term = t;
        _vote = no_node;
    }
    _lead = no_node;
    _election_elapsed = 0;
    _heartbeat_elapsed = 0;
    reset_randomized_election_timeout();
    abort_leader_transfer();
    _votes.clear();
    for (auto& [id, pr] : _prs) {
        pr = progress(_log.last_index() + 1, _max_inflight);
        if (id == _id) {
            pr.match = _log.last_index();
        }
    }
    _pending_conf_index = 0;
    _uncommitted_bytes = 0;
    _read_only.reset();
}

void raft::reset_randomized_election_timeout() {
    const auto spread = static_cast<std::uint64_t>(_election_ticks);
    _randomized_election_ticks = _election_ticks + static_cast<int>(_rng.below(spread));
    UETCD_ASSERT(_randomized_election_ticks >= _election_ticks);
    UETCD_ASSERT(_randomized_election_ticks < 2 * _election_ticks);
}

void raft::become_follower(raft_term t, node_id lead) {
    _step = &raft::step_follower;
    reset(t);
    _lead = lead;
    _state = role::follower;
}

void raft::become_candidate() {
    UETCD_ASSERT(_state != role::leader);
    _step = &raft::step_candidate;
    reset(_term + 1);
    _vote = _id;
    _state = role::candidate;
}

void raft::become_pre_candidate() {
    UETCD_ASSERT(_state != role::leader);
    // Pre-vote changes neither term nor vote, so a partitioned node cannot disrupt the
    // cluster when it rejoins (Raft thesis §9.6).
    _step = &raft::step_candidate;
    _votes.clear();
    _lead = no_node;
    _state = role::pre_candidate;
}

void raft::become_leader() {
    UETCD_ASSERT(_state != role::follower);
    _step = &raft::step_leader;
    reset(_term);
    _lead = _id;
    _state = role::leader;
    auto self = _prs.find(_id);
    UETCD_ASSERT(self != _prs.end());
    self->second.become_replicate();
    // Conservatively treat the whole log as a possible pending conf change.
    _pending_conf_index = _log.last_index();
    // Raft §5.4.2: an entry of the new term lets earlier-term entries commit.
    const bool appended = append_entry({entry{}});
    UETCD_ASSERT(appended);
}

void raft::tick() {
    if (_state == role::leader) {
        tick_heartbeat();
    } else {
        tick_election();
    }
    check_invariants();
}

bool raft::past_election_timeout() const {
    return _election_elapsed >= _randomized_election_ticks;
}

void raft::tick_election() {
    ++_election_elapsed;
    if (promotable() && past_election_timeout()) {
        _election_elapsed = 0;
        message m;
        m.type = message_type::msg_hup;
        m.from = _id;
        (void)step(m);
    }
}

void raft::tick_heartbeat() {
    ++_heartbeat_elapsed;
    ++_election_elapsed;
    if (_election_elapsed >= _election_ticks) {
        _election_elapsed = 0;
        if (_check_quorum) {
            message m;
            m.type = message_type::msg_check_quorum;
            m.from = _id;
            (void)step(m);
        }
        // A transfer that did not finish within an election timeout is abandoned.
        if (_state == role::leader && _lead_transferee != no_node) {
            abort_leader_transfer();
        }
    }
    if (_state != role::leader) {
        return;
    }
    if (_heartbeat_elapsed >= _heartbeat_ticks) {
        _heartbeat_elapsed = 0;
        message m;
        m.type = message_type::msg_beat;
        m.from = _id;
        (void)step(m);
    }
}

void raft::campaign(bool pre_vote, bool transfer) {
    message_type vote_type = message_type::msg_vote;
    raft_term vote_term = 0;
    if (pre_vote) {
        become_pre_candidate();
        vote_type = message_type::msg_pre_vote;
        vote_term = _term + 1;  // the term we would use; ours does not move yet
    } else {
        become_candidate();
        vote_term = _term;
    }
    if (poll(_id, true) == vote_result::won) {
        // A single-member cluster wins at once.
        if (pre_vote) {
            campaign(false, false);
        } else {
            become_leader();
        }
        return;
    }
    for (const auto& [id, pr] : _prs) {
        if (id == _id) {
            continue;
        }
        message m;
        m.type = vote_type;
        m.to = id;
        m.term = vote_term;
        m.index = _log.last_index();
        m.log_term = _log.last_term();
        if (transfer) {
            m.context = campaign_transfer_ctx;
        }
        send(std::move(m));
    }
}

raft::vote_result raft::poll(node_id from, bool granted) {
    _votes.emplace(from, granted);
    std::size_t yes = 0;
    std::size_t no = 0;
    for (const auto& [id, v] : _votes) {
        if (_prs.count(id) == 0) {
            continue;
        }
        (v ? yes : no) += 1;
    }
    if (yes >= quorum()) {
        return vote_result::won;
    }
    const std::size_t missing = _prs.size() - yes - no;
    return yes + missing >= quorum() ? vote_result::pending : vote_result::lost;
}

bool raft::has_unapplied_conf_change() const {
    if (_log.committed() <= _log.applied()) {
        return false;
    }
    auto ents = _log.slice(_log.applied() + 1, _log.committed() + 1, no_limit);
    if (!ents.ok()) {
        return false;  // compacted: a snapshot covers them, nothing left to apply
    }
    return std::any_of(ents->begin(), ents->end(),
        [](const entry& e) { return e.type == entry_type::conf_change; });
}

void raft::send(message m) {
    if (m.from == no_node) {
        m.from = _id;
    }
    const bool is_vote = m.type == message_type::msg_vote ||
                         m.type == message_type::msg_vote_resp ||
                         m.type == message_type::msg_pre_vote ||
                         m.type == message_type::msg_pre_vote_resp;
    if (is_vote) {
        // Vote messages carry the term being campaigned for, set by the caller.
        UETCD_ASSERT(m.term != 0);
    } else {
        UETCD_ASSERT(m.term == 0);
        // Proposals and read requests forwarded to the leader stay local (term 0).
        if (m.type != message_type::msg_prop && m.type != message_type::msg_read_index) {
            m.term = _term;
        }
    }
    msgs.push_back(std::move(m));
}

bool raft::maybe_send_append(node_id to, bool send_if_empty) {
    auto it = _prs.find(to);
    UETCD_ASSERT(it != _prs.end());
    progress& pr = it->second;
    if (pr.is_paused()) {
        return false;
    }
    auto prev_term = _log.term(pr.next - 1);
    auto ents = _log.entries_from(pr.next, _max_msg_bytes);
    if (ents.ok() && ents->empty() && !send_if_empty) {
        return false;
    }
    if (!prev_term.ok() || !ents.ok() || pr.next < _log.first_index()) {
        return send_snapshot(to, pr);  // the entries the follower needs are compacted
    }
    message m;
    m.type = message_type::msg_app;
    m.to = to;
    m.index = pr.next - 1;
    m.log_term = *prev_term;
    m.entries = std::move(ents).value();
    m.commit = _log.committed();
    if (!m.entries.empty()) {
        const raft_index last = m.entries.back().index;
        if (pr.state == progress_state::replicate) {
            pr.optimistic_update(last);  // pipelining: do not wait for the ack
            pr.ins.add(last);
        } else if (pr.state == progress_state::probe) {
            pr.probe_sent = true;
        }
    }
    send(std::move(m));
    return true;
}

bool raft::send_snapshot(node_id to, progress& pr) {
    // Only send a snapshot to a follower we heard from recently: it is expensive.
    if (!pr.recent_active) {
        return false;
    }
    auto snap = _log.get_snapshot();
    if (!snap.ok()) {
        UETCD_ASSERT(snap.error() == raft_error::snapshot_temporarily_unavailable);
        return false;
    }
    UETCD_ASSERT(!snap->empty());
    message m;
    m.type = message_type::msg_snap;
    m.to = to;
    pr.become_snapshot(snap->meta.index);
    m.snap = std::move(snap).value();
    send(std::move(m));
    return true;
}

void raft::send_heartbeat(node_id to, const bytes& ctx) {
    // Never tell a follower to commit beyond what it is known to hold.
    const raft_index commit = std::min(_prs.at(to).match, _log.committed());
    message m;
    m.type = message_type::msg_heartbeat;
    m.to = to;
    m.commit = commit;
    m.context = ctx;
    send(std::move(m));
}

void raft::send_timeout_now(node_id to) {
    message m;
    m.type = message_type::msg_timeout_now;
    m.to = to;
    send(std::move(m));
}

void raft::bcast_append() {
    for (const auto& [id, pr] : _prs) {
        if (id != _id) {
            maybe_send_append(id, true);
        }
    }
}

void raft::bcast_heartbeat(const bytes& ctx) {
    const bytes* pending = _read_only.last_pending_request_ctx();
    const bytes use = ctx.empty() && pending != nullptr ? *pending : ctx;
    for (const auto& [id, pr] : _prs) {
        if (id != _id) {
            send_heartbeat(id, use);
        }
    }
}

bool raft::append_entry(std::vector<entry> ents) {
    std::uint64_t size_bytes = 0;
    for (const entry& e : ents) {
        size_bytes += payload_bytes(e);
    }
    // Always accept empty entries (the election entry) and a proposal into an empty tail.
    if (_uncommitted_bytes > 0 && size_bytes > 0 &&
        _uncommitted_bytes + size_bytes > _max_uncommitted_bytes) {
        return false;
    }
    _uncommitted_bytes += size_bytes;
    raft_index li = _log.last_index();
    for (entry& e : ents) {
        e.term = _term;
        e.index = ++li;
    }
    li = _log.append(ents);
    auto self = _prs.find(_id);
    if (self != _prs.end()) {
        self->second.maybe_update(li);
    }
    maybe_commit();
    return true;
}

raft_index raft::quorum_match_index() const {
    std::vector<raft_index> matches;
    matches.reserve(_prs.size());
    for (const auto& [id, pr] : _prs) {
        matches.push_back(pr.match);
    }
    if (matches.empty()) {
        return 0;
    }
    std::sort(matches.begin(), matches.end(), std::greater<>());
    std::size_t q = quorum();
    if (_break_commit_rule && q > 1) {
        q -= 1;  // TEST ONLY: a minority "commits" (see config)
    }
    return matches[q - 1];
}

bool raft::maybe_commit() {
    // Raft §5.4.2: only an entry of the current term is committed by counting replicas.
    return _log.maybe_commit(quorum_match_index(), _term);
}

bool raft::check_quorum_active() {
    std::size_t active = 0;
    for (auto& [id, pr] : _prs) {
        if (id == _id || pr.recent_active) {
            ++active;
        }
        if (id != _id) {
            pr.recent_active = false;
        }
    }
    return active >= quorum();
}

void raft::reduce_uncommitted_size(const std::vector<entry>& applied) {
    if (_state != role::leader) {
        return;
    }
    std::uint64_t size_bytes = 0;
    for (const entry& e : applied) {
        size_bytes += payload_bytes(e);
    }
    // Entries from before this leadership were never counted: clamp at zero.
    _uncommitted_bytes = size_bytes > _uncommitted_bytes ? 0 : _uncommitted_bytes - size_bytes;
}

void raft::flush_appends() {
    if (_append_pending && _state == role::leader) {
        bcast_append();
    }
    _append_pending = false;
}

bool raft::conf_change_pending() const {
    return _state == role::leader && _pending_conf_index > _log.applied();
}

void raft::apply_conf_change(const conf_change& cc) {
    UETCD_ASSERT(cc.node != no_node);
    switch (cc.type) {
    case conf_change_type::add_node:
        if (_prs.count(cc.node) == 0) {
            auto [it, ok] = _prs.emplace(cc.node,
                progress(_log.last_index() + 1, _max_inflight));
            // Counts as active so check-quorum does not fire before it answers.
            it->second.recent_active = true;
        }
        break;
    case conf_change_type::remove_node:
        _prs.erase(cc.node);
        if (_state == role::leader && cc.node == _id) {
            become_follower(_term, no_node);  // a removed leader steps down
        } else if (_state == role::leader && !_prs.empty()) {
            // A smaller quorum may commit more now.
            if (maybe_commit()) {
                bcast_append();
            }
            if (_lead_transferee == cc.node) {
                abort_leader_transfer();
            }
        }
        break;
    case conf_change_type::update_node:
        break;  // URLs live in cc.context: the application's business, not the core's
    }
    check_invariants();
}

}  // namespace uetcd::raft
