// test_network: raw_nodes with memory storage joined by an in-memory "network" that the
// test controls (drop, isolate, step by step). Mirrors etcd's raft test `network`.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "uetcd/raft/codec.hpp"
#include "uetcd/raft/raw_node.hpp"

namespace uetcd::raft::testing {

struct test_node {
    std::unique_ptr<memory_storage> storage;
    std::unique_ptr<raw_node> node;
    std::vector<entry> applied;
};

inline config test_config(node_id id, std::vector<node_id> peers, const log_storage* s) {
    config c;
    c.id = id;
    c.peers = std::move(peers);
    c.storage = s;
    c.election_ticks = 10;
    c.heartbeat_ticks = 1;
    c.seed = 42;
    return c;
}

class test_network {
public:
    explicit test_network(std::size_t n, const std::function<void(config&)>& tweak = {}) {
        std::vector<node_id> ids;
        for (node_id i = 1; i <= n; ++i) {
            ids.push_back(i);
        }
        for (node_id id : ids) {
            auto& tn = nodes[id];
            tn.storage = std::make_unique<memory_storage>();
            config c = test_config(id, ids, tn.storage.get());
            if (tweak) {
                tweak(c);
            }
            tn.node = std::make_unique<raw_node>(c);
        }
    }

    raw_node& node(node_id id) { return *nodes.at(id).node; }
    raft& core(node_id id) { return nodes.at(id).node->core(); }

    // Drains every ready: persist, queue messages, apply (conf changes included).
    void process_ready(node_id id) {
        auto& tn = nodes.at(id);
        while (tn.node->has_ready()) {
            ready rd = tn.node->ready();
            if (rd.snap) {
                (void)tn.storage->apply_snapshot(*rd.snap);
            }
            tn.storage->append(rd.entries);
            if (rd.hard_state) {
                tn.storage->set_hard_state(*rd.hard_state);
            }
            for (auto& m : rd.messages) {
                in_flight.push_back(std::move(m));
            }
            for (const entry& e : rd.committed_entries) {
                if (e.type == entry_type::conf_change) {
                    auto cc = decode_conf_change(e.data);
                    if (cc.ok()) {
                        tn.node->apply_conf_change(*cc);
                    }
                }
                tn.applied.push_back(e);
            }
            for (auto& rs : rd.read_states) {
                read_states[id].push_back(rs);
            }
            tn.node->advance(rd);
        }
    }

    bool cut(node_id a, node_id b) const {
        return dropped.count({a, b}) != 0 || dropped.count({b, a}) != 0 ||
               isolated.count(a) != 0 || isolated.count(b) != 0;
    }

    // Delivers messages until the network is quiet (bounded).
    void stabilize(int max_rounds = 10000) {
        for (int round = 0; round < max_rounds; ++round) {
            for (auto& [id, tn] : nodes) {
                process_ready(id);
            }
            if (in_flight.empty()) {
                return;
            }
            std::deque<message> batch;
            batch.swap(in_flight);
            for (message& m : batch) {
                if (nodes.count(m.to) == 0 || cut(m.from, m.to) ||
                    (drop_filter && drop_filter(m))) {
                    continue;
                }
                delivered.push_back(m);
                (void)nodes.at(m.to).node->step(m);
            }
        }
    }

    void tick(node_id id, int n = 1) {
        for (int i = 0; i < n; ++i) {
            nodes.at(id).node->tick();
        }
    }

    void elect(node_id id) {
        (void)node(id).campaign();
        stabilize();
    }

    void isolate(node_id id) { isolated.insert(id); }
    void heal() {
        isolated.clear();
        dropped.clear();
    }

    std::map<node_id, test_node> nodes;
    std::deque<message> in_flight;
    std::vector<message> delivered;
    std::set<std::pair<node_id, node_id>> dropped;
    std::set<node_id> isolated;
    std::function<bool(const message&)> drop_filter;
    std::map<node_id, std::vector<read_state>> read_states;
};

inline message make_message(message_type type, node_id from, node_id to, raft_term term) {
    message m;
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

inline std::vector<entry> make_entries(std::initializer_list<std::pair<raft_index,
    raft_term>> pairs) {
    std::vector<entry> out;
    for (auto [i, t] : pairs) {
        out.push_back(entry{t, i, entry_type::normal, {}});
    }
    return out;
}

}  // namespace uetcd::raft::testing
