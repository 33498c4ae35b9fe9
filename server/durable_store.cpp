// The durable half of store_service (store_service.hpp): the committer that logs each batch of
// proposals to the WAL with one write + one fdatasync before applying it (group commit),
// snapshots every snapshot_count entries with retention, and recovery at start-up from the
// newest valid snapshot plus the WAL after it. Design and durability argument: docs/wal.md.
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <chrono>
#include <cstdlib>

#include "uetcd/reactor/ops.hpp"
#include "uetcd/server/cluster_api.hpp"
#include "uetcd/server/log.hpp"
#include "uetcd/server/store_service.hpp"
#include "uetcd/store/snapshot.hpp"
#include "uetcd/wal/segment.hpp"
#include "uetcd/wal/snapshot_file.hpp"
#include "uetcd/wal/wal.hpp"

namespace uetcd::server {

namespace {

constexpr std::string_view pkg_server = "etcdserver";
// The largest command a WAL record carries: above the 10 MiB form limit plus path and fields.
constexpr std::uint64_t command_bytes_max = 12ULL << 20;
// A snapshot fork longer than this is logged (it stalls the owner core).
constexpr std::int64_t capture_log_ns = 50'000'000;
// How often the owner core checks whether the snapshot writer process has finished.
constexpr std::int64_t snapshot_poll_ns = 10'000'000;
// A store this small serializes on the owner core in about a millisecond: cheaper than a
// fork, whose page-table copy and later copy-on-write faults cost core 0 several times that
// whatever the store's size (a hot key written 25k times a second is due every 0.4 s).
constexpr std::size_t snapshot_inline_nodes_max = 1024;

std::int64_t monotonic_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
}

wal::wal_options wal_options_for(std::uint64_t segment_bytes) {
    wal::wal_options o;
    o.segment_bytes = segment_bytes;
    // A record must fit twice in a segment with its head (wal::options_valid); small test
    // segments get a smaller record bound.
    o.record_bytes_max = std::min(command_bytes_max, (segment_bytes - 4096) / 2 - 64);
    const std::uint64_t framed = wal::framed_bytes(o.record_bytes_max);
    o.batch_bytes_max = std::max(o.batch_bytes_max, framed);
    o.queued_bytes_max = std::max(o.queued_bytes_max, 4 * framed);
    return o;
}

std::string with_commas(std::uint64_t n) {
    std::string digits = std::to_string(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
        digits.insert(static_cast<std::size_t>(at), ",");
    }
    return digits;
}

}  // namespace

reactor::task<applied_command> store_service::propose(store::command c) {
    return propose_entry(std::move(c));
}

reactor::task<applied_command> store_service::propose_entry(std::optional<store::command> c) {
    if (!_wal) {
        // No data dir (unit use): committed at once.
        applied_command done = apply_entry(c);
        after_write();
        co_return done;
    }
    if (_committer_stopping) {
        // Shutting down: other cores may still serve for a moment, but nothing more is logged
        // (etcd answers "server stopped"): fail at once instead of waiting forever.
        applied_command refused;
        refused.result = failure{store::error{store::error_code::raft_internal,
            "server stopped", _tree.index()}};
        refused.raft_index = _raft_index;
        co_return refused;
    }
    proposal p{std::move(c), {}, {}};
    _proposals.push_back(&p);
    _commit_wake.notify();
    co_await p.applied.wait();
    co_return std::move(p.done);
}

void store_service::apply_committed(std::vector<proposal*>& batch) {
    for (proposal* p : batch) {
        p->done = apply_entry(p->command);
    }
    // Watchers hear of the batch before any proposer answers, as when each applied alone.
    after_write();
    for (proposal* p : batch) {
        p->applied.notify();  // p lives in a proposer's frame: not touched after this
    }
    batch.clear();
}

reactor::task<void> store_service::run_committer() {
    std::vector<proposal*> batch;
    std::vector<wal::record> records;
    while (true) {
        while (_proposals.empty() && !_committer_stopping) {
            co_await _commit_wake.wait();
        }
        if (_proposals.empty()) {
            break;
        }
        // Everything queued while the previous batch was being made durable goes now.
        batch.swap(_proposals);
        records.clear();
        std::uint64_t index = _raft_index;
        for (const proposal* p : batch) {
            records.push_back(wal::make_entry(++index,
                p->command ? store::encode_command(*p->command) : std::string{}));
        }
        auto durable = co_await _wal->append(records);
        if (!durable) {
            // etcd panics here too: after a failed write or fdatasync the page cache state is
            // unknown, so nothing more may be acknowledged. Restart recovers from disk.
            log_critical(pkg_server, durable.error().message());
            std::_Exit(1);
        }
        apply_committed(batch);
        maybe_snapshot();
    }
    _background.leave();
}

