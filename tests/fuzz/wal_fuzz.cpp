// libFuzzer target for the WAL's pure decoders: the record decoder, the segment scan and the
// snapshot container. Input: one selector byte, then the bytes to decode. Checks: no crash or
// UB (ASan/UBSan), every record that decodes re-encodes to exactly the bytes it came from,
// a scan's records tile [0, valid_end) and a cut tail never hides a valid record, and a
// snapshot that decodes re-encodes to the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The pure WAL sources are compiled into this target directly (run.sh links only http/).
#include "../../wal/record.cpp"
#include "../../wal/segment.cpp"
#include "../../wal/snapshot_codec.cpp"

using namespace uetcd::wal;

namespace {

#define FUZZ_CHECK(expr)          \
    do {                          \
        if (!(expr)) {            \
            __builtin_trap();     \
        }                         \
    } while (false)

void check_reencodes(std::string_view bytes, const decoded_record& rec) {
    std::string again;
    encode_record(rec.type, rec.payload, again);
    FUZZ_CHECK(rec.end_offset <= bytes.size());
    FUZZ_CHECK(bytes.substr(rec.offset, rec.end_offset - rec.offset) == again);
}

void fuzz_records(std::string_view bytes) {
    std::uint64_t offset = 0;
    for (int i = 0; i < 10000; ++i) {
        auto rec = decode_record(bytes, offset);
        if (!rec.ok()) {
            FUZZ_CHECK(rec.error().offset == offset);
            return;
        }
        check_reencodes(bytes, *rec);
        FUZZ_CHECK(rec->end_offset > offset);
        offset = rec->end_offset;
    }
}

void fuzz_scan(std::string_view bytes, bool last) {
    auto scan = scan_segment(bytes, last);
    if (!scan.ok()) {
        return;
    }
    FUZZ_CHECK(scan->valid_end <= bytes.size());
    std::uint64_t expected = scan->records.empty() ? 0 : scan->records.front().offset;
    for (const auto& rec : scan->records) {
        FUZZ_CHECK(rec.offset == expected);
        check_reencodes(bytes, rec);
        expected = rec.end_offset;
    }
    if (!scan->records.empty()) {
        FUZZ_CHECK(expected == scan->valid_end);
    }
    if (scan->torn) {
        FUZZ_CHECK(last);
        FUZZ_CHECK(scan->torn_end <= bytes.size());
        for (std::uint64_t at = scan->valid_end + 8; at + 16 <= bytes.size(); at += 8) {
            FUZZ_CHECK(!decode_record(bytes, at).ok());
        }
    }
}

void fuzz_snapshot(std::string_view bytes) {
    auto snap = decode_snapshot(bytes);
    if (snap.ok()) {
        FUZZ_CHECK(encode_snapshot(*snap) == bytes);
    }
    const std::string name(bytes.substr(0, 38));
    if (auto parsed = parse_snapshot_name(name)) {
        FUZZ_CHECK(snapshot_name(parsed->term, parsed->index) == name);
    }
    if (auto id = parse_segment_name(bytes.substr(0, 37))) {
        FUZZ_CHECK(segment_name(id->sequence, id->first_index) == bytes.substr(0, 37));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0: fuzz_records(bytes); break;
        case 1: fuzz_scan(bytes, true); break;
        case 2: fuzz_scan(bytes, false); break;
        default: fuzz_snapshot(bytes); break;
    }
    return 0;
}
