// An asynchronous HTTP/1.1 client on the reactor, for the parts of uetcd that talk to other
// servers: discovery, the proxy, cluster members and etcdctl. Keep-alive connections,
// Content-Length, chunked and close-delimited bodies, interim 1xx answers skipped, and a
// timeout on every request. Errors are values (Go-like text: "dial tcp ...: connection
// refused").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uetcd/http/method.hpp"
#include "uetcd/http/tls.hpp"
#include "uetcd/reactor/net.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/result.hpp"

namespace uetcd::http {

struct client_response {
    int status = 0;
    std::string reason;  // "OK"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // Case-insensitive; the first match; "" if absent.
    std::string_view header(std::string_view name) const noexcept;
};

struct client_request {
    http::method method = http::method::get;
    std::string target = "/";  // path and query, already escaped
    std::string host;          // Host header; the address when empty
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // sent with Content-Length when not empty or for PUT/POST
};

// Parsing of a response head: "HTTP/1.1 200 OK" + headers + CRLFCRLF. Pure.
// Returns the head's size in bytes (0: incomplete), or an error text.
result<std::size_t, std::string> parse_response_head(std::string_view data,
    client_response& out);

// One connection to one server. Not for concurrent requests: one at a time.
class client_connection {
public:
    client_connection() = default;
    client_connection(client_connection&&) noexcept = default;
    client_connection& operator=(client_connection&&) noexcept = default;

    // Connects to `address` within `timeout_ns`; with `tls`, also runs the TLS handshake
    // and checks the server's certificate against `server_name` (an IP or a DNS name).
    static reactor::task<result<client_connection, std::string>> open(
        reactor::socket_address address, std::int64_t timeout_ns,
        const tls_client_context* tls = nullptr, std::string server_name = {});

    // Sends `request` and reads the whole response, all within `timeout_ns`.
    reactor::task<result<client_response, std::string>> send(client_request request,
        std::int64_t timeout_ns);

    bool is_open() const noexcept { return _fd.valid(); }
    bool is_tls() const noexcept { return _tls != nullptr; }
    const reactor::socket_address& address() const noexcept { return _address; }

private:
    reactor::task<result<bool, std::string>> fill(std::int64_t deadline_ns);
    reactor::task<result<bool, std::string>> read_body(client_response& response,
        bool head_request, std::int64_t deadline_ns);
    reactor::task<result<bool, std::string>> read_chunked(client_response& response,
        std::int64_t deadline_ns);

    reactor::task<result<bool, std::string>> write_all(std::string_view data,
        std::int64_t deadline_ns);

    reactor::unique_fd _fd;
    std::unique_ptr<tls_session> _tls;  // https only
    reactor::socket_address _address;
    std::string _in;        // bytes received and not yet consumed
    bool _eof = false;      // the server closed its side
    bool _reusable = true;  // false after a close-delimited body or "Connection: close"
};

// A complete "http(s)://host:port/path?query" URL split for the client. IP literals and
// "localhost" only: the client does no DNS lookups.
struct parsed_http_url {
    reactor::socket_address address;
    std::string host;    // as written, for the Host header
    std::string target;  // "/path?query", "/" when empty
    bool tls = false;    // https
    std::string server_name;  // the host without port or brackets: what the cert must name
};
result<parsed_http_url, std::string> parse_http_url(std::string_view url);

// One request on a fresh connection: fetch("http://127.0.0.1:2379/version", ...). An https
// URL uses `tls`, or the system's roots when it is null.
reactor::task<result<client_response, std::string>> fetch(std::string url,
    http::method method = http::method::get, std::string body = {},
    std::vector<std::pair<std::string, std::string>> headers = {},
    std::int64_t timeout_ns = 5'000'000'000, const tls_client_context* tls = nullptr);

}  // namespace uetcd::http
