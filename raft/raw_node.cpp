// raw_node: wraps raft with the Ready/advance protocol (etcd rawnode.go).
#include "uetcd/raft/raw_node.hpp"

#include "uetcd/raft/codec.hpp"

namespace uetcd::raft {

raw_node::raw_node(const config& c)
    : _raft(c), _prev_soft(_raft.soft()), _prev_hard(_raft.hard()) {}

status raw_node::campaign() {
    message m;
    m.type = message_type::msg_hup;
    return _raft.step(m);
}

status raw_node::propose(bytes data) {
    message m;
    m.type = message_type::msg_prop;
    m.from = _raft.id();
    m.entries.push_back(entry{0, 0, entry_type::normal, std::move(data)});
    return _raft.step(m);
}

status raw_node::propose_conf_change(const conf_change& cc) {
    if (_raft.conf_change_pending()) {
        return failure{raft_error::conf_change_pending};
    }
    message m;
    m.type = message_type::msg_prop;
    m.from = _raft.id();
    m.entries.push_back(entry{0, 0, entry_type::conf_change, encode(cc)});
    return _raft.step(m);
}

namespace {
// A message from the network must name its sender, carry a term unless it is a forwarded
// proposal or read request, and carry contiguous entries that follow m.index. Checked
// here so that a corrupt or hostile peer cannot reach the core's assertions.
bool well_formed(const message& m) {
    if (m.from == no_node) {
        return false;
    }
    const bool termless = m.type == message_type::msg_prop ||
                          m.type == message_type::msg_read_index;
    if (m.term == 0 && !termless) {
        return false;
    }
    if (m.type == message_type::msg_app) {
        raft_term prev_term = m.log_term;
        for (std::size_t i = 0; i < m.entries.size(); ++i) {
            const entry& e = m.entries[i];
            if (e.index != m.index + 1 + i || e.term < prev_term || e.term > m.term) {
                return false;
            }
            prev_term = e.term;
        }
    }
    if (m.type == message_type::msg_snap && (!m.snap || m.snap->empty())) {
        return false;
    }
    return !(termless && m.entries.empty());
}
}  // namespace

status raw_node::step(const message& m) {
    if (is_local_message(m.type)) {
        return failure{raft_error::step_local_message};
    }
    if (!well_formed(m)) {
        return failure{raft_error::invalid_message};
    }
    if (is_response_message(m.type) && _raft.prs().count(m.from) == 0) {
        return failure{raft_error::step_peer_not_found};
    }
    return _raft.step(m);
}

void raw_node::read_index(bytes ctx) {
    message m;
    m.type = message_type::msg_read_index;
    m.entries.push_back(entry{0, 0, entry_type::normal, std::move(ctx)});
    (void)_raft.step(m);
}

void raw_node::transfer_leader(node_id transferee) {
    message m;
    m.type = message_type::msg_transfer_leader;
    m.from = transferee;
    (void)_raft.step(m);
}

void raw_node::report_unreachable(node_id id) {
    message m;
    m.type = message_type::msg_unreachable;
    m.from = id;
    (void)_raft.step(m);
}

void raw_node::report_snapshot(node_id id, bool failed) {
    message m;
    m.type = message_type::msg_snap_status;
    m.from = id;
    m.reject = failed;
    (void)_raft.step(m);
}

conf_state raw_node::apply_conf_change(const conf_change& cc) {
    _raft.apply_conf_change(cc);
    return conf_state{_raft.voters()};
}

bool raw_node::has_ready() const {
    const raft_log& log = _raft.log();
    const hard_state hs = _raft.hard();
    return _raft.append_pending() || _raft.soft() != _prev_soft ||
           (!hs.empty() && hs != _prev_hard) ||
           log.unstable_snapshot().has_value() || !_raft.msgs.empty() ||
           log.has_unstable_entries() || log.has_next_entries() ||
           !_raft.read_states.empty();
}

ready raw_node::ready() {
    _raft.flush_appends();
    struct ready rd;
    const raft_log& log = _raft.log();
    rd.entries = log.unstable_entries();
    rd.committed_entries = log.next_entries(_raft.max_committed_size_per_ready_bytes());
    rd.messages = std::move(_raft.msgs);
    _raft.msgs.clear();
    if (_raft.soft() != _prev_soft) {
        rd.soft_state = _raft.soft();
    }
    const hard_state hs = _raft.hard();
    if (hs != _prev_hard) {
        rd.hard_state = hs;
    }
    rd.snap = log.unstable_snapshot();
    rd.read_states = std::move(_raft.read_states);
    _raft.read_states.clear();
    // A vote or a term must reach the disk before any message that depends on it.
    rd.must_sync = !rd.entries.empty() || hs.vote != _prev_hard.vote ||
                   hs.term != _prev_hard.term;
    return rd;
}

void raw_node::advance(const struct ready& rd) {
    if (rd.soft_state) {
        _prev_soft = *rd.soft_state;
    }
    if (rd.hard_state) {
        _prev_hard = *rd.hard_state;
    }
    raft_index applied = 0;
    if (!rd.committed_entries.empty()) {
        applied = rd.committed_entries.back().index;
        _raft.reduce_uncommitted_size(rd.committed_entries);
    }
    if (rd.snap && rd.snap->meta.index > applied) {
        applied = rd.snap->meta.index;
    }
    if (applied > 0) {
        UETCD_ASSERT(applied <= _raft.log().committed());
        _raft.advance_applied(applied);
    }
    if (!rd.entries.empty()) {
        const entry& last = rd.entries.back();
        _raft.log().stable_to(last.index, last.term);
    }
    if (rd.snap) {
        _raft.log().stable_snap_to(rd.snap->meta.index);
    }
}

}  // namespace uetcd::raft
