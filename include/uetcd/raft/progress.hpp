// progress: the leader's view of one follower (etcd tracker.Progress): match/next, the
// probe/replicate/snapshot state machine and the inflights window that bounds pipelining.
#pragma once

#include <cstdint>
#include <vector>

#include "uetcd/raft/message.hpp"

namespace uetcd::raft {

// A ring of the last indexes of msg_app in flight to one follower. When full, the leader
// stops sending until acknowledgements free slots (bounded pipelining).
class inflights {
public:
    explicit inflights(std::size_t capacity);
    void add(raft_index last_index);
    // Frees every message whose last index is <= to.
    void free_to(raft_index to);
    void free_first_one();
    bool full() const { return _count == _buffer.size(); }
    std::size_t count() const { return _count; }
    void reset() { _start = 0; _count = 0; }

private:
    std::size_t _start = 0;
    std::size_t _count = 0;
    std::vector<raft_index> _buffer;
};

enum class progress_state : std::uint8_t { probe, replicate, snapshot };
const char* to_string(progress_state s) noexcept;

struct progress {
    progress(raft_index next_index, std::size_t max_inflight);

    raft_index match = 0;
    raft_index next = 1;
    progress_state state = progress_state::probe;
    // probe: one msg_app is outstanding, wait for its answer or a heartbeat response.
    bool probe_sent = false;
    // snapshot: the index of the snapshot being sent.
    raft_index pending_snapshot = 0;
    // Heard from since the last check-quorum round.
    bool recent_active = false;
    class inflights ins;

    void become_probe();
    void become_replicate();
    void become_snapshot(raft_index snapshot_index);
    bool maybe_update(raft_index n);
    void optimistic_update(raft_index n) { next = n + 1; }
    // Handles a rejected msg_app for index `rejected`; match_hint is the follower's hint.
    bool maybe_decr_to(raft_index rejected, raft_index match_hint);
    bool is_paused() const;

private:
    void reset_state(progress_state s);
};

}  // namespace uetcd::raft
