// Appends JSON to a std::string, byte-identical to Go 1.19's encoding/json (etcd 3.4.23 encodes
// its v2 answers with it). Header-only: this is on every response's path. No I/O; parsing JSON
// is simdjson's job, not this file's.
#pragma once

#include <array>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "uetcd/assert.hpp"

namespace uetcd::http {

namespace json_detail {

// Bytes Go's htmlSafeSet lets through unescaped: ASCII from 0x20 (DEL included) except '"', '\\',
// '<', '>' and '&'.
constexpr std::array<bool, 256> make_safe_table() {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x80; ++c) {
        table[static_cast<std::size_t>(c)] = true;
    }
    for (char c : std::string_view("\"\\<>&")) {
        table[static_cast<unsigned char>(c)] = false;
    }
    return table;
}
inline constexpr std::array<bool, 256> safe_table = make_safe_table();

constexpr std::uint64_t repeat_byte(std::uint8_t b) { return 0x0101010101010101ULL * b; }

constexpr std::uint64_t has_zero_byte(std::uint64_t v) {
    return (v - repeat_byte(0x01)) & ~v & repeat_byte(0x80);
}

// Whether any of the 8 bytes needs work: < 0x20, >= 0x80, or one of "\<>&. Exact as a yes/no.
constexpr bool word_needs_escape(std::uint64_t w) {
    std::uint64_t below_space = (w - repeat_byte(0x20)) & ~w & repeat_byte(0x80);
    std::uint64_t special = has_zero_byte(w ^ repeat_byte('"')) |
        has_zero_byte(w ^ repeat_byte('\\')) | has_zero_byte(w ^ repeat_byte('<')) |
        has_zero_byte(w ^ repeat_byte('>')) | has_zero_byte(w ^ repeat_byte('&'));
    return (below_space | special | (w & repeat_byte(0x80))) != 0;
}

// Length of the run of bytes that are copied as they are.
inline std::size_t safe_run_bytes(const char* p, std::size_t size_bytes) noexcept {
    std::size_t i = 0;
    while (i + 8 <= size_bytes) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (word_needs_escape(w)) {
            break;
        }
        i += 8;
    }
    while (i < size_bytes && safe_table[static_cast<unsigned char>(p[i])]) {
        ++i;
    }
    return i;
}

constexpr bool is_continuation(unsigned char c) { return (c & 0xc0) == 0x80; }

// Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 if invalid: Go's
// utf8.DecodeRune, which rejects overlong forms, surrogates and code points over U+10FFFF.
inline std::size_t utf8_sequence_bytes(const char* p, std::size_t size_bytes) noexcept {
    auto b0 = static_cast<unsigned char>(p[0]);
    std::size_t length = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3
        : b0 >= 0xf0 && b0 <= 0xf4                  ? 4
                                                    : 0;
    if (length == 0 || size_bytes < length) {
        return 0;
    }
    auto b1 = static_cast<unsigned char>(p[1]);
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (b0 == 0xe0) {
        lo = 0xa0;  // overlong
    } else if (b0 == 0xed) {
        hi = 0x9f;  // surrogates
    } else if (b0 == 0xf0) {
        lo = 0x90;  // overlong
    } else if (b0 == 0xf4) {
        hi = 0x8f;  // over U+10FFFF
    }
    if (b1 < lo || b1 > hi) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (!is_continuation(static_cast<unsigned char>(p[i]))) {
            return 0;
        }
    }
    return length;
}

inline constexpr char lower_hex[] = "0123456789abcdef";

inline void append_ascii_escape(std::string& out, unsigned char c) {
    char escaped[6] = {'\\', 'u', '0', '0', lower_hex[c >> 4], lower_hex[c & 0xf]};
    switch (c) {
    case '"':
    case '\\':
        escaped[1] = static_cast<char>(c);
        out.append(escaped, 2);
        return;
    case '\n':
        out.append("\\n", 2);
        return;
    case '\r':
        out.append("\\r", 2);
        return;
    case '\t':
        out.append("\\t", 2);
        return;
    default:
        // Go 1.19 has no \b or \f short forms (added in Go 1.22): 0x08 is \u0008.
        out.append(escaped, 6);
        return;
    }
}

}  // namespace json_detail

