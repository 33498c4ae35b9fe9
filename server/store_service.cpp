// The store's owner-core service; see store_service.hpp.
#include "uetcd/server/store_service.hpp"

#include <algorithm>
#include <memory>

#include "uetcd/http/json_writer.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/server/cluster_api.hpp"
#include "uetcd/wal/wal.hpp"

namespace uetcd::server {

namespace {

using http::keys_op;

// The expiry loop re-checks at least this often while TTL keys exist, so a key written with
// an earlier expiry than the one it sleeps for is not late by more than this.
constexpr std::int64_t expiry_poll_ns = 50'000'000;
constexpr std::int64_t sync_interval_ns = 500'000'000;

std::int64_t wall_now_ns() { return reactor::reactor::current().wall_ns(); }

std::string raft_attributes_json(const member_info& m) {
    std::string out;
    http::json_writer w(out);
    w.begin_object().key("peerURLs").begin_array();
    for (const auto& u : m.peer_urls) {
        w.value(u);
    }
    w.end_array().end_object();
    return out;
}

std::string attributes_json(const member_info& m) {
    std::string out;
    http::json_writer w(out);
    w.begin_object().key("name").value(m.name).key("clientURLs").begin_array();
    for (const auto& u : m.client_urls) {
        w.value(u);
    }
    w.end_array().end_object();
    return out;
}

reactor::task<void> send_batch(unsigned core, watch_sink* sink,
    std::vector<watch_event> batch) {
    // Named lambda and awaiter: g++ 12 mishandles temporaries with destructors in co_await.
    auto fn = [sink, b = std::move(batch)]() mutable { sink->deliver(std::move(b)); };
    auto call = reactor::smp::current().submit_to(core, std::move(fn));
    co_await call;
}

}  // namespace

void wake_signal::notify() {
    if (_waiter) {
        reactor::reactor::current().schedule(std::exchange(_waiter, {}));
    }
    _pending = true;
}

store_service::store_service(unsigned cores) : _cores(cores), _sinks(cores, nullptr) {}

store_service::~store_service() = default;

reactor::task<void> store_service::bootstrap(const cluster_info& cluster) {
    // etcd 3.4 on a fresh member: raft entry 1 adds each member (a create of its
    // raftAttributes), entry 2 is the new leader's empty entry, 3 publishes this member's
    // attributes (a set), 4 sets the cluster version (a set).
    for (const member_info& m : cluster.members) {
        store::command c;
        c.path = "/0/members/" + format_id(m.id) + "/raftAttributes";
        c.value = raft_attributes_json(m);
        c.prev_exist = false;
        applied_command done = co_await propose(std::move(c));
        UETCD_ASSERT(done.result);
    }
    co_await propose_entry(std::nullopt);  // the leader's empty entry
    for (const member_info& m : cluster.members) {
        if (m.id != cluster.self_id) {
            continue;
        }
        store::command c;
        c.path = "/0/members/" + format_id(m.id) + "/attributes";
        c.value = attributes_json(m);
        applied_command done = co_await propose(std::move(c));
        UETCD_ASSERT(done.result);
    }
    store::command version;
    version.path = "/0/version";
    version.value = "2.3.0";
    applied_command done = co_await propose(std::move(version));
    UETCD_ASSERT(done.result);
}

keys_answer store_service::answer_event(const store::event& e, bool no_value_on_success) {
    keys_answer a;
    a.status = e.is_created() ? 201 : 200;
    store::write_event_json(a.body, e, store::json_options{store::keys_prefix,
        no_value_on_success});
    a.etcd_index = e.etcd_index;
    a.raft_headers = true;
    a.raft_index = _raft_index;
    a.raft_term = raft_term;
    return a;
}

keys_answer store_service::answer_error(const store::error& e) const {
    keys_answer a;
    a.status = e.http_status();
    store::write_error_json(a.body, e, store::keys_prefix);
    a.etcd_index = e.index;
    return a;
}

namespace {

store::command_method method_of(http::keys_op op) {
    switch (op) {
    case keys_op::quorum_get:
        return store::command_method::qget;
    case keys_op::create_unique:
        return store::command_method::post;
    case keys_op::remove:
    case keys_op::compare_and_delete:
        return store::command_method::del;
    default:
        return store::command_method::put;
    }
}

// The replicated form of a keys request (etcd's RequestV2): what every member applies.
store::command command_of(http::keys_request&& req, std::int64_t expire_ns) {
    store::command c;
    c.method = method_of(req.op());
    c.path = std::move(req.path);
    c.value = std::move(req.value);
    c.prev_value = std::move(req.prev_value);
    c.prev_index = req.prev_index;
    c.prev_exist = req.prev_exist;
    c.dir = req.dir;
    c.recursive = req.recursive;
    c.sorted = req.sorted;
    c.refresh = req.is_refresh();
    c.expiration_ns = expire_ns;
    return c;
}

}  // namespace

void store_service::auth_probe() {
    // etcd checks v2 auth on every keys request with a store GET of /2/enabled: it counts in
    // getsFail until auth has been configured once, in getsSuccess after.
    // Counted without building the answer: no allocation on the request path.
    _tree.count_get("/2/enabled");
}

keys_answer store_service::read(const http::keys_request& req) {
    auth_probe();
    auto r = _tree.get(req.path, req.recursive, req.sorted, wall_now_ns());
    return r ? answer_event(r.value(), false) : answer_error(r.error());
}

reactor::task<keys_answer> store_service::write(http::keys_request req, std::int64_t expire_ns) {
    auth_probe();
    const bool no_value = req.no_value_on_success;
    applied_command done = co_await propose(command_of(std::move(req), expire_ns));
    if (!done.result) {
        co_return answer_error(done.result.error());
    }
    keys_answer a = answer_event(*done.result.value(), no_value);
    a.raft_index = done.raft_index;
    co_return a;
}

applied_command store_service::apply_entry(const std::optional<store::command>& c) {
    applied_command done;
    // etcd spends a raft entry on every proposal, failed or not.
    ++_raft_index;
    done.raft_index = _raft_index;
    if (c.has_value()) {
        done.result = store::apply_command(_tree, *c, wall_now_ns());
    }
    return done;
}

void store_service::after_write() {
    drain_notifications();
    if (_tree.has_ttl_keys() &&
        (_expiry_target_ns == 0 || _tree.next_expiry() < _expiry_target_ns)) {
        _expiry_wake.notify();
    }
}

watch_answer store_service::watch(const http::keys_request& req, unsigned core,
    std::uint64_t local_id) {
    auth_probe();
    watch_answer w;
    const std::uint64_t tag = (std::uint64_t{core} << tag_core_shift) | local_id;
    auto r = _tree.watch(req.path, req.recursive, req.stream, req.wait_index, tag);
    if (!r) {
        w.answer = answer_error(r.error());
        return w;
    }
    const store::watch_result& wr = r.value();
    w.answer.status = 200;
    w.answer.etcd_index = wr.start_index;
    w.answer.raft_headers = true;
    w.answer.raft_index = _raft_index;
    w.answer.raft_term = raft_term;
    if (wr.immediate) {
        store::write_event_json(w.answer.body, *wr.immediate,
            store::json_options{store::keys_prefix, false});
        return w;
    }
    w.registered = true;
    w.id = wr.id;
    return w;
}

void store_service::cancel_watch(store::watcher_id id) { _tree.remove_watcher(id); }

std::string store_service::stats_json() const {
    std::string out;
    store::write_stats_json(out, _tree.current_stats());
    return out;
}

void store_service::drain_notifications() {
    if (!_tree.hub().has_notifications()) {
        return;
    }
    _scratch.clear();
    _tree.hub().take_notifications(_scratch);
    std::vector<std::vector<watch_event>> batches(_cores);
    const store::event* last_event = nullptr;
    std::shared_ptr<const std::string> last_json;
    for (const store::notification& n : _scratch) {
        if (n.ev.get() != last_event) {
            auto json = std::make_shared<std::string>();
            store::write_event_json(*json, *n.ev, store::json_options{store::keys_prefix, false});
            last_json = std::move(json);
            last_event = n.ev.get();
        }
        const auto core = static_cast<unsigned>(n.tag >> tag_core_shift);
        const std::uint64_t local_id = n.tag & ((std::uint64_t{1} << tag_core_shift) - 1);
        UETCD_ASSERT(core < _cores);
        batches[core].push_back(watch_event{local_id, last_json, n.watcher_removed});
    }
    _scratch.clear();
    const unsigned here = reactor::reactor::current().core();
    for (unsigned core = 0; core < _cores; ++core) {
        if (batches[core].empty() || _sinks[core] == nullptr) {
            continue;
        }
        if (core == here) {
            _sinks[core]->deliver(std::move(batches[core]));
        } else {
            // Batches to one core leave in order through one ring, so they arrive in order.
            reactor::spawn(send_batch(core, _sinks[core], std::move(batches[core])));
        }
    }
}

namespace {

store::command sync_command(std::int64_t wall_ns) {
    store::command c;
    c.method = store::command_method::sync;
    c.sync_time_ns = wall_ns;
    return c;
}

}  // namespace

reactor::task<void> store_service::run_expiry() {
    auto& r = reactor::reactor::current();
    _expiry_running = true;
    // etcd 3.4's leader proposes a SYNC every 500 ms while TTL keys exist; each is a raft
    // entry, so X-Raft-Index moves with them. Here a key that falls due between two ticks
    // gets a SYNC of its own at once (etcd expires only at the ticks, up to 500 ms late).
    // Every SYNC is a logged command carrying its time, so a restart replays expiry exactly.
    std::int64_t next_sync_ns = r.now_ns() + sync_interval_ns;
    while (!_stopping) {
        if (!_tree.has_ttl_keys()) {
            _expiry_target_ns = 0;
            co_await _expiry_wake.wait();
            // etcd's ticker kept running: the next SYNC is at the next tick from now.
            next_sync_ns += ((r.now_ns() - next_sync_ns) / sync_interval_ns + 1) *
                sync_interval_ns;
            continue;
        }
        const bool tick_due = r.now_ns() >= next_sync_ns;
        const std::int64_t now = r.wall_ns();
        const std::int64_t next = _tree.next_expiry();
        if (tick_due || next <= now) {
            if (tick_due) {
                next_sync_ns += ((r.now_ns() - next_sync_ns) / sync_interval_ns + 1) *
                    sync_interval_ns;
            }
            co_await propose(sync_command(now));
            continue;
        }
        _expiry_target_ns = next;
        const std::int64_t until_sync = std::max<std::int64_t>(next_sync_ns - r.now_ns(), 0);
        const std::int64_t sleep_ns = std::min(std::min(next - now, expiry_poll_ns), until_sync);
        co_await reactor::sleep_for(sleep_ns);
    }
    _expiry_running = false;
    _expiry_done.notify();
}

reactor::task<void> store_service::stop() {
    _stopping = true;
    _expiry_wake.notify();
    if (_expiry_running) {
        co_await _expiry_done.wait();
    }
    co_await stop_durable();
}

}  // namespace uetcd::server
