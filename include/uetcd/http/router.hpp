// Routing like Go's http.ServeMux (which etcd uses): the percent-decoded path is matched
// against exact paths and subtree prefixes ("/v2/keys/"), an unclean path ("//", "/./",
// "/../") is answered 301 to its cleaned form, and an unknown path gets 404.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/http/parser.hpp"
#include "uetcd/http/response.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/task.hpp"

namespace uetcd::http {

class tls_session;

// What a handler sees: the request, its decoded path, and the response to fill in.
struct exchange {
    const http::request& request;
    std::string_view path;  // percent-decoded, clean
    http::response& response;
    // For async handlers that write the response themselves (a watch sends its headers at
    // once, then chunks): the connection's socket, the earlier pipelined responses not yet
    // sent (the handler sends them first), and what it did.
    int fd = -1;
    std::string* pending_output = nullptr;
    bool taken_over = false;        // the whole response was sent by the handler
    bool close_connection = false;  // the connection must close after it
    // The connection's TLS session (null on plain HTTP): write through send_all() and
    // wait_for_close(), never on `fd` directly.
    tls_session* tls = nullptr;
    // The verified client certificate's subject CN on an https connection with
    // --client-cert-auth; empty otherwise. Valid while the exchange lives.
    std::string_view tls_common_name;

    // Sends all of `data` (plain or TLS); false when the peer is gone or too slow.
    reactor::task<bool> send_all(std::string_view data, std::int64_t timeout_ns) const;
    // For a handler that waits (a watch): 0 when the client closed, > 0 when request bytes
    // arrived (no verdict: they stay for the next request), -errno on errors or cancel.
    reactor::task<std::int32_t> wait_for_close(reactor::cancel_slot& cancel) const;
};

using sync_handler = std::function<void(exchange&)>;
// For handlers that wait (a write through raft, a watch). The exchange outlives the task.
using async_handler = std::function<reactor::task<void>(exchange&)>;

// Go's cleanPath: path.Clean keeping a trailing slash, "/" for "".
std::string clean_path(std::string_view path);
// Escapes a decoded path for a Location header as Go's url.URL.EscapedPath does.
void append_escaped_path(std::string& out, std::string_view path);

class router {
public:
    void exact(std::string_view path, sync_handler handler);
    void subtree(std::string_view prefix, sync_handler handler);  // prefix ends in '/'
    void exact_async(std::string_view path, async_handler handler);
    void subtree_async(std::string_view prefix, async_handler handler);

    // Routes one request. Returns an async handler to await when the match is async (the
    // exchange is already filled in), or nullptr when the response is complete.
    // `tls_common_name` is the connection's verified client certificate CN, if any.
    const async_handler* route(const http::request& request, http::response& response,
        std::string& decoded_path_scratch, std::string_view tls_common_name = {}) const;

private:
    struct entry {
        std::string pattern;
        bool is_subtree;
        sync_handler sync;
        async_handler async;
    };
    const entry* match(std::string_view path) const noexcept;
    std::vector<entry> _entries;
};

}  // namespace uetcd::http
