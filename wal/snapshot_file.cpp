// Snapshot files on a file_system: save, load newest valid, retention (snapshot_file.hpp).
#include "uetcd/wal/snapshot_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "uetcd/assert.hpp"

namespace uetcd::wal {

namespace {
wal_error snap_io_error(int rc, const std::string& path, const char* what) {
    return wal_error{wal_errc::io, rc, path, 0, what};
}

// Snapshot names, oldest first: hex names sort as (term, index).
task<result<std::vector<std::string>, wal_error>> list_snapshots(file_system& fs,
    const std::string& dir) {
    auto names = co_await fs.list_dir(dir);
    if (!names.ok()) {
        if (names.error() == -ENOENT) {
            co_return std::vector<std::string>{};
        }
        co_return failure{snap_io_error(names.error(), dir, "list")};
    }
    std::vector<std::string> snaps;
    for (const auto& name : *names) {
        if (parse_snapshot_name(name).has_value()) {
            snaps.push_back(name);
        }
    }
    std::sort(snaps.begin(), snaps.end());
    co_return snaps;
}
}  // namespace

task<result<std::string, wal_error>> save_snapshot(file_system& fs, const std::string& dir,
    const snapshot_file& snap) {
    const std::string name = snapshot_name(snap.term, snap.index);
    const std::string path = dir + "/" + name;
    const std::string tmp = path + ".tmp";
    const std::string bytes = encode_snapshot(snap);
    int rc = co_await fs.make_dirs(dir);
    if (rc != 0) {
        co_return failure{snap_io_error(rc, dir, "mkdir")};
    }
    const int fd = co_await fs.open(tmp, open_mode::create_new);
    if (fd < 0) {
        co_return failure{snap_io_error(fd, tmp, "create")};
    }
    rc = co_await write_all(fs, fd, bytes, 0);
    if (rc == 0) {
        rc = co_await fs.fdatasync(fd);
    }
    co_await fs.close(fd);
    if (rc == 0) {
        rc = co_await fs.rename(tmp, path);
    }
    if (rc == 0) {
        rc = co_await fs.fsync_dir(dir);
    }
    const auto slash = dir.rfind('/');
    if (rc == 0 && slash != std::string::npos && slash > 0) {
        const std::string parent = dir.substr(0, slash);  // snap/ may be new
        rc = co_await fs.fsync_dir(parent);
    }
    if (rc != 0) {
        co_return failure{snap_io_error(rc, path, "save")};
    }
    co_return name;
}

namespace {

int fsync_dir_blocking(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    const int rc = ::fsync(fd) == 0 ? 0 : -errno;
    ::close(fd);
    return rc;
}

}  // namespace

int save_snapshot_blocking(const std::string& dir, const snapshot_file& snap) {
    const std::string path = dir + "/" + snapshot_name(snap.term, snap.index);
    const std::string tmp = path + ".tmp";
    const std::string bytes = encode_snapshot(snap);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -errno;
    }
    std::size_t done = 0;
    int rc = 0;
    while (done < bytes.size() && rc == 0) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno != EINTR) {
            rc = -errno;
        } else if (n > 0) {
            done += static_cast<std::size_t>(n);
        }
    }
    if (rc == 0 && ::fdatasync(fd) != 0) {
        rc = -errno;
    }
    ::close(fd);
    if (rc == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
        rc = -errno;
    }
    if (rc == 0) {
        rc = fsync_dir_blocking(dir);
    }
    const auto slash = dir.rfind('/');
    if (rc == 0 && slash != std::string::npos && slash > 0) {
        rc = fsync_dir_blocking(dir.substr(0, slash));
    }
    return rc;
}

task<result<loaded_snapshot, wal_error>> load_newest_snapshot(file_system& fs,
    const std::string& dir) {
    auto names = co_await list_snapshots(fs, dir);
    if (!names.ok()) {
        co_return failure{std::move(names).error()};
    }
    loaded_snapshot loaded;
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
        const std::string path = dir + "/" + *it;
        auto bytes = co_await read_whole_file(fs, path, snapshot_bytes_max + 64);
        if (!bytes.ok()) {
            loaded.skipped.push_back("snap: cannot read " + path + ": errno "
                + std::to_string(-bytes.error()));
            continue;
        }
        auto snap = decode_snapshot(*bytes);
        const auto named = parse_snapshot_name(*it);
        UETCD_ASSERT(named.has_value());
        if (!snap.ok()) {
            loaded.skipped.push_back("snap: skipping " + path + ": " + to_string(snap.error()));
            continue;
        }
        if (snap->term != named->term || snap->index != named->index) {
            loaded.skipped.push_back("snap: skipping " + path + ": name does not match content");
            continue;
        }
        loaded.snap = std::move(*snap);
        loaded.name = *it;
        break;
    }
    co_return loaded;
}

task<result<std::vector<std::string>, wal_error>> purge_snapshots(file_system& fs,
    const std::string& dir, std::uint64_t max_snapshots) {
    std::vector<std::string> removed;
    if (max_snapshots == 0) {
        co_return removed;
    }
    auto names = co_await list_snapshots(fs, dir);
    if (!names.ok()) {
        co_return failure{std::move(names).error()};
    }
    for (std::size_t i = 0; i + max_snapshots < names->size(); ++i) {
        const std::string path = dir + "/" + (*names)[i];
        const int rc = co_await fs.remove(path);
        if (rc != 0) {
            co_return failure{snap_io_error(rc, path, "remove")};
        }
        removed.push_back((*names)[i]);
    }
    co_return removed;
}

}  // namespace uetcd::wal
