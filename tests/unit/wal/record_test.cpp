// Pure framing and segment-scan tests: round trips, every decode error, torn tails cut at
// every byte offset, bit flips in the tail and in the middle, 1,000 random byte flips.
#include <catch2/catch.hpp>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "uetcd/prng.hpp"
#include "uetcd/wal/record.hpp"
#include "uetcd/wal/segment.hpp"
#include "wal_test_support.hpp"

using namespace uetcd::wal;

namespace {

struct built_segment {
    std::string bytes;
    std::vector<std::uint64_t> starts;  // offset of each record after the header
    std::vector<std::uint64_t> content_ends;  // end of each record without its zero padding
    std::vector<record> records;
    std::uint64_t data_end = 0;
};

// A segment as the writer lays it out: header, `count` entries, zeros up to `size_bytes`.
built_segment build_segment(std::uint64_t count, std::uint64_t seed, std::uint64_t size_bytes) {
    built_segment seg;
    encode_record(record_type::segment_header,
        encode_segment_header({segment_magic, segment_version, 3, 1}), seg.bytes);
    for (std::uint64_t i = 1; i <= count; ++i) {
        seg.starts.push_back(seg.bytes.size());
        seg.records.push_back(make_entry(i, wal_test::payload_for(seed, i, 100)));
        encode_record(seg.records.back().type, seg.records.back().payload, seg.bytes);
        seg.content_ends.push_back(seg.starts.back() + 16 + seg.records.back().payload.size());
    }
    seg.data_end = seg.bytes.size();
    REQUIRE(seg.bytes.size() <= size_bytes);
    seg.bytes.resize(size_bytes, '\0');
    return seg;
}

void require_prefix(const segment_scan& scan, const built_segment& seg, std::uint64_t count) {
    REQUIRE(scan.records.size() == count);
    for (std::uint64_t i = 0; i < count; ++i) {
        REQUIRE(scan.records[i].type == seg.records[i].type);
        REQUIRE(scan.records[i].payload == seg.records[i].payload);
    }
}

// Records whose framed end (or, when the padding reads back as zeros anyway, whose content
// end) is at or before `cut`.
std::uint64_t records_before(const built_segment& seg, std::uint64_t cut, bool zero_padding) {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < seg.starts.size(); ++i) {
        const std::uint64_t end = zero_padding ? seg.content_ends[i]
            : i + 1 < seg.starts.size() ? seg.starts[i + 1] : seg.data_end;
        n += end <= cut ? 1 : 0;
    }
    return n;
}

}  // namespace

TEST_CASE("wal record: round trip of sizes around the padding boundary", "[wal][record]") {
    for (std::uint64_t size : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4095, 4096, 70000}) {
        for (auto type : {record_type::entry, record_type::metadata, record_type::hard_state,
                 record_type::snapshot}) {
            const std::string payload = wal_test::payload_for(size, 1, 1) + std::string(size, 'x');
            std::string framed;
            encode_record(type, payload, framed);
            REQUIRE(framed.size() == framed_bytes(payload.size()));
            REQUIRE(framed.size() % 8 == 0);
            auto decoded = decode_record(framed, 0);
            REQUIRE(decoded.ok());
            REQUIRE(decoded->type == type);
            REQUIRE(decoded->payload == payload);
            REQUIRE(decoded->end_offset == framed.size());
        }
    }
}

TEST_CASE("wal record: each malformed input gives its error and offset", "[wal][record]") {
    std::string good;
    good.append(8, '\0');  // the record starts at offset 8
    encode_record(record_type::entry, "hello world", good);
    struct case_t {
        const char* name;
        std::size_t byte;   // byte to change (from the start of the buffer)
        char value;
        std::size_t keep;   // truncate to this many bytes (0 = keep all)
        decode_errc expected;
    };
    const std::vector<case_t> cases = {
        {"short header", 0, 0, 20, decode_errc::truncated_header},
        {"type zero", 12, 0, 0, decode_errc::bad_type},
        {"type unknown", 12, 9, 0, decode_errc::bad_type},
        {"flags set", 13, 1, 0, decode_errc::bad_reserved},
        {"reserved set", 15, 1, 0, decode_errc::bad_reserved},
        {"length huge", 11, 0x7f, 0, decode_errc::too_long},
        {"length past end", 8, 40, 0, decode_errc::truncated_payload},
        {"payload cut", 0, 0, 30, decode_errc::truncated_payload},
        {"padding dirty", 39, 1, 0, decode_errc::bad_padding},
        {"payload flipped", 25, 'H', 0, decode_errc::bad_checksum},
        {"checksum flipped", 16, 0x55, 0, decode_errc::bad_checksum},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        std::string bytes = good;
        if (c.keep == 0) {
            bytes[c.byte] = c.value;
        } else {
            bytes.resize(c.keep);
        }
        auto decoded = decode_record(bytes, 8);
        REQUIRE_FALSE(decoded.ok());
        REQUIRE(decoded.error().code == c.expected);
        REQUIRE(decoded.error().offset == 8);
    }
    REQUIRE(decode_record(std::string(32, '\0'), 0).error().code == decode_errc::zero_header);
    REQUIRE(decode_record(good, 1000).error().code == decode_errc::truncated_header);
}

