// /v2/keys; see keys_api.hpp.
#include "uetcd/server/keys_api.hpp"

#include <sys/socket.h>

#include <deque>
#include <unordered_map>

#include "uetcd/http/keys_request.hpp"
#include "uetcd/http/query.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/server/auth_api.hpp"

namespace uetcd::server {

namespace {

// etcd gives each stream watcher a channel of 100 events; a watcher that falls further behind
// is dropped and its response ends.
constexpr std::size_t stream_buffer_events_max = 100;
constexpr std::int64_t watch_send_timeout_ns = 30'000'000'000;
constexpr unsigned store_core = 0;

// One watch waiting on this core. Lives in the handler's frame.
struct waiter {
    std::deque<std::shared_ptr<const std::string>> events;  // shared with other watchers
    wake_signal signal;
    reactor::cancel_slot peek_cancel;
    store::watcher_id id;
    bool hub_registered = false;  // the hub on the store's core still holds the watcher
    bool hub_removed = false;     // a one-shot watcher's event came (maybe before the reply)
    bool client_closed = false;
    bool stopped = false;
    bool overflow = false;
    bool peek_running = false;
    // Go chunks a body of unknown length for HTTP/1.1; for HTTP/1.0 it sends the bytes as
    // they are and closes the connection at the end.
    bool chunked = true;
};

void write_answer(http::exchange& ex, const keys_answer& a) {
    ex.response.add_header("Content-Type", "application/json");
    ex.response.add_header("X-Etcd-Index", a.etcd_index);
    if (a.raft_headers) {
        ex.response.add_header("X-Raft-Index", a.raft_index);
        ex.response.add_header("X-Raft-Term", a.raft_term);
    }
    ex.response.set_status(a.status);
    ex.response.body() = a.body;
}

void append_chunk(std::string& out, std::string_view data, bool chunked) {
    if (!chunked) {
        out.append(data);
        return;
    }
    static constexpr char hex[] = "0123456789abcdef";
    char digits[16];
    int n = 0;
    std::size_t size = data.size();
    do {
        digits[n++] = hex[size & 0xf];
        size >>= 4;
    } while (size != 0);
    while (n > 0) {
        out.push_back(digits[--n]);
    }
    out.append("\r\n").append(data).append("\r\n");
}

reactor::task<bool> send_all(const http::exchange& ex, std::string_view data) {
    co_return co_await ex.send_all(data, watch_send_timeout_ns);  // plain or TLS
}

// Notices a client that goes away while its watch waits: the server reads nothing during a
// handler, so a one-byte peek races with the events. Data (a pipelined request) ends the peek
// without a verdict, as Go's server cannot tell either then.
reactor::task<void> peek_for_close(const http::exchange& ex, waiter& w) {
    const auto n = co_await ex.wait_for_close(w.peek_cancel);
    if (n == 0 || (n < 0 && n != -ECANCELED)) {
        w.client_closed = true;
    }
    w.peek_running = false;
    w.signal.notify();
}

// The head of a watch response: Go flushes the headers at once, so the body is chunked.
void end_body(std::string& out, bool chunked) {
    if (chunked) {
        out.append("0\r\n\r\n");
    }
}

void append_chunked_head(http::exchange& ex, std::string& out, bool chunked) {
    std::string date;
    http::format_http_date(reactor::reactor::current().wall_ns() / 1'000'000'000, date);
    std::string head;
    ex.response.write_to(head, date, false, false);
    constexpr std::string_view length_line = "Content-Length: 0\r\n";
    const auto at = head.find(length_line);
    UETCD_ASSERT(at != std::string::npos);
    head.replace(at, length_line.size(), chunked ? "Transfer-Encoding: chunked\r\n" : "");
    out.append(head);
}

}  // namespace

struct keys_api::core_state final : watch_sink {
    std::uint64_t next_id = 1;
    std::unordered_map<std::uint64_t, waiter*> waiters;

