// raft_log and unstable: the log the core reasons about (etcd log.go, log_unstable.go).
// The asserts here are the log invariants: committed <= last index, applied <= committed,
// no truncation below the commit index.
#include "uetcd/raft/raft_log.hpp"

#include <algorithm>

namespace uetcd::raft {

std::optional<raft_index> unstable::maybe_first_index() const {
    if (snap) {
        return snap->meta.index + 1;
    }
    return std::nullopt;
}

std::optional<raft_index> unstable::maybe_last_index() const {
    if (!entries.empty()) {
        return offset + entries.size() - 1;
    }
    if (snap) {
        return snap->meta.index;
    }
    return std::nullopt;
}

std::optional<raft_term> unstable::maybe_term(raft_index i) const {
    if (i < offset) {
        if (snap && snap->meta.index == i) {
            return snap->meta.term;
        }
        return std::nullopt;
    }
    const auto last = maybe_last_index();
    if (!last || i > *last) {
        return std::nullopt;
    }
    return entries[i - offset].term;
}

void unstable::stable_to(raft_index i, raft_term t) {
    const auto gt = maybe_term(i);
    // Only stable if the entry was not replaced meanwhile (a newer leader truncated it).
    if (gt && *gt == t && i >= offset) {
        entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(i + 1 -
            offset));
        offset = i + 1;
    }
}

void unstable::stable_snap_to(raft_index i) {
    if (snap && snap->meta.index == i) {
        snap.reset();
    }
}

void unstable::restore(const snapshot& s) {
    offset = s.meta.index + 1;
    entries.clear();
    snap = s;
}

void unstable::truncate_and_append(const std::vector<entry>& ents) {
    const raft_index after = ents[0].index;
    if (after == offset + entries.size()) {
        entries.insert(entries.end(), ents.begin(), ents.end());
    } else if (after <= offset) {
        // Replaces the whole unstable tail; storage entries from `after` are overwritten
        // when the application persists these.
        offset = after;
        entries = ents;
    } else {
        entries.resize(after - offset);
        entries.insert(entries.end(), ents.begin(), ents.end());
    }
}

std::vector<entry> unstable::slice(raft_index lo, raft_index hi) const {
    UETCD_ASSERT(lo <= hi);
    UETCD_ASSERT(lo >= offset);
    UETCD_ASSERT(hi <= offset + entries.size());
    return {entries.begin() + static_cast<std::ptrdiff_t>(lo - offset),
        entries.begin() + static_cast<std::ptrdiff_t>(hi - offset)};
}

raft_log::raft_log(const log_storage& storage) : _storage(storage) {
    const raft_index first = storage.first_index();
    _unstable.offset = storage.last_index() + 1;
    _committed = first - 1;
    _applied = first - 1;
}

raft_index raft_log::first_index() const {
    if (auto i = _unstable.maybe_first_index()) {
        return *i;
    }
    return _storage.first_index();
}

raft_index raft_log::last_index() const {
    if (auto i = _unstable.maybe_last_index()) {
        return *i;
    }
    return _storage.last_index();
}

raft_term raft_log::last_term() const {
    auto t = term(last_index());
    UETCD_ASSERT(t.ok());
    return *t;
}

result<raft_term, raft_error> raft_log::term(raft_index i) const {
    const raft_index dummy = first_index() - 1;
    if (i < dummy || i > last_index()) {
        return raft_term{0};
    }
    if (auto t = _unstable.maybe_term(i)) {
        return *t;
    }
    return _storage.term(i);
}

raft_term raft_log::term_or_zero(raft_index i) const {
    auto t = term(i);
    return t.ok() ? *t : 0;
}

bool raft_log::match_term(raft_index i, raft_term t) const {
    auto got = term(i);
    return got.ok() && *got == t;
}

bool raft_log::is_up_to_date(raft_index last_i, raft_term t) const {
    // Raft §5.4.1: compare the last entries' terms, then the lengths.
    return t > last_term() || (t == last_term() && last_i >= last_index());
}

raft_index raft_log::find_conflict(const std::vector<entry>& ents) const {
    for (const entry& e : ents) {
        if (!match_term(e.index, e.term)) {
            return e.index;
        }
    }
    return 0;
}

raft_index raft_log::find_conflict_by_term(raft_index index, raft_term t) const {
    if (index > last_index()) {
        return index;
    }
    while (index > 0) {
        auto got = term(index);
        if (!got.ok() || *got <= t) {
            break;
        }
        --index;
    }
    return index;
}