reactor::task<result<bool, std::string>> store_service::open_durable(
    const durability_options& options, const cluster_info& cluster) {
    _durable = options;
    const std::string metadata = "uetcd member " + format_id(cluster.self_id) + " cluster " +
        format_id(cluster.cluster_id);
    auto recovered = co_await recover(metadata);
    if (!recovered) {
        co_return recovered;
    }
    _background.enter();
    reactor::spawn(run_committer());
    if (_raft_index == 0) {
        // A fresh data dir (or one that crashed before its first entry was durable).
        co_await bootstrap(cluster);
    }
    // etcd reads /2/enabled once at start to learn whether v2 auth is on.
    auth_probe();
    co_return true;
}

reactor::task<result<bool, std::string>> store_service::recover(const std::string& metadata) {
    const wal::wal_options options = wal_options_for(_durable.segment_bytes);
    // etcd creates member/snap at start, with or without a snapshot to put in it.
    if (const int rc = co_await _fs.make_dirs(_durable.snap_dir); rc != 0) {
        co_return failure{"cannot create " + _durable.snap_dir + ": " +
            wal::wal_error{wal::wal_errc::io, rc, {}, 0, {}}.message()};
    }
    auto loaded = co_await wal::load_newest_snapshot(_fs, _durable.snap_dir);
    if (!loaded) {
        co_return failure{loaded.error().message()};
    }
    for (const std::string& line : loaded->skipped) {
        log_warning(pkg_server, line);
    }
    if (loaded->snap) {
        auto restored = restore_snapshot(loaded->snap->data, loaded->snap->index);
        if (!restored) {
            co_return failure{"snapshot " + _durable.snap_dir + "/" + loaded->name + ": " +
                restored.error()};
        }
        log_info(pkg_server, "recovered store from snapshot at index " +
            std::to_string(_raft_index));
    }
    auto names = co_await _fs.list_dir(_durable.wal_dir);
    const bool has_wal = names && std::any_of(names->begin(), names->end(),
        [](const std::string& n) { return wal::parse_segment_name(n).has_value(); });
    if (!has_wal) {
        if (loaded->snap) {
            co_return failure{"wal: no WAL segment in " + _durable.wal_dir +
                " next to the snapshot at index " + std::to_string(_raft_index)};
        }
        auto created = co_await wal::wal::create(_fs, _durable.wal_dir, metadata, options);
        if (!created) {
            co_return failure{created.error().message()};
        }
        _wal = std::move(created).value();
        co_return true;
    }
    auto wal_read = co_await wal::read_wal(_fs, _durable.wal_dir, _raft_index);
    if (!wal_read) {
        co_return failure{wal_read.error().message()};
    }
    if (wal_read->torn) {
        log_warning(pkg_server, "wal: torn tail cut off " + wal_read->torn_file +
            " at offset " + std::to_string(wal_read->torn_offset) + " (" +
            std::to_string(wal_read->torn_end - wal_read->torn_offset) + " bytes): " +
            wal_read->torn_detail);
    }
    auto replayed = co_await replay(wal_read->entries);
    if (!replayed) {
        co_return replayed;
    }
    auto opened = co_await wal::wal::open(_fs, _durable.wal_dir, *wal_read, options);
    if (!opened) {
        co_return failure{opened.error().message()};
    }
    _wal = std::move(opened).value();
    log_info(pkg_server, "restarting member at commit index " + std::to_string(_raft_index) +
        " (" + std::to_string(wal_read->entries.size()) + " entries replayed from " +
        _durable.wal_dir + ")");
    co_return true;
}

reactor::task<result<bool, std::string>> store_service::replay(
    const std::vector<wal::record>& entries) {
    std::uint64_t count = 0;
    for (const wal::record& rec : entries) {
        std::uint64_t index = 0;
        const bool indexed = wal::record_index(rec, index);
        if (!indexed || index != _raft_index + 1) {
            co_return failure{"wal: entry " + std::to_string(index) + " does not follow " +
                std::to_string(_raft_index) + " in " + _durable.wal_dir};
        }
        const std::string_view data = wal::entry_data(rec);
        if (data.empty()) {
            apply_entry(std::nullopt);
        } else {
            auto c = store::decode_command(data);
            if (!c) {
                co_return failure{"wal: entry " + std::to_string(index) + " in " +
                    _durable.wal_dir + " does not decode: " + c.error()};
            }
            apply_entry(*c);
        }
        // Long replays let the other tasks of the core run now and then.
        if (++count % 65536 == 0) {
            co_await reactor::yield();
        }
    }
    // No watcher exists yet; drop what replay queued for none.
    drain_notifications();
    co_return true;
}

std::string store_service::capture_snapshot() const { return store::save_snapshot(_tree); }

result<bool, std::string> store_service::restore_snapshot(std::string_view data,
    std::uint64_t index) {
    auto restored = store::recover_snapshot(data);
    if (!restored) {
        return failure{restored.error()};
    }
    _tree = std::move(restored).value();
    _raft_index = index;
    _snapshot_index = index;
    return true;
}

