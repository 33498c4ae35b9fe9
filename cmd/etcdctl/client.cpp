// The cluster client: Go's httpClusterClient as etcdctl v2 uses it.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "ctl.hpp"
#include "uetcd/reactor/reactor.hpp"

namespace uetcd::ctl {

void out(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void err(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

std::string request_error::text() const {
    if (!cluster) {
        return errors.empty() ? std::string() : errors.front();
    }
    std::string s = "client: etcd cluster is unavailable or misconfigured";
    for (std::size_t i = 0; i < errors.size(); ++i) {
        s += "; error #" + std::to_string(i) + ": " + errors[i] + "\n";
    }
    return s;
}

std::string request_error::detail() const {
    std::string s;
    for (std::size_t i = 0; i < errors.size(); ++i) {
        s += "error #" + std::to_string(i) + ": " + errors[i] + "\n";
    }
    return s;
}

int handle_error(const command_context&, int code, const request_error& e) {
    err("Error:  " + e.text() + "\n");
    if (e.cluster) {
        err(e.detail() + "\n");
    }
    return code;
}

int handle_error_text(int code, std::string_view text) {
    err("Error:  " + std::string(text) + "\n");
    return code;
}

cluster_client::cluster_client(global_options options, std::string auth_header)
    : _options(std::move(options)), _auth_header(std::move(auth_header)) {
    _endpoints = _options.endpoints;
    _deadline_ns = _options.total_timeout_ns > 0
                       ? reactor::reactor::current().now_ns() + _options.total_timeout_ns
                       : std::int64_t{1} << 62;
}

namespace {

std::string verb(http::method m) {
    switch (m) {
    case http::method::put: return "PUT";
    case http::method::post: return "POST";
    case http::method::delete_: return "DELETE";
    default: return "GET";
    }
}

// Go's isConnectionError for one of our client's texts: dial and read failures, timeouts.
bool is_connection_error(std::string_view e) {
    return e.starts_with("dial tcp") || e.starts_with("read") || e.find("timeout") !=
                                                                      std::string_view::npos;
}

}  // namespace

reactor::task<result<http::client_response, cluster_client::attempt_error>>
cluster_client::attempt(const std::string& endpoint, const request& r, std::int64_t left_ns) {
    auto parsed = http::parse_http_url(endpoint + r.path_and_query);
    if (!parsed) {
        co_return failure{attempt_error{parsed.error(), false}};
    }
    // Go's dial timeout: 30 s, capped by --total-timeout; a watch has no command deadline.
    std::int64_t dial_ns = 30'000'000'000;
    if (_options.total_timeout_ns > 0) {
        dial_ns = std::min(dial_ns, _options.total_timeout_ns);
    }
    if (!r.wait) {
        dial_ns = std::min(dial_ns, left_ns);
    }
    if (parsed->tls && _tls == nullptr) {
        // An https member found by the sync without TLS flags: the system's roots.
        auto roots = http::tls_client_context::load(http::tls_options{});
        if (!roots) {
            co_return failure{attempt_error{roots.error(), false}};
        }
        _tls = std::move(roots).value();
    }
    auto connection = co_await http::client_connection::open(parsed->address, dial_ns,
        parsed->tls ? _tls.get() : nullptr, parsed->server_name);
    if (!connection) {
        const bool dial = is_connection_error(connection.error());
        co_return failure{attempt_error{connection.error(), dial}};
    }
    http::client_request req;
    req.method = r.method;
    req.target = parsed->target;
    req.host = parsed->host;
    req.body = r.body;
    if (!r.content_type.empty()) {
        req.headers.emplace_back("Content-Type", r.content_type);
    }
    if (!_auth_header.empty()) {
        req.headers.emplace_back("Authorization", _auth_header);
    }
    const std::int64_t timeout_ns =
        r.wait ? std::int64_t{1} << 60
               : std::min(left_ns, _options.timeout_ns > 0 ? _options.timeout_ns : left_ns);
    auto response = co_await connection->send(std::move(req), timeout_ns);
    if (!response) {
        // Go's header timeout is a plain error, not a connection error.
        if (response.error() == "i/o timeout") {
            co_return failure{
                attempt_error{"client: endpoint " + endpoint + " exceeded header timeout", false}};
        }
        const bool read = is_connection_error(response.error());
        co_return failure{attempt_error{response.error(), read}};
    }
    co_return std::move(response).value();
}

reactor::task<result<http::client_response, request_error>> cluster_client::send(request r) {
    request_error failed;
    const std::size_t count = _endpoints.size();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t k = (_pinned + i) % count;
        const std::string& endpoint = _endpoints[k];
        if (_options.debug) {
            std::string line = "cURL Command: curl -X " + verb(r.method) + " " + endpoint +
                               r.path_and_query;
            if (r.has_body) {
                line += " -d " + go_quote(r.body);
            }
            err(line + "\n");
        }
        const std::int64_t now = reactor::reactor::current().now_ns();
        if (!r.wait && now >= _deadline_ns) {
            // context.DeadlineExceeded is a net.Error with Timeout(): a connection error.
            co_return failure{request_error{{"context deadline exceeded"}, false, true}};
        }
        auto response = co_await attempt(endpoint, r, _deadline_ns - now);
        if (!response) {
            failed.errors.push_back(response.error().text);
            failed.connection_only = failed.connection_only && response.error().connection;
            continue;
        }
        const int status = response->status;
        if (status / 100 == 5) {
            failed.errors.push_back(status == 500 || status == 503
                                        ? "client: etcd member " + endpoint + " has no leader"
                                        : "client: etcd member " + endpoint +
                                              " returns server error [" + response->reason + "]");
            failed.connection_only = false;
            continue;
        }
        _pinned = k;
        co_return std::move(response).value();
    }
    co_return failure{failed};
}

reactor::task<int> cluster_client::sync() {
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) {
            s += (s.empty() ? "" : ",") + x;
        }
        return s;
    };
    if (!_options.no_sync) {
        if (_options.debug) {
            err("start to sync cluster using endpoints(" + join(_endpoints) + ")\n");
        }
        request r{.path_and_query = "/v2/members"};
        auto response = co_await send(r);
        if (!response) {
            if (response.error().connection_only) {
                co_return handle_error(command_context{}, exit_bad_connection,
                    response.error());
            }
        } else if (response->status == 200) {
            auto members = parse_members(response->body);
            if (members) {
                std::vector<std::string> urls;
                for (const auto& m : *members) {
                    urls.insert(urls.end(), m.client_urls.begin(), m.client_urls.end());
                }
                if (urls.empty()) {
                    err("etcd cluster has no published client endpoints.\n");
                    err("Try '--no-sync' if you want to access non-published client "
                        "endpoints(" + join(_endpoints) + ").\n");
                    err("Error:  client: no endpoints available\n");
                    co_return exit_server_error;
                }
                if (urls != _endpoints) {
                    _endpoints = urls;
                    _pinned = 0;
                }
            }
        }
        if (_options.debug) {
            err("got endpoints(" + join(_endpoints) + ") after sync\n");
        }
    }
    if (_options.debug) {
        err("Cluster-Endpoints: " + join(_endpoints) + "\n");
    }
    co_return 0;
}

