// sim_disk: an in-memory file_system that simulates power loss, for the WAL's tests.
// Writes stay volatile until fdatasync; a created, renamed or removed name stays volatile
// until its directory is fsynced. crash() keeps, per file, the synced bytes plus a random
// prefix of the unsynced ones with 512-byte sectors torn (new, old or garbage), and per
// directory either all or none of its unsynced name changes. Seeded: a run replays exactly.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "uetcd/prng.hpp"
#include "uetcd/wal/file_system.hpp"

namespace uetcd::wal {

class sim_disk final : public file_system {
public:
    explicit sim_disk(std::uint64_t seed) : _random(seed) {}

    task<int> open(const std::string& path, open_mode mode) override;
    task<std::int64_t> write_at(int fd, const char* data, std::uint64_t size_bytes,
        std::uint64_t offset) override;
    task<std::int64_t> read_at(int fd, char* data, std::uint64_t size_bytes,
        std::uint64_t offset) override;
    task<int> fdatasync(int fd) override;
    task<int> fallocate(int fd, std::uint64_t size_bytes) override;
    task<int> close(int fd) override;
    task<int> rename(const std::string& from, const std::string& to) override;
    task<int> fsync_dir(const std::string& dir) override;
    task<int> remove(const std::string& path) override;
    task<int> make_dirs(const std::string& path) override;
    task<std::int64_t> file_size(int fd) override;
    task<result<std::vector<std::string>, int>> list_dir(const std::string& dir) override;

    // After `ops` more mutating calls, the power fails: that call and every later one
    // return -EIO until crash() is called. 0 = never.
    void fail_after(std::uint64_t ops) noexcept { _ops_until_failure = ops; }
    bool failed() const noexcept { return _failed; }
    // Applies the power loss to the stored state, closes every fd and powers back on.
    void crash();

    // Test access to stored bytes (the volatile view).
    std::string* file_bytes(const std::string& path);
    const std::string* synced_bytes(const std::string& path) const;
    std::uint64_t fdatasync_count() const noexcept { return _fdatasyncs; }
    static constexpr std::uint64_t sector_bytes = 512;

private:
    struct inode {
        std::string data;    // what reads see now
        std::string synced;  // what survives a crash for sure
    };
    bool tick_failure() noexcept;
    void crash_file(inode& file);
    void crash_names();
    static std::string parent_of(const std::string& path);

    prng _random;
    std::map<std::uint64_t, inode> _inodes;
    std::map<std::string, std::uint64_t> _names;          // path -> inode, now
    std::map<std::string, std::uint64_t> _durable_names;  // path -> inode, after a crash
    std::map<int, std::uint64_t> _fds;
    std::uint64_t _next_inode = 1;
    int _next_fd = 3;
    std::uint64_t _ops_until_failure = 0;
    std::uint64_t _fdatasyncs = 0;
    bool _failed = false;
};

}  // namespace uetcd::wal
