// The reactor HTTP/1.1 client; see client.hpp.
#include "uetcd/http/client.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

#include "uetcd/assert.hpp"
#include "uetcd/http/ascii.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/reactor.hpp"

namespace uetcd::http {

namespace {


std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}


// Bytes of the largest response we read: a v2 listing of a big directory, with room.
constexpr std::size_t response_bytes_max = std::size_t{256} << 20;

std::string_view method_text(method m) noexcept {
    switch (m) {
    case method::get: return "GET";
    case method::head: return "HEAD";
    case method::put: return "PUT";
    case method::post: return "POST";
    case method::delete_: return "DELETE";
    case method::options: return "OPTIONS";
    case method::patch: return "PATCH";
    case method::trace: return "TRACE";
    case method::connect: return "CONNECT";
    case method::other: return "GET";
    }
    return "GET";
}

}  // namespace

std::string_view client_response::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers) {
        if (equals_ignore_case(k, name)) {
            return v;
        }
    }
    return {};
}

result<std::size_t, std::string> parse_response_head(std::string_view data,
    client_response& out) {
    const auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (data.size() > 1 << 20) {
            return failure{std::string("malformed HTTP response: head too large")};
        }
        return std::size_t{0};
    }
    std::string_view head = data.substr(0, end + 2);
    const auto line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
        status_line[8] != ' ') {
        return failure{"malformed HTTP response \"" + std::string(status_line) + "\""};
    }
    int status = 0;
    const auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12,
        status);
    if (ec != std::errc() || p != status_line.data() + 12 || status < 100) {
        return failure{"malformed HTTP status code \"" + std::string(status_line.substr(9)) +
            "\""};
    }
    out.status = status;
    out.reason = std::string(trim(status_line.substr(12)));
    out.headers.clear();
    head.remove_prefix(line_end + 2);
    while (!head.empty()) {
        const auto eol = head.find("\r\n");
        const std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return failure{"malformed MIME header line: " + std::string(line)};
        }
        out.headers.emplace_back(std::string(line.substr(0, colon)),
            std::string(trim(line.substr(colon + 1))));
    }
    return end + 4;
}

reactor::task<result<client_connection, std::string>> client_connection::open(
    reactor::socket_address address, std::int64_t timeout_ns, const tls_client_context* tls,
    std::string server_name) {
    const std::int64_t deadline_ns = reactor::reactor::current().now_ns() + timeout_ns;
    const std::string where = "dial tcp " + address.to_string() + ": ";
    auto sock = reactor::tcp_socket(address.family());
    if (!sock) {
        co_return failure{where + sock.error()};
    }
    client_connection c;
    c._fd = std::move(sock).value();
    c._address = address;
    const auto rc = co_await reactor::connect(c._fd.get(), address.get(), address.length)
                        .with_timeout(timeout_ns);
    if (rc < 0) {
        co_return failure{where + (rc == -ETIMEDOUT ? std::string("i/o timeout")
                                                   : "connect: " + reactor::os_error_text(-rc))};
    }
    reactor::set_no_delay(c._fd.get());
    if (tls != nullptr) {
        c._tls = tls_session::make_client(tls->get(),
            server_name.empty() ? address.to_string() : server_name);
        if (c._tls == nullptr) {
            co_return failure{std::string("tls: cannot create a session")};
        }
        auto shaken = co_await c._tls->connect(c._fd.get(), deadline_ns);
        if (!shaken) {
            co_return failure{shaken.error()};
        }
    }
    co_return std::move(c);
}

reactor::task<result<bool, std::string>> client_connection::fill(std::int64_t deadline_ns) {
    if (_eof) {
        co_return failure{std::string("unexpected EOF")};
    }
    if (_in.size() > response_bytes_max) {
        co_return failure{std::string("response too large")};
    }
    char buffer[16384];
    const std::int64_t left_ns = deadline_ns - reactor::reactor::current().now_ns();
    if (left_ns <= 0) {
        co_return failure{std::string("i/o timeout")};
    }
    std::int32_t n = 0;
    if (_tls != nullptr) {
        n = co_await _tls->recv(_fd.get(), buffer, sizeof(buffer), left_ns, nullptr);
        if (n == -EPROTO) {
            co_return failure{_tls->last_error()};
        }
    } else {
        n = co_await reactor::recv(_fd.get(), buffer, sizeof(buffer)).with_timeout(left_ns);
    }
    if (n < 0) {
        co_return failure{n == -ETIMEDOUT ? std::string("i/o timeout")
                                          : "read: " + reactor::os_error_text(-n)};
    }
    if (n == 0) {
        _eof = true;
        co_return false;
    }
    _in.append(buffer, static_cast<std::size_t>(n));
    co_return true;
}

