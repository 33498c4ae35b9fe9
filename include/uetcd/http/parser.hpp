// Incremental HTTP/1.1 request parser: bytes in, a request of views out. Pure: no I/O, no
// allocation; the connection owns the buffer and feeds it again as bytes arrive. Behaviour
// follows Go's net/http server (which etcd 3.4 uses) except where noted as stricter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "uetcd/http/method.hpp"

namespace uetcd::http {

// Capacity of request::headers. etcdctl sends 4 headers, browsers about 15; Go has no count
// limit (only 1 MiB of header bytes), so 100 is generous and keeps a request under 4 KiB.
inline constexpr std::uint32_t header_count_capacity = 100;

struct header {
    std::string_view name;
    std::string_view value;  // without leading and trailing spaces or tabs
};

// Every view points into the buffer given to request_parser::parse().
struct request {
    http::method method = http::method::other;
    std::string_view method_text;
    std::string_view target;  // raw request-target
    std::string_view path;    // raw (still percent-encoded), the target up to the first '?'
    std::string_view query;   // raw, after the first '?', without it
    int version_minor = 1;    // HTTP/1.0 -> 0, HTTP/1.1 -> 1
    header headers[header_count_capacity];
    std::uint32_t header_count = 0;
    std::string_view body;  // whole body, de-chunked, contiguous
    bool keep_alive = false;
    bool expect_continue = false;  // HTTP/1.1 "Expect: 100-continue" and a non-empty body

    // Case-insensitive; the first match; "" if absent.
    std::string_view header_value(std::string_view name) const noexcept;
    bool has_header(std::string_view name) const noexcept;
};

struct parser_limits {
    std::size_t request_line_bytes_max = 8192;  // without CRLF; over -> 414
    std::size_t header_bytes_max = 65536;       // after the request line, with CRLFs; over -> 431
    std::uint32_t header_count_max = 100;       // <= header_count_capacity; over -> 431
    std::size_t body_bytes_max = std::size_t{64} << 20;  // de-chunked; over -> 413
};

enum class parse_status : std::uint8_t { incomplete, complete, error };

struct parse_result {
    parse_status status = parse_status::incomplete;
    std::size_t consumed_bytes = 0;  // on complete: bytes of this request; the next one follows
    int error_status = 0;            // on error: 400/413/414/417/431/501/505
    std::string_view error_reason;   // on error: short text for the response body
    bool headers_done = false;       // head parsed: expect_continue and the head are valid
};

// One parser per connection, one request at a time.
//
// Contract: `data` starts at the first byte of the current request and holds every byte received
// so far; the caller may move or grow the buffer between calls (the parser keeps offsets and
// re-points `out` at the new buffer). Pass the same `out` until reset(). A chunked body is
// de-chunked in place, so bytes of `data` between the head and consumed_bytes are rewritten.
// After complete: call reset(), then parse() the bytes after consumed_bytes. After error the
// parser keeps answering the same error; the connection should answer it and close.
class request_parser {
public:
    explicit request_parser(parser_limits limits = {});

    parse_result parse(std::span<char> data, request& out);
    void reset() noexcept;
    const parser_limits& limits() const noexcept { return _limits; }

private:
    enum class phase : std::uint8_t {
        head, body_length, chunk_size, chunk_data, chunk_data_end, chunk_trailer, done, failed
    };
    enum class step : std::uint8_t { more, finished, failed };

    void attach(std::span<char> data, request& out) noexcept;
    step parse_head(std::span<char> data, request& out) noexcept;
    step head_incomplete(std::span<char> data) noexcept;
    step scan_method(const char* bytes, std::size_t end, bool line_complete) noexcept;
    step parse_request_line(std::string_view line, request& out) noexcept;
    step parse_version(std::string_view version, request& out) noexcept;
    step parse_target(std::string_view target, request& out) noexcept;
    step parse_header_line(std::string_view line, request& out) noexcept;
    step note_header(std::string_view name, std::string_view value) noexcept;
    step note_content_length(std::string_view value) noexcept;
    step finish_head(request& out) noexcept;
    step parse_body(std::span<char> data, request& out) noexcept;
    step parse_chunk_size(std::span<char> data) noexcept;
    step move_chunk_data(std::span<char> data) noexcept;
    step parse_chunk_data_end(std::span<char> data) noexcept;
    step parse_chunk_trailer(std::span<char> data, request& out) noexcept;
    step fail(int status, std::string_view reason) noexcept;
    parse_result result() const noexcept;

    parser_limits _limits;
    phase _phase = phase::head;
    const request* _out = nullptr;  // the request being filled; views are re-pointed on a move
    std::uintptr_t _base = 0;       // address of data[0] at the previous call
    std::size_t _scan_offset = 0;   // next byte to examine for a line end
    std::size_t _line_offset = 0;   // first byte of the line (or chunk data) being parsed
    std::size_t _request_line_end_offset = 0;  // 0 until the request line is complete
    std::size_t _body_offset = 0;              // first byte after the head
    std::size_t _body_write_offset = 0;        // end of the de-chunked body so far
    std::size_t _trailer_offset = 0;           // first byte after the last-chunk line
    std::size_t _consumed_bytes = 0;
    std::uint64_t _content_length_bytes = 0;
    std::uint64_t _chunk_remaining_bytes = 0;
    std::size_t _content_length_text_offset = 0;  // first Content-Length value, to compare
    std::size_t _content_length_text_bytes = 0;   // repeats byte for byte as Go does
    std::uint32_t _host_count = 0;
    std::uint32_t _transfer_encoding_count = 0;
    bool _headers_done = false;
    bool _method_done = false;  // the first space of the request line was seen
    std::size_t _method_scan_offset = 0;  // next request-line byte scan_method() checks
    bool _host_malformed = false;
    bool _has_content_length = false;
    bool _chunked = false;
    bool _connection_close = false;
    bool _connection_keep_alive = false;
    bool _expect_seen = false;
    bool _expect_continue = false;
    bool _expect_other = false;
    int _error_status = 0;
    std::string_view _error_reason;
};

}  // namespace uetcd::http
