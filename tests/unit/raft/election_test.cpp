// Leader election, pre-vote and check-quorum, as tables of cluster scenarios.
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::test_network;

TEST_CASE("election: a campaigning node wins a majority and leads", "[raft][election]") {
    struct row {
        std::size_t size;
        std::set<node_id> down;
        role want;
    };
    const std::vector<row> rows = {
        {1, {}, role::leader},
        {3, {}, role::leader},
        {3, {2}, role::leader},
        {3, {2, 3}, role::candidate},
        {5, {2, 3}, role::leader},
        {5, {2, 3, 4}, role::candidate},
    };
    for (const row& r : rows) {
        test_network net(r.size);
        for (node_id d : r.down) {
            net.isolate(d);
        }
        net.elect(1);
        CAPTURE(r.size, r.down.size());
        CHECK(net.core(1).state() == r.want);
        CHECK(net.core(1).term() == 1);
    }
}

TEST_CASE("election: followers time out within [election, 2*election) ticks",
    "[raft][election]") {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        test_network net(3, [&](config& c) { c.seed = seed; });
        const int timeout = net.core(1).randomized_election_ticks();
        CHECK(timeout >= 10);
        CHECK(timeout < 20);
        net.tick(1, timeout - 1);
        CHECK(net.core(1).state() == role::follower);
        net.tick(1, 1);
        CHECK(net.core(1).state() == role::candidate);
    }
}

TEST_CASE("election: a vote goes to an up-to-date log only (Raft 5.4.1)", "[raft][election]") {
    struct row {
        raft_index cand_index;
        raft_term cand_log_term;
        bool granted;
    };
    // The voter's log: (1,1) (2,2).
    const std::vector<row> rows = {
        {2, 2, true}, {3, 2, true}, {1, 2, false}, {1, 1, false}, {5, 1, false}, {1, 3, true},
    };
    for (const row& r : rows) {
        memory_storage s;
        s.append(uetcd::raft::testing::make_entries({{1, 1}, {2, 2}}));
        s.set_hard_state(hard_state{2, 0, 0});
        raw_node n(uetcd::raft::testing::test_config(1, {1, 2}, &s));
        message m = uetcd::raft::testing::make_message(message_type::msg_vote, 2, 1, 3);
        m.index = r.cand_index;
        m.log_term = r.cand_log_term;
        REQUIRE(n.step(m).ok());
        ready rd = n.ready();
        REQUIRE(rd.messages.size() == 1);
        CAPTURE(r.cand_index, r.cand_log_term);
        CHECK(rd.messages[0].type == message_type::msg_vote_resp);
        CHECK(rd.messages[0].reject == !r.granted);
        CHECK(n.hard().vote == (r.granted ? 2U : 0U));
    }
}

TEST_CASE("election: one vote per term", "[raft][election]") {
    test_network net(3);
    message m = uetcd::raft::testing::make_message(message_type::msg_vote, 2, 1, 1);
    REQUIRE(net.node(1).step(m).ok());
    m.from = 3;
    REQUIRE(net.node(1).step(m).ok());
    ready rd = net.node(1).ready();
    REQUIRE(rd.messages.size() == 2);
    CHECK_FALSE(rd.messages[0].reject);
    CHECK(rd.messages[1].reject);
    CHECK(net.core(1).vote() == 2);
}

TEST_CASE("election: the leader appends an empty entry of its term", "[raft][election]") {
    test_network net(3);
    net.elect(1);
    const auto& applied = net.nodes.at(2).applied;
    REQUIRE(applied.size() == 1);
    CHECK(applied[0].term == 1);
    CHECK(applied[0].data.empty());
    CHECK(net.core(2).lead() == 1);
}

TEST_CASE("pre-vote: a partitioned node does not inflate its term", "[raft][prevote]") {
    for (bool pre_vote : {false, true}) {
        test_network net(3, [&](config& c) { c.pre_vote = pre_vote; });
        net.elect(1);
        net.isolate(3);
        // The majority moves on, so 3's log falls behind.
        REQUIRE(net.node(1).propose("x").ok());
        net.stabilize();
        for (int i = 0; i < 100; ++i) {
            net.tick(3);
            net.stabilize();
        }
        CAPTURE(pre_vote);
        if (pre_vote) {
            CHECK(net.core(3).term() == 1);
            CHECK(net.core(3).state() == role::pre_candidate);
        } else {
            CHECK(net.core(3).term() > 1);
        }
        // On rejoin, with pre-vote the leader keeps leading.
        net.heal();
        net.tick(3, 30);
        net.stabilize();
        for (int i = 0; i < 5; ++i) {
            net.tick(1);
            net.stabilize();
        }
        if (pre_vote) {
            CHECK(net.core(1).state() == role::leader);
            CHECK(net.core(1).term() == 1);
        }
    }
}

TEST_CASE("check-quorum: a leader without a quorum steps down", "[raft][checkquorum]") {
    test_network net(3, [](config& c) { c.check_quorum = true; });
    net.elect(1);
    REQUIRE(net.core(1).state() == role::leader);
    net.isolate(1);
    for (int i = 0; i < 21; ++i) {
        net.tick(1);
        net.stabilize();
    }
    CHECK(net.core(1).state() == role::follower);
}

TEST_CASE("check-quorum: a leader that hears from a quorum stays", "[raft][checkquorum]") {
    test_network net(3, [](config& c) { c.check_quorum = true; });
    net.elect(1);
    net.isolate(3);
    for (int i = 0; i < 50; ++i) {
        net.tick(1);
        net.stabilize();
    }
    CHECK(net.core(1).state() == role::leader);
}

TEST_CASE("check-quorum: followers with a live leader ignore votes (lease)",
    "[raft][checkquorum]") {
    test_network net(3, [](config& c) { c.check_quorum = true; });
    net.elect(1);
    message m = uetcd::raft::testing::make_message(message_type::msg_vote, 3, 2, 5);
    m.index = 10;
    m.log_term = 5;
    REQUIRE(net.node(2).step(m).ok());
    CHECK(net.core(2).term() == 1);
    CHECK(net.core(2).lead() == 1);
    ready rd = net.node(2).ready();
    CHECK(rd.messages.empty());
}

TEST_CASE("election: a higher term makes a leader step down", "[raft][election]") {
    test_network net(3);
    net.elect(1);
    net.isolate(1);
    net.elect(2);
    REQUIRE(net.core(2).state() == role::leader);
    REQUIRE(net.core(2).term() == 2);
    net.heal();
    net.tick(2);
    net.stabilize();
    CHECK(net.core(1).state() == role::follower);
    CHECK(net.core(1).term() == 2);
    CHECK(net.core(1).lead() == 2);
}
