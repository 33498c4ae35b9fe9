// The small file interface the WAL and snapshot code use, so that tests can swap the disk:
// reactor_file_system goes through the reactor's backend (io_uring or epoll); sim_disk
// (sim_disk.hpp) simulates power loss. Results are >= 0 or -errno, as reactor ops return.
// Paths are taken by reference: callers name them and keep them alive across the co_await.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/reactor/task.hpp"
#include "uetcd/result.hpp"

namespace uetcd::wal {

using reactor::task;

enum class open_mode : std::uint8_t {
    read_only,
    write_existing,  // O_WRONLY on an existing file
    create_new,      // O_WRONLY | O_CREAT | O_TRUNC
};

// A whole file's bytes for reading: an owned copy, or a read-only mapping of the file.
class file_bytes {
public:
    file_bytes() = default;
    explicit file_bytes(std::string copy) : _copy(std::move(copy)), _view(_copy) {}
    // Takes a mapping made with mmap (unmapped on destruction).
    file_bytes(const char* mapped, std::size_t size_bytes);
    ~file_bytes();
    file_bytes(file_bytes&& other) noexcept;
    file_bytes& operator=(file_bytes&&) = delete;
    file_bytes(const file_bytes&) = delete;
    file_bytes& operator=(const file_bytes&) = delete;
    std::string_view view() const noexcept { return _view; }

private:
    std::string _copy;
    std::string_view _view;
    bool _mapped = false;
};

class file_system {
public:
    virtual ~file_system() = default;
    virtual task<int> open(const std::string& path, open_mode mode) = 0;
    virtual task<std::int64_t> write_at(int fd, const char* data, std::uint64_t size_bytes,
        std::uint64_t offset) = 0;
    virtual task<std::int64_t> read_at(int fd, char* data, std::uint64_t size_bytes,
        std::uint64_t offset) = 0;
    virtual task<int> fdatasync(int fd) = 0;
    // Reserves [0, size_bytes) so that later writes need no metadata update (size grows).
    virtual task<int> fallocate(int fd, std::uint64_t size_bytes) = 0;
    virtual task<int> close(int fd) = 0;
    virtual task<int> rename(const std::string& from, const std::string& to) = 0;
    // Makes the directory's entries (creations, renames, removals) durable.
    virtual task<int> fsync_dir(const std::string& dir) = 0;
    virtual task<int> remove(const std::string& path) = 0;
    virtual task<int> make_dirs(const std::string& path) = 0;
    virtual task<std::int64_t> file_size(int fd) = 0;
    // The whole file for reading (bounded by size_bytes_max; -EFBIG if larger). The default
    // copies it with read_at; the real disk maps it, so that scanning a preallocated 64 MiB
    // segment costs neither a 64 MiB allocation nor a copy.
    virtual task<result<file_bytes, int>> read_bytes(const std::string& path,
        std::uint64_t size_bytes_max);
    // Plain file names in `dir`, sorted; -errno on failure (-ENOENT if it does not exist).
    virtual task<result<std::vector<std::string>, int>> list_dir(const std::string& dir) = 0;
};

// The real disk, through the reactor of the calling core. open/write/read/fdatasync/
// fallocate/close are reactor ops; rename, unlink, mkdir, fstat and readdir have no reactor op
// and run synchronously (metadata calls made at segment cuts, start-up and retention only).
class reactor_file_system final : public file_system {
public:
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
    task<result<file_bytes, int>> read_bytes(const std::string& path,
        std::uint64_t size_bytes_max) override;
    task<result<std::vector<std::string>, int>> list_dir(const std::string& dir) override;
};

// Reads a whole file (bounded by size_bytes_max); -errno on failure, -EFBIG if too large.
task<result<std::string, int>> read_whole_file(file_system& fs, const std::string& path,
    std::uint64_t size_bytes_max);
// Writes all of `data` at `offset`, retrying short writes; 0 or -errno.
task<int> write_all(file_system& fs, int fd, const std::string& data, std::uint64_t offset);

}  // namespace uetcd::wal
