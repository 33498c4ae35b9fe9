// WAL record framing (see include/uetcd/wal/record.hpp). Little-endian on disk.
#include "uetcd/wal/record.hpp"

#include <cstring>

#include "uetcd/assert.hpp"
#include "uetcd/hash.hpp"

namespace uetcd::wal {

void put_u32(std::string& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    }
}

void put_u64(std::string& out, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    }
}

std::uint32_t get_u32(const char* data) noexcept {
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) {
        value = (value << 8) | static_cast<unsigned char>(data[i]);
    }
    return value;
}

std::uint64_t get_u64(const char* data) noexcept {
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) {
        value = (value << 8) | static_cast<unsigned char>(data[i]);
    }
    return value;
}

const char* to_string(decode_errc code) noexcept {
    switch (code) {
        case decode_errc::truncated_header: return "truncated record header";
        case decode_errc::zero_header: return "zero record header";
        case decode_errc::bad_type: return "unknown record type";
        case decode_errc::bad_reserved: return "non-zero reserved header bytes";
        case decode_errc::too_long: return "record length too large";
        case decode_errc::truncated_payload: return "truncated record payload";
        case decode_errc::bad_padding: return "non-zero record padding";
        case decode_errc::bad_checksum: return "record checksum mismatch";
    }
    return "unknown decode error";
}

// The type and flags go into the seed so that a flipped type byte fails the checksum too.
std::uint64_t record_checksum(std::uint8_t type, std::uint8_t flags,
    std::string_view payload) noexcept {
    const std::uint64_t seed = hash_seed ^ (std::uint64_t{type} << 8) ^ (std::uint64_t{flags} << 16)
        ^ (std::uint64_t{payload.size()} << 24);
    return XXH3_64bits_withSeed(payload.data(), payload.size(), seed);
}

void encode_record(record_type type, std::string_view payload, std::string& out) {
    UETCD_ASSERT(payload.size() <= record_payload_bytes_max);
    const auto type_byte = static_cast<std::uint8_t>(type);
    UETCD_ASSERT(type_byte >= 1 && type_byte <= record_type_max);
    const std::size_t start = out.size();
    put_u32(out, static_cast<std::uint32_t>(payload.size()));
    out.push_back(static_cast<char>(type_byte));
    out.push_back(0);  // flags: none defined yet
    out.push_back(0);
    out.push_back(0);
    put_u64(out, record_checksum(type_byte, 0, payload));
    out.append(payload);
    out.resize(start + framed_bytes(payload.size()), '\0');
    UETCD_ASSERT((out.size() - start) % record_alignment_bytes == 0);
    // Paired with the check on read: what we frame must decode (debug builds, costs a hash).
    UETCD_ASSERT_DEBUG(decode_record(out, start).ok());
}

namespace {
bool all_zero(std::string_view bytes) noexcept {
    for (char c : bytes) {
        if (c != 0) {
            return false;
        }
    }
    return true;
}
}  // namespace

result<decoded_record, decode_error> decode_record(std::string_view bytes, std::uint64_t offset) {
    auto fail = [offset](decode_errc code) { return failure{decode_error{code, offset}}; };
    if (offset > bytes.size() || bytes.size() - offset < record_header_bytes) {
        return fail(decode_errc::truncated_header);
    }
    const char* header = bytes.data() + offset;
    if (all_zero(std::string_view(header, record_header_bytes))) {
        return fail(decode_errc::zero_header);
    }
    const std::uint32_t length = get_u32(header);
    const auto type = static_cast<std::uint8_t>(header[4]);
    const auto flags = static_cast<std::uint8_t>(header[5]);
    if (type == 0 || type > record_type_max) {
        return fail(decode_errc::bad_type);
    }
    if (flags != 0 || header[6] != 0 || header[7] != 0) {
        return fail(decode_errc::bad_reserved);
    }
    if (length > record_payload_bytes_max) {
        return fail(decode_errc::too_long);
    }
    const std::uint64_t total = framed_bytes(length);
    if (bytes.size() - offset < total) {
        return fail(decode_errc::truncated_payload);
    }
    const std::string_view payload(header + record_header_bytes, length);
    const std::string_view padding(header + record_header_bytes + length,
        total - record_header_bytes - length);
    if (!all_zero(padding)) {
        return fail(decode_errc::bad_padding);
    }
    if (get_u64(header + 8) != record_checksum(type, flags, payload)) {
        return fail(decode_errc::bad_checksum);
    }
    return decoded_record{static_cast<record_type>(type), flags, payload, offset, offset + total};
}

std::string encode_hard_state(const hard_state& state) {
    std::string out;
    put_u64(out, state.term);
    put_u64(out, state.vote);
    put_u64(out, state.commit);
    return out;
}

bool parse_hard_state(std::string_view payload, hard_state& out) noexcept {
    if (payload.size() != 24) {
        return false;
    }
    out = hard_state{get_u64(payload.data()), get_u64(payload.data() + 8),
        get_u64(payload.data() + 16)};
    return true;
}

std::string encode_segment_header(const segment_header& header) {
    std::string out;
    put_u64(out, header.magic);
    put_u32(out, header.version);
    put_u32(out, 0);
    put_u64(out, header.sequence);
    put_u64(out, header.first_index);
    return out;
}

bool parse_segment_header(std::string_view payload, segment_header& out) noexcept {
    if (payload.size() != 32) {
        return false;
    }
    out.magic = get_u64(payload.data());
    out.version = get_u32(payload.data() + 8);
    out.sequence = get_u64(payload.data() + 16);
    out.first_index = get_u64(payload.data() + 24);
    return out.magic == segment_magic && out.version == segment_version;
}

record make_entry(std::uint64_t index, std::string_view data) {
    record rec{record_type::entry, {}};
    rec.payload.reserve(8 + data.size());
    put_u64(rec.payload, index);
    rec.payload.append(data);
    return rec;
}

record make_hard_state(const hard_state& state) {
    return record{record_type::hard_state, encode_hard_state(state)};
}

record make_snapshot_marker(std::uint64_t term, std::uint64_t index) {
    record rec{record_type::snapshot, {}};
    put_u64(rec.payload, index);
    put_u64(rec.payload, term);
    return rec;
}

bool record_index(const record& rec, std::uint64_t& index) noexcept {
    if (rec.payload.size() < 8) {
        return false;
    }
    index = get_u64(rec.payload.data());
    return true;
}

std::string_view entry_data(const record& rec) noexcept {
    UETCD_ASSERT(rec.type == record_type::entry);
    UETCD_ASSERT(rec.payload.size() >= 8);
    return std::string_view(rec.payload).substr(8);
}

}  // namespace uetcd::wal
