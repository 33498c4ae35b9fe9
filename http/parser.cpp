// Incremental HTTP/1.1 request parser (see parser.hpp for the contract). The head is parsed a
// line at a time as lines complete, so trickled bytes are scanned once; a chunked body is
// de-chunked in place. Rejections follow Go 1.19 net/http (etcd 3.4.23's server) unless a
// comment says we are stricter. Observed on etcd 3.4.23: its cmux front end closes the
// connection without an answer for HTTP/2.0, "HTTP/1.10", a leading empty line, a TLS hello and
// request lines of 10 KB; we answer the status Go's server would (505 or 400, 414) instead.
#include "uetcd/http/parser.hpp"

#include <algorithm>

#include "uetcd/http/ascii.hpp"

#include <array>
#include <cstring>

#include "uetcd/assert.hpp"

namespace uetcd::http {

namespace {

// Go's bufio chunk-line limit (net/http/internal/chunked.go maxLineLength).
constexpr std::size_t chunk_line_bytes_max = 4096;
// 2^63 - 1 has 19 digits; more digits overflow Go's ParseUint(cl, 10, 63) -> 400.
constexpr std::size_t content_length_digits_max = 18;

constexpr std::array<bool, 256> make_token_table() {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) {
        table[static_cast<std::size_t>(c)] = true;
    }
    for (int c = 'a'; c <= 'z'; ++c) {
        table[static_cast<std::size_t>(c)] = true;
        table[static_cast<std::size_t>(c - 'a' + 'A')] = true;
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        table[static_cast<unsigned char>(c)] = true;
    }
    return table;
}

// Field values: VCHAR, SP, HTAB and obs-text; no other control byte (Go's
// httpguts.ValidHeaderFieldValue).
constexpr std::array<bool, 256> make_value_table() {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x100; ++c) {
        table[static_cast<std::size_t>(c)] = c != 0x7f;
    }
    table['\t'] = true;
    return table;
}

// Request-target bytes: no controls and no spaces (Go rejects CTLs in the URL; a space would
// have split the request line). Bytes >= 0x80 pass, as in Go.
constexpr std::array<bool, 256> make_target_table() {
    std::array<bool, 256> table{};
    for (int c = 0x21; c < 0x100; ++c) {
        table[static_cast<std::size_t>(c)] = c != 0x7f;
    }
    return table;
}

// Host header bytes Go's httpguts.ValidHostHeader accepts (probed on etcd 3.4.23: these
// others, space, tab and bytes >= 0x80 get "400 Bad Request: malformed Host header").
constexpr std::array<bool, 256> make_host_table() {
    std::array<bool, 256> table{};
    for (int c = 0x21; c < 0x7f; ++c) {
        table[static_cast<std::size_t>(c)] = true;
    }
    for (char c : std::string_view("\"#/<>?@\\^`{|}")) {
        table[static_cast<unsigned char>(c)] = false;
    }
    return table;
}

constexpr std::array<bool, 256> token_table = make_token_table();
constexpr std::array<bool, 256> host_table = make_host_table();
constexpr std::array<bool, 256> value_table = make_value_table();
constexpr std::array<bool, 256> target_table = make_target_table();

bool is_token(unsigned char c) noexcept { return token_table[c]; }

// `lower` must already be lower case.
bool equals_lower(std::string_view text, std::string_view lower) noexcept {
    return equals_ignore_case(text, lower);
}

