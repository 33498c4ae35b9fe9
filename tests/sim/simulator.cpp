// simulator: see simulator.hpp. Phases per run: chaos (faults on) for the first part of
// the steps, then heal (every node up, no partition, no drops) during which a leader must
// be elected and a probe entry must commit (liveness). Safety checks run after each step.
#include "simulator.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <memory>

#include "linearizability.hpp"
#include "uetcd/raft/codec.hpp"
#include "uetcd/prng.hpp"
#include "uetcd/raft/raw_node.hpp"

namespace uetcd::sim {

using namespace uetcd::raft;

namespace {

// Bounds that keep one seed fast: the checker is exponential in the worst case.
constexpr std::size_t history_ops_max = 48;
constexpr std::size_t net_queue_max = 50'000;
constexpr std::uint64_t liveness_window_ticks = 400;
constexpr std::uint64_t client_timeout_ticks = 60;

struct envelope {
    std::uint64_t deliver_at = 0;
    message m;
};

struct client {
    node_id node = no_node;
    bool busy = false;
    std::size_t hist = 0;
    std::uint64_t deadline = 0;
};

struct pending_read {
    std::size_t client = 0;
    raft_index index = 0;
};

struct sim_node {
    node_id id = no_node;
    bool up = true;
    std::uint64_t restarts = 0;
    std::unique_ptr<memory_storage> storage;
    std::unique_ptr<raw_node> rn;
    kv_state sm;
    raft_index applied = 0;
    raft_index commit_seen = 0;
    std::map<std::uint64_t, std::size_t> waiting_apply;  // op id -> client
    std::map<bytes, std::size_t> waiting_read;           // read ctx -> client
    std::vector<pending_read> reads;
};

class simulator {
public:
    explicit simulator(const sim_options& opt) : _opt(opt), _rng(opt.seed) { setup(); }
    sim_outcome run();

private:
    void setup();
    void fail(const std::string& what);
    void log(const char* what, node_id id) const;
    void start_node(sim_node& n);
    void crash(sim_node& n);
    void faults();
    void heal_all();
    void propose_conf_change(sim_node& leader);
    void step_once(std::uint64_t heal_at);
    void dump_node(const sim_node& n) const;
    void apply_conf_change(sim_node& n, const entry& e);
    void deliver();
    void enqueue(message m);
    void handle_ready(sim_node& n);
    void install_snapshot(sim_node& n, const snapshot& s);
    void apply_entry(sim_node& n, const entry& e);
    void maybe_compact(sim_node& n);
    void serve_reads(sim_node& n);
    void clients_act();
    void start_op(std::size_t c);
    void complete(std::size_t c, op_result r);
    void abandon(std::size_t c);
    void liveness_probe();
    void check_step();
    void check_leaders();
    void check_leader_completeness(const sim_node& n);
    void check_committed_prefix(const sim_node& n);
    void check_log_matching(const sim_node& a, const sim_node& b);

