// The v2 store as a service owned by one core (core 0, where raft will live): the tree, its
// watcher hub and the TTL expiry timer. Other cores reach it with smp::submit_to; every
// operation returns a keys_answer (status, JSON body, header values) that travels back by
// value, so nothing the store owns is ever touched off its core.
//
// Every write (keys writes and quorum gets, auth writes, the expiry SYNC) goes through one
// entry point, propose(), as a store::command: the unit the WAL logs and raft replicates.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <vector>

#include "uetcd/http/keys_request.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/store/command.hpp"
#include "uetcd/store/tree.hpp"

namespace uetcd::server {

struct cluster_info;

// What one keys request answers, built on the store's core.
struct keys_answer {
    int status = 200;
    std::string body;
    std::uint64_t etcd_index = 0;
    bool raft_headers = false;  // X-Raft-Index/X-Raft-Term (successes and watches only)
    std::uint64_t raft_index = 0;
    std::uint64_t raft_term = 0;
};

// What a committed command did, and the raft index it was applied at.
struct applied_command {
    store::write_result result = failure{store::error{}};
    std::uint64_t raft_index = 0;
};

struct watch_answer {
    keys_answer answer;       // an error, or the head values (+ body of a history hit)
    bool registered = false;  // a live watcher: events follow through the core's watch_sink
    store::watcher_id id;
};

// One event for one waiting watch on some core; `local_id` is that core's id of the watch.
struct watch_event {
    std::uint64_t local_id = 0;
    std::string json;  // the event as etcd writes it (trailing "\n")
    bool last = false;  // a one-shot watcher: removed from the hub with this event
};

// Receives events on the core that owns the sink (each core's keys API registers one).
class watch_sink {
public:
    virtual void deliver(std::vector<watch_event> events) = 0;

protected:
    ~watch_sink() = default;
};

// A resumable wake-up for one waiting coroutine on one core (a reusable reactor::event).
class wake_signal {
public:
    void notify();
    auto wait() noexcept {
        struct awaiter {
            wake_signal& s;
            bool await_ready() const noexcept { return s._pending; }
            void await_suspend(std::coroutine_handle<> h) noexcept { s._waiter = h; }
            void await_resume() const noexcept { s._pending = false; }
        };
        return awaiter{*this};
    }

private:
    std::coroutine_handle<> _waiter;
    bool _pending = false;
};

class store_service {
public:
    // Watch tags: the requesting core in the high 16 bits, its local id below.
    static constexpr unsigned tag_core_shift = 48;

    explicit store_service(unsigned cores);

    // On the owner core, before serving: etcd's bootstrap writes under /0 (members'
    // raftAttributes and attributes, /0/version), so the first user write gets index 4 on
    // one member; and the auth probe etcd makes at start.
    void bootstrap(const cluster_info& cluster);
    void set_sink(unsigned core, watch_sink* sink) { _sinks.at(core) = sink; }

    // On the owner core: a plain GET or HEAD (no consensus round, as etcd v2).
    keys_answer read(const http::keys_request& req);
    // On the owner core: a keys write or quorum GET, answered once applied. `expire_ns` is the
    // absolute expiry computed where the request arrived (0 = none), as etcd's receiving
    // member does.
    reactor::task<keys_answer> write(http::keys_request req, std::int64_t expire_ns);
    // On the owner core: the one way a command reaches the store. Commands are applied in
    // the order propose() is called; the result comes once the command is applied.
    reactor::task<applied_command> propose(store::command c);
    watch_answer watch(const http::keys_request& req, unsigned core, std::uint64_t local_id);
    void cancel_watch(store::watcher_id id);
    std::string stats_json() const;

    // The expiry loop (etcd's leader SYNC): run on the owner core until stop().
    reactor::task<void> run_expiry();
    // Ends the expiry loop and waits for it.
    reactor::task<void> stop();

    store::tree& tree() noexcept { return _tree; }
    std::uint64_t raft_index() const noexcept { return _raft_index; }
    static constexpr std::uint64_t raft_term = 2;  // a fresh member elects itself in term 2

private:
    applied_command apply_now(const store::command& c);
    void auth_probe();
    keys_answer answer_event(const store::event& e, bool no_value_on_success);
    keys_answer answer_error(const store::error& e) const;
    void after_write();
    void drain_notifications();

    store::tree _tree;
    unsigned _cores;
    std::vector<watch_sink*> _sinks;
    std::vector<store::notification> _scratch;
    std::uint64_t _raft_index = 0;
    wake_signal _expiry_wake;
    std::int64_t _expiry_target_ns = 0;  // wall time the expiry loop sleeps until (0: none)
    bool _stopping = false;
    bool _expiry_running = false;
    wake_signal _expiry_done;
};

}  // namespace uetcd::server