TEST_CASE("wal record: fixed payloads and names round trip", "[wal][record]") {
    hard_state state{7, 3, 42};
    hard_state parsed;
    REQUIRE(parse_hard_state(encode_hard_state(state), parsed));
    REQUIRE(parsed == state);
    REQUIRE_FALSE(parse_hard_state("short", parsed));
    std::uint64_t index = 0;
    REQUIRE(record_index(make_entry(99, "x"), index));
    REQUIRE(index == 99);
    REQUIRE(entry_data(make_entry(99, "xyz")) == "xyz");
    REQUIRE(segment_name(1, 0x2a) == "0000000000000001-000000000000002a.wal");
    auto id = parse_segment_name("0000000000000001-000000000000002a.wal");
    REQUIRE(id.has_value());
    REQUIRE(id->sequence == 1);
    REQUIRE(id->first_index == 42);
    for (const char* bad : {"0000000000000001-000000000000002a.wal.tmp", "x.wal",
             "000000000000000G-000000000000002a.wal", "0000000000000001_000000000000002a.wal"}) {
        REQUIRE_FALSE(parse_segment_name(bad).has_value());
    }
}

TEST_CASE("wal scan: a clean segment with a zero tail is not torn", "[wal][scan]") {
    const auto seg = build_segment(20, 1, 8192);
    auto scan = scan_segment(seg.bytes, true);
    REQUIRE(scan.ok());
    REQUIRE_FALSE(scan->torn);
    require_prefix(*scan, seg, 20);
    REQUIRE(scan->valid_end == seg.data_end);
    REQUIRE(scan->header.sequence == 3);
}

TEST_CASE("wal scan: a tail cut at every byte offset keeps exactly the whole records",
    "[wal][scan][torn]") {
    const auto seg = build_segment(12, 2, 4096);
    const std::uint64_t from = seg.starts[8];  // the last 4 records
    for (std::uint64_t cut = from; cut <= seg.data_end; ++cut) {
        INFO("cut at " << cut);
        std::string zeroed = seg.bytes;  // unwritten sectors read as zeros
        std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(cut), zeroed.end(), '\0');
        std::string garbage = seg.bytes;  // or as whatever was there
        uetcd::prng random(cut);
        for (std::uint64_t i = cut; i < seg.data_end + 64; ++i) {
            garbage[i] = static_cast<char>(random.next() | 1);
        }
        const std::string truncated = seg.bytes.substr(0, cut);  // or the file is shorter
        const std::string* variants[] = {&zeroed, &garbage, &truncated};
        for (const std::string* bytes : variants) {
            auto scan = scan_segment(*bytes, true);
            if (bytes == &zeroed && !scan.ok()) {
                // Written bytes left in the sector of the cut: not a power-loss tear (whole
                // sectors), so a bad checksum there is a flipped bit; refused.
                REQUIRE(scan.error().code == scan_errc::corrupt);
                REQUIRE(cut % 512 != 0);
                continue;
            }
            if (bytes == &garbage && !scan.ok()) {
                // Garbage where a power loss leaves zeros: a record with every sector
                // written but a bad checksum is a flipped bit to etcd and to us; refused.
                REQUIRE(scan.error().code == scan_errc::corrupt);
                REQUIRE(scan.error().cause.offset <= cut);
                continue;
            }
            REQUIRE(scan.ok());
            require_prefix(*scan, seg, records_before(seg, cut, bytes == &zeroed));
            REQUIRE(scan->valid_end <= (cut + 7) / 8 * 8);
        }
    }
}

