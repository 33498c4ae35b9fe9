// Percent-decoding and form parsing with Go's net/url rules (see query.hpp).
#include "uetcd/http/query.hpp"

#include <limits>

#include "uetcd/assert.hpp"
#include "uetcd/http/ascii.hpp"

namespace uetcd::http {

namespace {


constexpr std::size_t no_error = std::string_view::npos;

// Go's net/url unescape for encodePath / encodeQueryComponent. Appends to `out`; returns the
// offset of the first bad escape, or no_error.
std::size_t unescape_append(std::string_view text, bool plus_is_space, std::string& out) {
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < text.size();) {
        char c = text[i];
        if (c != '%' && !(c == '+' && plus_is_space)) {
            ++i;
            continue;
        }
        out.append(text.data() + run_start, i - run_start);
        if (c == '+') {
            out.push_back(' ');
            ++i;
        } else {
            if (i + 2 >= text.size()) {
                return i;
            }
            int hi = hex_digit(text[i + 1]);
            int lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return i;
            }
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 3;
        }
        run_start = i;
    }
    out.append(text.data() + run_start, text.size() - run_start);
    return no_error;
}


// Go's strconv.Quote for the at most 3 bytes of an EscapeError: printable ASCII as is, short
// escapes, \xNN for other ASCII controls and for bytes that are not valid UTF-8. Valid
// multi-byte runes are kept, except the non-printable U+0080..U+00A0 and U+00AD (\u00XX).
void append_go_quoted(std::string& out, std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto c = static_cast<unsigned char>(bytes[i]);
        const char* short_escape = nullptr;
        switch (c) {
        case '\a': short_escape = "\\a"; break;
        case '\b': short_escape = "\\b"; break;
        case '\f': short_escape = "\\f"; break;
        case '\n': short_escape = "\\n"; break;
        case '\r': short_escape = "\\r"; break;
        case '\t': short_escape = "\\t"; break;
        case '\v': short_escape = "\\v"; break;
        case '"': short_escape = "\\\""; break;
        case '\\': short_escape = "\\\\"; break;
        default: break;
        }
        if (short_escape != nullptr) {
            out += short_escape;
            continue;
        }
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
            continue;
        }
        bool two_byte_rune = c >= 0xc2 && c <= 0xdf && i + 1 < bytes.size() &&
            (static_cast<unsigned char>(bytes[i + 1]) & 0xc0) == 0x80;
        if (two_byte_rune) {
            unsigned rune = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(bytes[i + 1]) & 0x3fu);
            if (rune <= 0xa0 || rune == 0xad) {
                out += "\\u00";
                out.push_back(hex[rune >> 4]);
                out.push_back(hex[rune & 0xf]);
            } else {
                out.append(bytes.substr(i, 2));
            }
            ++i;
            continue;
        }
        out += "\\x";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
    out.push_back('"');
}

}  // namespace

bool percent_decode_path(std::string_view text, std::string& out) {
    out.clear();
    return unescape_append(text, false, out) == no_error;
}

bool percent_decode_query(std::string_view text, std::string& out) {
    out.clear();
    return unescape_append(text, true, out) == no_error;
}

bool is_urlencoded_form(std::string_view content_type) noexcept {
    constexpr std::string_view form_type = "application/x-www-form-urlencoded";
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
        media.remove_prefix(1);
    }
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
        media.remove_suffix(1);
    }
    if (media.size() != form_type.size()) {
        return false;
    }
    for (std::size_t i = 0; i < media.size(); ++i) {
        if (ascii_lower(media[i]) != form_type[i]) {
            return false;
        }
    }
    return true;
}

form::form() {
    _entries.reserve(32);
    _arena.reserve(1024);
}

void form::clear() noexcept {
    _entries.clear();
    _arena.clear();
    _error = form_error::none;
    _error_escape = {};
}

std::string_view form::resolve(const text& t) const noexcept {
    if (t.data != nullptr) {
        return std::string_view(t.data, t.size);
    }
    return std::string_view(_arena.data() + t.offset, t.size);
}

// Returns the offset of a bad escape in `raw`, or no_error. `encoded`: raw holds '%' or '+'.
std::size_t form::decode_into_arena(std::string_view raw, bool encoded, text& out) {
    if (!encoded) {
        out = text{raw.data(), 0, static_cast<std::uint32_t>(raw.size())};
        return no_error;
    }
    std::size_t offset = _arena.size();
    std::size_t bad_offset = unescape_append(raw, true, _arena);
    if (bad_offset != no_error) {
        _arena.resize(offset);
        return bad_offset;
    }
    out = text{nullptr, static_cast<std::uint32_t>(offset),
        static_cast<std::uint32_t>(_arena.size() - offset)};
    return no_error;
}

