// One HTTP/1.1 exchange per connection ("Connection: close"), so a response ends when the
// peer closes: no framing guesswork for HEAD, 301 or chunked watch bodies. A request can be
// sent now and its response read later (long-poll watches that wait for a later write).
#pragma once

// process.hpp uses std::exchange without including <utility>.
#include <utility>

#include "support/process.hpp"

#include <cctype>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace uetcd::conformance {

struct http_request {
    std::string method;
    std::string target;                                        // sent verbatim
    std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
    std::string body;
};

struct http_response {
    bool complete = false;  // a status line and a full head arrived before the peer closed
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // de-chunked
    std::string raw;   // as received
};

inline bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

inline const std::string* find_header(const http_response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (same_name(k, name)) {
            return &v;
        }
    }
    return nullptr;
}

// Decodes a chunked body; returns what decodes when the data is cut short.
inline std::string dechunk(std::string_view data) {
    std::string out;
    while (!data.empty()) {
        const auto eol = data.find("\r\n");
        if (eol == std::string_view::npos) {
            break;
        }
        const std::string size_text(data.substr(0, eol));
        const unsigned long size = std::strtoul(size_text.c_str(), nullptr, 16);
        data.remove_prefix(eol + 2);
        if (size == 0 || data.size() < size) {
            out.append(data.substr(0, std::min<std::size_t>(size, data.size())));
            break;
        }
        out.append(data.substr(0, size));
        data.remove_prefix(std::min<std::size_t>(size + 2, data.size()));
    }
    return out;
}

inline http_response parse_response(std::string raw, bool head_request) {
    http_response r;
    r.raw = std::move(raw);
    const auto head_end = r.raw.find("\r\n\r\n");
    if (head_end == std::string::npos || r.raw.rfind("HTTP/1.", 0) != 0) {
        return r;
    }
    r.complete = true;
    r.status = std::atoi(r.raw.c_str() + 9);
    std::size_t pos = r.raw.find("\r\n") + 2;
    while (pos < head_end) {
        const auto eol = r.raw.find("\r\n", pos);
        const std::string line = r.raw.substr(pos, eol - pos);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::size_t v = colon + 1;
            while (v < line.size() && line[v] == ' ') {
                ++v;
            }
            r.headers.emplace_back(line.substr(0, colon), line.substr(v));
        }
        pos = eol + 2;
    }
    const std::string_view body = std::string_view(r.raw).substr(head_end + 4);
    const auto* te = find_header(r, "Transfer-Encoding");
    if (head_request) {
        r.body.clear();
    } else if (te != nullptr && same_name(*te, "chunked")) {
        r.body = dechunk(body);
    } else {
        r.body = std::string(body);
    }
    return r;
}

inline std::string serialize(const http_request& req, int port) {
    std::string out = req.method + " " + req.target + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                      std::to_string(port) + "\r\n";
    bool has_type = false;
    for (const auto& [k, v] : req.headers) {
        if (same_name(k, "Content-Type")) {
            has_type = true;
            if (v == "none") {
                continue;  // a body sent with no Content-Type at all
            }
        }
        out += k + ": " + v + "\r\n";
    }
    if (!req.body.empty()) {
        if (!has_type) {
            out += "Content-Type: application/x-www-form-urlencoded\r\n";
        }
        out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    }
    out += "Connection: close\r\n\r\n" + req.body;
    return out;
}

// A request in flight: sent at construction, answered by finish().
class pending_exchange {
public:
    pending_exchange(int port, const http_request& req, int timeout_ms)
        : _conn(std::make_unique<testing::connection>(port, timeout_ms)),
          _head(req.method == "HEAD") {
        _sent = _conn->connected() && _conn->send_all(serialize(req, port));
    }
    // timeout_ms > 0 changes the read timeout first: a stream watch never ends by itself, so
    // its answer is what arrived within that time.
    http_response finish(int timeout_ms = 0) {
        if (timeout_ms > 0) {
            timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
            ::setsockopt(_conn->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        }
        if (!_sent) {
            http_response r;
            r.raw = "(connection failed)";
            return r;
        }
        return parse_response(_early + _conn->read_until_close(), _head);
    }
    // Waits until the response head has arrived, at most `timeout_ms`. A watch flushes its
    // head once the watcher is registered, so a write after this is sure to be seen by it.
    bool wait_for_head(int timeout_ms) {
        const auto deadline = testing::clock::now() + std::chrono::milliseconds(timeout_ms);
        while (_sent && _early.find("\r\n\r\n") == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - testing::clock::now()).count();
            pollfd p{_conn->fd(), POLLIN, 0};
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
                return false;
            }
            char buf[4096];
            const auto n = ::recv(_conn->fd(), buf, sizeof(buf), 0);
            if (n <= 0) {
                return false;
            }
            _early.append(buf, static_cast<std::size_t>(n));
        }
        return _sent;
    }

private:
    std::unique_ptr<testing::connection> _conn;
    bool _head = false;
    bool _sent = false;
    std::string _early;  // what wait_for_head() read
};

inline http_response exchange(int port, const http_request& req, int timeout_ms = 5000) {
    return pending_exchange(port, req, timeout_ms).finish();
}

}  // namespace uetcd::conformance
