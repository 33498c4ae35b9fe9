// WAL segments: file names and the pure scan of one segment's bytes (header, records, tail).
// No I/O: recovery (wal.hpp) reads the files and applies the rules in scan_segment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/wal/record.hpp"

namespace uetcd::wal {

// etcd's naming: "%016x-%016x.wal" of (segment sequence, first raft index).
std::string segment_name(std::uint64_t sequence, std::uint64_t first_index);
// Parses a segment file name; nullopt for anything else (e.g. a leftover .tmp).
struct segment_id {
    std::uint64_t sequence = 0;
    std::uint64_t first_index = 0;
};
std::optional<segment_id> parse_segment_name(std::string_view name) noexcept;

enum class scan_errc : std::uint8_t {
    bad_header,  // the first record is not a valid segment header
    corrupt,     // a bad record followed by valid data, or a bad record in a non-last segment
};

struct scan_error {
    scan_errc code;
    decode_error cause;  // the first bad record and why
};

struct segment_scan {
    segment_header header;
    std::vector<decoded_record> records;  // after the header, in order
    std::uint64_t valid_end = 0;          // end of the last valid record
    // Set when non-zero bytes after valid_end were cut off (a torn write): where they start
    // and end, and what the first bad record looked like.
    bool torn = false;
    std::uint64_t torn_end = 0;
    decode_error torn_cause{decode_errc::zero_header, 0};
};

// Scans `bytes` (a whole segment file). Rules (docs/wal.md):
// - after the last valid record, zeros to the end are the preallocated area: clean;
// - in the last segment, a bad record after which no valid record follows anywhere (at any
//   8-byte offset) is a torn write: cut at its offset and reported;
// - a bad record followed by a valid one, or any bad record in a non-last segment, is
//   corruption: an error naming the offset.
result<segment_scan, scan_error> scan_segment(std::string_view bytes, bool last_segment);

}  // namespace uetcd::wal