// One '&'-separated segment, scanned once: where the first '=' is and what needs decoding.
struct form_segment {
    std::string_view text;
    std::size_t equals = std::string_view::npos;
    bool semicolon = false;
    bool key_encoded = false;
    bool value_encoded = false;
};

// Splits off the segment at the start of `raw` and advances `raw` past its '&'.
inline form_segment next_segment(std::string_view& raw) noexcept {
    form_segment segment;
    std::size_t i = 0;
    for (; i < raw.size() && raw[i] != '&'; ++i) {
        char c = raw[i];
        if (c == '=') {
            segment.equals = segment.equals == std::string_view::npos ? i : segment.equals;
        } else if (c == ';') {
            segment.semicolon = true;
        } else if (c == '%' || c == '+') {
            bool in_key = segment.equals == std::string_view::npos;
            segment.key_encoded = segment.key_encoded || in_key;
            segment.value_encoded = segment.value_encoded || !in_key;
        }
    }
    segment.text = raw.substr(0, i);
    raw = i < raw.size() ? raw.substr(i + 1) : std::string_view();
    return segment;
}

// Go's parseQuery; `escape` receives the first bad escape (Go's EscapeError text).
form_error form::parse_fields(std::string_view raw, std::string_view& escape) {
    // Offsets and sizes are 32-bit; bodies are bounded far below that by the parser limits.
    UETCD_ASSERT(raw.size() <= std::numeric_limits<std::uint32_t>::max() / 2);
    form_error error = form_error::none;
    while (!raw.empty()) {
        form_segment segment = next_segment(raw);
        if (segment.semicolon) {
            error = form_error::semicolon;  // Go assigns this one unconditionally
            continue;
        }
        if (segment.text.empty()) {
            continue;
        }
        std::string_view part = segment.text.substr(0, segment.equals);
        entry e{};
        std::size_t bad_offset = decode_into_arena(part, segment.key_encoded, e.key);
        if (bad_offset == no_error) {
            part = segment.equals == std::string_view::npos
                ? part.substr(part.size())
                : segment.text.substr(segment.equals + 1);
            bad_offset = decode_into_arena(part, segment.value_encoded, e.value);
        }
        if (bad_offset != no_error) {
            if (error == form_error::none) {
                error = form_error::bad_escape;
                escape = part.substr(bad_offset, 3);  // Go: s[i:], at most 3 bytes
            }
            continue;
        }
        _entries.push_back(e);
    }
    return error;
}

form_error form::parse_into(std::string_view raw) {
    std::string_view escape;
    form_error error = parse_fields(raw, escape);
    if (error != form_error::none) {
        _error = error;
        _error_escape = escape;
    }
    return error;
}

form_error form::parse(std::string_view raw_query, std::string_view form_body) {
    clear();
    std::string_view body_escape;
    form_error body_error = form_error::none;
    if (form_body.size() > form_body_bytes_max) {
        body_error = form_error::too_large;
    } else {
        body_error = parse_fields(form_body, body_escape);
    }
    std::string_view query_escape;
    form_error query_error = parse_fields(raw_query, query_escape);
    // Request.ParseForm keeps the body's error and reports the query's only without one.
    _error = body_error != form_error::none ? body_error : query_error;
    _error_escape = body_error != form_error::none ? body_escape : query_escape;
    return _error;
}

void form::append_error_cause(std::string& out) const {
    switch (_error) {
    case form_error::none:
        return;
    case form_error::bad_escape:
        out += "invalid URL escape ";
        append_go_quoted(out, _error_escape);
        return;
    case form_error::semicolon:
        out += "invalid semicolon separator in query";
        return;
    case form_error::too_large:
        out += "http: POST too large";
        return;
    }
}

std::optional<std::string_view> form::get(std::string_view key) const noexcept {
    for (const entry& e : _entries) {
        if (resolve(e.key) == key) {
            return resolve(e.value);
        }
    }
    return std::nullopt;
}

bool form::has(std::string_view key) const noexcept {
    return get(key).has_value();
}

form_field form::field(std::size_t index) const noexcept {
    UETCD_ASSERT(index < _entries.size());
    return form_field{resolve(_entries[index].key), resolve(_entries[index].value)};
}

}  // namespace uetcd::http
