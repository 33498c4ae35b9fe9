// read_only: bookkeeping for ReadIndex (Raft thesis §6.4). Each request remembers the
// commit index when it arrived; once a quorum acknowledged a heartbeat carrying its
// context, it and every request queued before it are safe to serve.
#pragma once

#include <deque>
#include <map>
#include <set>

#include "uetcd/raft/message.hpp"

namespace uetcd::raft {

struct read_state {
    raft_index index = 0;
    bytes request_ctx;
    bool operator==(const read_state&) const = default;
};

struct read_index_status {
    message req;
    raft_index index = 0;
    std::set<node_id> acks;
};

class read_only {
public:
    // Bounded: beyond this many outstanding requests new ones are dropped (the client
    // retries), so a leader that cannot reach a quorum does not grow without limit.
    static constexpr std::size_t max_pending = 4096;

    bool add_request(raft_index index, const message& m);
    // Records an ack and returns how many members acknowledged ctx (0 if unknown).
    std::size_t recv_ack(node_id from, const bytes& ctx);
    // Pops every request up to and including the one for ctx.
    std::vector<read_index_status> advance(const bytes& ctx);
    const bytes* last_pending_request_ctx() const;
    std::size_t pending_count() const { return _queue.size(); }
    void reset() {
        _pending.clear();
        _queue.clear();
    }

private:
    std::map<bytes, read_index_status> _pending;
    std::deque<bytes> _queue;
};

}  // namespace uetcd::raft