TEST_CASE("wal scan: a bit flip in the last record is corruption, refused at its offset",
    "[wal][scan]") {
    // etcd's rule (isTornEntry): a bad last record is torn only when one of its sectors was
    // never written (zeros) or it runs past the end of the file; with every sector there, a
    // checksum mismatch is a flipped bit.
    const auto seg = build_segment(10, 3, 4096);
    std::string bytes = seg.bytes;
    bytes[seg.starts[9] + 20] ^= 0x04;
    auto scan = scan_segment(bytes, true);
    REQUIRE_FALSE(scan.ok());
    REQUIRE(scan.error().code == scan_errc::corrupt);
    REQUIRE(scan.error().cause.offset == seg.starts[9]);
    REQUIRE(scan.error().cause.code == decode_errc::bad_checksum);
    // The same record with its last sector unwritten (zeros) is a torn write: cut.
    std::string torn = seg.bytes;
    const std::uint64_t last_sector = (seg.data_end - 1) / 512 * 512;
    const std::uint64_t zero_from = std::max<std::uint64_t>(last_sector, seg.starts[9]);
    std::fill(torn.begin() + static_cast<std::ptrdiff_t>(zero_from),
        torn.begin() + static_cast<std::ptrdiff_t>(seg.data_end), '\0');
    auto cut = scan_segment(torn, true);
    REQUIRE(cut.ok());
    REQUIRE(cut->torn == (zero_from > seg.starts[9]));  // else the record simply vanished
    REQUIRE(cut->valid_end == seg.starts[9]);
    require_prefix(*cut, seg, 9);
    // In a segment that is not the last, both are corruption.
    REQUIRE(scan_segment(bytes, false).error().cause.offset == seg.starts[9]);
    REQUIRE(scan_segment(torn, false).ok() == (zero_from == seg.starts[9]));
}

TEST_CASE("wal scan: a bit flip in the middle is corruption at that offset", "[wal][scan]") {
    const auto seg = build_segment(10, 4, 4096);
    for (std::uint64_t victim : {0, 4, 8}) {
        std::string bytes = seg.bytes;
        bytes[seg.starts[victim] + 17] ^= 0x80;
        auto scan = scan_segment(bytes, true);
        REQUIRE_FALSE(scan.ok());
        REQUIRE(scan.error().code == scan_errc::corrupt);
        REQUIRE(scan.error().cause.offset == seg.starts[victim]);
    }
    std::string bytes = seg.bytes;
    bytes[3] ^= 1;
    REQUIRE(scan_segment(bytes, true).error().code == scan_errc::bad_header);
}

TEST_CASE("wal scan: 1,000 random byte flips are all detected", "[wal][scan][flip]") {
    const auto seg = build_segment(16, 5, 4096);
    uetcd::prng random(2024);
    int torn = 0;
    int refused = 0;
    for (int round = 0; round < 1000; ++round) {
        std::string bytes = seg.bytes;
        const std::uint64_t at = random.below(seg.data_end + 256);
        bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + random.below(255)));
        INFO("flip at " << at);
        // Which record holds the flipped byte decides the only acceptable outcome.
        std::uint64_t victim = seg.starts.size();  // past the data: the zero tail
        for (std::uint64_t i = 0; i < seg.starts.size(); ++i) {
            if (at >= seg.starts[i]) {
                victim = at < (i + 1 < seg.starts.size() ? seg.starts[i + 1] : seg.data_end)
                    ? i : victim;
            }
        }
        auto scan = scan_segment(bytes, true);
        if (at < seg.starts[0]) {
            REQUIRE_FALSE(scan.ok());
            REQUIRE(scan.error().code == scan_errc::bad_header);
            ++refused;
        } else if (victim + 1 < seg.starts.size()) {
            REQUIRE_FALSE(scan.ok());
            REQUIRE(scan.error().cause.offset == seg.starts[victim]);
            ++refused;
        } else if (scan.ok()) {
            // A flip in the zero tail, or one that makes the last record reach into the zero
            // tail (its length field): indistinguishable from a torn write, cut.
            REQUIRE(scan->torn);
            require_prefix(*scan, seg, victim);
            ++torn;
        } else {
            // The last record (a flipped bit), or garbage in the zero tail after it.
            REQUIRE(victim + 1 >= seg.starts.size());
            REQUIRE(scan.error().code == scan_errc::corrupt);
            REQUIRE(scan.error().cause.offset ==
                (victim < seg.starts.size() ? seg.starts[victim] : seg.data_end));
            ++refused;
        }
    }
    REQUIRE(torn > 0);
    REQUIRE(refused > 0);
}