reactor::task<result<client_response, std::string>> client_connection::send(
    client_request request, std::int64_t timeout_ns) {
    UETCD_ASSERT(_fd.valid());
    const std::int64_t deadline_ns = reactor::reactor::current().now_ns() + timeout_ns;
    std::string wire;
    wire.reserve(256 + request.body.size());
    wire.append(method_text(request.method)).append(" ").append(request.target);
    wire.append(" HTTP/1.1\r\nHost: ");
    wire.append(request.host.empty() ? _address.to_string() : request.host).append("\r\n");
    for (const auto& [k, v] : request.headers) {
        wire.append(k).append(": ").append(v).append("\r\n");
    }
    if (!request.body.empty() || request.method == method::put ||
        request.method == method::post) {
        wire.append("Content-Length: ").append(std::to_string(request.body.size()));
        wire.append("\r\n");
    }
    wire.append("\r\n").append(request.body);
    if (auto written = co_await write_all(wire, deadline_ns); !written) {
        _fd.reset();
        co_return failure{written.error()};
    }
    client_response response;
    for (;;) {
        auto head = parse_response_head(_in, response);
        if (!head) {
            _fd.reset();
            co_return failure{head.error()};
        }
        if (*head > 0) {
            _in.erase(0, *head);
            if (response.status >= 100 && response.status < 200) {
                continue;  // 100 Continue and friends: the real answer follows
            }
            break;
        }
        auto more = co_await fill(deadline_ns);
        if (!more || !*more) {
            _fd.reset();
            co_return failure{more ? std::string("unexpected EOF") : more.error()};
        }
    }
    auto body = co_await read_body(response, request.method == method::head, deadline_ns);
    if (!body) {
        _fd.reset();
        co_return failure{body.error()};
    }
    if (!_reusable || equals_ignore_case(response.header("Connection"), "close")) {
        _fd.reset();
    }
    co_return std::move(response);
}