std::string_view trim_spaces(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// Go's httpguts.HeaderValuesContainsToken for one value: a comma list, OWS trimmed.
bool list_contains_token(std::string_view list, std::string_view lower_token) noexcept {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = trim_spaces(list.substr(0, comma));
        if (equals_lower(item, lower_token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool is_token_boundary(char c) noexcept { return c == ' ' || c == ',' || c == '\t'; }

// Go net/http server.go hasToken, used for "Expect": the token anywhere in the value,
// bounded by space, comma or tab.
bool has_token(std::string_view value, std::string_view lower_token) noexcept {
    if (lower_token.size() > value.size()) {
        return false;
    }
    for (std::size_t start = 0; start + lower_token.size() <= value.size(); ++start) {
        std::size_t end = start + lower_token.size();
        if (start > 0 && !is_token_boundary(value[start - 1])) {
            continue;
        }
        if (end != value.size() && !is_token_boundary(value[end])) {
            continue;
        }
        if (equals_lower(value.substr(start, lower_token.size()), lower_token)) {
            return true;
        }
    }
    return false;
}


// Go's chunk line rules (internal/chunked.go): trailing whitespace trimmed, then cut at ';'
// (the extension is ignored), then 1 to 16 hex digits and nothing else.
bool parse_chunk_size_line(std::string_view line, std::uint64_t& size_bytes) noexcept {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    line = line.substr(0, line.find(';'));
    if (line.empty() || line.size() > 16) {
        return false;
    }
    std::uint64_t value = 0;
    for (char c : line) {
        int digit = hex_digit(c);
        if (digit < 0) {
            return false;
        }
        value = (value << 4) | static_cast<std::uint64_t>(digit);
    }
    size_bytes = value;
    return true;
}

void rebase(std::string_view& view, std::uintptr_t delta) noexcept {
    if (view.data() != nullptr) {
        auto address = reinterpret_cast<std::uintptr_t>(view.data()) + delta;
        view = std::string_view(reinterpret_cast<const char*>(address), view.size());
    }
}

}  // namespace

std::string_view request::header_value(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i < header_count; ++i) {
        if (equals_ignore_case(headers[i].name, name)) {
            return headers[i].value;
        }
    }
    return {};
}

bool request::has_header(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i < header_count; ++i) {
        if (equals_ignore_case(headers[i].name, name)) {
            return true;
        }
    }
    return false;
}

request_parser::request_parser(parser_limits limits) : _limits(limits) {
    UETCD_ASSERT(_limits.header_count_max <= header_count_capacity);
    UETCD_ASSERT(_limits.request_line_bytes_max > 0);
    UETCD_ASSERT(_limits.header_bytes_max > 0);
}

void request_parser::reset() noexcept {
    *this = request_parser(_limits);
}

parse_result request_parser::result() const noexcept {
    parse_result r;
    r.headers_done = _headers_done;
    if (_phase == phase::failed) {
        r.status = parse_status::error;
        r.error_status = _error_status;
        r.error_reason = _error_reason;
    } else if (_phase == phase::done) {
        r.status = parse_status::complete;
        r.consumed_bytes = _consumed_bytes;
    }
    return r;
}

request_parser::step request_parser::fail(int status, std::string_view reason) noexcept {
    _phase = phase::failed;
    _error_status = status;
    _error_reason = reason;
    return step::failed;
}

// Binds `out` on the first call and re-points its views when the buffer moved since the last.
void request_parser::attach(std::span<char> data, request& out) noexcept {
    auto base = reinterpret_cast<std::uintptr_t>(data.data());
    if (_out == nullptr) {
        _out = &out;
        _base = base;
        out.method = http::method::other;
        out.method_text = out.target = out.path = out.query = out.body = {};
        out.version_minor = 1;
        out.header_count = 0;
        out.keep_alive = false;
        out.expect_continue = false;
        return;
    }
    UETCD_ASSERT(_out == &out);  // contract: the same request until reset()
    if (base == _base) {
        return;
    }
    std::uintptr_t delta = base - _base;  // modular arithmetic: also right when moving down
    _base = base;
    for (std::string_view* view : {&out.method_text, &out.target, &out.path, &out.query,
             &out.body}) {
        rebase(*view, delta);
    }
    for (std::uint32_t i = 0; i < out.header_count; ++i) {
        rebase(out.headers[i].name, delta);
        rebase(out.headers[i].value, delta);
    }
}

parse_result request_parser::parse(std::span<char> data, request& out) {
    if (_phase == phase::failed) {
        return result();
    }
    attach(data, out);
    UETCD_ASSERT(data.size() >= _scan_offset);  // contract: bytes are never taken away
    if (_phase == phase::head && parse_head(data, out) != step::finished) {
        return result();
    }
    if (_phase != phase::done) {
        parse_body(data, out);
    }
    return result();
}

request_parser::step request_parser::scan_method(const char* bytes, std::size_t available,
    bool line_complete) noexcept {
    // Reject a request that cannot become valid at once, instead of waiting for a line end
    // that a TLS ClientHello or binary garbage may never send: every byte before the first
    // space must be a method token character. Runs on the bytes as they arrive and once
    // more when the line is complete, before any other check of the line, so a request
    // gets the same answer however its bytes are split.
    // Only the first request_line_bytes_max + 1 bytes are looked at: past them the line is
    // too long (414) whatever they hold, in both paths.
    const std::size_t end = std::min(available, _limits.request_line_bytes_max + 1);
    std::size_t i = _method_scan_offset;
    for (; i < end && !_method_done; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == ' ') {
            if (i == 0) {
                return fail(400, "malformed request line");
            }
            _method_done = true;
        } else if (c == '\r' && i + 1 == available && !line_complete) {
            break;  // maybe the CR of a line end whose LF has not arrived: decide then
        } else if (!is_token(c)) {
            return fail(400, "invalid method");
        }
    }
    _method_scan_offset = i;
    return step::more;
}

