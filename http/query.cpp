// Percent-decoding and form parsing with Go's net/url rules (see query.hpp).
#include "uetcd/http/query.hpp"

#include <limits>

#include "uetcd/assert.hpp"

namespace uetcd::http {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Go's net/url unescape for encodePath / encodeQueryComponent. Appends to `out`.
bool unescape_append(std::string_view text, bool plus_is_space, std::string& out) {
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
                return false;
            }
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 3;
        }
        run_start = i;
    }
    out.append(text.data() + run_start, text.size() - run_start);
    return true;
}

bool needs_decoding(std::string_view text) noexcept {
    return text.find_first_of("%+") != std::string_view::npos;
}

char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool percent_decode_path(std::string_view text, std::string& out) {
    out.clear();
    return unescape_append(text, false, out);
}

bool percent_decode_query(std::string_view text, std::string& out) {
    out.clear();
    return unescape_append(text, true, out);
}

std::string_view form_error_text(form_error error) noexcept {
    switch (error) {
    case form_error::none:
        return "";
    case form_error::bad_escape:
        return "invalid URL escape";
    case form_error::semicolon:
        return "invalid semicolon separator in query";
    case form_error::too_large:
        return "http: POST too large";
    }
    return "";
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
}

std::string_view form::resolve(const text& t) const noexcept {
    if (t.data != nullptr) {
        return std::string_view(t.data, t.size);
    }
    return std::string_view(_arena.data() + t.offset, t.size);
}

bool form::decode_into_arena(std::string_view raw, text& out) {
    if (!needs_decoding(raw)) {
        out = text{raw.data(), 0, static_cast<std::uint32_t>(raw.size())};
        return true;
    }
    std::size_t offset = _arena.size();
    if (!unescape_append(raw, true, _arena)) {
        _arena.resize(offset);
        return false;
    }
    out = text{nullptr, static_cast<std::uint32_t>(offset),
        static_cast<std::uint32_t>(_arena.size() - offset)};
    return true;
}

form_error form::parse_into(std::string_view raw) {
    // Offsets and sizes are 32-bit; bodies are bounded far below that by the parser limits.
    UETCD_ASSERT(raw.size() <= std::numeric_limits<std::uint32_t>::max() / 2);
    form_error error = form_error::none;
    while (!raw.empty()) {
        std::size_t amp = raw.find('&');
        std::string_view segment = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
        if (segment.find(';') != std::string_view::npos) {
            error = form_error::semicolon;  // Go assigns this one unconditionally
            continue;
        }
        if (segment.empty()) {
            continue;
        }
        std::size_t equals = segment.find('=');
        std::string_view raw_key = segment.substr(0, equals);
        std::string_view raw_value =
            equals == std::string_view::npos ? std::string_view() : segment.substr(equals + 1);
        entry e{};
        if (!decode_into_arena(raw_key, e.key) || !decode_into_arena(raw_value, e.value)) {
            if (error == form_error::none) {
                error = form_error::bad_escape;
            }
            continue;
        }
        _entries.push_back(e);
    }
    return error;
}

form_error form::parse(std::string_view raw_query, std::string_view form_body) {
    clear();
    form_error body_error = form_error::none;
    if (form_body.size() > form_body_bytes_max) {
        body_error = form_error::too_large;
    } else {
        body_error = parse_into(form_body);
    }
    form_error query_error = parse_into(raw_query);
    return body_error != form_error::none ? body_error : query_error;
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
