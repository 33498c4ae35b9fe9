// xxh3 with a fixed seed: shard placement and checksums must be the same on every member.
#pragma once

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace uetcd {

inline constexpr std::uint64_t hash_seed = 0x75657463645f7632ULL;  // "uetcd_v2"

inline std::uint64_t hash64(const void* data, std::size_t size_bytes) noexcept {
    return XXH3_64bits_withSeed(data, size_bytes, hash_seed);
}

inline std::uint64_t hash64(std::string_view text) noexcept {
    return hash64(text.data(), text.size());
}

}  // namespace uetcd
