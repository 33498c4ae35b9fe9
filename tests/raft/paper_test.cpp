// Scenarios from the Raft paper (Ongaro & Ousterhout 2014), scripted on the in-memory
// test network: Figure 7 (a new leader repairs any follower log) and Figure 8 (a leader
// must not commit an entry of an older term by counting replicas, §5.4.2).
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::test_config;
using uetcd::raft::testing::test_network;

namespace {
std::vector<entry> log_of_terms(const std::vector<raft_term>& terms) {
    std::vector<entry> out;
    for (std::size_t i = 0; i < terms.size(); ++i) {
        out.push_back(entry{terms[i], i + 1, entry_type::normal, "e" + std::to_string(i + 1)});
    }
    return out;
}

// A crash and restart: the member keeps only what its storage holds.
void restart(test_network& net, node_id id) {
    auto& tn = net.nodes.at(id);
    config c = test_config(id, {1, 2, 3}, tn.storage.get());
    c.max_size_per_msg_bytes = 1;
    tn.node = std::make_unique<raw_node>(c);
}

std::vector<raft_term> terms_of(const raft_log& log) {
    std::vector<raft_term> out;
    for (raft_index i = 1; i <= log.last_index(); ++i) {
        out.push_back(log.term_or_zero(i));
    }
    return out;
}
}  // namespace

TEST_CASE("paper 5.3 figure 7: the leader brings every follower log to its own",
    "[raft][paper]") {
    const std::vector<raft_term> leader = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
    const std::vector<std::vector<raft_term>> followers = {
        {1, 1, 1, 4, 4, 5, 5, 6, 6},           // (a) missing one
        {1, 1, 1, 4},                          // (b) missing many
        {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // (c) one extra uncommitted
        {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // (d) extra entries of a later term
        {1, 1, 1, 4, 4, 4, 4},                 // (e) missing and extra
        {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // (f) a whole divergent suffix
    };
    for (std::size_t f = 0; f < followers.size(); ++f) {
        test_network net(3);
        const std::vector<raft_term>* logs[] = {&leader, &followers[f], &leader};
        for (node_id id = 1; id <= 3; ++id) {
            auto& tn = net.nodes.at(id);
            tn.storage = std::make_unique<memory_storage>();
            tn.storage->append(log_of_terms(*logs[id - 1]));
            tn.storage->set_hard_state(hard_state{7, 0, 0});
            tn.node = std::make_unique<raw_node>(test_config(id, {1, 2, 3}, tn.storage.get()));
        }
        net.elect(1);
        REQUIRE(net.core(1).state() == role::leader);
        REQUIRE(net.core(1).term() == 8);
        std::vector<raft_term> want = leader;
        want.push_back(8);  // the new leader's empty entry
        CAPTURE(f);
        CHECK(terms_of(net.core(2).log()) == want);
        CHECK(net.core(2).log().committed() == 11);
    }
}

TEST_CASE("paper 5.4.2 figure 8: an old-term entry on a majority is not committed",
    "[raft][paper]") {
    // One entry per msg_app so that the old-term entry travels alone.
    test_network net(3, [](config& c) { c.max_size_per_msg_bytes = 1; });
    net.elect(1);  // term 1, index 1
    // (a) S1 writes "xx" at index 2, term 1, on itself only.
    net.isolate(2);
    net.isolate(3);
    REQUIRE(net.node(1).propose("xx").ok());
    net.stabilize();
    // (b) S3 wins term 2 with S2's vote and writes index 2, term 2, on itself only.
    net.heal();
    net.isolate(1);
    net.drop_filter = [](const message& m) { return m.type == message_type::msg_app; };
    net.elect(3);
    REQUIRE(net.core(3).state() == role::leader);
    REQUIRE(net.core(3).term() == 2);
    // (c) S1 wins term 3 with S2's vote and copies index 2 (term 1) to S2: now on a
    // majority, but it must not commit, and index 3 (term 3) never leaves S1.
    net.heal();
    net.isolate(3);
    restart(net, 1);
    net.drop_filter = [&net](const message& m) {
        if (m.type != message_type::msg_app) {
            return false;
        }
        bool carries_3 = false;
        for (const entry& e : m.entries) {
            carries_3 = carries_3 || e.index >= 3;
        }
        // Let through what the follower will reject (it lacks index 2); once it has
        // index 2, index 3 never arrives.
        return carries_3 && net.core(m.to).log().term_or_zero(2) == 1;
    };
    for (int i = 0; i < 3 && net.core(1).state() != role::leader; ++i) {
        net.elect(1);
    }
    REQUIRE(net.core(1).state() == role::leader);
    REQUIRE(net.core(2).log().term_or_zero(2) == 1);
    REQUIRE(net.core(1).prs().at(2).match == 2);
    CHECK(net.core(1).log().committed() < 2);
    // (d) S1 crashes; S3 wins (its last term 2 beats S2's 1) and overwrites index 2.
    net.heal();
    net.isolate(1);
    restart(net, 3);
    net.drop_filter = nullptr;
    for (int i = 0; i < 3 && net.core(3).state() != role::leader; ++i) {
        net.elect(3);
    }
    REQUIRE(net.core(3).state() == role::leader);
    net.heal();
    net.tick(3);
    net.stabilize();
    for (node_id id = 1; id <= 3; ++id) {
        CAPTURE(id);
        CHECK(net.core(id).log().term_or_zero(2) == 2);
        for (const entry& e : net.nodes.at(id).applied) {
            CHECK(e.data != "xx");  // nobody applied the entry that was never committed
        }
    }
}

TEST_CASE("paper 5.2: a split vote resolves by randomized timeouts", "[raft][paper]") {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        test_network net(5, [&](config& c) { c.seed = seed; });
        // Everyone times out on its own schedule; deliver after every tick.
        for (int t = 0; t < 200; ++t) {
            for (node_id id = 1; id <= 5; ++id) {
                net.tick(id);
            }
            net.stabilize();
            bool led = false;
            for (node_id id = 1; id <= 5; ++id) {
                led = led || net.core(id).state() == role::leader;
            }
            if (led) {
                break;
            }
        }
        std::size_t leaders = 0;
        for (node_id id = 1; id <= 5; ++id) {
            leaders += net.core(id).state() == role::leader ? 1 : 0;
        }
        CAPTURE(seed);
        CHECK(leaders == 1);
    }
}
