// The per-core HTTP/1.1 connection loop; see server.hpp.
#include "uetcd/http/server.hpp"

#include <unistd.h>

#include <cstring>
#include <memory>

#include "uetcd/assert.hpp"
#include "uetcd/http/tls.hpp"
#include "uetcd/reactor/net.hpp"

namespace uetcd::http {

// A growable byte buffer without zero-filling: the parser's view of a connection's input.
// Empty (no memory) until the first byte arrives, and again after a long idle time.
class input_buffer {
public:
    char* data() noexcept { return _data.get(); }
    std::size_t size() const noexcept { return _size; }
    std::size_t capacity() const noexcept { return _capacity; }
    std::size_t free_bytes() const noexcept { return _capacity - _size; }
    char* free_space() noexcept { return _data.get() + _size; }
    void grew(std::size_t n) noexcept { _size += n; }

    // Drops the first n bytes (a finished request); the rest moves to the front.
    void consume(std::size_t n) noexcept {
        UETCD_ASSERT(n <= _size);
        if (n < _size) {
            std::memmove(_data.get(), _data.get() + n, _size - n);
        }
        _size -= n;
    }
    void resize_capacity(std::size_t capacity) {
        UETCD_ASSERT(capacity >= _size);
        if (capacity == _capacity) {
            return;
        }
        std::unique_ptr<char[]> other;
        if (capacity > 0) {
            other = std::make_unique_for_overwrite<char[]>(capacity);
            if (_size > 0) {
                std::memcpy(other.get(), _data.get(), _size);
            }
        }
        _data = std::move(other);
        _capacity = capacity;
    }
    void grow(std::size_t initial_bytes, std::size_t limit_bytes) {
        resize_capacity(std::max(initial_bytes, std::min(limit_bytes, _capacity * 2)));
    }

private:
    std::unique_ptr<char[]> _data;
    std::size_t _capacity = 0;
    std::size_t _size = 0;
};

namespace {

// A keep-alive connection idle for this long gives its buffers back and waits for the next
// request with a buffer-less peek, so idle connections cost only their coroutine frame.
constexpr std::int64_t release_buffers_after_ns = 5'000'000'000;

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

// One connection's registration with its server, for stop(). Lives in serve()'s frame.
class connection {
public:
    connection(server& owner) : _owner(owner) {
        _next = owner._connections;
        if (_next != nullptr) {
            _next->_prev = this;
        }
        owner._connections = this;
    }
    ~connection() {
        if (_prev != nullptr) {
            _prev->_next = _next;
        } else {
            _owner._connections = _next;
        }
        if (_next != nullptr) {
            _next->_prev = _prev;
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    reactor::cancel_slot idle_wait;  // cancelled by stop() while waiting for a new request
    bool idle = true;
    connection* next() const noexcept { return _next; }

private:
    server& _owner;
    connection* _prev = nullptr;
    connection* _next = nullptr;
};

server::server(const router& routes, server_limits limits) : _routes(routes), _limits(limits) {}

server::~server() { UETCD_ASSERT(_gate.count() == 0); }

void server::start(int listen_fd) {
    _gate.enter();
    reactor::spawn(accept_loop(listen_fd));
}

reactor::task<void> server::stop() {
    _stopping = true;
    _accept_cancel.cancel();
    for (connection* c = _connections; c != nullptr; c = c->next()) {
        if (c->idle) {
            c->idle_wait.cancel();
        }
    }
    co_await _gate.close();
}

reactor::task<void> server::accept_loop(int listen_fd) {
    while (!_stopping) {
        reactor::socket_address peer;
        peer.length = sizeof(peer.storage);
        const int fd = co_await reactor::accept(listen_fd, peer.get(), &peer.length)
                           .with_cancel(_accept_cancel);
        if (fd < 0) {
            if (fd == -ECANCELED || _stopping) {
                break;
            }
            // EMFILE and friends: back off briefly instead of spinning.
            co_await reactor::sleep_for(10'000'000);
            continue;
        }
        ++_stats.connections_accepted;
        if (_stats.connections_open >= _limits.connections_max || _stopping) {
            ++_stats.connections_refused;
            ::close(fd);
            continue;
        }
        reactor::set_no_delay(fd);
        _gate.enter();
        reactor::spawn(serve(fd));
    }
    _gate.leave();
}

// Everything one connection owns, in serve()'s frame: buffers are reused across requests.
struct connection_io {
    explicit connection_io(int socket_fd, const parser_limits& limits)
        : fd(socket_fd), parser(limits) {}

    int fd;
    input_buffer in;
    std::string out;
    std::string path_scratch;
    request_parser parser;
    std::unique_ptr<request> req;  // allocated with the input buffer
    response res;
    std::int64_t head_deadline_ns = 0;  // set when the first byte of a request arrives
    bool sent_continue = false;
    std::unique_ptr<tls_session> tls;  // https only

    // Decrypted or undecrypted request bytes wait inside the TLS session.
    bool tls_buffered() const noexcept { return tls != nullptr && tls->has_buffered_input(); }
};

namespace {

// Sends all of `data`; false when the peer is gone or too slow. Not a coroutine of its
// own on the common path: one send usually takes everything.
reactor::task<bool> send_rest(int fd, std::string_view data, std::int64_t timeout_ns) {
    while (!data.empty()) {
        const auto n = co_await reactor::send(fd, data.data(), data.size())
                           .with_timeout(timeout_ns);
        if (n <= 0) {
            co_return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    co_return true;
}

std::size_t input_bytes_max(const parser_limits& limits) {
    return limits.request_line_bytes_max + limits.header_bytes_max + limits.body_bytes_max +
        4096;
}

}  // namespace

reactor::task<bool> exchange::send_all(std::string_view data, std::int64_t timeout_ns) const {
    if (tls != nullptr) {
        co_return co_await tls->send_all(fd, data, timeout_ns);
    }
    co_return co_await send_rest(fd, data, timeout_ns);
}

reactor::task<std::int32_t> exchange::wait_for_close(reactor::cancel_slot& cancel) const {
    if (tls != nullptr) {
        co_return co_await tls->wait_for_close(fd, cancel);
    }
    char probe = 0;
    co_return co_await reactor::recv(fd, &probe, 1, MSG_PEEK).with_cancel(cancel);
}

bool server::finish_request(connection_io& io, const parse_result& pr, std::size_t& offset) {
    const bool close_after = !io.req->keep_alive || _stopping || io.res.closes_connection();
    const auto date = _dates.get(reactor::reactor::current().wall_ns() / 1'000'000'000);
    io.res.write_to(io.out, date, io.req->method == method::head, close_after);
    offset += pr.consumed_bytes;
    io.parser.reset();
    io.sent_continue = false;
    io.head_deadline_ns = 0;
    return close_after;
}

bool server::finish_batch(connection_io& io, const parse_result& pr, std::size_t offset,
    bool close) {
    if (!close && pr.status == parse_status::error) {
        ++_stats.bad_requests;
        write_parse_error(io.out, pr.error_status, pr.error_reason);
        close = true;
    }
    io.in.consume(offset);
    if (!close && pr.status == parse_status::incomplete && pr.headers_done &&
        io.req->expect_continue && !io.sent_continue) {
        io.out.append("HTTP/1.1 100 Continue\r\n\r\n");
        io.sent_continue = true;
    }
    return close;
}

std::int64_t server::read_timeout_ns(connection_io& io, const parse_result& pr) {
    // A started head must finish by its deadline (slowloris); a body must keep arriving.
    const std::int64_t now = reactor::reactor::current().now_ns();
    if (io.head_deadline_ns == 0) {
        io.head_deadline_ns = now + _limits.header_timeout_ns;
    }
    if (pr.headers_done) {
        return _limits.body_idle_timeout_ns;
    }
    return std::max<std::int64_t>(io.head_deadline_ns - now, 0);
}

void server::prepare_read(connection_io& io) {
    if (io.in.size() == 0 && io.in.capacity() > _limits.input_buffer_initial_bytes) {
        io.in.resize_capacity(_limits.input_buffer_initial_bytes);  // after a large request
    }
    if (io.in.capacity() == 0) {
        io.in.resize_capacity(_limits.input_buffer_initial_bytes);
        io.req = std::make_unique<request>();
    }
    if (io.in.free_bytes() == 0) {
        io.in.grow(_limits.input_buffer_initial_bytes, input_bytes_max(_limits.parser));
    }
}

reactor::task<std::int32_t> server::wait_without_buffers(connection& conn, connection_io& io,
    std::int64_t timeout_ns) {
    // Long idle: give the buffers back and wait for the next request with a one-byte peek.
    io.in.resize_capacity(0);
    io.req.reset();
    if (io.tls != nullptr) {
        io.tls->release_buffers();
    }
    char probe = 0;
    conn.idle = true;
    conn.idle_wait = reactor::cancel_slot{};
    const auto n = co_await reactor::recv(io.fd, &probe, 1, MSG_PEEK)
                       .with_timeout(timeout_ns)
                       .with_cancel(conn.idle_wait);
    conn.idle = false;
    if (n <= 0) {
        co_return n;
    }
    prepare_read(io);
    if (io.tls != nullptr) {
        co_return co_await io.tls->recv(io.fd, io.in.free_space(), io.in.free_bytes(),
            _limits.header_timeout_ns, nullptr);
    }
    const auto m = co_await reactor::recv(io.fd, io.in.free_space(), io.in.free_bytes());
    co_return m;
}

reactor::task<void> server::answer_timeout(connection_io& io) {
    // A head or body that never completed: answer 408 as Go does; the caller closes.
    ++_stats.timeouts;
    io.out.clear();
    write_parse_error(io.out, 408, "Request Timeout");
    if (io.tls != nullptr) {
        co_await io.tls->send_all(io.fd, io.out, 1'000'000'000);
    } else {
        co_await send_rest(io.fd, io.out, 1'000'000'000);
    }
}

reactor::task<bool> server::start_tls(connection& conn, connection_io& io) {
    // The handshake counts as the first request's head: a stalled client is dropped after
    // the header timeout, or at once when the server stops (the connection is idle until
    // its first request). Plain HTTP gets Go's 400 inside accept().
    const std::int64_t now_ns = reactor::reactor::current().now_ns();
    io.tls = tls_session::make_server(_tls->for_handshake(now_ns));
    if (io.tls == nullptr) {
        co_return false;
    }
    conn.idle_wait = reactor::cancel_slot{};
    const auto rc = co_await io.tls->accept(io.fd, now_ns + _limits.header_timeout_ns,
        &conn.idle_wait);
    conn.idle = false;
    if (rc == -ETIMEDOUT) {
        ++_stats.timeouts;
    } else if (rc != 0) {
        ++_stats.bad_requests;
    }
    co_return rc == 0;
}

// One coroutine on purpose (longer than our usual function): a helper that awaits would
// cost a coroutine frame per request on the plain path. TLS is one branch per read and send.
reactor::task<void> server::serve(int fd) {
    ++_stats.connections_open;
    connection conn(*this);
    connection_io io(fd, _limits.parser);
    const bool serving = _tls == nullptr || co_await start_tls(conn, io);
    const std::string_view common_name = io.tls ? io.tls->peer_common_name() : "";
    while (serving) {
        // Serve every complete request in the buffer (pipelining), then send once.
        std::size_t offset = 0;
        parse_result pr;
        bool close = false;
        while (!close && io.in.size() > offset) {
            pr = io.parser.parse(std::span<char>(io.in.data() + offset, io.in.size() - offset),
                *io.req);
            if (pr.status != parse_status::complete) {
                break;
            }
            ++_stats.requests;
            io.res.reset();
            const async_handler* async =
                _routes.route(*io.req, io.res, io.path_scratch, common_name);
            if (async != nullptr) {
                exchange ex{*io.req, io.path_scratch, io.res, fd, &io.out};
                ex.tls = io.tls.get();
                ex.tls_common_name = common_name;
                co_await (*async)(ex);
                if (ex.taken_over) {
                    // The handler sent its response (after io.out) itself: a watch.
                    offset += pr.consumed_bytes;
                    io.parser.reset();
                    io.sent_continue = false;
                    io.head_deadline_ns = 0;
                    close = ex.close_connection || !io.req->keep_alive || _stopping;
                    continue;
                }
            }
            close = finish_request(io, pr, offset);
        }
        close = finish_batch(io, pr, offset, close);
        if (!io.out.empty() && io.tls != nullptr) {
            if (!co_await io.tls->send_all(fd, io.out, _limits.send_timeout_ns)) {
                break;
            }
            io.out.clear();
        } else if (!io.out.empty()) {
            const auto sent = co_await reactor::send(fd, io.out.data(), io.out.size())
                                  .with_timeout(_limits.send_timeout_ns);
            if (sent <= 0) {
                break;
            }
            if (static_cast<std::size_t>(sent) < io.out.size()) {
                const std::string_view rest =
                    std::string_view(io.out).substr(static_cast<std::size_t>(sent));
                const bool ok = co_await send_rest(fd, rest, _limits.send_timeout_ns);
                if (!ok) {
                    break;
                }
            }
            io.out.clear();
        }
        const bool idle = io.in.size() == 0 && !io.tls_buffered();
        if (close || (_stopping && idle)) {
            break;
        }
        std::int32_t n = 0;
        if (!idle) {
            prepare_read(io);
            if (io.tls != nullptr) {
                n = co_await io.tls->recv(fd, io.in.free_space(), io.in.free_bytes(),
                    read_timeout_ns(io, pr), nullptr);
            } else {
                n = co_await reactor::recv(fd, io.in.free_space(), io.in.free_bytes())
                        .with_timeout(read_timeout_ns(io, pr));
            }
            if (n == -ETIMEDOUT) {
                co_await answer_timeout(io);
            }
        } else if (io.in.capacity() == 0) {
            n = co_await wait_without_buffers(conn, io, _limits.idle_timeout_ns);  // new
        } else {
            conn.idle = true;
            conn.idle_wait = reactor::cancel_slot{};
            const auto wait_ns = std::min(release_buffers_after_ns, _limits.idle_timeout_ns);
            if (io.tls != nullptr) {
                n = co_await io.tls->recv(fd, io.in.free_space(), io.in.free_bytes(), wait_ns,
                    &conn.idle_wait);
            } else {
                n = co_await reactor::recv(fd, io.in.free_space(), io.in.free_bytes())
                        .with_timeout(wait_ns)
                        .with_cancel(conn.idle_wait);
            }
            conn.idle = false;
            if (n == -ETIMEDOUT && _limits.idle_timeout_ns > release_buffers_after_ns) {
                n = co_await wait_without_buffers(conn, io,
                    _limits.idle_timeout_ns - release_buffers_after_ns);
            }
        }
        if (n <= 0) {
            break;
        }
        io.in.grew(static_cast<std::size_t>(n));
    }
    if (io.tls != nullptr) {
        co_await io.tls->close_notify(fd);
    }
    co_await reactor::close_fd(fd);
    --_stats.connections_open;
    _gate.leave();
}

}  // namespace uetcd::http
