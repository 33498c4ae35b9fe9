// Micro-benchmarks of the v2 store: a set into a 100k-key tree, a get, a recursive get of a
// 100-key dir with its JSON, a write seen by 10k watchers, and heap bytes per key at 1M keys.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "uetcd/store/snapshot.hpp"
#include "uetcd/store/tree.hpp"

namespace {

using namespace uetcd::store;

constexpr time_ns now_ns = 1'764'000'000LL * 1'000'000'000LL;
const std::string value_64_bytes(64, 'v');

// Keys spread as /1/dNNN/kNNNNNN, 1000 keys a dir, like an application's key space.
std::string key_of(std::size_t i) {
    std::string key = "/1/d";
    key += std::to_string(i / 1000);
    key += "/k";
    key += std::to_string(i);
    return key;
}

tree& tree_with(std::size_t keys) {
    static std::size_t built = 0;
    static tree t;
    if (built != keys) {
        t = tree();
        for (std::size_t i = 0; i < keys; ++i) {
            (void)t.set(key_of(i), false, value_64_bytes, {}, now_ns);
        }
        built = keys;
    }
    return t;
}

void BM_store_set_64B_into_100k(benchmark::State& state) {
    tree& t = tree_with(100'000);
    std::size_t i = 0;
    std::vector<notification> drained;
    for (auto _ : state) {
        auto r = t.set(key_of(i % 100'000), false, value_64_bytes, {}, now_ns);
        benchmark::DoNotOptimize(r);
        i += 7919;
    }
    t.hub().take_notifications(drained);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_store_set_64B_into_100k);

void BM_store_get_from_100k(benchmark::State& state) {
    tree& t = tree_with(100'000);
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = t.get(key_of(i % 100'000), false, false, now_ns);
        benchmark::DoNotOptimize(r);
        i += 7919;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_store_get_from_100k);

void BM_store_get_and_json(benchmark::State& state) {
    tree& t = tree_with(100'000);
    std::string out;
    std::size_t i = 0;
    for (auto _ : state) {
        out.clear();
        auto r = t.get(key_of(i % 100'000), false, false, now_ns);
        write_event_json(out, r.value(), json_options{keys_prefix, false});
        benchmark::DoNotOptimize(out.data());
        i += 7919;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_store_get_and_json);

void BM_store_recursive_get_100_key_dir(benchmark::State& state) {
    tree t;
    for (int i = 0; i < 100; ++i) {
        (void)t.set("/1/dir/k" + std::to_string(i), false, value_64_bytes, {}, now_ns);
    }
    std::string out;
    for (auto _ : state) {
        out.clear();
        auto r = t.get("/1/dir", true, state.range(0) != 0, now_ns);
        write_event_json(out, r.value(), json_options{keys_prefix, false});
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_store_recursive_get_100_key_dir)->Arg(0)->Arg(1)->ArgName("sorted");

// range(0) = 0: 10k watchers on distinct keys, the write wakes one.
// range(0) = 1: 10k stream watchers on the written key, the write wakes all of them.
void BM_store_notify_10k_watchers(benchmark::State& state) {
    tree t;
    const bool same_key = state.range(0) != 0;
    for (int i = 0; i < 10'000; ++i) {
        const std::string key = same_key ? "/1/w/hot" : "/1/w/" + std::to_string(i);
        (void)t.watch(key, false, true, 0, static_cast<std::uint64_t>(i));
    }
    const std::string written = same_key ? "/1/w/hot" : "/1/w/1234";
    std::vector<notification> drained;
    for (auto _ : state) {
        auto r = t.set(written, false, value_64_bytes, {}, now_ns);
        benchmark::DoNotOptimize(r);
        t.hub().take_notifications(drained);
    }
    state.counters["notified_per_write"] = static_cast<double>(drained.size());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_store_notify_10k_watchers)->Arg(0)->Arg(1)->ArgName("all_on_one_key");

// Heap bytes (glibc mallinfo2) held per key by a 1M-key tree with 64-byte values; the
// history and watchers are excluded (they are bounded, not per key).
void BM_store_memory_1m_keys(benchmark::State& state) {
    for (auto _ : state) {
        malloc_trim(0);
        const std::size_t before_bytes = mallinfo2().uordblks;
        auto t = std::make_unique<tree>();
        for (std::size_t i = 0; i < 1'000'000; ++i) {
            (void)t->set(key_of(i), false, value_64_bytes, {}, now_ns);
        }
        const std::size_t after_bytes = mallinfo2().uordblks;
        state.counters["bytes_per_key"] =
            static_cast<double>(after_bytes - before_bytes) / 1'000'000.0;
        state.counters["key_value_bytes_per_key"] =
            static_cast<double>(key_of(500'000).size() + value_64_bytes.size());
    }
}
BENCHMARK(BM_store_memory_1m_keys)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

namespace {

// Heap bytes per registered watcher (10k watchers, each on its own key, as long polls are).
void BM_store_memory_10k_watchers(benchmark::State& state) {
    for (auto _ : state) {
        tree t;
        malloc_trim(0);
        const std::size_t before_bytes = mallinfo2().uordblks;
        for (int i = 0; i < 10'000; ++i) {
            (void)t.watch("/1/app/watched-key-" + std::to_string(i), false, false, 0, 0);
        }
        const std::size_t after_bytes = mallinfo2().uordblks;
        state.counters["bytes_per_watcher"] =
            static_cast<double>(after_bytes - before_bytes) / 10'000.0;
    }
}
BENCHMARK(BM_store_memory_10k_watchers)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

namespace {

// Restart cost (issue #4): recovering a snapshot of 100k 64-byte keys in 100 dirs, and the
// same keys in one flat dir (the load benchmarks' shape); per key in the counters.
void BM_store_snapshot_recover_100k(benchmark::State& state) {
    const bool flat = state.range(0) != 0;
    tree source;
    for (std::size_t i = 0; i < 100'000; ++i) {
        (void)source.set(flat ? "/1/bench/k" + std::to_string(i) : key_of(i), false,
            value_64_bytes, {}, now_ns);
    }
    const std::string bytes = save_snapshot(source);
    for (auto _ : state) {
        auto recovered = recover_snapshot(bytes);
        benchmark::DoNotOptimize(recovered);
    }
    state.counters["ns_per_key"] = benchmark::Counter(100'000.0,
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_store_snapshot_recover_100k)->Arg(0)->Arg(1)->ArgName("flat")
    ->Unit(benchmark::kMillisecond);

}  // namespace
