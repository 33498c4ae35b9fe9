// raft_log: the log as the core sees it, stable entries in log_storage followed by the
// unstable tail the application has not persisted yet, plus the commit and applied
// cursors. Mirrors etcd's raftLog/unstable. No I/O: persistence is the caller's (ready).
#pragma once

#include <optional>
#include <vector>

#include "uetcd/raft/log_storage.hpp"

namespace uetcd::raft {

// Entries and an incoming snapshot not yet written to storage. entries[i] has index
// offset + i; snapshot, when present, ends at offset - 1.
struct unstable {
    std::optional<snapshot> snap;
    std::vector<entry> entries;
    raft_index offset = 0;

    std::optional<raft_index> maybe_first_index() const;
    std::optional<raft_index> maybe_last_index() const;
    std::optional<raft_term> maybe_term(raft_index i) const;
    void stable_to(raft_index i, raft_term t);
    void stable_snap_to(raft_index i);
    void restore(const snapshot& s);
    void truncate_and_append(const std::vector<entry>& ents);
    std::vector<entry> slice(raft_index lo, raft_index hi) const;
};

class raft_log {
public:
    explicit raft_log(const log_storage& storage);

    raft_index first_index() const;
    raft_index last_index() const;
    raft_term last_term() const;
    // Term of entry i; 0 when i is outside [first_index() - 1, last_index()].
    result<raft_term, raft_error> term(raft_index i) const;
    raft_term term_or_zero(raft_index i) const;
    bool match_term(raft_index i, raft_term t) const;
    bool is_up_to_date(raft_index last_i, raft_term t) const;

    // Follower side of msg_app (Raft §5.3): returns the new last index when the entry at
    // index has log_term, truncating a conflicting suffix; nullopt when it does not match.
    std::optional<raft_index> maybe_append(raft_index index, raft_term log_term,
        raft_index leader_commit, const std::vector<entry>& ents);
    raft_index append(const std::vector<entry>& ents);
    raft_index find_conflict(const std::vector<entry>& ents) const;
    // The largest index <= index whose term is <= t (fast back-off, etcd findConflictByTerm).
    raft_index find_conflict_by_term(raft_index index, raft_term t) const;

    bool maybe_commit(raft_index max_index, raft_term t);
    void commit_to(raft_index to_commit);
    void applied_to(raft_index i);
    void stable_to(raft_index i, raft_term t) { _unstable.stable_to(i, t); }
    void stable_snap_to(raft_index i) { _unstable.stable_snap_to(i); }
    void restore(const snapshot& s);

    std::vector<entry> unstable_entries() const { return _unstable.entries; }
    bool has_unstable_entries() const { return !_unstable.entries.empty(); }
    bool has_next_entries() const;
    // Committed entries not yet applied, at most max_bytes of payload (at least one).
    std::vector<entry> next_entries(std::uint64_t max_bytes = no_limit) const;
    const std::optional<snapshot>& unstable_snapshot() const { return _unstable.snap; }
    result<snapshot, raft_error> get_snapshot() const;
    // Entries [lo, hi) with at most max_bytes of payload (at least one).
    result<std::vector<entry>, raft_error> slice(raft_index lo, raft_index hi,
        std::uint64_t max_bytes) const;
    result<std::vector<entry>, raft_error> entries_from(raft_index i,
        std::uint64_t max_bytes) const;

    raft_index committed() const { return _committed; }
    raft_index applied() const { return _applied; }

private:
    const log_storage& _storage;
    unstable _unstable;
    raft_index _committed = 0;
    raft_index _applied = 0;
};

}  // namespace uetcd::raft