void store_service::maybe_snapshot() {
    if (_snapshot_in_flight || _durable.snapshot_count == 0 ||
        _raft_index - _snapshot_index < _durable.snapshot_count) {
        return;
    }
    if (_tree.node_count() <= snapshot_inline_nodes_max) {
        _snapshot_in_flight = true;
        _snapshot_index = _raft_index;
        _background.enter();
        reactor::spawn(write_snapshot(capture_snapshot(), _raft_index));
        return;
    }
    // Serializing 1M keys takes seconds, far too long to stall core 0. fork() gives a child a
    // copy-on-write image of the store as of this applied index, at the cost of copying the
    // page tables (tens of ms at 1M keys); the child serializes and writes the file with
    // plain syscalls and exits, while this core goes on committing. docs/wal.md.
    const std::int64_t start_ns = monotonic_ns();
    const pid_t child = ::fork();
    if (child == 0) {
        // Hold none of the server's files (listeners, WAL, io_uring), so that a kill -9 of
        // the server frees its ports at once; and die with it.
        ::close_range(3, ~0U, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        wal::snapshot_file snap{raft_term, _raft_index, capture_snapshot()};
        std::_Exit(wal::save_snapshot_blocking(_durable.snap_dir, snap) == 0 ? 0 : 1);
    }
    const std::int64_t took_ns = monotonic_ns() - start_ns;
    _snapshot_capture_ns_max = std::max(_snapshot_capture_ns_max, took_ns);
    _snapshot_in_flight = true;
    _snapshot_index = _raft_index;
    _background.enter();
    if (child > 0) {
        if (took_ns > capture_log_ns) {
            log_info(pkg_server, "store snapshot at index " + std::to_string(_raft_index) +
                ": fork took " + std::to_string(took_ns / 1'000'000) + " ms (" +
                with_commas(_tree.node_count()) + " nodes)");
        }
        reactor::spawn(finish_snapshot(child, _raft_index));
        return;
    }
    // No fork (out of memory or processes): capture here, write through the reactor.
    log_warning(pkg_server, "snapshot: fork failed, serializing on the owner core");
    reactor::spawn(write_snapshot(capture_snapshot(), _raft_index));
}

reactor::task<void> store_service::finish_snapshot(int child, std::uint64_t index) {
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) != child) {
        co_await reactor::sleep_for(snapshot_poll_ns);
    }
    const bool saved = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!saved) {
        log_warning(pkg_server, "cannot save snapshot at index " + std::to_string(index) +
            " (writer exit status " + std::to_string(status) + ")");
    } else {
        co_await after_snapshot_saved(index);
    }
    _snapshot_in_flight = false;
    _background.leave();
}

reactor::task<void> store_service::write_snapshot(std::string data, std::uint64_t index) {
    wal::snapshot_file snap{raft_term, index, std::move(data)};
    auto saved = co_await wal::save_snapshot(_fs, _durable.snap_dir, snap);
    snap.data = {};
    if (!saved) {
        log_warning(pkg_server, "cannot save snapshot: " + saved.error().message());
    } else {
        co_await after_snapshot_saved(index);
    }
    _snapshot_in_flight = false;
    _background.leave();
}

reactor::task<void> store_service::after_snapshot_saved(std::uint64_t index) {
    log_info(pkg_server, "saved snapshot at index " + std::to_string(index));
    const std::array marker{wal::make_snapshot_marker(raft_term, index)};
    auto logged = co_await _wal->append(marker);
    if (!logged) {
        co_return;
    }
    auto snaps = co_await wal::purge_snapshots(_fs, _durable.snap_dir, _durable.max_snapshots);
    auto wals = co_await wal::purge_segments(_fs, _durable.wal_dir, index, _durable.max_wals);
    for (const auto* purged : {&snaps, &wals}) {
        if (!*purged) {
            log_warning(pkg_server, "purge: " + purged->error().message());
            continue;
        }
        for (const std::string& name : purged->value()) {
            log_info("fileutil", "purged file " + name + " successfully");
        }
    }
}

reactor::task<void> store_service::stop_durable() {
    if (!_wal) {
        co_return;
    }
    _committer_stopping = true;
    _commit_wake.notify();
    co_await _background.close();
    const wal::wal_stats& s = _wal->stats();
    const std::uint64_t mean_x10 = s.fdatasyncs == 0 ? 0 : s.records * 10 / s.fdatasyncs;
    log_info(pkg_server, "wal: " + with_commas(s.records) + " records in " +
        with_commas(s.fdatasyncs) + " fdatasyncs (" + std::to_string(mean_x10 / 10) + "." +
        std::to_string(mean_x10 % 10) + " records per fdatasync, max " +
        std::to_string(s.batch_records_max) + "), " + std::to_string(s.segments_cut) +
        " segments cut, snapshot fork max " +
        std::to_string(_snapshot_capture_ns_max / 1'000'000) + " ms");
    co_await _wal->close();
}

}  // namespace uetcd::server
