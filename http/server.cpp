// The per-core HTTP/1.1 connection loop; see server.hpp.
#include "uetcd/http/server.hpp"

#include <unistd.h>

#include <cstring>
#include <memory>

#include "uetcd/assert.hpp"
#include "uetcd/reactor/net.hpp"

namespace uetcd::http {

namespace {

// A growable byte buffer without zero-filling: the parser's view of a connection's input.
class input_buffer {
public:
    explicit input_buffer(std::size_t capacity)
        : _data(std::make_unique_for_overwrite<char[]>(capacity)), _capacity(capacity) {}

    char* data() noexcept { return _data.get(); }
    std::size_t size() const noexcept { return _size; }
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
    void reserve_more(std::size_t limit_bytes) {
        const std::size_t wanted = std::min(limit_bytes, _capacity * 2);
        if (wanted <= _capacity) {
            return;
        }
        auto bigger = std::make_unique_for_overwrite<char[]>(wanted);
        std::memcpy(bigger.get(), _data.get(), _size);
        _data = std::move(bigger);
        _capacity = wanted;
    }
    // Returns to the initial size after a large request, so idle connections stay small.
    void shrink(std::size_t capacity) {
        if (_capacity > capacity * 4 && _size <= capacity) {
            auto smaller = std::make_unique_for_overwrite<char[]>(capacity);
            std::memcpy(smaller.get(), _data.get(), _size);
            _data = std::move(smaller);
            _capacity = capacity;
        }
    }

private:
    std::unique_ptr<char[]> _data;
    std::size_t _capacity;
    std::size_t _size = 0;
};

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

reactor::task<void> server::serve(int fd) {
    ++_stats.connections_open;
    connection conn(*this);
    input_buffer in(_limits.input_buffer_initial_bytes);
    std::string out;
    std::string path_scratch;
    request_parser parser(_limits.parser);
    auto req = std::make_unique<request>();
    response res;
    auto& r = reactor::reactor::current();
    std::int64_t head_deadline_ns = 0;  // set when the first byte of a request arrives
    bool keep_open = true;
    bool sent_continue = false;

    while (keep_open) {
        // Serve every complete request in the buffer (pipelining), then send once.
        std::size_t offset = 0;
        parse_result pr;
        for (;;) {
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
        if (in.size() == 0) {
            in.shrink(_limits.input_buffer_initial_bytes);
        }
        if (in.free_bytes() == 0) {
            in.reserve_more(_limits.parser.header_bytes_max + _limits.parser.body_bytes_max +
                _limits.parser.request_line_bytes_max + 4096);
        }
        // Pick the timeout: a new request may take idle_timeout to start; a started head
        // must finish by its deadline; a body must keep arriving.
        const bool idle = in.size() == 0;
        std::int64_t timeout_ns = _limits.idle_timeout_ns;
        if (!idle) {
            if (head_deadline_ns == 0) {
                head_deadline_ns = r.now_ns() + _limits.header_timeout_ns;
            }
            timeout_ns = pr.headers_done ? _limits.body_idle_timeout_ns
                                         : std::max<std::int64_t>(head_deadline_ns - r.now_ns(), 0);
        }
        if (_stopping && idle) {
            break;
        }
        conn.idle = idle;
        conn.idle_wait = reactor::cancel_slot{};
        std::int32_t n = 0;
        if (idle) {
            n = co_await reactor::recv(fd, in.free_space(), in.free_bytes())
                    .with_timeout(timeout_ns)
                    .with_cancel(conn.idle_wait);
        } else {
            n = co_await reactor::recv(fd, in.free_space(), in.free_bytes())
                    .with_timeout(timeout_ns);
        }
        conn.idle = false;
        if (n <= 0) {
            if (n == -ETIMEDOUT && !idle) {
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