std::optional<raft_index> raft_log::maybe_append(raft_index index, raft_term log_term,
    raft_index leader_commit, const std::vector<entry>& ents) {
    if (!match_term(index, log_term)) {
        return std::nullopt;
    }
    const raft_index last_new = index + ents.size();
    const raft_index conflict = find_conflict(ents);
    if (conflict != 0) {
        // Raft §5.3: never overwrite a committed entry; a leader sending one is a bug.
        UETCD_ASSERT(conflict > _committed);
        const std::size_t skip = conflict - (index + 1);
        append(std::vector<entry>(ents.begin() + static_cast<std::ptrdiff_t>(skip),
            ents.end()));
    }
    commit_to(std::min(leader_commit, last_new));
    return last_new;
}

raft_index raft_log::append(const std::vector<entry>& ents) {
    if (ents.empty()) {
        return last_index();
    }
    UETCD_ASSERT(ents[0].index - 1 >= _committed);
    UETCD_ASSERT(ents[0].index <= last_index() + 1);
    _unstable.truncate_and_append(ents);
    return last_index();
}

bool raft_log::maybe_commit(raft_index max_index, raft_term t) {
    auto got = term(max_index);
    const raft_term found = got.ok() ? *got : 0;
    if (max_index > _committed && found == t) {
        commit_to(max_index);
        return true;
    }
    return false;
}

void raft_log::commit_to(raft_index to_commit) {
    if (_committed < to_commit) {
        UETCD_ASSERT(to_commit <= last_index());
        _committed = to_commit;
    }
}

void raft_log::applied_to(raft_index i) {
    if (i == 0) {
        return;
    }
    UETCD_ASSERT(i <= _committed);
    UETCD_ASSERT(i >= _applied);
    _applied = i;
}

void raft_log::restore(const snapshot& s) {
    UETCD_ASSERT(s.meta.index > _committed);
    _committed = s.meta.index;
    _unstable.restore(s);
}

bool raft_log::has_next_entries() const {
    const raft_index off = std::max(_applied + 1, first_index());
    return _committed + 1 > off;
}

std::vector<entry> raft_log::next_entries(std::uint64_t max_bytes) const {
    const raft_index off = std::max(_applied + 1, first_index());
    if (_committed + 1 <= off) {
        return {};
    }
    auto ents = slice(off, _committed + 1, max_bytes);
    UETCD_ASSERT(ents.ok());
    return std::move(ents).value();
}

result<snapshot, raft_error> raft_log::get_snapshot() const {
    if (_unstable.snap) {
        return *_unstable.snap;
    }
    return _storage.get_snapshot();
}

result<std::vector<entry>, raft_error> raft_log::entries_from(raft_index i,
    std::uint64_t max_bytes) const {
    if (i > last_index()) {
        return std::vector<entry>{};
    }
    return slice(i, last_index() + 1, max_bytes);
}

result<std::vector<entry>, raft_error> raft_log::slice(raft_index lo, raft_index hi,
    std::uint64_t max_bytes) const {
    UETCD_ASSERT(lo <= hi);
    UETCD_ASSERT(hi <= last_index() + 1);
    if (lo < first_index()) {
        return failure{raft_error::compacted};
    }
    if (lo == hi) {
        return std::vector<entry>{};
    }
    std::vector<entry> out;
    if (lo < _unstable.offset) {
        const raft_index stable_hi = std::min(hi, _unstable.offset);
        auto stored = _storage.entries(lo, stable_hi, max_bytes);
        if (!stored.ok()) {
            return failure{stored.error()};
        }
        out = std::move(stored).value();
        if (out.size() < stable_hi - lo) {
            return out;  // cut by max_bytes
        }
    }
    if (hi > _unstable.offset) {
        std::uint64_t size_bytes = 0;
        for (const entry& e : out) {
            size_bytes += payload_bytes(e);
        }
        for (raft_index i = std::max(lo, _unstable.offset); i < hi; ++i) {
            const entry& e = _unstable.entries[i - _unstable.offset];
            size_bytes += payload_bytes(e);
            if (!out.empty() && size_bytes > max_bytes) {
                break;
            }
            out.push_back(e);
        }
    }
    return out;
}

}  // namespace uetcd::raft
