// Response serialisation in Go net/http's byte order; see response.hpp.
#include "uetcd/http/response.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "uetcd/assert.hpp"

namespace uetcd::http {

std::string_view status_text(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

void format_http_date(std::int64_t unix_seconds, std::string& out) {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[40];
    const int n = std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT",
        days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
        tm.tm_min, tm.tm_sec);
    out.assign(text, static_cast<std::size_t>(n));
}

void response::reset() noexcept {
    _status = 200;
    _header_count = 0;
    _values.clear();
    _body.clear();
    _sniffed_type = {};
    _rejected = false;
}

void response::add_header(std::string_view name, std::string_view value) {
    UETCD_ASSERT(_header_count < header_count_max);
    _headers[_header_count++] = header_entry{name, static_cast<std::uint32_t>(_values.size()),
        static_cast<std::uint32_t>(value.size())};
    _values.append(value);
}

void response::add_header(std::string_view name, std::uint64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    add_header(name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

bool response::has_header(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i < _header_count; ++i) {
        if (_headers[i].name == name) {
            return true;
        }
    }
    return false;
}

void response::reply(int status, std::string_view content_type, std::string_view body) {
    _status = status;
    if (!content_type.empty()) {
        add_header("Content-Type", content_type);
    }
    _body.assign(body);
}

void response::reply_text_error(int status, std::string_view text) {
    _status = status;
    add_header("Content-Type", "text/plain; charset=utf-8");
    add_header("X-Content-Type-Options", "nosniff");
    _body.assign(text);
    _body.push_back('\n');
}

namespace {

void append_uint(std::string& out, std::uint64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
}

void append_status_line(std::string& out, int status) {
    out.append("HTTP/1.1 ");
    append_uint(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(status_text(status));
    out.append("\r\n");
}

// Go omits the body and Content-Length for 1xx, 204 and 304.
bool status_allows_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

void response::write_to(std::string& out, std::string_view date, bool head_only,
    bool connection_close) const {
    if (_rejected) {
        write_parse_error(out, _status, "");
        return;
    }
    append_status_line(out, _status);
    // Go writes the handler's headers sorted by name (Header.WriteSubset).
    std::uint8_t order[header_count_max];
    for (std::uint32_t i = 0; i < _header_count; ++i) {
        order[i] = static_cast<std::uint8_t>(i);
    }
    std::stable_sort(order, order + _header_count, [this](std::uint8_t a, std::uint8_t b) {
        return _headers[a].name < _headers[b].name;
    });
    for (std::uint32_t i = 0; i < _header_count; ++i) {
        const header_entry& h = _headers[order[i]];
        out.append(h.name);
        out.append(": ");
        out.append(_values, h.value_offset, h.value_size);
        out.append("\r\n");
    }
    out.append("Date: ");
    out.append(date);
    out.append("\r\n");
    const bool body_allowed = status_allows_body(_status);
    if (body_allowed) {
        out.append("Content-Length: ");
        append_uint(out, _body.size());
        out.append("\r\n");
        if (!_sniffed_type.empty() && !_body.empty()) {
            out.append("Content-Type: ");
            out.append(_sniffed_type);
            out.append("\r\n");
        }
    }
    if (connection_close) {
        out.append("Connection: close\r\n");
    }
    out.append("\r\n");
    if (body_allowed && !head_only) {
        out.append(_body);
    }
}

void write_parse_error(std::string& out, int status, std::string_view reason) {
    // Go: "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n
    // Connection: close\r\n\r\n400 Bad Request" (the body names the problem).
    append_status_line(out, status);
    out.append("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n");
    append_uint(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(reason.empty() ? status_text(status) : reason);
}

}  // namespace uetcd::http
