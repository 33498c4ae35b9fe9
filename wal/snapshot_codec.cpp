// Snapshot container encode/decode and names: pure (see include/uetcd/wal/snapshot_file.hpp).
#include <cstdio>

#include "uetcd/assert.hpp"
#include "uetcd/hash.hpp"
#include "uetcd/wal/snapshot_file.hpp"

namespace uetcd::wal {

namespace {
std::uint64_t snapshot_checksum(std::string_view header40, std::string_view data) noexcept {
    return XXH3_64bits_withSeed(data.data(), data.size(), hash64(header40));
}
}  // namespace

const char* to_string(snapshot_errc code) noexcept {
    switch (code) {
        case snapshot_errc::truncated: return "truncated snapshot";
        case snapshot_errc::bad_magic: return "not a snapshot (magic or version)";
        case snapshot_errc::bad_length: return "snapshot length mismatch";
        case snapshot_errc::bad_checksum: return "snapshot checksum mismatch";
    }
    return "unknown snapshot error";
}

std::string snapshot_name(std::uint64_t term, std::uint64_t index) {
    char name[64];
    const int n = std::snprintf(name, sizeof(name), "%016llx-%016llx.snap",
        static_cast<unsigned long long>(term), static_cast<unsigned long long>(index));
    UETCD_ASSERT(n == 38);
    return std::string(name, static_cast<std::size_t>(n));
}

std::optional<snapshot_file> parse_snapshot_name(std::string_view name) noexcept {
    if (name.size() != 38 || name[16] != '-' || name.substr(33) != ".snap") {
        return std::nullopt;
    }
    snapshot_file snap;
    std::uint64_t* fields[2] = {&snap.term, &snap.index};
    for (int f = 0; f < 2; ++f) {
        std::uint64_t value = 0;
        for (char c : name.substr(static_cast<std::size_t>(f) * 17, 16)) {
            const bool digit = c >= '0' && c <= '9';
            if (!digit && !(c >= 'a' && c <= 'f')) {
                return std::nullopt;
            }
            value = (value << 4) | static_cast<std::uint64_t>(digit ? c - '0' : c - 'a' + 10);
        }
        *fields[f] = value;
    }
    return snap;
}

std::string encode_snapshot(const snapshot_file& snap) {
    std::string out;
    out.reserve(snapshot_header_bytes + snap.data.size());
    put_u64(out, snapshot_magic);
    put_u32(out, 1);
    put_u32(out, 0);
    put_u64(out, snap.term);
    put_u64(out, snap.index);
    put_u64(out, snap.data.size());
    put_u64(out, snapshot_checksum(out, snap.data));
    out.append(snap.data);
    UETCD_ASSERT(out.size() == snapshot_header_bytes + snap.data.size());
    return out;
}

result<snapshot_file, snapshot_errc> decode_snapshot(std::string_view bytes) {
    if (bytes.size() < snapshot_header_bytes) {
        return failure{snapshot_errc::truncated};
    }
    if (get_u64(bytes.data()) != snapshot_magic || get_u32(bytes.data() + 8) != 1
        || get_u32(bytes.data() + 12) != 0) {
        return failure{snapshot_errc::bad_magic};
    }
    const std::uint64_t length = get_u64(bytes.data() + 32);
    if (length != bytes.size() - snapshot_header_bytes) {
        return failure{snapshot_errc::bad_length};
    }
    const std::string_view data = bytes.substr(snapshot_header_bytes);
    if (get_u64(bytes.data() + 40) != snapshot_checksum(bytes.substr(0, 40), data)) {
        return failure{snapshot_errc::bad_checksum};
    }
    return snapshot_file{get_u64(bytes.data() + 16), get_u64(bytes.data() + 24),
        std::string(data)};
}

}  // namespace uetcd::wal