    void deliver(std::vector<watch_event> events) override {
        for (watch_event& e : events) {
            const auto it = waiters.find(e.local_id);
            if (it == waiters.end()) {
                continue;  // the client went away; the store is told separately
            }
            waiter& w = *it->second;
            w.events.push_back(std::move(e.json));
            if (e.last) {
                w.hub_registered = false;
                w.hub_removed = true;
            }
            if (w.events.size() > stream_buffer_events_max) {
                w.overflow = true;
            }
            w.signal.notify();
        }
    }
};

namespace {

struct watch_context {
    keys_api::core_state& state;
    store_service& store;
};

// Sends events until a one-shot watch got its event, the client left or the server stops.
reactor::task<void> stream_events(http::exchange& ex, waiter& w, bool stream) {
    for (;;) {
        while (w.events.empty() && !w.client_closed && !w.stopped && !w.overflow &&
            (w.hub_registered || !stream)) {
            co_await w.signal.wait();
        }
        if (w.client_closed) {
            ex.close_connection = true;
            co_return;
        }
        std::string out;
        bool done = w.stopped || w.overflow || (stream && !w.hub_registered);
        if (!w.overflow) {
            while (!w.events.empty()) {
                append_chunk(out, *w.events.front(), w.chunked);
                w.events.pop_front();
                if (!stream) {
                    done = true;
                    break;
                }
            }
        }
        if (done) {
            end_body(out, w.chunked);
        }
        const bool sent = co_await send_all(ex, out);
        if (!sent || w.stopped || (done && !w.chunked)) {
            ex.close_connection = true;
        }
        if (!sent || done) {
            co_return;
        }
    }
}

reactor::task<void> serve_watch(http::exchange& ex, http::keys_request& req,
    watch_context ctx) {
    const unsigned core = reactor::reactor::current().core();
    const std::uint64_t local_id = ctx.state.next_id++;
    waiter w;
    ctx.state.waiters.emplace(local_id, &w);
    store_service* svc = &ctx.store;
    const bool stream = req.stream;
    auto fn = [svc, r = std::move(req), core, local_id] { return svc->watch(r, core, local_id); };
    auto call = reactor::smp::current().submit_to(store_core, std::move(fn));
    watch_answer wa = co_await call;
    write_answer(ex, wa.answer);
    if (wa.answer.status != 200) {
        ctx.state.waiters.erase(local_id);
        co_return;
    }
    w.hub_registered = wa.registered && !w.hub_removed;
    w.id = wa.id;
    std::string out = std::move(*ex.pending_output);
    ex.pending_output->clear();
    ex.response.body().clear();
    w.chunked = ex.request.version_minor != 0;
    append_chunked_head(ex, out, w.chunked);
    ex.taken_over = true;
    if (!wa.registered) {
        append_chunk(out, wa.answer.body, w.chunked);
        end_body(out, w.chunked);
        ctx.state.waiters.erase(local_id);
        const bool sent = co_await send_all(ex, out);
        ex.close_connection = !sent || !w.chunked;
        co_return;
    }
    if (co_await send_all(ex, out)) {
        w.peek_running = true;
        reactor::spawn(peek_for_close(ex, w));
        co_await stream_events(ex, w, stream);
    } else {
        ex.close_connection = true;
    }
    w.peek_cancel.cancel();
    while (w.peek_running) {
        co_await w.signal.wait();
    }
    ctx.state.waiters.erase(local_id);
    if (w.hub_registered) {
        const store::watcher_id id = w.id;
        auto cancel = reactor::smp::current().submit_to(store_core,
            [svc, id] { svc->cancel_watch(id); });
        co_await cancel;
    }
}

// Go's server buffers 2048 bytes of a body without Content-Length; etcd's one larger Write
// goes out as a single chunk of a chunked response.
constexpr std::size_t go_chunking_threshold_bytes = 2048;

reactor::task<void> send_chunked_answer(http::exchange& ex) {
    const bool chunked = ex.request.version_minor != 0;
    std::string out = std::move(*ex.pending_output);
    ex.pending_output->clear();
    std::string body = std::move(ex.response.body());
    ex.response.body().clear();
    append_chunked_head(ex, out, chunked);
    append_chunk(out, body, chunked);
    end_body(out, chunked);
    ex.taken_over = true;
    const bool sent = co_await send_all(ex, out);
    ex.close_connection = !sent || !chunked;
}

bool keys_method_allowed(http::method m) {
    return m == http::method::head || m == http::method::get || m == http::method::put ||
        m == http::method::post || m == http::method::delete_;
}

void answer_request_error(http::exchange& ex, const http::keys_request_error& e) {
    keys_answer a;
    const store::error err{e.code, e.cause, 0};
    a.status = err.http_status();
    store::write_error_json(a.body, err);
    write_answer(ex, a);
}

}  // namespace

keys_api::keys_api(const cluster_info& cluster, store_service& store, unsigned cores)
    : _cluster(cluster), _store(store) {
    for (unsigned core = 0; core < cores; ++core) {
        _cores.push_back(std::make_unique<core_state>());
        _store.set_sink(core, _cores.back().get());
    }
}

keys_api::~keys_api() = default;

void keys_api::stop_watches(unsigned core) {
    for (auto& [id, w] : _cores.at(core)->waiters) {
        w->stopped = true;
        w->signal.notify();
    }
}

void keys_api::add_routes(http::router& routes) {
    auto handler = [this](http::exchange& ex) -> reactor::task<void> {
        add_cors_headers(ex, _cluster.cors);
        const http::method m = ex.request.method;
        if (answer_options(ex)) {
            co_return;
        }
        if (!keys_method_allowed(m)) {
            ex.response.add_header("Allow", "HEAD,GET,PUT,POST,DELETE");
            ex.response.reply_text_error(405, "Method Not Allowed");
            co_return;
        }
        ex.response.add_header("X-Etcd-Cluster-Id", _cluster.cluster_id_hex);
        http::form fields;
        const bool has_form_body = (m == http::method::put || m == http::method::post) &&
            http::is_urlencoded_form(ex.request.header_value("Content-Type"));
        fields.parse(ex.request.query, has_form_body ? ex.request.body : std::string_view{});
        const std::string_view key_path = ex.path.substr(std::min<std::size_t>(8,
            ex.path.size()));
        auto decoded = http::decode_keys_request(m, key_path, fields);
        if (!decoded) {
            answer_request_error(ex, decoded.error());
            co_return;
        }
        http::keys_request req = std::move(decoded).value();
        // etcd: parse, then hasKeyPrefixAccess, then the store.
        if (auth_service* auth = auth_service::current()) {
            access_check check = auth->check_keys(ex, key_path, req.recursive);
            const bool allowed = co_await check;
            if (!allowed) {
                reply_keys_unauthorized(ex);
                co_return;
            }
        }
        auto& state = *_cores[reactor::reactor::current().core()];
        if (req.op() == http::keys_op::watch) {
            co_await serve_watch(ex, req, watch_context{state, _store});
            co_return;
        }
        const std::int64_t expire_ns = req.ttl_s
            ? http::expiration_for_ttl(*req.ttl_s, reactor::reactor::current().wall_ns())
            : 0;
        keys_answer a;
        store_service* svc = &_store;
        const bool is_read = req.op() == http::keys_op::get;
        if (reactor::reactor::current().core() == store_core) {
            // No message to ourselves.
            if (is_read) {
                a = _store.read(req);
            } else {
                a = co_await _store.write(std::move(req), expire_ns);
            }
        } else if (is_read) {
            auto fn = [svc, r = std::move(req)] { return svc->read(r); };
            auto call = reactor::smp::current().submit_to(store_core, std::move(fn));
            a = co_await call;
        } else {
            auto fn = [svc, r = std::move(req), expire_ns]() mutable {
                return svc->write(std::move(r), expire_ns);
            };
            auto call = reactor::smp::current().submit_to(store_core, std::move(fn));
            a = co_await call;
        }
        write_answer(ex, a);
        if (a.body.size() > go_chunking_threshold_bytes && m != http::method::head) {
            co_await send_chunked_answer(ex);
        }
    };
    routes.exact_async("/v2/keys", handler);
    routes.subtree_async("/v2/keys/", handler);
}

}  // namespace uetcd::server
