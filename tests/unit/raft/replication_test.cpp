// Log replication: commit rule, pipelining, size limits, back-off, batching, forwarding.
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::make_entries;
using uetcd::raft::testing::test_config;
using uetcd::raft::testing::test_network;

namespace {
message app_resp(node_id from, raft_term term, raft_index index) {
    message m = uetcd::raft::testing::make_message(message_type::msg_app_resp, from, 1, term);
    m.index = index;
    return m;
}
}  // namespace

TEST_CASE("replication: a proposal commits and applies everywhere in order",
    "[raft][replication]") {
    for (std::size_t size : {1U, 3U, 5U}) {
        test_network net(size);
        net.elect(1);
        for (int i = 0; i < 10; ++i) {
            bytes value = "v";
            value += std::to_string(i);
            REQUIRE(net.node(1).propose(value).ok());
        }
        net.stabilize();
        for (auto& [id, tn] : net.nodes) {
            REQUIRE(tn.applied.size() == 11);
            for (std::size_t i = 0; i < tn.applied.size(); ++i) {
                CHECK(tn.applied[i].index == i + 1);
            }
            CHECK(tn.applied.back().data == "v9");
        }
    }
}

TEST_CASE("replication: old-term entries commit only with a current-term entry (5.4.2)",
    "[raft][replication]") {
    memory_storage s;
    s.append(make_entries({{1, 1}, {2, 1}}));
    s.set_hard_state(hard_state{1, 0, 0});
    raw_node n(test_config(1, {1, 2, 3}, &s));
    REQUIRE(n.campaign().ok());
    message vote = uetcd::raft::testing::make_message(message_type::msg_vote_resp, 2, 1, 2);
    REQUIRE(n.step(vote).ok());
    REQUIRE(n.core().state() == role::leader);  // appended (3, 2)
    REQUIRE(n.step(app_resp(2, 2, 2)).ok());
    CHECK(n.core().log().committed() == 0);  // index 2 is replicated on a quorum, term 1
    REQUIRE(n.step(app_resp(2, 2, 3)).ok());
    CHECK(n.core().log().committed() == 3);
}

TEST_CASE("replication: the inflights window bounds pipelined msg_app", "[raft][replication]") {
    for (std::size_t window : {1U, 4U, 256U}) {
        test_network net(2, [&](config& c) { c.max_inflight_msgs = window; });
        net.elect(1);
        net.isolate(2);
        // Leader is in replicate state for 2 after the election round trip.
        REQUIRE(net.core(1).prs().at(2).state == progress_state::replicate);
        for (int i = 0; i < 300; ++i) {
            REQUIRE(net.node(1).propose("x").ok());
            net.process_ready(1);
        }
        std::size_t apps = 0;
        for (const message& m : net.in_flight) {
            apps += m.type == message_type::msg_app && m.to == 2 ? 1 : 0;
        }
        CAPTURE(window);
        CHECK(apps == std::min<std::size_t>(window, 300));
        CHECK(net.core(1).prs().at(2).is_paused() == (window <= 300));
    }
}

TEST_CASE("replication: msg_app respects max bytes but carries at least one entry",
    "[raft][replication]") {
    struct row {
        std::uint64_t max_bytes;
        std::size_t want_per_msg;
    };
    for (const row& r : std::vector<row>{{1, 1}, {250, 2}, {1000, 10}}) {
        test_network net(2, [&](config& c) { c.max_size_per_msg_bytes = r.max_bytes; });
        net.elect(1);
        net.isolate(2);
        REQUIRE(net.node(1).core().prs().at(2).state == progress_state::replicate);
        message prop;
        prop.type = message_type::msg_prop;
        prop.from = 1;
        for (int i = 0; i < 10; ++i) {
            prop.entries.push_back(entry{0, 0, entry_type::normal, std::string(100, 'x')});
        }
        REQUIRE(net.core(1).step(prop).ok());
        net.process_ready(1);
        REQUIRE_FALSE(net.in_flight.empty());
        CAPTURE(r.max_bytes);
        CHECK(net.in_flight.front().entries.size() == r.want_per_msg);
    }
}

