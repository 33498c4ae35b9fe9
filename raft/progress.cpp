// progress and inflights: per-follower replication state on the leader (etcd tracker/).
#include "uetcd/raft/progress.hpp"

#include <algorithm>

namespace uetcd::raft {

inflights::inflights(std::size_t capacity) : _buffer(capacity) {
    UETCD_ASSERT(capacity > 0);
}

void inflights::add(raft_index last_index) {
    UETCD_ASSERT(!full());
    std::size_t next = _start + _count;
    if (next >= _buffer.size()) {
        next -= _buffer.size();
    }
    _buffer[next] = last_index;
    ++_count;
}

void inflights::free_to(raft_index to) {
    if (_count == 0 || to < _buffer[_start]) {
        return;  // out of the window: a stale or duplicated ack
    }
    std::size_t i = 0;
    std::size_t idx = _start;
    for (; i < _count; ++i) {
        if (to < _buffer[idx]) {
            break;
        }
        if (++idx >= _buffer.size()) {
            idx -= _buffer.size();
        }
    }
    _count -= i;
    _start = idx;
    if (_count == 0) {
        _start = 0;
    }
}

void inflights::free_first_one() {
    if (_count > 0) {
        free_to(_buffer[_start]);
    }
}

const char* to_string(progress_state s) noexcept {
    switch (s) {
    case progress_state::probe: return "probe";
    case progress_state::replicate: return "replicate";
    case progress_state::snapshot: return "snapshot";
    }
    return "unknown";
}

progress::progress(raft_index next_index, std::size_t max_inflight)
    : next(next_index), ins(max_inflight) {
    UETCD_ASSERT(next_index >= 1);
}

void progress::reset_state(progress_state s) {
    probe_sent = false;
    pending_snapshot = 0;
    state = s;
    ins.reset();
}

void progress::become_probe() {
    // After a snapshot, the follower has at least the snapshot: probe from just after it.
    if (state == progress_state::snapshot) {
        const raft_index pending = pending_snapshot;
        reset_state(progress_state::probe);
        next = std::max(match + 1, pending + 1);
    } else {
        reset_state(progress_state::probe);
        next = match + 1;
    }
}

void progress::become_replicate() {
    reset_state(progress_state::replicate);
    next = match + 1;
}

void progress::become_snapshot(raft_index snapshot_index) {
    reset_state(progress_state::snapshot);
    pending_snapshot = snapshot_index;
}

bool progress::maybe_update(raft_index n) {
    bool updated = false;
    if (match < n) {
        match = n;
        updated = true;
        probe_sent = false;
    }
    next = std::max(next, n + 1);
    UETCD_ASSERT(next > match);
    return updated;
}

bool progress::maybe_decr_to(raft_index rejected, raft_index match_hint) {
    if (state == progress_state::replicate) {
        // A rejection at or below match is stale: the follower already has that entry.
        if (rejected <= match) {
            return false;
        }
        next = match + 1;
        return true;
    }
    // In probe state only the answer to the latest probe (index next - 1) counts.
    if (next - 1 != rejected) {
        return false;
    }
    next = std::max(std::min(rejected, match_hint + 1), match + 1);
    probe_sent = false;
    UETCD_ASSERT(next > match);
    return true;
}

bool progress::is_paused() const {
    switch (state) {
    case progress_state::probe: return probe_sent;
    case progress_state::replicate: return ins.full();
    case progress_state::snapshot: return true;
    }
    UETCD_UNREACHABLE();
}

}  // namespace uetcd::raft
