// Little-endian binary writer and a bounds-checked reader, shared by the snapshot and the
// command codecs. Private to store/. The reader never reads past its input: the first short
// read marks it failed and later reads return zeros.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "uetcd/assert.hpp"

namespace uetcd::store {

class binary_writer {
public:
    std::string out;
    void u8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
    void str(std::string_view s) {
        UETCD_ASSERT(s.size() < UINT32_MAX);
        u32(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }

private:
    void put(std::uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
        }
    }
};

class binary_reader {
public:
    explicit binary_reader(std::string_view in) : _in(in) {}
    bool failed() const noexcept { return _failed; }
    bool at_end() const noexcept { return _pos == _in.size(); }
    std::size_t left() const noexcept { return _in.size() - _pos; }
    void fail() noexcept { _failed = true; }

    std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
    std::uint64_t u64() { return get(8); }
    std::int64_t i64() { return static_cast<std::int64_t>(get(8)); }
    bool boolean() {
        const std::uint8_t v = u8();
        if (v > 1) {
            fail();
        }
        return v == 1;
    }
    std::string_view str() {
        const std::uint32_t size = u32();
        if (_failed || size > left()) {
            fail();
            return {};
        }
        const std::string_view s = _in.substr(_pos, size);
        _pos += size;
        return s;
    }

private:
    std::uint64_t get(int bytes) {
        if (_failed || left() < static_cast<std::size_t>(bytes)) {
            fail();
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) {
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(_in[_pos + i])) << (8 * i);
        }
        _pos += static_cast<std::size_t>(bytes);
        return v;
    }

    std::string_view _in;
    std::size_t _pos = 0;
    bool _failed = false;
};

}  // namespace uetcd::store