TEST_CASE("replication: proposals made before a ready are batched in one msg_app",
    "[raft][replication]") {
    test_network net(3);
    net.elect(1);
    for (int i = 0; i < 50; ++i) {
        REQUIRE(net.node(1).propose("b").ok());
    }
    ready rd = net.node(1).ready();
    CHECK(rd.entries.size() == 50);
    std::size_t apps = 0;
    for (const message& m : rd.messages) {
        apps += m.type == message_type::msg_app ? 1 : 0;
    }
    // One msg_app per follower carries all 50 entries.
    CHECK(apps == 2);
    CHECK(rd.must_sync);
    net.node(1).advance(rd);
}

TEST_CASE("replication: fast back-off needs few round trips over a long conflict",
    "[raft][backoff]") {
    // Leader log: 1..2 term 1, 3..52 term 3. Follower log: 1..2 term 1, 3..102 term 2.
    memory_storage ls;
    memory_storage fs;
    std::vector<entry> lead_ents = make_entries({{1, 1}, {2, 1}});
    std::vector<entry> foll_ents = lead_ents;
    for (raft_index i = 3; i <= 52; ++i) {
        lead_ents.push_back(entry{3, i, entry_type::normal, {}});
    }
    for (raft_index i = 3; i <= 102; ++i) {
        foll_ents.push_back(entry{2, i, entry_type::normal, {}});
    }
    ls.append(lead_ents);
    fs.append(foll_ents);
    ls.set_hard_state(hard_state{3, 1, 2});
    fs.set_hard_state(hard_state{3, 0, 2});
    raw_node leader(test_config(1, {1, 2}, &ls));
    raw_node follower(test_config(2, {1, 2}, &fs));
    REQUIRE(leader.campaign().ok());
    std::deque<message> q;
    auto pump = [&](raw_node& n) {
        ready rd = n.ready();
        memory_storage& st = &n == &leader ? ls : fs;
        st.append(rd.entries);
        for (auto& m : rd.messages) {
            q.push_back(m);
        }
        n.advance(rd);
    };
    pump(leader);
    int rejects = 0;
    for (int i = 0; i < 100 && !q.empty(); ++i) {
        message m = q.front();
        q.pop_front();
        rejects += m.type == message_type::msg_app_resp && m.reject ? 1 : 0;
        raw_node& target = m.to == 1 ? leader : follower;
        (void)target.step(m);
        pump(leader);
        pump(follower);
    }
    CHECK(leader.core().state() == role::leader);
    CHECK(rejects <= 3);
    CHECK(follower.core().log().last_index() == 53);
    CHECK(leader.core().log().last_index() == 53);
    CHECK(follower.core().log().term_or_zero(52) == 3);
    CHECK(follower.core().log().committed() == 53);
}

TEST_CASE("replication: probe back-off table (maybe_decr_to)", "[raft][backoff]") {
    struct row {
        progress_state state;
        raft_index match;
        raft_index next;
        raft_index rejected;
        raft_index hint;
        bool want;
        raft_index want_next;
    };
    const std::vector<row> rows = {
        {progress_state::replicate, 5, 10, 5, 5, false, 10},  // stale
        {progress_state::replicate, 5, 10, 4, 4, false, 10},
        {progress_state::replicate, 5, 10, 9, 9, true, 6},
        {progress_state::probe, 0, 2, 0, 0, false, 2},
        {progress_state::probe, 0, 10, 5, 5, false, 10},      // not the latest probe
        {progress_state::probe, 0, 10, 9, 9, true, 9},
        {progress_state::probe, 0, 10, 9, 2, true, 3},        // jump by the hint
        {progress_state::probe, 5, 10, 9, 2, true, 6},        // never at or below match
    };
    for (const row& r : rows) {
        progress pr(r.next, 4);
        pr.match = r.match;
        if (r.state == progress_state::replicate) {
            pr.become_replicate();
            pr.next = r.next;
        }
        CAPTURE(r.rejected, r.hint);
        CHECK(pr.maybe_decr_to(r.rejected, r.hint) == r.want);
        CHECK(pr.next == r.want_next);
    }
}

TEST_CASE("replication: follower proposals are forwarded or dropped", "[raft][proposal]") {
    SECTION("forwarded to the leader") {
        test_network net(3);
        net.elect(1);
        REQUIRE(net.node(2).propose("fwd").ok());
        net.stabilize();
        CHECK(net.nodes.at(1).applied.back().data == "fwd");
    }
    SECTION("dropped with no leader") {
        test_network net(3);
        CHECK(net.node(2).propose("x").error() == raft_error::proposal_dropped);
    }
    SECTION("dropped when forwarding is disabled") {
        test_network net(3, [](config& c) { c.disable_proposal_forwarding = true; });
        net.elect(1);
        CHECK(net.node(2).propose("x").error() == raft_error::proposal_dropped);
    }
    SECTION("dropped by a candidate") {
        test_network net(3);
        net.isolate(2);
        (void)net.node(2).campaign();
        CHECK(net.node(2).propose("x").error() == raft_error::proposal_dropped);
    }
}