request_parser::step request_parser::head_incomplete(std::span<char> data) noexcept {
    const std::size_t size_bytes = data.size();
    if (_request_line_end_offset == 0 &&
        scan_method(data.data(), size_bytes, false) == step::failed) {
        return step::failed;
    }
    _scan_offset = size_bytes;
    if (_request_line_end_offset == 0) {
        // A line of more than the limit plus its CR has certainly grown past the limit.
        if (size_bytes > _limits.request_line_bytes_max + 1) {
            return fail(414, "request line too long");
        }
        return step::more;
    }
    if (size_bytes - _request_line_end_offset > _limits.header_bytes_max) {
        return fail(431, "request header fields too large");
    }
    return step::more;
}

request_parser::step request_parser::parse_head(std::span<char> data, request& out) noexcept {
    const char* bytes = data.data();
    const std::size_t size_bytes = data.size();
    for (;;) {
        const void* found = nullptr;
        if (_scan_offset < size_bytes) {
            found = std::memchr(bytes + _scan_offset, '\n', size_bytes - _scan_offset);
        }
        if (found == nullptr) {
            return head_incomplete(data);
        }
        const std::size_t newline_offset = static_cast<std::size_t>(
            static_cast<const char*>(found) - bytes);
        std::size_t line_end = newline_offset;
        // Go (bufio.ReadLine) accepts a bare LF as a line end and strips one CR before it.
        if (line_end > _line_offset && bytes[line_end - 1] == '\r') {
            --line_end;
        }
        std::string_view line(bytes + _line_offset, line_end - _line_offset);
        _line_offset = _scan_offset = newline_offset + 1;
        if (_request_line_end_offset == 0) {
            if (scan_method(bytes, line_end, true) == step::failed) {
                return step::failed;
            }
            if (line.size() > _limits.request_line_bytes_max) {
                return fail(414, "request line too long");
            }
            _request_line_end_offset = newline_offset + 1;
            if (parse_request_line(line, out) == step::failed) {
                return step::failed;
            }
            continue;
        }
        if (newline_offset + 1 - _request_line_end_offset > _limits.header_bytes_max) {
            return fail(431, "request header fields too large");
        }
        if (line.empty()) {
            _body_offset = newline_offset + 1;
            return finish_head(out);
        }
        if (parse_header_line(line, out) == step::failed) {
            return step::failed;
        }
    }
}

request_parser::step request_parser::parse_request_line(
    std::string_view line, request& out) noexcept {
    // The method's characters are checked before the line's shape, in the order
    // head_incomplete() checks them while the line is still arriving, so a request gets
    // the same answer however its bytes are split.
    std::size_t method_end = 0;
    while (method_end < line.size() && line[method_end] != ' ') {
        if (!is_token(static_cast<unsigned char>(line[method_end]))) {
            return fail(400, "invalid method");
        }
        ++method_end;
    }
    if (method_end == line.size() || method_end == 0) {
        return fail(400, "malformed request line");
    }
    std::string_view method_text = line.substr(0, method_end);
    std::string_view rest = line.substr(method_end + 1);
    std::size_t target_end = rest.find(' ');
    if (target_end == std::string_view::npos) {
        return fail(400, "malformed request line");
    }
    out.method_text = method_text;
    out.method = method_from(method_text);
    if (parse_target(rest.substr(0, target_end), out) == step::failed) {
        return step::failed;
    }
    return parse_version(rest.substr(target_end + 1), out);
}