reactor::task<result<bool, std::string>> client_connection::write_all(std::string_view data,
    std::int64_t deadline_ns) {
    if (_tls != nullptr) {
        const std::int64_t left_ns = deadline_ns - reactor::reactor::current().now_ns();
        if (!co_await _tls->send_all(_fd.get(), data, std::max<std::int64_t>(left_ns, 0))) {
            co_return failure{std::string("write: broken pipe")};
        }
        co_return true;
    }
    while (!data.empty()) {
        const std::int64_t left_ns = deadline_ns - reactor::reactor::current().now_ns();
        const auto n = co_await reactor::send(_fd.get(), data.data(), data.size())
                           .with_timeout(std::max<std::int64_t>(left_ns, 0));
        if (n <= 0) {
            co_return failure{n == -ETIMEDOUT ? std::string("i/o timeout")
                                              : "write: " + reactor::os_error_text(-n)};
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    co_return true;
}

reactor::task<result<bool, std::string>> client_connection::read_body(
    client_response& response, bool head_request, std::int64_t deadline_ns) {
    if (head_request || response.status == 204 || response.status == 304) {
        co_return true;
    }
    if (equals_ignore_case(response.header("Transfer-Encoding"), "chunked")) {
        co_return co_await read_chunked(response, deadline_ns);
    }
    const std::string_view length_text = response.header("Content-Length");
    if (length_text.empty()) {
        // Close-delimited: everything until the server closes.
        _reusable = false;
        for (;;) {
            auto more = co_await fill(deadline_ns);
            if (!more) {
                co_return failure{more.error()};
            }
            if (!*more) {
                break;
            }
        }
        response.body = std::move(_in);
        _in.clear();
        co_return true;
    }
    std::size_t length = 0;
    const auto [p, ec] = std::from_chars(length_text.data(),
        length_text.data() + length_text.size(), length);
    if (ec != std::errc() || p != length_text.data() + length_text.size() ||
        length > response_bytes_max) {
        co_return failure{"bad Content-Length \"" + std::string(length_text) + "\""};
    }
    while (_in.size() < length) {
        auto more = co_await fill(deadline_ns);
        if (!more || !*more) {
            co_return failure{more ? std::string("unexpected EOF") : more.error()};
        }
    }
    response.body.assign(_in, 0, length);
    _in.erase(0, length);
    co_return true;
}

reactor::task<result<bool, std::string>> client_connection::read_chunked(
    client_response& response, std::int64_t deadline_ns) {
    for (;;) {
        auto eol = _in.find("\r\n");
        while (eol == std::string::npos) {
            auto more = co_await fill(deadline_ns);
            if (!more || !*more) {
                co_return failure{more ? std::string("unexpected EOF") : more.error()};
            }
            eol = _in.find("\r\n");
        }
        std::size_t size = 0;
        const auto [p, ec] = std::from_chars(_in.data(), _in.data() + eol, size, 16);
        if (ec != std::errc() || size > response_bytes_max) {
            co_return failure{std::string("malformed chunked encoding")};
        }
        (void)p;
        if (size == 0) {
            // Trailers until an empty line.
            for (;;) {
                const auto trailer_end = _in.find("\r\n", eol + 2);
                if (trailer_end == eol + 2) {
                    _in.erase(0, trailer_end + 2);
                    co_return true;
                }
                if (trailer_end != std::string::npos) {
                    eol = trailer_end;
                    continue;
                }
                auto more = co_await fill(deadline_ns);
                if (!more || !*more) {
                    co_return failure{more ? std::string("unexpected EOF") : more.error()};
                }
            }
        }
        while (_in.size() < eol + 2 + size + 2) {
            auto more = co_await fill(deadline_ns);
            if (!more || !*more) {
                co_return failure{more ? std::string("unexpected EOF") : more.error()};
            }
        }
        response.body.append(_in, eol + 2, size);
        _in.erase(0, eol + 2 + size + 2);
    }
}

result<parsed_http_url, std::string> parse_http_url(std::string_view url) {
    const bool tls = url.starts_with("https://");
    if (!tls && !url.starts_with("http://")) {
        return failure{"unsupported protocol scheme in \"" + std::string(url) + "\""};
    }
    std::string_view rest = url.substr(tls ? 8 : 7);
    const auto slash = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, slash);
    parsed_http_url out;
    out.tls = tls;
    out.host = std::string(authority);
    out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (!out.target.empty() && out.target.front() == '?') {
        out.target.insert(out.target.begin(), '/');
    }
    std::string host_port(authority);
    if (host_port.find(':', host_port.rfind(']') == std::string::npos
                               ? 0
                               : host_port.rfind(']')) == std::string::npos) {
        host_port += tls ? ":443" : ":80";
    }
    const auto bracket_end = authority.find(']');
    if (authority.starts_with("[") && bracket_end != std::string_view::npos) {
        out.server_name = std::string(authority.substr(1, bracket_end - 1));
    } else {
        out.server_name = std::string(authority.substr(0, authority.rfind(':')));
    }
    auto address = reactor::parse_socket_address(host_port);
    if (!address) {
        return failure{address.error()};
    }
    out.address = *address;
    return out;
}

reactor::task<result<client_response, std::string>> fetch(std::string url, method m,
    std::string body, std::vector<std::pair<std::string, std::string>> headers,
    std::int64_t timeout_ns, const tls_client_context* tls) {
    auto parsed = parse_http_url(url);
    if (!parsed) {
        co_return failure{parsed.error()};
    }
    std::shared_ptr<tls_client_context> system_roots;
    if (parsed->tls && tls == nullptr) {
        auto loaded = tls_client_context::load(tls_options{});
        if (!loaded) {
            co_return failure{loaded.error()};
        }
        system_roots = std::move(loaded).value();
        tls = system_roots.get();
    }
    auto connection = co_await client_connection::open(parsed->address, timeout_ns,
        parsed->tls ? tls : nullptr, parsed->server_name);
    if (!connection) {
        co_return failure{connection.error()};
    }
    client_request request;
    request.method = m;
    request.target = parsed->target;
    request.host = parsed->host;
    request.headers = std::move(headers);
    request.body = std::move(body);
    auto response = co_await connection->send(std::move(request), timeout_ns);
    co_return response;
}

}  // namespace uetcd::http
