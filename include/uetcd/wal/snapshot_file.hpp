// Snapshot files in <data-dir>/member/snap: a checksummed container around opaque bytes,
// named like etcd's "%016x-%016x.snap" (term, index). Saved atomically (temp, fsync, rename,
// fsync dir); loading takes the newest valid one and skips a corrupt newer one with a log
// line, as etcd's snap.Snapshotter.Load does. decode_snapshot is pure and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/wal/file_system.hpp"
#include "uetcd/wal/wal.hpp"

namespace uetcd::wal {

struct snapshot_file {
    std::uint64_t term = 0;
    std::uint64_t index = 0;
    std::string data;
    bool operator==(const snapshot_file&) const = default;
};

inline constexpr std::uint64_t snapshot_magic = 0x706e73647374656fULL;  // "oetcdsnp" LE
inline constexpr std::size_t snapshot_header_bytes = 48;
// A v2 store snapshot holds the whole key space; 1 GiB bounds what load reads into memory.
inline constexpr std::uint64_t snapshot_bytes_max = 1ULL << 30;

enum class snapshot_errc : std::uint8_t { truncated, bad_magic, bad_length, bad_checksum };
const char* to_string(snapshot_errc code) noexcept;

std::string snapshot_name(std::uint64_t term, std::uint64_t index);
std::optional<snapshot_file> parse_snapshot_name(std::string_view name) noexcept;
// [magic u64][version u32][reserved u32][term u64][index u64][length u64][checksum u64][data]
std::string encode_snapshot(const snapshot_file& snap);
result<snapshot_file, snapshot_errc> decode_snapshot(std::string_view bytes);

// Writes `snap` durably into `dir` (made if missing); returns the file name.
task<result<std::string, wal_error>> save_snapshot(file_system& fs, const std::string& dir,
    const snapshot_file& snap);

// The same with plain blocking syscalls and no reactor: for a forked child process that
// serializes a copy-on-write image of the store (server/durable_store.cpp). 0 or -errno.
int save_snapshot_blocking(const std::string& dir, const snapshot_file& snap);

struct loaded_snapshot {
    std::optional<snapshot_file> snap;  // nullopt: no valid snapshot (start from an empty store)
    std::string name;
    std::vector<std::string> skipped;   // one log line per corrupt newer snapshot skipped
};
// Loads the newest snapshot whose container verifies and whose name matches its content.
task<result<loaded_snapshot, wal_error>> load_newest_snapshot(file_system& fs,
    const std::string& dir);

// Removes the oldest snapshots while more than max_snapshots remain (0 = unlimited).
task<result<std::vector<std::string>, wal_error>> purge_snapshots(file_system& fs,
    const std::string& dir, std::uint64_t max_snapshots);

}  // namespace uetcd::wal