// Go 1.19 ParseHTTPVersion: exactly "HTTP/d.d"; its server serves only major version 1.
request_parser::step request_parser::parse_version(
    std::string_view version, request& out) noexcept {
    if (version == "HTTP/1.1") {
        out.version_minor = 1;
        return step::more;
    }
    if (version == "HTTP/1.0") {
        out.version_minor = 0;
        return step::more;
    }
    bool shaped = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[6] == '.' &&
        version[5] >= '0' && version[5] <= '9' && version[7] >= '0' && version[7] <= '9';
    if (!shaped) {
        return fail(400, "malformed HTTP version");
    }
    if (version[5] != '1') {
        return fail(505, "HTTP version not supported");
    }
    out.version_minor = version[7] - '0';
    return step::more;
}

// Origin-form ("/path?query"), "*", or absolute-form ("http://host/path?query"), as Go's
// url.ParseRequestURI accepts; anything else (e.g. "foo") is a 400 there too.
request_parser::step request_parser::parse_target(
    std::string_view target, request& out) noexcept {
    if (target.empty()) {
        return fail(400, "empty request target");
    }
    for (char c : target) {
        if (!target_table[static_cast<unsigned char>(c)]) {
            return fail(400, "invalid character in request target");
        }
    }
    out.target = target;
    std::string_view path_and_query = target;
    if (target.front() != '/' && target != "*") {
        std::size_t scheme_end = target.find("://");
        bool scheme_ok = scheme_end != std::string_view::npos && scheme_end > 0 &&
            ascii_lower(target[0]) >= 'a' && ascii_lower(target[0]) <= 'z';
        if (!scheme_ok) {
            return fail(400, "invalid request target");
        }
        std::string_view after_scheme = target.substr(scheme_end + 3);
        std::size_t path_start = after_scheme.find_first_of("/?");
        path_and_query = path_start == std::string_view::npos
            ? after_scheme.substr(after_scheme.size())
            : after_scheme.substr(path_start);
    }
    std::size_t question = path_and_query.find('?');
    out.path = path_and_query.substr(0, question);
    out.query = question == std::string_view::npos ? path_and_query.substr(path_and_query.size())
                                                   : path_and_query.substr(question + 1);
    return step::more;
}

request_parser::step request_parser::parse_header_line(
    std::string_view line, request& out) noexcept {
    // obs-fold: RFC 9112 5.2 lets a server reject it; Go folds it. We are stricter.
    if (line.front() == ' ' || line.front() == '\t') {
        return fail(400, "obsolete line folding");
    }
    std::size_t name_end = 0;
    while (name_end < line.size() && is_token(static_cast<unsigned char>(line[name_end]))) {
        ++name_end;
    }
    if (name_end == 0 || name_end == line.size() || line[name_end] != ':') {
        return fail(400, "invalid header name");
    }
    std::string_view value = trim_spaces(line.substr(name_end + 1));
    for (char c : value) {
        if (!value_table[static_cast<unsigned char>(c)]) {
            return fail(400, "invalid header value");
        }
    }
    if (out.header_count >= _limits.header_count_max) {
        return fail(431, "too many header fields");
    }
    std::string_view name = line.substr(0, name_end);
    out.headers[out.header_count] = header{name, value};
    ++out.header_count;
    return note_header(name, value);
}

// Remembers what the framing and connection handling need from the few headers that matter.
request_parser::step request_parser::note_header(
    std::string_view name, std::string_view value) noexcept {
    switch (name.size()) {
    case 4:
        if (equals_lower(name, "host")) {
            ++_host_count;
            for (char c : value) {
                _host_malformed = _host_malformed || !host_table[static_cast<unsigned char>(c)];
            }
        }
        break;
    case 6:
        // Go reads only the first Expect header (Header.get).
        if (!_expect_seen && equals_lower(name, "expect")) {
            _expect_seen = true;
            _expect_continue = has_token(value, "100-continue");
            _expect_other = !_expect_continue && !value.empty();
        }
        break;
    case 10:
        if (equals_lower(name, "connection")) {
            _connection_close = _connection_close || list_contains_token(value, "close");
            _connection_keep_alive =
                _connection_keep_alive || list_contains_token(value, "keep-alive");
        }
        break;
    case 14:
        if (equals_lower(name, "content-length")) {
            return note_content_length(value);
        }
        break;
    case 17:
        if (equals_lower(name, "transfer-encoding")) {
            ++_transfer_encoding_count;
            _chunked = equals_lower(value, "chunked");
        }
        break;
    default:
        break;
    }
    return step::more;
}