// Appends the escaped text without the surrounding quotes (for values built in pieces).
inline void append_json_string_contents(std::string& out, std::string_view text) {
    const char* p = text.data();
    const std::size_t size_bytes = text.size();
    std::size_t i = 0;
    for (;;) {
        std::size_t run = json_detail::safe_run_bytes(p + i, size_bytes - i);
        out.append(p + i, run);
        i += run;
        if (i == size_bytes) {
            return;
        }
        auto c = static_cast<unsigned char>(p[i]);
        if (c < 0x80) {
            json_detail::append_ascii_escape(out, c);
            ++i;
            continue;
        }
        std::size_t length = json_detail::utf8_sequence_bytes(p + i, size_bytes - i);
        if (length == 0) {
            out.append("\\ufffd", 6);  // each invalid byte, as Go does
            ++i;
            continue;
        }
        // U+2028 and U+2029 (E2 80 A8/A9) break JavaScript string literals; Go escapes them.
        if (length == 3 && c == 0xe2 && static_cast<unsigned char>(p[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(p[i + 2]) & 0xfe) == 0xa8) {
            out.append(static_cast<unsigned char>(p[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029", 6);
        } else {
            out.append(p + i, length);
        }
        i += length;
    }
}

// Appends a quoted JSON string exactly as Go's json.Marshal writes it (HTML-safe escaping on).
inline void append_json_string(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size() + 2);
    out.push_back('"');
    append_json_string_contents(out, text);
    out.push_back('"');
}

inline void append_uint(std::string& out, std::uint64_t value) {
    char digits[20];
    auto [end, error] = std::to_chars(digits, digits + sizeof(digits), value);
    UETCD_ASSERT(error == std::errc());
    out.append(digits, static_cast<std::size_t>(end - digits));
}

inline void append_int(std::string& out, std::int64_t value) {
    char digits[20];
    auto [end, error] = std::to_chars(digits, digits + sizeof(digits), value);
    UETCD_ASSERT(error == std::errc());
    out.append(digits, static_cast<std::size_t>(end - digits));
}

// A small builder that places commas and colons; the caller keeps begin/end balanced.
// Usage: json_writer(out).begin_object().key("action").value("get").end_object();
class json_writer {
public:
    // Nesting beyond this is a bug: etcd's deepest answer (a recursive GET) nests node lists,
    // but those are written by recursion over a bounded tree depth, not by one writer.
    static constexpr std::uint32_t depth_max = 64;

    explicit json_writer(std::string& out) noexcept : _out(out) {}

    json_writer& begin_object() { return open('{'); }
    json_writer& end_object() { return close('}'); }
    json_writer& begin_array() { return open('['); }
    json_writer& end_array() { return close(']'); }

    json_writer& key(std::string_view name) {
        UETCD_ASSERT(!_after_key);
        separate();
        append_json_string(_out, name);
        _out.push_back(':');
        _after_key = true;
        return *this;
    }

    json_writer& value(std::string_view text) {
        separate();
        append_json_string(_out, text);
        return *this;
    }
    json_writer& value(const char* text) { return value(std::string_view(text)); }
    json_writer& value(bool flag) {
        separate();
        _out.append(flag ? "true" : "false");
        return *this;
    }
    template <std::integral Integer>
    json_writer& value(Integer number) {
        separate();
        if constexpr (std::is_signed_v<Integer>) {
            append_int(_out, number);
        } else {
            append_uint(_out, number);
        }
        return *this;
    }
    json_writer& null_value() {
        separate();
        _out.append("null");
        return *this;
    }
    // Already-encoded JSON, e.g. a cached node.
    json_writer& raw_value(std::string_view json) {
        separate();
        _out.append(json);
        return *this;
    }

    std::uint32_t depth() const noexcept { return _depth; }

private:
    void separate() {
        if (_after_key) {
            _after_key = false;
            return;
        }
        if (_depth > 0 && (_has_member >> (_depth - 1) & 1U) != 0) {
            _out.push_back(',');
        }
        if (_depth > 0) {
            _has_member |= std::uint64_t{1} << (_depth - 1);
        }
    }
    json_writer& open(char bracket) {
        separate();
        UETCD_ASSERT(_depth < depth_max);
        _out.push_back(bracket);
        _has_member &= ~(std::uint64_t{1} << _depth);
        ++_depth;
        return *this;
    }
    json_writer& close(char bracket) {
        UETCD_ASSERT(_depth > 0);
        UETCD_ASSERT(!_after_key);
        --_depth;
        _out.push_back(bracket);
        return *this;
    }

    std::string& _out;
    std::uint64_t _has_member = 0;  // bit d: the container at depth d has a member already
    std::uint32_t _depth = 0;
    bool _after_key = false;
};

}  // namespace uetcd::http
