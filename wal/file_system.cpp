// reactor_file_system: the WAL's file interface over reactor ops (see file_system.hpp).
#include "uetcd/wal/file_system.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "uetcd/reactor/ops.hpp"

namespace uetcd::wal {

namespace rx = uetcd::reactor;

task<int> reactor_file_system::open(const std::string& path, open_mode mode) {
    int flags = O_CLOEXEC;
    switch (mode) {
        case open_mode::read_only: flags |= O_RDONLY; break;
        case open_mode::write_existing: flags |= O_WRONLY; break;
        case open_mode::create_new: flags |= O_WRONLY | O_CREAT | O_TRUNC; break;
    }
    const int fd = co_await rx::open_file(path.c_str(), flags, 0644);
    co_return fd;
}

task<std::int64_t> reactor_file_system::write_at(int fd, const char* data,
    std::uint64_t size_bytes, std::uint64_t offset) {
    const std::int32_t n = co_await rx::write_at(fd, data, size_bytes, offset);
    co_return n;
}

task<std::int64_t> reactor_file_system::read_at(int fd, char* data, std::uint64_t size_bytes,
    std::uint64_t offset) {
    const std::int32_t n = co_await rx::read_at(fd, data, size_bytes, offset);
    co_return n;
}

task<int> reactor_file_system::fdatasync(int fd) {
    const std::int32_t rc = co_await rx::fdatasync(fd);
    co_return rc;
}

task<int> reactor_file_system::fallocate(int fd, std::uint64_t size_bytes) {
    const std::int32_t rc = co_await rx::fallocate(fd, 0, 0, size_bytes);
    co_return rc;
}

task<int> reactor_file_system::close(int fd) {
    const std::int32_t rc = co_await rx::close_fd(fd);
    co_return rc;
}

task<int> reactor_file_system::rename(const std::string& from, const std::string& to) {
    co_return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : -errno;
}

task<int> reactor_file_system::fsync_dir(const std::string& dir) {
    const int fd = co_await rx::open_file(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        co_return fd;
    }
    const std::int32_t rc = co_await rx::fsync(fd);
    co_await rx::close_fd(fd);
    co_return rc;
}

task<int> reactor_file_system::remove(const std::string& path) {
    co_return ::unlink(path.c_str()) == 0 ? 0 : -errno;
}

task<int> reactor_file_system::make_dirs(const std::string& path) {
    for (std::size_t at = 1; at <= path.size(); ++at) {
        if (at == path.size() || path[at] == '/') {
            const std::string prefix = path.substr(0, at);
            if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
                co_return -errno;
            }
        }
    }
    co_return 0;
}

task<std::int64_t> reactor_file_system::file_size(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        co_return -errno;
    }
    co_return static_cast<std::int64_t>(st.st_size);
}

file_bytes::file_bytes(const char* mapped, std::size_t size_bytes)
    : _view(mapped, size_bytes), _mapped(true) {}

file_bytes::~file_bytes() {
    if (_mapped && !_view.empty()) {
        ::munmap(const_cast<char*>(_view.data()), _view.size());
    }
}

file_bytes::file_bytes(file_bytes&& other) noexcept
    : _copy(std::move(other._copy)), _mapped(other._mapped) {
    _view = _mapped ? other._view : std::string_view(_copy);
    other._view = {};
    other._mapped = false;
}

task<result<file_bytes, int>> file_system::read_bytes(const std::string& path,
    std::uint64_t size_bytes_max) {
    auto bytes = co_await read_whole_file(*this, path, size_bytes_max);
    if (!bytes) {
        co_return failure{bytes.error()};
    }
    co_return file_bytes(std::move(bytes).value());
}

task<result<file_bytes, int>> reactor_file_system::read_bytes(const std::string& path,
    std::uint64_t size_bytes_max) {
    // Start-up only: a synchronous open and mmap; the pages fault in as the scan reads them.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        co_return failure{-errno};
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int error = -errno;
        ::close(fd);
        co_return failure{error};
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > size_bytes_max) {
        ::close(fd);
        co_return failure{-EFBIG};
    }
    if (size == 0) {
        ::close(fd);
        co_return file_bytes(std::string{});
    }
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int error = -errno;
    ::close(fd);
    if (mapped == MAP_FAILED) {
        co_return failure{error};
    }
    ::madvise(mapped, size, MADV_SEQUENTIAL);
    co_return file_bytes(static_cast<const char*>(mapped), size);
}

task<result<std::vector<std::string>, int>> reactor_file_system::list_dir(
    const std::string& dir) {
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) {
        co_return failure{-errno};
    }
    std::vector<std::string> names;
    // Bounded by the directory: the WAL and snap dirs hold max_wals/max_snapshots files.
    while (const dirent* entry = ::readdir(handle)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") {
            names.push_back(name);
        }
    }
    ::closedir(handle);
    std::sort(names.begin(), names.end());
    co_return names;
}

task<result<std::string, int>> read_whole_file(file_system& fs, const std::string& path,
    std::uint64_t size_bytes_max) {
    const int fd = co_await fs.open(path, open_mode::read_only);
    if (fd < 0) {
        co_return failure{fd};
    }
    const std::int64_t size = co_await fs.file_size(fd);
    if (size < 0 || static_cast<std::uint64_t>(size) > size_bytes_max) {
        co_await fs.close(fd);
        co_return failure{size < 0 ? static_cast<int>(size) : -EFBIG};
    }
    std::string bytes(static_cast<std::size_t>(size), '\0');
    std::uint64_t done = 0;
    while (done < bytes.size()) {
        // 1 MiB reads: the reactor ops take 32-bit sizes and a chunk keeps each op short.
        const std::uint64_t chunk = std::min<std::uint64_t>(bytes.size() - done, 1U << 20);
        const std::int64_t n = co_await fs.read_at(fd, bytes.data() + done, chunk, done);
        if (n <= 0) {
            co_await fs.close(fd);
            co_return failure{n == 0 ? -EIO : static_cast<int>(n)};
        }
        done += static_cast<std::uint64_t>(n);
    }
    co_await fs.close(fd);
    co_return bytes;
}

task<int> write_all(file_system& fs, int fd, const std::string& data, std::uint64_t offset) {
    std::uint64_t done = 0;
    while (done < data.size()) {
        const std::uint64_t chunk = std::min<std::uint64_t>(data.size() - done, 1U << 30);
        const std::int64_t n = co_await fs.write_at(fd, data.data() + done, chunk, offset + done);
        if (n <= 0) {
            co_return n == 0 ? -EIO : static_cast<int>(n);
        }
        done += static_cast<std::uint64_t>(n);
    }
    co_return 0;
}

}  // namespace uetcd::wal
