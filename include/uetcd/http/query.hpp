// Percent-decoding and form (query string / urlencoded body) parsing with the exact rules of Go's
// net/url and net/http Request.ParseForm, which etcd 3.4 uses. Pure: no I/O. A form holds views
// into the texts it parsed (when no decoding was needed) or into its own arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uetcd::http {

// Go's url.PathUnescape: "%XX" decoded, '+' kept. Returns false on a bad escape ('%' not followed
// by two hex digits); `out` is then unspecified. `out` is overwritten, not appended to.
bool percent_decode_path(std::string_view text, std::string& out);

// Go's url.QueryUnescape: as above, and '+' becomes a space.
bool percent_decode_query(std::string_view text, std::string& out);

// Go's maxFormSize: a larger urlencoded body makes ParseForm fail ("http: POST too large").
inline constexpr std::size_t form_body_bytes_max = std::size_t{10} << 20;

enum class form_error : std::uint8_t {
    none,
    bad_escape,  // Go: `invalid URL escape "%zz"`
    semicolon,   // Go 1.17+: "invalid semicolon separator in query"
    too_large,   // Go: "http: POST too large"
};

// Whether a Content-Type header makes Go parse the body as a form: media type (before ';',
// case-insensitive) "application/x-www-form-urlencoded".
bool is_urlencoded_form(std::string_view content_type) noexcept;

struct form_field {
    std::string_view key;
    std::string_view value;
};

// Fields in arrival order; get() returns the first value of a key, as Go's FormValue does.
// Not thread-safe; reuse one per connection: clear() keeps the capacity.
class form {
public:
    form();

    void clear() noexcept;

    // Appends the fields of one raw "a=1&b=c+d" text (a query string or urlencoded body), with
    // Go's url.ParseQuery rules: '&' separates, a segment without '=' has value "", empty
    // segments are skipped, a segment holding ';' or a bad escape is skipped and reported.
    // Returns the error Go would report (the first bad escape, or a semicolon, which in Go's
    // code overrides an earlier escape error); parsing goes on past errors as Go's does.
    form_error parse_into(std::string_view raw);

    // Request.ParseForm: clears, then the body's fields (pass "" unless the method is PUT, POST
    // or PATCH and is_urlencoded_form(Content-Type)), then the query's, so body values win.
    // Returns the body's error, else the query's.
    form_error parse(std::string_view raw_query, std::string_view form_body);

    // The error of the last parse() (or the last failing parse_into()).
    form_error error() const noexcept { return _error; }

    // Appends Go's err.Error() text for error(), which etcd 3.4 answers as the "cause" of
    // error 210 "Invalid POST form" (HTTP 400), e.g. `invalid URL escape "%zz"` or
    // "invalid semicolon separator in query" (observed with a real etcd 3.4.23).
    void append_error_cause(std::string& out) const;

    std::optional<std::string_view> get(std::string_view key) const noexcept;
    bool has(std::string_view key) const noexcept;
    std::size_t size() const noexcept { return _entries.size(); }
    form_field field(std::size_t index) const noexcept;

private:
    // A decoded text lives in the arena (data == nullptr, at offset) so that arena growth
    // never invalidates it; an undecoded one is a view into the parsed text.
    struct text {
        const char* data;
        std::uint32_t offset;
        std::uint32_t size;
    };
    struct entry {
        text key;
        text value;
    };

    std::size_t decode_into_arena(std::string_view raw, bool encoded, text& out);
    form_error parse_fields(std::string_view raw, std::string_view& escape);
    std::string_view resolve(const text& t) const noexcept;

    std::vector<entry> _entries;
    std::string _arena;
    form_error _error = form_error::none;
    std::string_view _error_escape;  // view into the parsed text
};

}  // namespace uetcd::http
