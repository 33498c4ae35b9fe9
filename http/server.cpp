// The per-core HTTP/1.1 connection loop; see server.hpp.
#include "uetcd/http/server.hpp"

#include <unistd.h>

#include <cstring>
#include <memory>

#include "uetcd/assert.hpp"
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

namespace {

// Sends all of `data`; false when the peer is gone or too slow.
reactor::task<bool> send_all(int fd, std::string_view data, std::int64_t timeout_ns) {
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

}  // namespace

reactor::task<std::int32_t> server::wait_for_request(connection& conn, int fd,
    input_buffer& in, std::unique_ptr<request>& req) {
    // While buffers are held: a normal recv, for at most release_buffers_after_ns.
    const std::int64_t idle_start_ns = reactor::reactor::current().now_ns();
    conn.idle = true;
    conn.idle_wait = reactor::cancel_slot{};
    if (in.capacity() > 0) {
        const auto n = co_await reactor::recv(fd, in.free_space(), in.free_bytes())
                           .with_timeout(std::min(release_buffers_after_ns,
                               _limits.idle_timeout_ns))
                           .with_cancel(conn.idle_wait);
        if (n != -ETIMEDOUT || _limits.idle_timeout_ns <= release_buffers_after_ns) {
            conn.idle = false;
            if (n > 0) {
                in.grew(static_cast<std::size_t>(n));
            }
            co_return n;
        }
        in.resize_capacity(0);
        req.reset();
    }
    // Without buffers: peek one byte, then take the buffers back.
    char probe = 0;
    const std::int64_t left_ns = _limits.idle_timeout_ns -
        (reactor::reactor::current().now_ns() - idle_start_ns);
    const auto n = co_await reactor::recv(fd, &probe, 1, MSG_PEEK)
                       .with_timeout(std::max<std::int64_t>(left_ns, 0))
                       .with_cancel(conn.idle_wait);
    conn.idle = false;
    if (n <= 0) {
        co_return n;
    }
    in.resize_capacity(_limits.input_buffer_initial_bytes);
    req = std::make_unique<request>();
    const auto m = co_await reactor::recv(fd, in.free_space(), in.free_bytes());
    if (m > 0) {
        in.grew(static_cast<std::size_t>(m));
    }
    co_return m;
}

reactor::task<void> server::serve(int fd) {
    ++_stats.connections_open;
    connection conn(*this);
    input_buffer in;
    std::string out;
    std::string path_scratch;
    request_parser parser(_limits.parser);
    std::unique_ptr<request> req;  // allocated with the input buffer
    response res;
    auto& r = reactor::reactor::current();
    std::int64_t head_deadline_ns = 0;  // set when the first byte of a request arrives
    bool keep_open = true;
    bool sent_continue = false;

    while (keep_open) {
        // Serve every complete request in the buffer (pipelining), then send once.
        std::size_t offset = 0;
        parse_result pr;
        while (in.size() > 0) {
            pr = parser.parse(std::span<char>(in.data() + offset, in.size() - offset), *req);
            if (pr.status != parse_status::complete) {
                break;
            }
            ++_stats.requests;
            res.reset();
            const async_handler* async = _routes.route(*req, res, path_scratch);
            if (async != nullptr) {
                exchange ex{*req, path_scratch, res};
                co_await (*async)(ex);
            }
            const bool close_after = !req->keep_alive || _stopping;
            const auto date = _dates.get(r.wall_ns() / 1'000'000'000);
            res.write_to(out, date, req->method == method::head, close_after);
            offset += pr.consumed_bytes;
            parser.reset();
            sent_continue = false;
            head_deadline_ns = 0;
            if (close_after) {
                keep_open = false;
                break;
            }
        }
        if (keep_open && pr.status == parse_status::error) {
            ++_stats.bad_requests;
            write_parse_error(out, pr.error_status, pr.error_reason);
            keep_open = false;
        }
        in.consume(offset);
        if (keep_open && pr.status == parse_status::incomplete && pr.headers_done &&
            req->expect_continue && !sent_continue) {
            out.append(continue_line);
            sent_continue = true;
        }
        if (!out.empty()) {
            if (!co_await send_all(fd, out, _limits.send_timeout_ns)) {
                break;
            }
            out.clear();
            if (out.capacity() > 256 * 1024) {
                out.shrink_to_fit();
            }
        }
        if (!keep_open) {
            break;
        }
        const bool idle = in.size() == 0;
        if (_stopping && idle) {
            break;
        }
        if (idle && in.capacity() > _limits.input_buffer_initial_bytes) {
            in.resize_capacity(_limits.input_buffer_initial_bytes);  // after a large request
        }
        if (idle) {
            const auto waited = co_await wait_for_request(conn, fd, in, req);
            if (waited <= 0) {
                break;
            }
            head_deadline_ns = r.now_ns() + _limits.header_timeout_ns;
            continue;  // parse what arrived
        }
        if (in.free_bytes() == 0) {
            in.grow(_limits.input_buffer_initial_bytes, _limits.parser.header_bytes_max +
                _limits.parser.body_bytes_max + _limits.parser.request_line_bytes_max + 4096);
        }
        // A started head must finish by its deadline; a body must keep arriving.
        if (head_deadline_ns == 0) {
            head_deadline_ns = r.now_ns() + _limits.header_timeout_ns;
        }
        const std::int64_t timeout_ns = pr.headers_done
            ? _limits.body_idle_timeout_ns
            : std::max<std::int64_t>(head_deadline_ns - r.now_ns(), 0);
        const auto n = co_await reactor::recv(fd, in.free_space(), in.free_bytes())
                           .with_timeout(timeout_ns);
        if (n <= 0) {
            if (n == -ETIMEDOUT && in.size() > 0) {
                ++_stats.timeouts;
                // A head or body that never completed: answer 408 as Go does, then close.
                out.clear();
                write_parse_error(out, 408, "Request Timeout");
                co_await send_all(fd, out, 1'000'000'000);
            }
            break;
        }
        in.grew(static_cast<std::size_t>(n));
    }
    co_await reactor::close_fd(fd);
    --_stats.connections_open;
    _gate.leave();
}

}  // namespace uetcd::http
