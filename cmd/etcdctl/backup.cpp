// etcdctl backup (etcd v2's backup command, as 3.4 ships it under ETCDCTL_API=2): copies the
// newest valid snapshot of --data-dir and the WAL after it into --backup-dir, with a fresh
// member and cluster ID in the WAL's metadata, so that the copy starts as a new one-member
// cluster (etcd --data-dir BACKUP --force-new-cluster). Reads the source only; the copy's
// files are written and fdatasynced through the same WAL and snapshot code the server uses.
#include "backup.hpp"

#include <sys/stat.h>
#include <sys/time.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <random>

#include "uetcd/reactor/smp.hpp"
#include "uetcd/wal/snapshot_file.hpp"
#include "uetcd/wal/wal.hpp"

namespace uetcd::ctl {

namespace {

namespace rx = uetcd::reactor;

struct backup_paths {
    std::string src_snap;
    std::string src_wal;
    std::string dest_snap;
    std::string dest_wal;
};

// Go's log.Fatal line as etcdctl writes it (capnslog's format, level I).
void fatal_line(const std::string& message) {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    tm local{};
    ::localtime_r(&tv.tv_sec, &local);
    std::array<char, 32> stamp{};
    std::strftime(stamp.data(), stamp.size(), "%Y-%m-%d %H:%M:%S", &local);
    std::fprintf(stderr, "%s.%06ld I | %s\n", stamp.data(), static_cast<long>(tv.tv_usec),
        message.c_str());
}

std::string hex_id(std::uint64_t id) {
    std::array<char, 17> text{};
    std::snprintf(text.data(), text.size(), "%016llx", static_cast<unsigned long long>(id));
    return text.data();
}

// The same metadata line the server writes, with new random IDs (etcd's idutil generator).
std::string fresh_metadata() {
    std::random_device seed;
    std::mt19937_64 gen((std::uint64_t{seed()} << 32) ^ seed() ^
        static_cast<std::uint64_t>(std::time(nullptr)));
    return "uetcd member " + hex_id(gen()) + " cluster " + hex_id(gen());
}

// Copies snapshot and WAL; "" on success, else the line to print.
rx::task<std::string> copy_member(const backup_paths& p) {
    wal::reactor_file_system fs;
    if (const int rc = co_await fs.make_dirs(p.dest_snap); rc != 0) {
        co_return "failed creating backup snapshot dir " + p.dest_snap + ": " +
            wal::wal_error{wal::wal_errc::io, rc, {}, 0, {}}.message();
    }
    struct stat st{};
    if (::stat(p.src_snap.c_str(), &st) != 0) {
        // Go's snap.Load: the snapshot dir must exist (etcd creates it at start).
        std::string text = std::strerror(errno);
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
        co_return "open " + p.src_snap + ": " + text;
    }
    auto loaded = co_await wal::load_newest_snapshot(fs, p.src_snap);
    if (!loaded) {
        co_return loaded.error().message();
    }
    std::uint64_t snap_index = 0;
    std::uint64_t snap_term = 0;
    if (loaded->snap) {
        snap_index = loaded->snap->index;
        snap_term = loaded->snap->term;
        auto saved = co_await wal::save_snapshot(fs, p.dest_snap, *loaded->snap);
        if (!saved) {
            co_return saved.error().message();
        }
    }
    auto read = co_await wal::read_wal(fs, p.src_wal, snap_index);
    if (!read) {
        co_return read.error().message();
    }
    auto created = co_await wal::wal::create(fs, p.dest_wal, fresh_metadata(), {});
    if (!created) {
        co_return created.error().message();
    }
    std::vector<wal::record> records;
    if (loaded->snap) {
        records.push_back(wal::make_snapshot_marker(snap_term, snap_index));
    }
    records.insert(records.end(), read->entries.begin(), read->entries.end());
    if (read->state) {
        records.push_back(wal::make_hard_state(*read->state));
    }
    auto appended = co_await (*created)->append(records);
    co_await (*created)->close();
    if (!appended) {
        co_return appended.error().message();
    }
    co_return std::string{};
}

}  // namespace

int run_backup(const std::string& data_dir, const std::string& wal_dir,
    const std::string& backup_dir, const std::string& backup_wal_dir) {
    const backup_paths paths{
        data_dir + "/member/snap",
        wal_dir.empty() ? data_dir + "/member/wal" : wal_dir,
        backup_dir + "/member/snap",
        backup_wal_dir.empty() ? backup_dir + "/member/wal" : backup_wal_dir,
    };
    std::string failure;
    const std::string engine_error = rx::smp::run(
        rx::smp_config{.cores = 1, .pin_threads = false},
        [&](unsigned) -> rx::task<void> { failure = co_await copy_member(paths); });
    if (!engine_error.empty()) {
        failure = engine_error;
    }
    if (!failure.empty()) {
        fatal_line(failure);
        return 1;
    }
    return 0;
}

}  // namespace uetcd::ctl
