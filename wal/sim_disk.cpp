// sim_disk: the power-loss simulator behind the WAL tests (see sim_disk.hpp).
#include "uetcd/wal/sim_disk.hpp"

#include <algorithm>
#include <cerrno>
#include <set>

#include "uetcd/assert.hpp"
#include "uetcd/reactor/ops.hpp"

namespace uetcd::wal {

bool sim_disk::tick_failure() noexcept {
    if (_failed) {
        return true;
    }
    if (_ops_until_failure > 0 && --_ops_until_failure == 0) {
        _failed = true;
    }
    return _failed;
}

std::string sim_disk::parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

task<int> sim_disk::open(const std::string& path, open_mode mode) {
    if (mode != open_mode::read_only && tick_failure()) {
        co_return -EIO;
    }
    auto it = _names.find(path);
    if (mode == open_mode::create_new) {
        if (it == _names.end()) {
            it = _names.emplace(path, _next_inode++).first;
        }
        _inodes[it->second].data.clear();
    } else if (it == _names.end()) {
        co_return -ENOENT;
    }
    const int fd = _next_fd++;
    _fds[fd] = it->second;
    co_return fd;
}

task<std::int64_t> sim_disk::write_at(int fd, const char* data, std::uint64_t size_bytes,
    std::uint64_t offset) {
    if (tick_failure()) {
        co_return -EIO;
    }
    auto it = _fds.find(fd);
    UETCD_ASSERT(it != _fds.end());
    std::string& bytes = _inodes[it->second].data;
    if (bytes.size() < offset + size_bytes) {
        bytes.resize(offset + size_bytes, '\0');
    }
    std::copy(data, data + size_bytes, bytes.begin() + static_cast<std::ptrdiff_t>(offset));
    co_return static_cast<std::int64_t>(size_bytes);
}

task<std::int64_t> sim_disk::read_at(int fd, char* data, std::uint64_t size_bytes,
    std::uint64_t offset) {
    auto it = _fds.find(fd);
    UETCD_ASSERT(it != _fds.end());
    const std::string& bytes = _inodes[it->second].data;
    if (offset >= bytes.size()) {
        co_return 0;
    }
    const std::uint64_t n = std::min<std::uint64_t>(size_bytes, bytes.size() - offset);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), n, data);
    co_return static_cast<std::int64_t>(n);
}

// Yields so that other coroutines run while the "disk" syncs: this is what lets appends
// queue up behind an in-flight batch, as they do behind a real fdatasync.
task<int> sim_disk::fdatasync(int fd) {
    co_await reactor::yield();
    if (tick_failure()) {
        co_return -EIO;
    }
    auto it = _fds.find(fd);
    UETCD_ASSERT(it != _fds.end());
    inode& file = _inodes[it->second];
    file.synced = file.data;
    ++_fdatasyncs;
    co_await reactor::yield();
    co_return 0;
}

task<int> sim_disk::fallocate(int fd, std::uint64_t size_bytes) {
    if (tick_failure()) {
        co_return -EIO;
    }
    auto it = _fds.find(fd);
    UETCD_ASSERT(it != _fds.end());
    std::string& bytes = _inodes[it->second].data;
    if (bytes.size() < size_bytes) {
        bytes.resize(size_bytes, '\0');
    }
    co_return 0;
}

task<int> sim_disk::close(int fd) {
    _fds.erase(fd);
    co_return 0;
}

task<int> sim_disk::rename(const std::string& from, const std::string& to) {
    if (tick_failure()) {
        co_return -EIO;
    }
    auto it = _names.find(from);
    if (it == _names.end()) {
        co_return -ENOENT;
    }
    const std::uint64_t ino = it->second;
    _names.erase(it);
    _names[to] = ino;
    co_return 0;
}

task<int> sim_disk::fsync_dir(const std::string& dir) {
    if (tick_failure()) {
        co_return -EIO;
    }
    for (auto it = _durable_names.begin(); it != _durable_names.end();) {
        it = parent_of(it->first) == dir ? _durable_names.erase(it) : std::next(it);
    }
    for (const auto& [path, ino] : _names) {
        if (parent_of(path) == dir) {
            _durable_names[path] = ino;
        }
    }
    co_return 0;
}

