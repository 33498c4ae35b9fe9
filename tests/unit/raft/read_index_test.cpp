// ReadIndex: linearizable reads confirmed by a heartbeat round (thesis 6.4).
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::test_network;

TEST_CASE("read index: answered at the commit index after a quorum heartbeat round",
    "[raft][readindex]") {
    struct row {
        std::size_t size;
        node_id asker;
        std::set<node_id> down;
        bool answered;
    };
    const std::vector<row> rows = {
        {1, 1, {}, true},
        {3, 1, {}, true},
        {3, 2, {}, true},   // a follower forwards to the leader
        {3, 1, {3}, true},
        {3, 1, {2, 3}, false},
        {5, 4, {2, 3}, true},
        {5, 1, {2, 3, 4}, false},
    };
    for (const row& r : rows) {
        test_network net(r.size);
        net.elect(1);
        REQUIRE(net.node(1).propose("w").ok());
        net.stabilize();
        for (node_id d : r.down) {
            net.isolate(d);
        }
        net.node(r.asker).read_index("ctx-1");
        net.stabilize();
        CAPTURE(r.size, r.asker, r.down.size());
        const auto& rs = net.read_states[r.asker];
        REQUIRE(rs.size() == (r.answered ? 1U : 0U));
        if (r.answered) {
            CHECK(rs[0].request_ctx == "ctx-1");
            CHECK(rs[0].index == 2);
        }
    }
}

TEST_CASE("read index: a new leader answers only after committing in its term",
    "[raft][readindex]") {
    test_network net(3);
    net.elect(1);
    net.drop_filter = [](const message& m) { return m.type == message_type::msg_app; };
    net.isolate(1);
    net.heal();
    (void)net.node(2).campaign();
    net.stabilize();
    REQUIRE(net.core(2).state() == role::leader);
    net.node(2).read_index("early");
    net.stabilize();
    CHECK(net.read_states[2].empty());  // its empty entry is not committed: dropped
    net.drop_filter = nullptr;
    net.tick(2);
    net.stabilize();
    net.node(2).read_index("late");
    net.stabilize();
    REQUIRE(net.read_states[2].size() == 1);
    CHECK(net.read_states[2][0].request_ctx == "late");
}

TEST_CASE("read_only: requests are released in order up to the acknowledged one",
    "[raft][readindex]") {
    read_only ro;
    for (int i = 1; i <= 3; ++i) {
        message m;
        m.entries.push_back(entry{0, 0, entry_type::normal, "c" + std::to_string(i)});
        REQUIRE(ro.add_request(static_cast<raft_index>(i * 10), m));
        REQUIRE_FALSE(ro.add_request(1, m));  // duplicate context
    }
    CHECK(ro.recv_ack(2, "c2") == 1);
    CHECK(ro.recv_ack(2, "nope") == 0);
    auto done = ro.advance("c2");
    REQUIRE(done.size() == 2);
    CHECK(done[0].index == 10);
    CHECK(done[1].index == 20);
    CHECK(ro.pending_count() == 1);
    CHECK(*ro.last_pending_request_ctx() == "c3");
}
