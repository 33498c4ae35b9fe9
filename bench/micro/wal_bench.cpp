// WAL append throughput with group commit on the real disk (a temp dir under $TMPDIR or /tmp),
// against this disk's raw write+fdatasync rate. Each iteration of BM_wal_append_64b/N runs N
// concurrent appends of one 64-byte record and waits for all: N=1 is one fdatasync per record,
// N=16 and N=256 show what group commit buys. Reported: records/s (items) and MB/s (bytes).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/wal/wal.hpp"

namespace {

namespace rx = uetcd::reactor;
namespace wl = uetcd::wal;

std::string make_temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base == nullptr ? "/tmp" : base) + "/uetcd-wal-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        return {};
    }
    return pattern;
}

// Runs `body()` on a one-core reactor; the benchmark loop runs inside it.
template <typename Body>
void on_reactor(benchmark::State& state, Body body) {
    const rx::smp_config config{.cores = 1, .pin_threads = false};
    const std::string error = rx::smp::run(config, [&](unsigned) -> rx::task<void> {
        co_await body();
    });
    if (!error.empty()) {
        state.SkipWithError(error.c_str());
    }
}

struct appenders {
    wl::wal* log = nullptr;
    rx::gate gate;
    std::uint64_t failures = 0;
};

rx::task<void> append_one(appenders& group, std::uint64_t index) {
    const std::vector<wl::record> batch{wl::make_entry(index, std::string(56, 'v'))};
    auto done = co_await group.log->append(batch);
    group.failures += done.ok() ? 0 : 1;
    group.gate.leave();
}

rx::task<void> run_appends(benchmark::State& state, const std::string& dir) {
    wl::reactor_file_system fs;
    const std::string wal_dir = dir + "/member/wal";
    const std::string metadata = "bench";
    wl::wal_options options;  // the defaults: 64 MiB segments, as in production
    auto created = co_await wl::wal::create(fs, wal_dir, metadata, options);
    if (!created.ok()) {
        const std::string why = created.error().message();
        state.SkipWithError(why.c_str());
        co_return;
    }
    const auto concurrency = static_cast<std::uint64_t>(state.range(0));
    std::uint64_t index = 0;
    for (auto _ : state) {
        auto group = std::make_unique<appenders>();
        group->log = created->get();
        for (std::uint64_t i = 0; i < concurrency; ++i) {
            group->gate.enter();
            rx::spawn(append_one(*group, ++index));
        }
        co_await group->gate.close();
        if (group->failures != 0) {
            state.SkipWithError("append failed");
            break;
        }
    }
    co_await (*created)->close();
    const auto& stats = (*created)->stats();
    state.SetItemsProcessed(static_cast<std::int64_t>(stats.records));
    state.SetBytesProcessed(static_cast<std::int64_t>(stats.bytes));
    state.counters["records_per_fdatasync"] = stats.fdatasyncs == 0 ? 0.0
        : static_cast<double>(stats.records) / static_cast<double>(stats.fdatasyncs);
    state.counters["segments_cut"] = static_cast<double>(stats.segments_cut);
}

void BM_wal_append_64b(benchmark::State& state) {
    const std::string dir = make_temp_dir();
    if (dir.empty()) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    on_reactor(state, [&]() { return run_appends(state, dir); });
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}
BENCHMARK(BM_wal_append_64b)->Arg(1)->Arg(16)->Arg(256)->UseRealTime()->MinTime(2.0);

// The disk's own rate: a 64-byte pwrite and an fdatasync per iteration, through the reactor.
rx::task<void> run_raw_fdatasync(benchmark::State& state, const std::string& path) {
    const int fd = co_await rx::open_file(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC);
    if (fd < 0) {
        state.SkipWithError("open failed");
        co_return;
    }
    co_await rx::fallocate(fd, 0, 0, 64ULL << 20);
    const std::string record(64, 'r');
    std::uint64_t offset = 0;
    for (auto _ : state) {
        const std::int32_t written = co_await rx::write_at(fd, record.data(), record.size(),
            offset);
        const std::int32_t synced = co_await rx::fdatasync(fd);
        if (written != 64 || synced != 0) {
            state.SkipWithError("write or fdatasync failed");
            break;
        }
        offset = (offset + 64) % (64ULL << 20);
    }
    co_await rx::close_fd(fd);
    state.SetItemsProcessed(state.iterations());
}

void BM_wal_raw_fdatasync(benchmark::State& state) {
    const std::string dir = make_temp_dir();
    if (dir.empty()) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    const std::string path = dir + "/raw";
    on_reactor(state, [&]() { return run_raw_fdatasync(state, path); });
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}
BENCHMARK(BM_wal_raw_fdatasync)->UseRealTime()->MinTime(2.0);

}  // namespace
