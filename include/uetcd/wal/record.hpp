// WAL record framing: [length u32][type u8][flags u8][reserved u16][checksum u64][payload], padded
// with zeros to 8 bytes. Pure: no I/O. decode_record is total: any input gives a record or an
// error naming the byte offset, never undefined behaviour (fuzzed by tests/fuzz/wal_fuzz.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "uetcd/result.hpp"

namespace uetcd::wal {

// What a record holds. The WAL stores opaque bytes; entry and snapshot records start with
// their raft index so that recovery can filter and name segments without knowing raft.
enum class record_type : std::uint8_t {
    segment_header = 1,  // first record of every segment (segment_header below)
    metadata = 2,        // opaque bytes given at creation, repeated after every header
    entry = 3,           // [raft index u64][opaque entry bytes]
    hard_state = 4,      // term, vote, commit (hard_state below)
    snapshot = 5,        // marker: a snapshot at [term u64][index u64] was saved
};
inline constexpr std::uint8_t record_type_max = 5;

inline constexpr std::size_t record_header_bytes = 16;
inline constexpr std::size_t record_alignment_bytes = 8;
// The largest payload decode accepts. 64 MiB is the default segment size, and a record must
// fit in one segment with its header; the writer's own bound (wal_options) is smaller.
inline constexpr std::uint32_t record_payload_bytes_max = 64U << 20;

struct record {
    record_type type = record_type::entry;
    std::string payload;
    bool operator==(const record&) const = default;
};

struct hard_state {
    std::uint64_t term = 0;
    std::uint64_t vote = 0;
    std::uint64_t commit = 0;
    bool operator==(const hard_state&) const = default;
};

struct segment_header {
    std::uint64_t magic = 0;
    std::uint32_t version = 0;
    std::uint64_t sequence = 0;
    std::uint64_t first_index = 0;  // raft index of the first entry this segment may hold
};
inline constexpr std::uint64_t segment_magic = 0x6c61772d64637465ULL;  // "etcd-wal" LE
inline constexpr std::uint32_t segment_version = 1;

enum class decode_errc : std::uint8_t {
    truncated_header,  // fewer than 16 bytes left
    zero_header,       // 16 zero bytes: the preallocated area, not a record
    bad_type,
    bad_reserved,
    too_long,          // length above record_payload_bytes_max
    truncated_payload, // length runs past the end of the data
    bad_padding,       // non-zero bytes in the padding
    bad_checksum,
};

struct decode_error {
    decode_errc code;
    std::uint64_t offset;  // where the bad record starts
};
const char* to_string(decode_errc code) noexcept;

struct decoded_record {
    record_type type;
    std::uint8_t flags;
    std::string_view payload;  // points into the decoded buffer
    std::uint64_t offset;      // where the record starts
    std::uint64_t end_offset;  // offset + framed size
};

// Bytes a record with `payload_bytes` takes on disk (header, payload, padding).
constexpr std::uint64_t framed_bytes(std::uint64_t payload_bytes) noexcept {
    const std::uint64_t raw = record_header_bytes + payload_bytes;
    return (raw + record_alignment_bytes - 1) / record_alignment_bytes * record_alignment_bytes;
}

std::uint64_t record_checksum(std::uint8_t type, std::uint8_t flags,
    std::string_view payload) noexcept;
// Appends the framed record to `out`.
void encode_record(record_type type, std::string_view payload, std::string& out);
// Decodes the record that starts at `offset` of `bytes`.
result<decoded_record, decode_error> decode_record(std::string_view bytes, std::uint64_t offset);

// Payload helpers for the fixed records. parse_* return false on a wrong size.
std::string encode_hard_state(const hard_state& state);
bool parse_hard_state(std::string_view payload, hard_state& out) noexcept;
std::string encode_segment_header(const segment_header& header);
bool parse_segment_header(std::string_view payload, segment_header& out) noexcept;
record make_entry(std::uint64_t index, std::string_view data);
record make_hard_state(const hard_state& state);
record make_snapshot_marker(std::uint64_t term, std::uint64_t index);
// The raft index an entry or snapshot record starts with; false if the payload is too short.
bool record_index(const record& rec, std::uint64_t& index) noexcept;
std::string_view entry_data(const record& rec) noexcept;

void put_u32(std::string& out, std::uint32_t value);
void put_u64(std::string& out, std::uint64_t value);
std::uint32_t get_u32(const char* data) noexcept;
std::uint64_t get_u64(const char* data) noexcept;

}  // namespace uetcd::wal
