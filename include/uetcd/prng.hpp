// prng: seeded xoshiro256** (Blackman & Vigna), the only randomness pure code may use.
// Seeded through splitmix64 so that nearby seeds give unrelated streams. No global state.
#pragma once

#include <cstdint>

#include "uetcd/assert.hpp"

namespace uetcd {

class prng {
public:
    explicit prng(std::uint64_t seed) noexcept {
        std::uint64_t x = seed;
        for (auto& word : _s) {
            word = splitmix64(x);
        }
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(_s[1] * 5, 7) * 9;
        const std::uint64_t t = _s[1] << 17;
        _s[2] ^= _s[0];
        _s[3] ^= _s[1];
        _s[1] ^= _s[2];
        _s[0] ^= _s[3];
        _s[2] ^= t;
        _s[3] = rotl(_s[3], 45);
        return result;
    }

    // Uniform in [0, bound). The modulo bias is below 2^-32 for the small bounds we use.
    std::uint64_t below(std::uint64_t bound) noexcept {
        UETCD_ASSERT(bound > 0);
        return next() % bound;
    }

    // True with probability per_mille / 1000.
    bool chance(std::uint64_t per_mille) noexcept { return below(1000) < per_mille; }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t _s[4];
};

}  // namespace uetcd
