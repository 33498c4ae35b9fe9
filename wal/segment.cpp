// Segment names and the pure segment scan (see include/uetcd/wal/segment.hpp).
#include "uetcd/wal/segment.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "uetcd/assert.hpp"

namespace uetcd::wal {

std::string segment_name(std::uint64_t sequence, std::uint64_t first_index) {
    char name[64];
    const int n = std::snprintf(name, sizeof(name), "%016llx-%016llx.wal",
        static_cast<unsigned long long>(sequence), static_cast<unsigned long long>(first_index));
    UETCD_ASSERT(n == 37);
    return std::string(name, static_cast<std::size_t>(n));
}

namespace {
bool parse_hex16(std::string_view text, std::uint64_t& out) noexcept {
    if (text.size() != 16) {
        return false;
    }
    out = 0;
    for (char c : text) {
        std::uint64_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<std::uint64_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<std::uint64_t>(c - 'a' + 10);
        } else {
            return false;
        }
        out = (out << 4) | digit;
    }
    return true;
}

bool all_zero_from(std::string_view bytes, std::uint64_t offset) noexcept {
    // Eight bytes at a time: a preallocated 64 MiB tail is checked at memory speed.
    for (; offset + 8 <= bytes.size(); offset += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, bytes.data() + offset, 8);
        if (word != 0) {
            return false;
        }
    }
    for (std::uint64_t i = offset; i < bytes.size(); ++i) {
        if (bytes[i] != 0) {
            return false;
        }
    }
    return true;
}

std::uint64_t nonzero_end(std::string_view bytes, std::uint64_t from) noexcept {
    std::uint64_t end = bytes.size();
    while (end > from && bytes[end - 1] == 0) {
        --end;
    }
    return end;
}

// True if any valid record starts at an aligned offset in [from, end). Zero headers are
// rejected in a few instructions, so scanning a mostly preallocated 64 MiB tail is cheap.
bool valid_record_after(std::string_view bytes, std::uint64_t from) noexcept {
    for (std::uint64_t at = from; at + record_header_bytes <= bytes.size();
         at += record_alignment_bytes) {
        if (decode_record(bytes, at).ok()) {
            return true;
        }
    }
    return false;
}

// etcd's isTornEntry: a write torn by a power loss leaves whole 512-byte sectors unwritten, and
// the preallocated area reads as zeros there. So a bad record is torn when it runs past the end
// of the file, or when one of its sector-aligned pieces (as far as its length field reaches) is
// all zeros. A bad record with every piece written is a flipped bit: corruption.
constexpr std::uint64_t sector_bytes = 512;

bool looks_torn(std::string_view bytes, std::uint64_t offset, decode_errc cause) noexcept {
    if (cause == decode_errc::truncated_header || cause == decode_errc::truncated_payload
        || cause == decode_errc::zero_header) {
        return true;
    }
    const std::uint64_t length = get_u32(bytes.data() + offset);
    const std::uint64_t end = std::min<std::uint64_t>(bytes.size(),
        offset + record_header_bytes + std::min<std::uint64_t>(length, bytes.size()));
    std::uint64_t piece = offset;
    while (piece < end) {
        const std::uint64_t piece_end = std::min(end, (piece / sector_bytes + 1) * sector_bytes);
        bool zero = true;
        for (std::uint64_t i = piece; i < piece_end && zero; ++i) {
            zero = bytes[i] == 0;
        }
        if (zero) {
            return true;
        }
        piece = piece_end;
    }
    return false;
}

}  // namespace

std::optional<segment_id> parse_segment_name(std::string_view name) noexcept {
    if (name.size() != 37 || name[16] != '-' || name.substr(33) != ".wal") {
        return std::nullopt;
    }
    segment_id id;
    if (!parse_hex16(name.substr(0, 16), id.sequence)
        || !parse_hex16(name.substr(17, 16), id.first_index)) {
        return std::nullopt;
    }
    return id;
}

result<segment_scan, scan_error> scan_segment(std::string_view bytes, bool last_segment) {
    segment_scan scan;
    auto header = decode_record(bytes, 0);
    if (!header.ok()) {
        return failure{scan_error{scan_errc::bad_header, header.error()}};
    }
    if (header->type != record_type::segment_header
        || !parse_segment_header(header->payload, scan.header)) {
        return failure{scan_error{scan_errc::bad_header, {decode_errc::bad_type, 0}}};
    }
    std::uint64_t offset = header->end_offset;
    while (true) {
        auto rec = decode_record(bytes, offset);
        if (rec.ok()) {
            scan.records.push_back(*rec);
            offset = rec->end_offset;
            continue;
        }
        const bool zero_rest = all_zero_from(bytes, offset);
        if (zero_rest) {
            break;  // the preallocated area (or exactly the end of the file)
        }
        const decode_error cause = rec.error();
        if (!last_segment || !looks_torn(bytes, offset, cause.code)
            || valid_record_after(bytes, offset + record_alignment_bytes)) {
            return failure{scan_error{scan_errc::corrupt, cause}};
        }
        scan.torn = true;
        scan.torn_end = nonzero_end(bytes, offset);
        scan.torn_cause = cause;
        break;
    }
    scan.valid_end = offset;
    UETCD_ASSERT(scan.valid_end <= bytes.size());
    UETCD_ASSERT(scan.valid_end % record_alignment_bytes == 0);
    return scan;
}

}  // namespace uetcd::wal