task<int> sim_disk::remove(const std::string& path) {
    if (tick_failure()) {
        co_return -EIO;
    }
    co_return _names.erase(path) == 1 ? 0 : -ENOENT;
}

task<int> sim_disk::make_dirs(const std::string&) {
    co_return 0;  // directories are implicit: a path's parent is its directory
}

task<std::int64_t> sim_disk::file_size(int fd) {
    auto it = _fds.find(fd);
    UETCD_ASSERT(it != _fds.end());
    co_return static_cast<std::int64_t>(_inodes[it->second].data.size());
}

task<result<std::vector<std::string>, int>> sim_disk::list_dir(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& [path, ino] : _names) {
        if (parent_of(path) == dir) {
            names.push_back(path.substr(dir.size() + 1));
        }
    }
    co_return names;
}

std::string* sim_disk::file_bytes(const std::string& path) {
    auto it = _names.find(path);
    return it == _names.end() ? nullptr : &_inodes[it->second].data;
}

const std::string* sim_disk::synced_bytes(const std::string& path) const {
    auto it = _names.find(path);
    return it == _names.end() ? nullptr : &_inodes.at(it->second).synced;
}

// Keeps the synced bytes, a random prefix of the unsynced tail, and tears the sectors of that
// prefix: each is written, left old, or garbage. Only unsynced bytes are ever changed: a torn
// sector write is assumed not to destroy the synced bytes that share its sector (docs/wal.md).
void sim_disk::crash_file(inode& file) {
    std::string old = file.synced;
    const std::string& now = file.data;
    if (old.size() < now.size()) {
        old.resize(now.size(), '\0');
    }
    std::uint64_t first_diff = 0;
    while (first_diff < now.size() && old[first_diff] == now[first_diff]) {
        ++first_diff;
    }
    std::string kept = old.substr(0, std::max(file.synced.size(), now.size()));
    const std::uint64_t span = now.size() - first_diff;
    const std::uint64_t cut = first_diff + (span == 0 ? 0 : _random.below(span + 1));
    for (std::uint64_t sector = first_diff / sector_bytes * sector_bytes; sector < cut;
         sector += sector_bytes) {
        const std::uint64_t lo = std::max(sector, first_diff);
        const std::uint64_t hi = std::min(sector + sector_bytes, cut);
        const std::uint64_t roll = _random.below(100);
        for (std::uint64_t i = lo; i < hi; ++i) {
            if (roll < 70) {
                kept[i] = now[i];
            } else if (roll >= 90) {
                kept[i] = static_cast<char>(_random.next() & 0xff);
            }
        }
    }
    file.data = kept;
    file.synced = kept;
}

void sim_disk::crash_names() {
    std::set<std::string> dirs;
    for (const auto& entry : _names) {
        dirs.insert(parent_of(entry.first));
    }
    for (const auto& entry : _durable_names) {
        dirs.insert(parent_of(entry.first));
    }
    for (const std::string& dir : dirs) {
        if (_random.chance(500)) {
            continue;  // this directory's unsynced changes happened to reach the disk
        }
        for (auto it = _names.begin(); it != _names.end();) {
            it = parent_of(it->first) == dir ? _names.erase(it) : std::next(it);
        }
        for (const auto& [path, ino] : _durable_names) {
            if (parent_of(path) == dir) {
                _names[path] = ino;
            }
        }
    }
    _durable_names = _names;
}

void sim_disk::crash() {
    crash_names();
    std::set<std::uint64_t> live;
    for (const auto& entry : _names) {
        live.insert(entry.second);
    }
    for (auto it = _inodes.begin(); it != _inodes.end();) {
        if (live.count(it->first) == 0) {
            it = _inodes.erase(it);
        } else {
            crash_file(it->second);
            ++it;
        }
    }
    _fds.clear();
    _failed = false;
    _ops_until_failure = 0;
}

}  // namespace uetcd::wal
