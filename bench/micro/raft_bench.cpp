// raft micro benchmarks: entries committed per second through an in-memory 3-member
// cluster (messages delivered in-process, memory_storage as the "disk"), with pipelining
// (inflight window) and batching (proposals per ready) on and off; and the cost of one
// follower step of a msg_app including its ready/advance cycle.
#include <benchmark/benchmark.h>

#include <deque>
#include <memory>

#include "uetcd/raft/raw_node.hpp"

namespace {

using namespace uetcd::raft;

struct bench_member {
    std::unique_ptr<memory_storage> storage;
    std::unique_ptr<raw_node> node;
};

class bench_cluster {
public:
    bench_cluster(std::size_t max_inflight, std::uint64_t delay_rounds)
        : _delay_rounds(delay_rounds) {
        for (node_id id = 1; id <= 3; ++id) {
            auto& m = _members[id - 1];
            m.storage = std::make_unique<memory_storage>();
            config c;
            c.id = id;
            c.peers = {1, 2, 3};
            c.storage = m.storage.get();
            c.max_inflight_msgs = max_inflight;
            c.max_size_per_msg_bytes = 4096;  // 32 entries of 128 bytes per msg_app
            c.seed = 1;
            m.node = std::make_unique<raw_node>(c);
        }
        (void)_members[0].node->campaign();
        for (int i = 0; i < 10; ++i) {
            round();
        }
    }

    raw_node& leader() { return *_members[0].node; }

    // One network round: every member handles its ready, then every message that has
    // spent delay_rounds on the wire is delivered.
    void round() {
        ++_round;
        for (auto& m : _members) {
            if (!m.node->has_ready()) {
                continue;
            }
            ready rd = m.node->ready();
            m.storage->append(rd.entries);
            if (rd.hard_state) {
                m.storage->set_hard_state(*rd.hard_state);
            }
            for (auto& msg : rd.messages) {
                _wire.push_back({_round + _delay_rounds, std::move(msg)});
            }
            _applied += m.node == _members[0].node ? rd.committed_entries.size() : 0;
            m.node->advance(rd);
            compact(m);
        }
        while (!_wire.empty() && _wire.front().first <= _round) {
            const message msg = std::move(_wire.front().second);
            _wire.pop_front();
            (void)_members[msg.to - 1].node->step(msg);
        }
    }

    std::uint64_t applied() const { return _applied; }

private:
    static void compact(bench_member& m) {
        const raft_index applied = m.node->core().log().applied();
        if (applied > m.storage->first_index() + 20000) {
            (void)m.storage->create_snapshot(applied, nullptr, {});
            (void)m.storage->compact(applied);
        }
    }

    bench_member _members[3];
    std::deque<std::pair<std::uint64_t, message>> _wire;
    std::uint64_t _round = 0;
    std::uint64_t _delay_rounds;
    std::uint64_t _applied = 0;
};

// Args: max inflight msg_app per follower, proposals per round (1 = no batching), rounds a
// message spends on the wire (0 = delivered in the same round).
void BM_raft_commit_3_members(benchmark::State& state) {
    const auto max_inflight = static_cast<std::size_t>(state.range(0));
    const auto batch = static_cast<int>(state.range(1));
    bench_cluster cluster(max_inflight, static_cast<std::uint64_t>(state.range(2)));
    const bytes payload(128, 'v');
    const std::uint64_t start = cluster.applied();
    for (auto _ : state) {
        for (int i = 0; i < batch; ++i) {
            (void)cluster.leader().propose(payload);
        }
        cluster.round();
    }
    for (int i = 0; i < 100; ++i) {
        cluster.round();  // drain so that everything proposed is counted once committed
    }
    const std::uint64_t committed = cluster.applied() - start;
    state.SetItemsProcessed(static_cast<std::int64_t>(committed));
    state.counters["entries_per_round"] = benchmark::Counter(
        static_cast<double>(committed) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_raft_commit_3_members)
    ->ArgNames({"inflight", "batch", "delay"})
    ->Args({1, 1, 0})
    ->Args({256, 1, 0})
    ->Args({1, 64, 0})
    ->Args({256, 64, 0})
    ->Args({1, 64, 4})
    ->Args({256, 64, 4});

// A follower steps a msg_app of `entries` new entries, persists and advances.
void BM_raft_step_msg_app(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    memory_storage storage;
    config c;
    c.id = 2;
    c.peers = {1, 2, 3};
    c.storage = &storage;
    raw_node follower(c);
    raft_index last = 0;
    message m;
    m.type = message_type::msg_app;
    m.from = 1;
    m.to = 2;
    m.term = 1;
    m.entries.resize(count, entry{1, 0, entry_type::normal, bytes(128, 'v')});
    for (auto _ : state) {
        m.index = last;
        m.log_term = last == 0 ? 0 : 1;
        for (std::size_t i = 0; i < count; ++i) {
            m.entries[i].index = last + 1 + i;
        }
        m.commit = last;
        (void)follower.step(m);
        ready rd = follower.ready();
        storage.append(rd.entries);
        if (rd.hard_state) {
            storage.set_hard_state(*rd.hard_state);
        }
        follower.advance(rd);
        last += count;
        if (last > storage.first_index() + 50000) {
            (void)storage.create_snapshot(follower.core().log().applied(), nullptr, {});
            (void)storage.compact(follower.core().log().applied());
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count));
}
BENCHMARK(BM_raft_step_msg_app)->Arg(1)->Arg(64);

}  // namespace
