// Single-member configuration changes through committed conf-change entries.
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::test_network;

TEST_CASE("conf change: adding a node lets it catch up and count in the quorum",
    "[raft][confchange]") {
    test_network net(3);
    net.elect(1);
    auto& tn = net.nodes[4];
    tn.storage = std::make_unique<memory_storage>();
    // Like etcd's --initial-cluster-state=existing: the joiner is told the current voters,
    // which do not include itself until the add_node entry applies.
    tn.node = std::make_unique<raw_node>(
        uetcd::raft::testing::test_config(4, {1, 2, 3}, tn.storage.get()));
    CHECK_FALSE(tn.node->core().promotable());  // not a voter yet: never campaigns
    conf_change cc{1, conf_change_type::add_node, 4, "http://127.0.0.1:2380"};
    REQUIRE(net.node(1).propose_conf_change(cc).ok());
    net.stabilize();
    CHECK(net.core(1).voters() == std::vector<node_id>{1, 2, 3, 4});
    net.tick(1);
    net.stabilize();
    REQUIRE(net.node(1).propose("hello").ok());
    net.stabilize();
    CHECK(net.nodes.at(4).applied.back().data == "hello");
    CHECK(net.core(4).voters() == std::vector<node_id>{1, 2, 3, 4});
    // Four voters: two down means no quorum.
    net.isolate(3);
    net.isolate(4);
    REQUIRE(net.node(1).propose("stuck").ok());
    net.stabilize();
    CHECK(net.nodes.at(2).applied.back().data == "hello");
}

TEST_CASE("conf change: removing a node shrinks the quorum", "[raft][confchange]") {
    test_network net(3);
    net.elect(1);
    REQUIRE(net.node(1).propose_conf_change({2, conf_change_type::remove_node, 3, {}}).ok());
    net.stabilize();
    CHECK(net.core(1).voters() == std::vector<node_id>{1, 2});
    net.isolate(3);
    REQUIRE(net.node(1).propose("two of two").ok());
    net.stabilize();
    CHECK(net.nodes.at(2).applied.back().data == "two of two");
}

TEST_CASE("conf change: only one change may be pending", "[raft][confchange]") {
    test_network net(3);
    net.elect(1);
    net.isolate(2);
    net.isolate(3);
    REQUIRE(net.node(1).propose_conf_change({1, conf_change_type::add_node, 4, {}}).ok());
    CHECK(net.node(1).propose_conf_change({2, conf_change_type::add_node, 5, {}}).error() ==
          raft_error::conf_change_pending);
    net.heal();
    net.stabilize();
    REQUIRE(net.node(1).propose_conf_change({3, conf_change_type::add_node, 5, {}}).ok());
    net.stabilize();
    CHECK(net.core(1).voters() == std::vector<node_id>{1, 2, 3, 4, 5});
}

TEST_CASE("conf change: a second change forwarded while one is pending becomes empty",
    "[raft][confchange]") {
    test_network net(3);
    net.elect(1);
    net.isolate(3);
    message prop;
    prop.type = message_type::msg_prop;
    prop.from = 1;
    for (node_id id : {4U, 5U}) {
        const conf_change cc{id, conf_change_type::add_node, id, {}};
        prop.entries.push_back(entry{0, 0, entry_type::conf_change, encode(cc)});
    }
    REQUIRE(net.core(1).step(prop).ok());
    net.stabilize();
    CHECK(net.core(1).voters() == std::vector<node_id>{1, 2, 3, 4});
    CHECK(net.nodes.at(1).applied.back().type == entry_type::normal);
}

TEST_CASE("conf change: update_node keeps the voters; the context is opaque",
    "[raft][confchange]") {
    test_network net(3);
    net.elect(1);
    REQUIRE(net.node(1).propose_conf_change({7, conf_change_type::update_node, 2,
        "http://10.0.0.2:2380"}).ok());
    net.stabilize();
    CHECK(net.core(1).voters() == std::vector<node_id>{1, 2, 3});
    const entry& e = net.nodes.at(2).applied.back();
    REQUIRE(e.type == entry_type::conf_change);
    CHECK(decode_conf_change(e.data)->context == "http://10.0.0.2:2380");
}

TEST_CASE("conf change: an unapplied committed change blocks campaigning",
    "[raft][confchange]") {
    test_network net(3);
    net.elect(1);
    REQUIRE(net.node(1).propose_conf_change({1, conf_change_type::add_node, 4, {}}).ok());
    // Deliver to 2 but do not let 2 apply: step messages by hand.
    net.process_ready(1);
    for (const message& m : net.in_flight) {
        if (m.to == 2) {
            (void)net.node(2).step(m);
        }
    }
    net.in_flight.clear();
    ready rd = net.node(2).ready();
    net.nodes.at(2).storage->append(rd.entries);
    net.node(2).advance(ready{std::nullopt, std::nullopt, {}, rd.entries, {}, {}, {}, false});
    message hb = uetcd::raft::testing::make_message(message_type::msg_heartbeat, 1, 2, 1);
    hb.commit = net.core(2).log().last_index();
    REQUIRE(net.node(2).step(hb).ok());
    REQUIRE(net.core(2).log().committed() > net.core(2).log().applied());
    (void)net.node(2).campaign();
    CHECK(net.core(2).state() == role::follower);
}
