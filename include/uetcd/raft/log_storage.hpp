// log_storage: the read-only view of stable raft state that the core pulls from (etcd's
// Storage interface), and memory_storage, an in-memory implementation used by tests, the
// simulator and as the in-memory tail of the WAL. The core never writes to storage: the
// application appends ready.entries and applies ready.snapshot itself.
#pragma once

#include <vector>

#include "uetcd/raft/message.hpp"

namespace uetcd::raft {

struct initial_state {
    hard_state hard;
    conf_state conf;
};

class log_storage {
public:
    virtual ~log_storage() = default;
    virtual initial_state initial() const = 0;
    // Entries [lo, hi), at most max_bytes of payload but always at least one entry.
    // compacted if lo <= snapshot index; lo <= hi <= last_index() + 1 is a precondition.
    virtual result<std::vector<entry>, raft_error> entries(raft_index lo, raft_index hi,
        std::uint64_t max_bytes) const = 0;
    // Term of entry i, for i in [first_index() - 1, last_index()].
    virtual result<raft_term, raft_error> term(raft_index i) const = 0;
    virtual raft_index first_index() const = 0;
    virtual raft_index last_index() const = 0;
    virtual result<snapshot, raft_error> get_snapshot() const = 0;
};

// Keeps a dummy entry at position 0 holding the snapshot's index and term, as etcd does,
// so term(first_index() - 1) always answers.
class memory_storage final : public log_storage {
public:
    memory_storage();

    initial_state initial() const override;
    result<std::vector<entry>, raft_error> entries(raft_index lo, raft_index hi,
        std::uint64_t max_bytes) const override;
    result<raft_term, raft_error> term(raft_index i) const override;
    raft_index first_index() const override;
    raft_index last_index() const override;
    result<snapshot, raft_error> get_snapshot() const override;

    void set_hard_state(const hard_state& hs) { _hard = hs; }
    const hard_state& get_hard_state() const { return _hard; }
    // Appends, truncating any conflicting suffix; entries must continue or overlap the log.
    void append(const std::vector<entry>& ents);
    // Replaces the whole log with the snapshot; snapshot_out_of_date if not newer.
    status apply_snapshot(const snapshot& snap);
    // Records a snapshot at applied index i (<= last index) with the application's data.
    result<snapshot, raft_error> create_snapshot(raft_index i, const conf_state* conf,
        bytes data);
    // Drops entries before compact_index; compacted if already dropped.
    status compact(raft_index compact_index);

private:
    hard_state _hard;
    snapshot _snapshot;
    std::vector<entry> _ents;  // _ents[0] is the dummy entry
};

// Trims ents so that their payload fits max_bytes, keeping at least one entry.
void limit_size(std::vector<entry>& ents, std::uint64_t max_bytes);

}  // namespace uetcd::raft