// Go 1.19: ParseUint(cl, 10, 63), and repeated values must be identical strings. An empty
// value means no length, as in Go (etcd 3.4.23 answers 200 to "Content-Length:" on a GET).
request_parser::step request_parser::note_content_length(std::string_view value) noexcept {
    if (_has_content_length) {
        std::string_view first(reinterpret_cast<const char*>(_base + _content_length_text_offset),
            _content_length_text_bytes);
        if (value != first) {
            return fail(400, "conflicting Content-Length headers");
        }
        return step::more;
    }
    if (value.size() > content_length_digits_max) {
        return fail(400, "bad Content-Length");
    }
    std::uint64_t length_bytes = 0;
    for (char c : value) {
        if (c < '0' || c > '9') {
            return fail(400, "bad Content-Length");
        }
        length_bytes = length_bytes * 10 + static_cast<std::uint64_t>(c - '0');
    }
    _has_content_length = true;
    _content_length_bytes = length_bytes;
    _content_length_text_offset = reinterpret_cast<std::uintptr_t>(value.data()) - _base;
    _content_length_text_bytes = value.size();
    return step::more;
}

request_parser::step request_parser::finish_head(request& out) noexcept {
    // Go answers 501 for any Transfer-Encoding but a single "chunked".
    if (_transfer_encoding_count > 1 || (_transfer_encoding_count == 1 && !_chunked)) {
        return fail(501, "unsupported transfer encoding");
    }
    // Go drops Content-Length when chunked; we refuse the pair (request smuggling). Go also
    // ignores Transfer-Encoding on HTTP/1.0 (etcd then reads an empty body); we de-chunk it.
    if (_chunked && _has_content_length) {
        return fail(400, "both Transfer-Encoding and Content-Length");
    }
    if (out.version_minor >= 1 && _host_count == 0) {
        return fail(400, "missing required Host header");
    }
    if (_host_count > 1) {
        return fail(400, "too many Host headers");
    }
    if (_host_malformed) {
        return fail(400, "malformed Host header");
    }
    if (_has_content_length && _content_length_bytes > _limits.body_bytes_max) {
        return fail(413, "request body too large");
    }
    // Go answers 417 to any other expectation, on any version.
    if (_expect_other) {
        return fail(417, "expectation failed");
    }
    out.keep_alive = out.version_minor >= 1 ? !_connection_close
                                            : _connection_keep_alive && !_connection_close;
    bool body_expected = _chunked || _content_length_bytes > 0;
    out.expect_continue = out.version_minor >= 1 && _expect_continue && body_expected;
    _phase = _chunked ? phase::chunk_size : phase::body_length;
    _headers_done = true;
    _line_offset = _scan_offset = _body_write_offset = _body_offset;
    return step::finished;
}

request_parser::step request_parser::parse_body(std::span<char> data, request& out) noexcept {
    if (_phase == phase::body_length) {
        if (data.size() - _body_offset < _content_length_bytes) {
            return step::more;
        }
        out.body = std::string_view(data.data() + _body_offset, _content_length_bytes);
        _consumed_bytes = _body_offset + _content_length_bytes;
        _phase = phase::done;
        return step::finished;
    }
    for (;;) {
        step s = step::more;
        switch (_phase) {
        case phase::chunk_size:
            s = parse_chunk_size(data);
            break;
        case phase::chunk_data:
            s = move_chunk_data(data);
            break;
        case phase::chunk_data_end:
            s = parse_chunk_data_end(data);
            break;
        case phase::chunk_trailer:
            s = parse_chunk_trailer(data, out);
            if (s == step::finished) {
                return s;
            }
            break;
        default:
            UETCD_UNREACHABLE();
        }
        if (s != step::finished) {
            return s;
        }
    }
}

