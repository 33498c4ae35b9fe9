// Log compaction and snapshot sending to followers that fell behind.
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::test_network;

namespace {
// Snapshots node id's storage at its applied index and compacts everything before it.
void compact_node(test_network& net, node_id id) {
    auto& tn = net.nodes.at(id);
    const raft_index applied = tn.applied.back().index;
    const conf_state cs{tn.node->core().voters()};
    REQUIRE(tn.storage->create_snapshot(applied, &cs, "snap@" + std::to_string(applied)).ok());
    REQUIRE(tn.storage->compact(applied).ok());
}
}  // namespace

TEST_CASE("snapshot: a follower behind the compacted log gets msg_snap and catches up",
    "[raft][snapshot]") {
    test_network net(3);
    net.elect(1);
    net.isolate(3);
    for (int i = 0; i < 20; ++i) {
        REQUIRE(net.node(1).propose("e").ok());
    }
    net.stabilize();
    compact_node(net, 1);
    REQUIRE(net.nodes.at(1).storage->first_index() == 22);
    net.heal();
    bool saw_snap = false;
    net.drop_filter = [&](const message& m) {
        if (m.type == message_type::msg_snap) {
            saw_snap = true;
            CHECK(m.snap->meta.index == 21);
            CHECK(m.snap->data == "snap@21");
            CHECK(m.snap->meta.conf.voters == std::vector<node_id>{1, 2, 3});
        }
        return false;
    };
    for (int i = 0; i < 5; ++i) {
        net.tick(1);
        net.stabilize();
    }
    CHECK(saw_snap);
    CHECK(net.nodes.at(3).storage->get_snapshot()->meta.index == 21);
    CHECK(net.core(3).log().committed() == 21);
    // The leader learns the follower has the snapshot and replicates after it.
    net.node(1).report_snapshot(3, false);
    REQUIRE(net.node(1).propose("after").ok());
    net.stabilize();
    CHECK(net.nodes.at(3).applied.back().data == "after");
    CHECK(net.core(1).prs().at(3).match == 22);
}

TEST_CASE("snapshot: a failed snapshot report returns the follower to probe",
    "[raft][snapshot]") {
    test_network net(3);
    net.elect(1);
    net.isolate(3);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(net.node(1).propose("e").ok());
    }
    net.stabilize();
    compact_node(net, 1);
    net.heal();
    net.drop_filter = [](const message& m) { return m.type == message_type::msg_snap; };
    net.tick(1);
    net.stabilize();
    REQUIRE(net.core(1).prs().at(3).state == progress_state::snapshot);
    net.node(1).report_snapshot(3, true);
    const progress& pr = net.core(1).prs().at(3);
    CHECK(pr.state == progress_state::probe);
    CHECK(pr.pending_snapshot == 0);
    CHECK(pr.probe_sent);  // waits for a heartbeat response before probing again
}

TEST_CASE("snapshot: restore ignores an older snapshot and fast-forwards a matching one",
    "[raft][snapshot]") {
    struct row {
        raft_index snap_index;
        raft_term snap_term;
        bool want_installed;
        raft_index want_commit;
    };
    // The follower's log: 1..5 term 1, committed 3.
    const std::vector<row> rows = {
        {2, 1, false, 3},   // older than commit
        {5, 1, false, 5},   // we have it: commit moves, no install
        {5, 2, true, 5},    // different term: install
        {9, 3, true, 9},
    };
    for (const row& r : rows) {
        memory_storage s;
        std::vector<entry> ents;
        for (raft_index i = 1; i <= 5; ++i) {
            ents.push_back(entry{1, i, entry_type::normal, {}});
        }
        s.append(ents);
        s.set_hard_state(hard_state{1, 0, 3});
        raw_node n(uetcd::raft::testing::test_config(2, {1, 2}, &s));
        message m = uetcd::raft::testing::make_message(message_type::msg_snap, 1, 2, 3);
        m.snap = snapshot{"data", snapshot_meta{conf_state{{1, 2}}, r.snap_index, r.snap_term}};
        REQUIRE(n.step(m).ok());
        ready rd = n.ready();
        CAPTURE(r.snap_index, r.snap_term);
        CHECK(rd.snap.has_value() == r.want_installed);
        CHECK(n.core().log().committed() == r.want_commit);
        REQUIRE(rd.messages.size() == 1);
        CHECK(rd.messages[0].type == message_type::msg_app_resp);
        CHECK(rd.messages[0].index == r.want_commit);
        n.advance(rd);
    }
}
