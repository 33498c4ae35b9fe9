// Leader transfer with msg_timeout_now.
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::test_network;

TEST_CASE("transfer: an up-to-date follower takes over at the next term", "[raft][transfer]") {
    for (bool check_quorum : {false, true}) {
        test_network net(3, [&](config& c) {
            c.check_quorum = check_quorum;
            c.pre_vote = check_quorum;
        });
        net.elect(1);
        net.node(1).transfer_leader(2);
        net.stabilize();
        CAPTURE(check_quorum);
        CHECK(net.core(2).state() == role::leader);
        CHECK(net.core(2).term() == 2);
        CHECK(net.core(1).state() == role::follower);
        CHECK(net.core(1).lead() == 2);
    }
}

TEST_CASE("transfer: a lagging transferee is caught up first", "[raft][transfer]") {
    test_network net(3);
    net.elect(1);
    net.isolate(3);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(net.node(1).propose("x").ok());
    }
    net.stabilize();
    net.heal();
    net.node(1).transfer_leader(3);
    CHECK(net.core(1).lead_transferee() == 3);
    // Proposals are refused while a transfer is in progress.
    CHECK(net.node(1).propose("blocked").error() == raft_error::proposal_dropped);
    net.stabilize();
    CHECK(net.core(3).state() == role::leader);
    CHECK(net.core(3).log().last_index() >= 7);
}

TEST_CASE("transfer: aborted after an election timeout when the transferee is down",
    "[raft][transfer]") {
    test_network net(3);
    net.elect(1);
    net.isolate(3);
    net.node(1).transfer_leader(3);
    REQUIRE(net.core(1).lead_transferee() == 3);
    for (int i = 0; i < 10; ++i) {
        net.tick(1);
        net.stabilize();
    }
    CHECK(net.core(1).lead_transferee() == no_node);
    CHECK(net.core(1).state() == role::leader);
    CHECK(net.node(1).propose("ok again").ok());
}

TEST_CASE("transfer: a follower forwards the request to the leader", "[raft][transfer]") {
    test_network net(3);
    net.elect(1);
    net.node(2).transfer_leader(2);
    net.stabilize();
    CHECK(net.core(2).state() == role::leader);
}

TEST_CASE("transfer: a forwarded request reaching a follower is forwarded again",
    "[raft][transfer]") {
    test_network net(3);
    net.elect(1);
    // Node 3 forwarded a transfer request to node 2, which is not the leader.
    message m = uetcd::raft::testing::make_message(message_type::msg_transfer_leader, 3, 2, 1);
    REQUIRE(net.node(2).step(m).ok());
    net.stabilize();
    CHECK(net.core(3).state() == role::leader);
}