request_parser::step request_parser::parse_chunk_size(std::span<char> data) noexcept {
    const void* found = nullptr;
    if (_scan_offset < data.size()) {
        found = std::memchr(data.data() + _scan_offset, '\n', data.size() - _scan_offset);
    }
    if (found == nullptr) {
        _scan_offset = data.size();
        if (data.size() - _line_offset >= chunk_line_bytes_max) {
            return fail(400, "chunk size line too long");
        }
        return step::more;
    }
    std::size_t newline_offset =
        static_cast<std::size_t>(static_cast<const char*>(found) - data.data());
    std::string_view line(data.data() + _line_offset, newline_offset - _line_offset);
    std::uint64_t size_bytes = 0;
    if (line.size() >= chunk_line_bytes_max || !parse_chunk_size_line(line, size_bytes)) {
        return fail(400, "bad chunk size");
    }
    _line_offset = _scan_offset = newline_offset + 1;
    if (size_bytes == 0) {
        _trailer_offset = _line_offset;
        _phase = phase::chunk_trailer;
        return step::finished;
    }
    std::size_t body_bytes = _body_write_offset - _body_offset;
    if (size_bytes > _limits.body_bytes_max - body_bytes) {
        return fail(413, "request body too large");
    }
    _chunk_remaining_bytes = size_bytes;
    _phase = phase::chunk_data;
    return step::finished;
}

// Moves the chunk bytes received so far down to the end of the de-chunked body.
request_parser::step request_parser::move_chunk_data(std::span<char> data) noexcept {
    std::size_t available_bytes = data.size() - _line_offset;
    std::size_t move_bytes = available_bytes < _chunk_remaining_bytes
        ? available_bytes
        : static_cast<std::size_t>(_chunk_remaining_bytes);
    UETCD_ASSERT(_body_write_offset <= _line_offset);
    if (move_bytes > 0 && _body_write_offset != _line_offset) {
        std::memmove(data.data() + _body_write_offset, data.data() + _line_offset, move_bytes);
    }
    _body_write_offset += move_bytes;
    _line_offset += move_bytes;
    _scan_offset = _line_offset;
    _chunk_remaining_bytes -= move_bytes;
    if (_chunk_remaining_bytes > 0) {
        return step::more;
    }
    _phase = phase::chunk_data_end;
    return step::finished;
}

// Go requires exactly CRLF after chunk data (no bare LF here, unlike on lines).
request_parser::step request_parser::parse_chunk_data_end(std::span<char> data) noexcept {
    std::size_t available_bytes = data.size() - _line_offset;
    if (available_bytes >= 1 && data[_line_offset] != '\r') {
        return fail(400, "malformed chunked encoding");
    }
    if (available_bytes < 2) {
        return step::more;
    }
    if (data[_line_offset + 1] != '\n') {
        return fail(400, "malformed chunked encoding");
    }
    _line_offset = _scan_offset = _line_offset + 2;
    _phase = phase::chunk_size;
    return step::finished;
}

// Trailer fields are read up to the empty line and ignored (Go keeps them in req.Trailer,
// which etcd never reads).
request_parser::step request_parser::parse_chunk_trailer(
    std::span<char> data, request& out) noexcept {
    for (;;) {
        const void* found = nullptr;
        if (_scan_offset < data.size()) {
            found = std::memchr(data.data() + _scan_offset, '\n', data.size() - _scan_offset);
        }
        std::size_t end_offset = found == nullptr
            ? data.size()
            : static_cast<std::size_t>(static_cast<const char*>(found) - data.data()) + 1;
        if (end_offset - _trailer_offset > _limits.header_bytes_max) {
            return fail(431, "trailer fields too large");
        }
        if (found == nullptr) {
            _scan_offset = data.size();
            return step::more;
        }
        std::size_t line_bytes = end_offset - 1 - _line_offset;
        bool empty = line_bytes == 0 || (line_bytes == 1 && data[_line_offset] == '\r');
        _line_offset = _scan_offset = end_offset;
        if (empty) {
            out.body = std::string_view(
                data.data() + _body_offset, _body_write_offset - _body_offset);
            _consumed_bytes = end_offset;
            _phase = phase::done;
            return step::finished;
        }
    }
}

}  // namespace uetcd::http
