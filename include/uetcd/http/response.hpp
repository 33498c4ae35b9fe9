// Writing HTTP/1.1 responses the way Go's net/http writes them (etcd's answers come from
// it): explicit headers sorted by name, then Date, Content-Length, and the extra headers Go
// adds itself (sniffed Content-Type, Connection). Pure: the caller passes the time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace uetcd::http {

// Go's http.StatusText ("Not Found"); "" for an unknown code.
std::string_view status_text(int status) noexcept;

// "Sun, 29 Nov 2026 19:30:00 GMT" for a wall time in seconds since the epoch (RFC 7231).
void format_http_date(std::int64_t unix_seconds, std::string& out);

// The Date header text of the current second, formatted at most once per second.
class date_cache {
public:
    std::string_view get(std::int64_t unix_seconds) {
        if (unix_seconds != _seconds) {
            _seconds = unix_seconds;
            format_http_date(unix_seconds, _text);
        }
        return _text;
    }

private:
    std::int64_t _seconds = -1;
    std::string _text;
};

// One response being built. Reused per connection: reset() keeps the buffers' capacity.
class response {
public:
    static constexpr std::uint32_t header_count_max = 24;

    void reset() noexcept;

    void set_status(int status) noexcept { _status = status; }
    int status() const noexcept { return _status; }
    // Adds a header; the name must outlive the response (use literals), the value is copied.
    void add_header(std::string_view name, std::string_view value);
    void add_header(std::string_view name, std::uint64_t value);
    // A body without a Content-Type gets the one Go would sniff, after Content-Length.
    void set_sniffed_content_type(std::string_view type) noexcept { _sniffed_type = type; }
    bool has_header(std::string_view name) const noexcept;
    std::string& body() noexcept { return _body; }

    // Convenience for handlers: status, Content-Type and body at once.
    void reply(int status, std::string_view content_type, std::string_view body);
    // Go's http.Error: text/plain; charset=utf-8, X-Content-Type-Options: nosniff, text + "\n".
    void reply_text_error(int status, std::string_view text);
    // A request Go's server refuses before any handler runs (e.g. a bad escape in the
    // path): its bare "400 Bad Request" answer, then the connection closes.
    void reject_bad_request() noexcept {
        _status = 400;
        _rejected = true;
    }
    bool closes_connection() const noexcept { return _rejected; }

    // Appends the whole response to `out`. Without a body for HEAD (`head_only`), with
    // "Connection: close" when the connection ends after it.
    void write_to(std::string& out, std::string_view date, bool head_only,
        bool connection_close) const;

private:
    struct header_entry {
        std::string_view name;
        std::uint32_t value_offset;
        std::uint32_t value_size;
    };
    int _status = 200;
    std::uint32_t _header_count = 0;
    header_entry _headers[header_count_max];
    std::string _values;
    std::string _body;
    std::string_view _sniffed_type;
    bool _rejected = false;
};

// Appends a complete minimal response for a request that could not be parsed, as Go's
// server answers it: "HTTP/1.1 400 Bad Request" with Connection: close and a text body.
void write_parse_error(std::string& out, int status, std::string_view reason);

}  // namespace uetcd::http