reactor::task<keys_outcome> keys_call(cluster_client& client, request r) {
    keys_outcome o;
    auto response = co_await client.send(std::move(r));
    if (!response) {
        o.failed = response.error();
        co_return o;
    }
    if (response->status == 200 || response->status == 201) {
        std::uint64_t index = 0;
        const std::string index_text(response->header("X-Etcd-Index"));
        index = std::strtoull(index_text.c_str(), nullptr, 10);
        auto parsed = parse_keys_response(response->body, index);
        if (parsed) {
            o.response = std::move(parsed).value();
        } else {
            o.failed = request_error{{parsed.error()}, false, false};
        }
        co_return o;
    }
    auto key_error = parse_keys_error(response->body);
    if (key_error) {
        o.key_error = std::move(key_error).value();
    } else {
        o.failed = request_error{{key_error.error()}, false, false};
    }
    co_return o;
}

int keys_failure(const command_context& c, const keys_outcome& o) {
    if (o.key_error) {
        // Go's handleError prints JSON only for a *client.Error, which the v2 client never
        // returns (it returns client.Error values), so -o json errors stay text.
        return handle_error_text(exit_server_error, keys_error_text(*o.key_error));
    }
    return handle_error(c, exit_server_error, *o.failed);
}

std::optional<std::string> read_password(std::string_view prompt) {
    out(prompt);
    termios saved{};
    const bool tty = ::isatty(0) != 0 && ::tcgetattr(0, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(0, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        ::tcsetattr(0, TCSAFLUSH, &saved);
    }
    out("\n");
    if (!got) {
        return std::string();  // as Go's speakeasy: EOF reads an empty password
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

std::string base64(std::string_view data) {
    static constexpr char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string outs;
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                           (static_cast<unsigned char>(data[i + 1]) << 8) |
                           static_cast<unsigned char>(data[i + 2]);
        outs += table[(v >> 18) & 63];
        outs += table[(v >> 12) & 63];
        outs += table[(v >> 6) & 63];
        outs += table[v & 63];
    }
    if (i < data.size()) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) {
            v |= static_cast<unsigned char>(data[i + 1]) << 8;
        }
        outs += table[(v >> 18) & 63];
        outs += table[(v >> 12) & 63];
        outs += i + 1 < data.size() ? table[(v >> 6) & 63] : '=';
        outs += '=';
    }
    return outs;
}

}  // namespace uetcd::ctl
