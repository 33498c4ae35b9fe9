// JSON text helpers for the store's writers: Go encoding/json string escaping (HTML-safe,
// invalid UTF-8 -> \ufffd, U+2028/2029 escaped) and number formatting. Private to store/;
// to be replaced by include/uetcd/http/json_writer.hpp once that header exists.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace uetcd::store::json_text {

// Length of the valid UTF-8 sequence at s[i] as Go's utf8.DecodeRuneInString accepts it
// (no overlongs, no surrogates, <= U+10FFFF), or 0 when invalid. Sets `rune`.
inline std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& rune) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char b0 = byte(0);
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k, unsigned lo, unsigned hi) {
        return k < left && byte(k) >= lo && byte(k) <= hi;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF && cont(1, 0x80, 0xBF)) {
        rune = ((b0 & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
        return 2;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
        const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
        if (cont(1, lo, hi) && cont(2, 0x80, 0xBF)) {
            rune = ((b0 & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
            return 3;
        }
        return 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
        if (cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF)) {
            rune = ((b0 & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) |
                   ((byte(2) & 0x3Fu) << 6) | (byte(3) & 0x3Fu);
            return 4;
        }
    }
    return 0;
}

inline void append_escaped_byte(std::string& out, unsigned char b) {
    static constexpr char hex[] = "0123456789abcdef";
    switch (b) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
    }
    // Go (before 1.22, as in etcd 3.4) writes \b and \f as \u0008 and \u000c too.
    out += "\\u00";
    out += hex[b >> 4];
    out += hex[b & 0xF];
}

// "text" with Go's json.Marshal escaping (HTML-safe: < > & as \u003c \u003e \u0026).
inline void append_string(std::string& out, std::string_view s) {
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            const bool plain = b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' &&
                               b != '&';
            if (plain) {
                out += static_cast<char>(b);
            } else {
                append_escaped_byte(out, b);
            }
            i++;
            continue;
        }
        std::uint32_t rune = 0;
        const std::size_t size = utf8_sequence(s, i, rune);
        if (size == 0) {
            out += "\\ufffd";
            i++;
        } else if (rune == 0x2028 || rune == 0x2029) {
            out += rune == 0x2028 ? "\\u2028" : "\\u2029";
            i += size;
        } else {
            out.append(s.substr(i, size));
            i += size;
        }
    }
    out += '"';
}

template <typename Int>
inline void append_int(std::string& out, Int value) {
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)ec;
    out.append(buffer, end);
}

}  // namespace uetcd::store::json_text