TEST_CASE("inflights: add, free_to and full", "[raft][inflights]") {
    inflights ins(4);
    for (raft_index i : {2U, 4U, 6U, 8U}) {
        ins.add(i);
    }
    CHECK(ins.full());
    ins.free_to(1);  // below the window: nothing
    CHECK(ins.count() == 4);
    ins.free_to(5);
    CHECK(ins.count() == 2);
    ins.add(10);
    ins.add(12);  // wraps around the ring
    CHECK(ins.full());
    ins.free_first_one();
    CHECK(ins.count() == 3);
    ins.free_to(100);
    CHECK(ins.count() == 0);
}

TEST_CASE("local messages are refused from the network", "[raft][step]") {
    test_network net(3);
    for (message_type t : {message_type::msg_hup, message_type::msg_beat,
             message_type::msg_check_quorum, message_type::msg_unreachable,
             message_type::msg_snap_status}) {
        message m;
        m.type = t;
        m.from = 2;
        CHECK(net.node(1).step(m).error() == raft_error::step_local_message);
    }
    message resp = app_resp(9, 1, 1);
    CHECK(net.node(1).step(resp).error() == raft_error::step_peer_not_found);
}

TEST_CASE("replication: a leader without a quorum stops accepting past the uncommitted bound",
    "[raft][replication]") {
    test_network net(3, [](config& c) { c.max_uncommitted_entries_bytes = 250; });
    net.elect(1);
    net.isolate(2);
    net.isolate(3);
    const bytes payload(100, 'p');
    CHECK(net.node(1).propose(payload).ok());
    CHECK(net.node(1).propose(payload).ok());
    CHECK(net.node(1).propose(payload).error() == raft_error::proposal_dropped);
    net.stabilize();
    net.heal();
    net.tick(1);
    net.stabilize();  // the two entries commit and apply: room again
    CHECK(net.nodes.at(2).applied.size() == 3);
    CHECK(net.node(1).propose(payload).ok());
}

TEST_CASE("replication: committed entries are handed out in bounded slices",
    "[raft][replication]") {
    memory_storage s;
    std::vector<entry> ents;
    for (raft_index i = 1; i <= 10; ++i) {
        ents.push_back(entry{1, i, entry_type::normal, bytes(100, 'c')});
    }
    s.append(ents);
    s.set_hard_state(hard_state{1, 0, 10});
    config c = test_config(1, {1, 2, 3}, &s);
    c.max_committed_size_per_ready_bytes = 300;
    raw_node n(c);
    std::vector<std::size_t> sizes;
    for (int i = 0; i < 10 && n.has_ready(); ++i) {
        ready rd = n.ready();
        sizes.push_back(rd.committed_entries.size());
        n.advance(rd);
    }
    CHECK(sizes == std::vector<std::size_t>{3, 3, 3, 1});
    CHECK(n.core().log().applied() == 10);
}

TEST_CASE("malformed network messages are refused before the core sees them", "[raft][step]") {
    test_network net(3);
    net.elect(1);
    auto app = [] {
        message m = uetcd::raft::testing::make_message(message_type::msg_app, 1, 2, 1);
        m.index = 1;
        m.log_term = 1;
        m.entries = make_entries({{2, 1}, {3, 1}});
        return m;
    };
    std::vector<message> bad(6, app());
    bad[0].from = no_node;
    bad[1].term = 0;
    bad[2].entries = make_entries({{2, 1}, {4, 1}});  // a gap
    bad[3].entries = make_entries({{2, 2}});          // newer than the message's term
    bad[4].type = message_type::msg_snap;             // a snapshot message without one
    bad[5].type = message_type::msg_prop;             // a proposal without entries
    bad[5].entries.clear();
    bad[5].term = 0;
    for (std::size_t i = 0; i < bad.size(); ++i) {
        CAPTURE(i);
        CHECK(net.node(2).step(bad[i]).error() == raft_error::invalid_message);
    }
    CHECK(net.node(2).step(app()).ok());
}
