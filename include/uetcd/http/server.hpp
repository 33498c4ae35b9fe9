// The HTTP/1.1 server of one core: accepts on its own listening socket, serves each
// connection in a coroutine (keep-alive, pipelining, 100-continue), enforces the request
// limits and the header/idle/body timeouts, and stops cleanly: no new connections, idle
// ones closed, requests in flight finished.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "uetcd/http/parser.hpp"
#include "uetcd/http/router.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/task.hpp"

namespace uetcd::http {

struct server_limits {
    parser_limits parser;
    // A request head must arrive completely within this time of its first byte: a
    // slowloris client that trickles header bytes is closed after it.
    std::int64_t header_timeout_ns = 10'000'000'000;
    // A body that stops arriving for this long is abandoned (etcd waits forever).
    std::int64_t body_idle_timeout_ns = 10'000'000'000;
    // A keep-alive connection with no request for this long is closed.
    std::int64_t idle_timeout_ns = 300'000'000'000;
    // A client that does not read its responses for this long is closed.
    std::int64_t send_timeout_ns = 30'000'000'000;
    // Per core. 2 KiB of input buffer and a ~1 KiB coroutine frame per idle connection:
    // 100k connections cost about 300 MiB; beyond this new connections are closed at once.
    std::uint32_t connections_max = 100'000;
    std::uint32_t input_buffer_initial_bytes = 2048;
};

struct server_stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0;  // over connections_max
    std::uint64_t connections_open = 0;
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;
    std::uint64_t timeouts = 0;
};

class connection;
struct connection_io;
class tls_server_context;

class server {
public:
    server(const router& routes, server_limits limits);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Serves https on every connection from now on: a TLS handshake (within the header
    // timeout) before the first request. `context` (this core's) outlives the server.
    void set_tls(tls_server_context* context) noexcept { _tls = context; }
    // Starts accepting on `listen_fd` (owned by the caller) on this core.
    void start(int listen_fd);
    // Stops accepting, closes idle connections, waits for requests in flight.
    reactor::task<void> stop();

    const server_stats& stats() const noexcept { return _stats; }
    const server_limits& limits() const noexcept { return _limits; }

private:
    friend class connection;
    reactor::task<void> accept_loop(int listen_fd);
    reactor::task<void> serve(int fd);
    // The synchronous steps of serve(), kept out of the coroutine.
    bool finish_request(connection_io& io, const parse_result& pr, std::size_t& offset);
    bool finish_batch(connection_io& io, const parse_result& pr, std::size_t offset,
        bool close);
    std::int64_t read_timeout_ns(connection_io& io, const parse_result& pr);
    void prepare_read(connection_io& io);
    // A connection idle for long (or new) waits for its next request without buffers.
    reactor::task<std::int32_t> wait_without_buffers(connection& conn, connection_io& io,
        std::int64_t timeout_ns);
    reactor::task<void> answer_timeout(connection_io& io);
    reactor::task<bool> start_tls(connection& conn, connection_io& io);

    const router& _routes;
    server_limits _limits;
    server_stats _stats;
    reactor::gate _gate;
    reactor::cancel_slot _accept_cancel;
    connection* _connections = nullptr;  // intrusive list of open connections
    bool _stopping = false;
    date_cache _dates;
    tls_server_context* _tls = nullptr;
};

}  // namespace uetcd::http
