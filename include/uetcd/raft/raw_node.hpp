// raw_node: the application's handle on the Raft core (etcd's RawNode). Feed it ticks,
// messages and proposals; take a ready; persist, send and apply it; hand it back with
// advance(). Pure and single-threaded: the caller owns the loop (raft/node.cpp later).
#pragma once

#include "uetcd/raft/raft.hpp"

namespace uetcd::raft {

// Everything the application must do after some input, in this order (docs/raft.md):
//  1. persist `snap` (if set), then `entries`, then `hard_state` (if set); fsync when
//     must_sync;
//  2. send `messages` (only after 1: a vote or an ack must survive a crash);
//  3. install `snap` into the state machine, then apply `committed_entries` in order
//     (conf-change entries go to apply_conf_change); serve `read_states` once applied
//     reaches their index;
//  4. call advance(ready).
struct ready {
    std::optional<struct soft_state> soft_state;  // set when lead or role changed
    std::optional<struct hard_state> hard_state;  // set when term, vote or commit changed
    std::vector<read_state> read_states;
    std::vector<entry> entries;                   // unstable entries to persist
    std::optional<snapshot> snap;                 // a snapshot from the leader to install
    std::vector<entry> committed_entries;         // to apply, in order
    std::vector<message> messages;                // to send, after persisting
    bool must_sync = false;
};

class raw_node {
public:
    explicit raw_node(const config& c);

    void tick() { _raft.tick(); }
    // Starts an election now (etcd Campaign).
    status campaign();
    status propose(bytes data);
    status propose_conf_change(const conf_change& cc);
    // Input from the network. Local message types are refused (step_local_message), so are
    // malformed messages (invalid_message) and responses from non-members.
    status step(const message& m);
    // Requests a linearizable read; the answer arrives as a read_state carrying ctx.
    void read_index(bytes ctx);
    void transfer_leader(node_id transferee);
    void report_unreachable(node_id id);
    void report_snapshot(node_id id, bool failed);
    // Applies a committed conf-change entry; returns the resulting voters.
    conf_state apply_conf_change(const conf_change& cc);

    bool has_ready() const;
    // What to persist, send and apply now (see struct ready). One at a time: advance()
    // must be called before the next ready().
    struct ready ready();
    void advance(const struct ready& rd);

    const raft& core() const { return _raft; }
    raft& core() { return _raft; }
    soft_state soft() const { return _raft.soft(); }
    hard_state hard() const { return _raft.hard(); }

private:
    raft _raft;
    struct soft_state _prev_soft;
    struct hard_state _prev_hard;
};

}  // namespace uetcd::raft