    sim_options _opt;
    prng _rng;
    config _base;
    std::uint64_t _now = 0;
    std::uint64_t _event_seq = 0;
    std::uint64_t _op_ids = 0;
    bool _chaos = true;
    std::vector<sim_node> _nodes;
    std::vector<envelope> _net;
    std::vector<int> _group;
    std::uint64_t _drop_per_mille = 0;
    std::uint64_t _dup_per_mille = 0;
    std::uint64_t _delay_ticks_max = 0;
    std::uint64_t _snap_interval = 0;
    std::uint64_t _leader_crash_per_mille = 0;
    bool _conf_changes = false;
    std::set<node_id> _removed;  // as of the newest change applied anywhere
    raft_index _last_conf_index = 0;
    std::map<raft_index, entry> _committed;  // every applied entry, by index
    std::map<raft_term, node_id> _leaders;
    std::vector<history_op> _history;
    std::vector<client> _clients;
    std::uint64_t _probe_id = 0;
    bool _probe_committed = false;
    std::string _failure;
    std::vector<node_id> _snap_dropped;
    sim_outcome _stats;
};

void simulator::setup() {
    _base.election_ticks = 10;
    _base.heartbeat_ticks = 1 + static_cast<int>(_rng.below(2));
    _base.pre_vote = _rng.chance(500);
    _base.check_quorum = _rng.chance(500);
    const std::size_t inflight[] = {1, 4, 256};
    _base.max_inflight_msgs = inflight[_rng.below(3)];
    const std::uint64_t msg_bytes[] = {1, 64, 1024 * 1024};  // 1: one entry per msg_app
    _base.max_size_per_msg_bytes = msg_bytes[_rng.below(3)];
    _base.max_committed_size_per_ready_bytes = _rng.chance(300) ? 64 : 64 * 1024 * 1024;
    _base.max_uncommitted_entries_bytes = _rng.chance(300) ? 256 : 64 * 1024 * 1024;
    _base.seed = _opt.seed;
    _base.test_only_break_commit_rule = _opt.break_commit_rule;
    _drop_per_mille = _rng.below(150);
    _dup_per_mille = _rng.below(40);
    _delay_ticks_max = _rng.below(4);
    _snap_interval = 8 + _rng.below(32);
    _leader_crash_per_mille = _rng.below(40);
    _conf_changes = _opt.nodes >= 5 && _rng.chance(500);
    if (_opt.verbose) {
        std::fprintf(stderr, "config: pre_vote %d check_quorum %d heartbeat %d inflight %zu "
            "msg_bytes %llu drop %llu dup %llu delay %llu snap_interval %llu conf_changes %d\n",
            _base.pre_vote, _base.check_quorum, _base.heartbeat_ticks, _base.max_inflight_msgs,
            static_cast<unsigned long long>(_base.max_size_per_msg_bytes),
            static_cast<unsigned long long>(_drop_per_mille),
            static_cast<unsigned long long>(_dup_per_mille),
            static_cast<unsigned long long>(_delay_ticks_max),
            static_cast<unsigned long long>(_snap_interval), _conf_changes);
    }
    for (node_id id = 1; id <= _opt.nodes; ++id) {
        _base.peers.push_back(id);
    }
    _nodes.resize(_opt.nodes);
    _group.assign(_opt.nodes, 0);
    for (std::size_t i = 0; i < _opt.nodes; ++i) {
        _nodes[i].id = i + 1;
        _nodes[i].storage = std::make_unique<memory_storage>();
        start_node(_nodes[i]);
    }
    _clients.resize(3);
}

void simulator::fail(const std::string& what) {
    if (_failure.empty()) {
        _failure = "step " + std::to_string(_now) + ": " + what;
    }
}

void simulator::log(const char* what, node_id id) const {
    if (_opt.verbose) {
        std::fprintf(stderr, "[%llu] node %llu: %s\n", static_cast<unsigned long long>(_now),
            static_cast<unsigned long long>(id), what);
    }
}

void simulator::start_node(sim_node& n) {
    config c = _base;
    c.id = n.id;
    c.storage = n.storage.get();
    c.seed = _opt.seed + n.restarts * 7919;
    auto snap = n.storage->get_snapshot();
    // The state machine restarts from the snapshot: entries after it are applied again.
    c.applied = snap->meta.index;
    n.rn = std::make_unique<raw_node>(c);
    n.up = true;
    auto sm = kv_state::decode(snap->data);
    if (!sm) {
        fail("snapshot data does not decode");
        sm = kv_state{};
    }
    n.sm = *sm;
    n.applied = snap->meta.index;
    n.commit_seen = n.rn->hard().commit;
}

void simulator::crash(sim_node& n) {
    log("crash", n.id);
    ++_stats.crashes;
    n.up = false;
    n.rn.reset();
    n.sm = kv_state{};
    for (auto& [id, c] : n.waiting_apply) {
        abandon(c);
    }
    for (auto& [ctx, c] : n.waiting_read) {
        abandon(c);
    }
    for (const pending_read& r : n.reads) {
        abandon(r.client);
    }
    n.waiting_apply.clear();
    n.waiting_read.clear();
    n.reads.clear();
    ++n.restarts;
}

void simulator::faults() {
    for (sim_node& n : _nodes) {
        if (n.up && _rng.chance(6)) {
            crash(n);
        } else if (!n.up && _rng.chance(50)) {
            log("restart", n.id);
            start_node(n);
        }
    }
    // A leader that crashes soon after winning leaves entries of its term on a minority:
    // the raw material of Raft's Figure 8, which the commit rule (§5.4.2) must survive.
    for (sim_node& n : _nodes) {
        if (!n.up || n.rn->core().state() != role::leader) {
            continue;
        }
        if (_rng.chance(_leader_crash_per_mille)) {
            crash(n);
        } else if (_rng.chance(5)) {
            // Asked of any member: followers forward the request to their leader.
            sim_node& asked = _nodes[_rng.below(_nodes.size())];
            if (asked.up) {
                asked.rn->transfer_leader(1 + _rng.below(_nodes.size()));
                log("transfer leader", n.id);
            }
        } else if (_conf_changes && _rng.chance(8)) {
            propose_conf_change(n);
        }
    }
    if (_rng.chance(10)) {
        for (int& g : _group) {
            g = static_cast<int>(_rng.below(3));
        }
        log("partition", 0);
    } else if (_rng.chance(25)) {
        std::fill(_group.begin(), _group.end(), 0);
    }
}

// Single-member changes: remove a voter (keeping at least three) or add a non-voter back.
// With two voters of which only one has the longer log, elections without pre-vote can
// collide for many rounds: not unsafe, but it makes the liveness bound flaky.
void simulator::propose_conf_change(sim_node& leader) {
    const node_id target = 1 + _rng.below(_nodes.size());
    const std::vector<node_id> voters = leader.rn->core().voters();
    const bool is_voter = std::find(voters.begin(), voters.end(), target) != voters.end();
    if (is_voter && voters.size() <= 3) {
        return;
    }
    conf_change cc;
    cc.id = ++_op_ids;
    cc.type = is_voter ? conf_change_type::remove_node : conf_change_type::add_node;
    cc.node = target;
    (void)leader.rn->propose_conf_change(cc);
    log(is_voter ? "propose remove" : "propose add", target);
}

void simulator::apply_conf_change(sim_node& n, const entry& e) {
    auto cc = decode_conf_change(e.data);
    if (!cc.ok()) {
        fail("conf change entry does not decode");
        return;
    }
    n.rn->apply_conf_change(*cc);
    if (e.index <= _last_conf_index) {
        return;  // a member replaying an old change after a restart
    }
    _last_conf_index = e.index;
    ++_stats.conf_changes;
    if (cc->type == conf_change_type::remove_node) {
        _removed.insert(cc->node);
    } else if (cc->type == conf_change_type::add_node) {
        _removed.erase(cc->node);
    }
}

void simulator::heal_all() {
    _chaos = false;
    std::fill(_group.begin(), _group.end(), 0);
    for (sim_node& n : _nodes) {
        if (!n.up) {
            start_node(n);
        }
    }
}

void simulator::enqueue(message m) {
    if (_net.size() >= net_queue_max) {
        return;  // a full network drops, like a full socket buffer
    }
    const bool lossy = _chaos;
    if (lossy && _rng.chance(_drop_per_mille)) {
        if (m.type == message_type::msg_snap) {
            _snap_dropped.push_back(m.to);  // reported after advance()
        }
        return;
    }
    if (lossy && _rng.chance(_dup_per_mille)) {
        _net.push_back(envelope{_now + 1 + _rng.below(_delay_ticks_max + 1), m});
    }
    _net.push_back(envelope{_now + 1 + _rng.below(_delay_ticks_max + 1), std::move(m)});
}

void simulator::deliver() {
    std::vector<envelope> due;
    std::vector<envelope> later;
    for (envelope& e : _net) {
        (e.deliver_at <= _now ? due : later).push_back(std::move(e));
    }
    _net.swap(later);
    for (std::size_t i = due.size(); i > 1; --i) {
        std::swap(due[i - 1], due[_rng.below(i)]);
    }
    for (envelope& e : due) {
        const message& m = e.m;
        sim_node& target = _nodes[m.to - 1];
        sim_node& source = _nodes[m.from - 1];
        // Like etcd's peer transport, a member refuses messages from a member it has seen
        // removed (it is not among its voters), so a removed member that never learned of
        // its removal cannot force elections on those that did.
        const bool fenced = target.up && target.rn->core().prs().count(m.from) == 0;
        const bool cut = _group[m.to - 1] != _group[m.from - 1] || fenced;
        if (!target.up || cut) {
            if (m.type == message_type::msg_snap && source.up) {
                source.rn->report_snapshot(m.to, true);
            }
            // Sometimes the transport notices (a refused connection) and says so.
            if (source.up && _rng.chance(300)) {
                source.rn->report_unreachable(m.to);
            }
            continue;
        }
        (void)target.rn->step(m);
        if (m.type == message_type::msg_snap && source.up) {
            source.rn->report_snapshot(m.to, false);
        }
    }
}

// Persist, then send, then apply, then advance: the Ready contract (raw_node.hpp).
void simulator::handle_ready(sim_node& n) {
    if (!n.rn->has_ready()) {
        return;
    }
    ready rd = n.rn->ready();
    if (rd.snap) {
        if (!n.storage->apply_snapshot(*rd.snap).ok()) {
            fail("ready.snap is not newer than the stored snapshot");
        }
    }
    n.storage->append(rd.entries);
    if (rd.hard_state) {
        if (rd.hard_state->commit < n.storage->get_hard_state().commit) {
            fail("persisted commit index went backwards on node " + std::to_string(n.id));
        }
        n.storage->set_hard_state(*rd.hard_state);
    }
    for (message& m : rd.messages) {
        enqueue(std::move(m));
    }
    if (rd.snap) {
        install_snapshot(n, *rd.snap);
    }
    for (const entry& e : rd.committed_entries) {
        apply_entry(n, e);
    }
    for (const read_state& rs : rd.read_states) {
        auto it = n.waiting_read.find(rs.request_ctx);
        if (it != n.waiting_read.end()) {
            n.reads.push_back(pending_read{it->second, rs.index});
            n.waiting_read.erase(it);
        }
    }
    n.rn->advance(rd);
    for (node_id to : _snap_dropped) {
        n.rn->report_snapshot(to, true);
    }
    _snap_dropped.clear();
    serve_reads(n);
    maybe_compact(n);
}

void simulator::install_snapshot(sim_node& n, const snapshot& s) {
    auto sm = kv_state::decode(s.data);
    if (!sm) {
        fail("received snapshot does not decode");
        return;
    }
    if (s.meta.index <= n.applied) {
        fail("snapshot at or below the applied index");
    }
    n.sm = *sm;
    n.applied = s.meta.index;
    ++_stats.snapshots_installed;
}

void simulator::apply_entry(sim_node& n, const entry& e) {
    if (e.index != n.applied + 1) {
        fail("node " + std::to_string(n.id) + " applied index " + std::to_string(e.index) +
             " after " + std::to_string(n.applied));
    }
    n.applied = e.index;
    // State machine safety: no two members apply different entries at one index.
    auto [it, first] = _committed.emplace(e.index, e);
    if (!first && !(it->second == e)) {
        fail("state machine safety: index " + std::to_string(e.index) + " applied as term " +
             std::to_string(e.term) + " on node " + std::to_string(n.id) + " but term " +
             std::to_string(it->second.term) + " elsewhere");
    }
    if (e.type == entry_type::conf_change) {
        apply_conf_change(n, e);
        return;
    }
    if (e.data.rfind("probe", 0) == 0) {
        _probe_committed = _probe_committed || !_chaos;
        return;
    }
    auto op = decode_op(e.data);
    if (!op) {
        return;  // an empty entry from a new leader
    }
    auto r = n.sm.apply(*op);
    auto w = n.waiting_apply.find(op->id);
    if (w != n.waiting_apply.end()) {
        const std::size_t c = w->second;
        n.waiting_apply.erase(w);
        if (r) {
            complete(c, *r);
        } else {
            abandon(c);
        }
    }
}

void simulator::maybe_compact(sim_node& n) {
    const raft_index first = n.storage->first_index();
    if (n.applied < first || n.applied - first + 1 < _snap_interval) {
        return;
    }
    const conf_state cs{n.rn->core().voters()};
    auto snap = n.storage->create_snapshot(n.applied, &cs, n.sm.encode());
    if (!snap.ok()) {
        return;
    }
    const raft_index keep = _rng.below(6);
    if (n.applied > keep && n.applied - keep >= first) {
        (void)n.storage->compact(n.applied - keep);
    }
}

void simulator::serve_reads(sim_node& n) {
    auto it = n.reads.begin();
    while (it != n.reads.end()) {
        if (n.applied >= it->index) {
            const kv_op& op = _history[_clients[it->client].hist].op;
            complete(it->client, n.sm.values[op.key % kv_key_count]);
            ++_stats.reads_served;
            it = n.reads.erase(it);
        } else {
            ++it;
        }
    }
}

void simulator::complete(std::size_t c, op_result r) {
    client& cl = _clients[c];
    if (!cl.busy) {
        return;
    }
    history_op& h = _history[cl.hist];
    h.ret = ++_event_seq;
    h.result = r;
    cl.busy = false;
    ++_stats.ops_completed;
}

void simulator::abandon(std::size_t c) {
    _clients[c].busy = false;  // the op stays in the history with no return: indeterminate
}

void simulator::start_op(std::size_t c) {
    std::vector<sim_node*> up;
    for (sim_node& n : _nodes) {
        if (n.up) {
            up.push_back(&n);
        }
    }
    if (up.empty()) {
        return;
    }
    sim_node& n = *up[_rng.below(up.size())];
    if (_history.size() >= history_ops_max) {
        const kv_op load{++_op_ids, op_kind::put, kv_tracked_keys, 1, 0};
        (void)n.rn->propose(encode_op(load));
        return;
    }
    kv_op op;
    op.id = ++_op_ids;
    op.kind = static_cast<op_kind>(_rng.below(3));
    op.key = static_cast<std::uint8_t>(_rng.below(kv_tracked_keys));
    op.arg1 = static_cast<std::int64_t>(_rng.below(4));
    op.arg2 = static_cast<std::int64_t>(_rng.below(4));
    client& cl = _clients[c];
    cl = client{n.id, true, _history.size(), _now + client_timeout_ticks};
    _history.push_back(history_op{op, ++_event_seq, never_returned, 0});
    if (op.kind == op_kind::get && _rng.chance(500)) {
        const bytes ctx = "read " + std::to_string(op.id);
        n.waiting_read[ctx] = c;
        n.rn->read_index(ctx);
        return;
    }
    if (!n.rn->propose(encode_op(op)).ok()) {
        _history.pop_back();  // dropped before reaching any log: it never happened
        cl.busy = false;
        return;
    }
    n.waiting_apply[op.id] = c;
}

void simulator::clients_act() {
    for (std::size_t c = 0; c < _clients.size(); ++c) {
        client& cl = _clients[c];
        if (cl.busy && _now > cl.deadline) {
            sim_node& n = _nodes[cl.node - 1];
            std::erase_if(n.waiting_apply, [&](const auto& kv) { return kv.second == c; });
            std::erase_if(n.waiting_read, [&](const auto& kv) { return kv.second == c; });
            std::erase_if(n.reads, [&](const pending_read& r) { return r.client == c; });
            abandon(c);
        } else if (!cl.busy && _rng.chance(120)) {
            start_op(c);
        }
    }
}

void simulator::liveness_probe() {
    if (_probe_committed) {
        return;
    }
    for (sim_node& n : _nodes) {
        if (n.up && n.rn->core().state() == role::leader && _now % 20 == 0) {
            (void)n.rn->propose("probe " + std::to_string(++_probe_id));
        }
    }
}

void simulator::check_leaders() {
    for (const sim_node& n : _nodes) {
        if (!n.up || n.rn->core().state() != role::leader) {
            continue;
        }
        const raft_term t = n.rn->core().term();
        auto [it, first] = _leaders.emplace(t, n.id);
        if (!first && it->second != n.id) {
            fail("election safety: nodes " + std::to_string(it->second) + " and " +
                 std::to_string(n.id) + " both lead term " + std::to_string(t));
        }
        if (first) {
            log("became leader", n.id);
            ++_stats.leaders_elected;
            check_leader_completeness(n);
        }
    }
}

// Raft §5.4: a new leader's log holds every entry committed before its term.
void simulator::check_leader_completeness(const sim_node& n) {
    const raft_log& log = n.rn->core().log();
    for (auto it = _committed.lower_bound(log.first_index()); it != _committed.end(); ++it) {
        if (it->first > log.last_index() || log.term_or_zero(it->first) != it->second.term) {
            fail("leader completeness: leader " + std::to_string(n.id) + " of term " +
                 std::to_string(n.rn->core().term()) + " lacks committed index " +
                 std::to_string(it->first));
            return;
        }
    }
}

// Every entry a member believes committed agrees with what was applied anywhere.
void simulator::check_committed_prefix(const sim_node& n) {
    const raft_log& log = n.rn->core().log();
    const raft_index commit = log.committed();
    raft_index lo = std::max<raft_index>(log.first_index(), commit > 64 ? commit - 64 : 1);
    for (raft_index i = lo; i <= commit; ++i) {
        auto it = _committed.find(i);
        if (it != _committed.end() && log.term_or_zero(i) != it->second.term) {
            fail("committed entry " + std::to_string(i) + " differs on node " +
                 std::to_string(n.id));
            return;
        }
    }
}

// Raft §5.3 log matching: same index and term imply identical logs up to there.
void simulator::check_log_matching(const sim_node& a, const sim_node& b) {
    const raft_log& la = a.rn->core().log();
    const raft_log& lb = b.rn->core().log();
    const raft_index lo = std::max(la.first_index(), lb.first_index());
    const raft_index hi = std::min(la.last_index(), lb.last_index());
    bool matched = false;
    for (raft_index i = hi; i >= lo && i > 0; --i) {
        const raft_term ta = la.term_or_zero(i);
        const raft_term tb = lb.term_or_zero(i);
        if (matched && ta != tb) {
            fail("log matching: nodes " + std::to_string(a.id) + " and " +
                 std::to_string(b.id) + " agree above index " + std::to_string(i) +
                 " but differ at it");
            return;
        }
        if (!matched && ta == tb) {
            matched = true;
            auto ea = la.slice(i, i + 1, no_limit);
            auto eb = lb.slice(i, i + 1, no_limit);
            if (ea.ok() && eb.ok() && !(*ea == *eb)) {
                fail("log matching: same index and term, different data at " +
                     std::to_string(i));
                return;
            }
        }
    }
}

void simulator::check_step() {
    for (sim_node& n : _nodes) {
        if (!n.up) {
            continue;
        }
        const raft_index commit = n.rn->hard().commit;
        if (commit < n.commit_seen) {
            fail("commit index went backwards on node " + std::to_string(n.id));
        }
        n.commit_seen = commit;
        check_committed_prefix(n);
    }
    check_leaders();
    for (std::size_t i = 0; i < _nodes.size(); ++i) {
        for (std::size_t j = i + 1; j < _nodes.size(); ++j) {
            if (_nodes[i].up && _nodes[j].up) {
                check_log_matching(_nodes[i], _nodes[j]);
            }
        }
    }
}

// One line of a member's raft state, for --verbose (and SIM_TRACE=1: after every step).
void simulator::dump_node(const sim_node& n) const {
    const auto& r = n.rn->core();
    std::string voters;
    for (node_id v : r.voters()) {
        voters += std::to_string(v) + ",";
    }
    std::fprintf(stderr,
        "  [%llu] node %llu: %s term %llu vote %llu lead %llu last %llu/%llu commit %llu "
        "applied %llu timeout %d voters %s%s\n",
        static_cast<unsigned long long>(_now), static_cast<unsigned long long>(n.id),
        to_string(r.state()), static_cast<unsigned long long>(r.term()),
        static_cast<unsigned long long>(r.vote()), static_cast<unsigned long long>(r.lead()),
        static_cast<unsigned long long>(r.log().last_index()),
        static_cast<unsigned long long>(r.log().last_term()),
        static_cast<unsigned long long>(r.log().committed()),
        static_cast<unsigned long long>(r.log().applied()), r.randomized_election_ticks(),
        voters.c_str(), _removed.count(n.id) != 0 ? " (removed)" : "");
}

void simulator::step_once(std::uint64_t heal_at) {
    if (_now == heal_at) {
        heal_all();
    }
    deliver();
    if (_chaos) {
        faults();
    }
    for (sim_node& n : _nodes) {
        // A slow disk: this member's ready waits a step, so a crash can lose it.
        if (n.up && !(_chaos && _rng.chance(100))) {
            handle_ready(n);
        }
    }
    for (sim_node& n : _nodes) {
        if (n.up) {
            n.rn->tick();
        }
    }
    clients_act();
    if (!_chaos) {
        liveness_probe();
    }
    check_step();
}

sim_outcome simulator::run() {
    const std::uint64_t heal_at =
        _opt.steps > liveness_window_ticks ? _opt.steps - liveness_window_ticks : 0;
    const bool trace = _opt.verbose && std::getenv("SIM_TRACE") != nullptr;
    for (_now = 0; _now < _opt.steps && _failure.empty(); ++_now) {
        step_once(heal_at);
        for (const sim_node& n : _nodes) {
            if (trace && n.up) {
                dump_node(n);
            }
        }
    }
    for (const sim_node& n : _nodes) {
        if (_opt.verbose && n.up) {
            dump_node(n);
        }
    }
    if (_failure.empty() && !_probe_committed) {
        fail("liveness: nothing committed within " + std::to_string(liveness_window_ticks) +
             " ticks after the faults healed");
    }
    sim_outcome out = _stats;
    if (_failure.empty()) {
        const lin_verdict v = check_linearizable(_history);
        out.lin_budget_exceeded = v == lin_verdict::budget_exceeded;
        if (v == lin_verdict::not_linearizable) {
            fail("KV history is not linearizable");
        }
    }
    out.ok = _failure.empty();
    out.failure = _failure;
    out.committed = _committed.size();
    out.history_ops = _history.size();
    return out;
}

}  // namespace

sim_outcome run_simulation(const sim_options& opt) {
    simulator s(opt);
    return s.run();
}

}  // namespace uetcd::sim
