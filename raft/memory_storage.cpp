// memory_storage: log_storage held in memory (etcd MemoryStorage). _ents[0] is a dummy
// entry carrying the snapshot's index and term so that term(first_index() - 1) answers.
#include "uetcd/raft/log_storage.hpp"

namespace uetcd::raft {

void limit_size(std::vector<entry>& ents, std::uint64_t max_bytes) {
    if (ents.empty() || max_bytes == no_limit) {
        return;
    }
    std::uint64_t size_bytes = payload_bytes(ents[0]);
    std::size_t limit = 1;
    for (; limit < ents.size(); ++limit) {
        size_bytes += payload_bytes(ents[limit]);
        if (size_bytes > max_bytes) {
            break;
        }
    }
    ents.resize(limit);
}

memory_storage::memory_storage() : _ents(1) {}

initial_state memory_storage::initial() const { return {_hard, _snapshot.meta.conf}; }

raft_index memory_storage::first_index() const { return _ents[0].index + 1; }

raft_index memory_storage::last_index() const { return _ents[0].index + _ents.size() - 1; }

result<std::vector<entry>, raft_error> memory_storage::entries(raft_index lo, raft_index hi,
    std::uint64_t max_bytes) const {
    const raft_index offset = _ents[0].index;
    if (lo <= offset) {
        return failure{raft_error::compacted};
    }
    UETCD_ASSERT(lo <= hi);
    UETCD_ASSERT(hi <= last_index() + 1);
    if (_ents.size() == 1) {
        return failure{raft_error::unavailable};
    }
    // Copy only what fits: a follower far behind must not cost a copy of the whole log.
    std::vector<entry> out;
    std::uint64_t size_bytes = 0;
    for (raft_index i = lo; i < hi; ++i) {
        const entry& e = _ents[i - offset];
        size_bytes += payload_bytes(e);
        if (!out.empty() && size_bytes > max_bytes) {
            break;
        }
        out.push_back(e);
    }
    return out;
}

result<raft_term, raft_error> memory_storage::term(raft_index i) const {
    const raft_index offset = _ents[0].index;
    if (i < offset) {
        return failure{raft_error::compacted};
    }
    if (i - offset >= _ents.size()) {
        return failure{raft_error::unavailable};
    }
    return _ents[i - offset].term;
}

result<snapshot, raft_error> memory_storage::get_snapshot() const { return _snapshot; }

status memory_storage::apply_snapshot(const snapshot& snap) {
    if (_snapshot.meta.index >= snap.meta.index) {
        return failure{raft_error::snapshot_out_of_date};
    }
    _snapshot = snap;
    _ents.assign(1, entry{snap.meta.term, snap.meta.index, entry_type::normal, {}});
    return ok_status();
}

result<snapshot, raft_error> memory_storage::create_snapshot(raft_index i,
    const conf_state* conf, bytes data) {
    if (i <= _snapshot.meta.index) {
        return failure{raft_error::snapshot_out_of_date};
    }
    UETCD_ASSERT(i <= last_index());
    const raft_index offset = _ents[0].index;
    _snapshot.meta.index = i;
    _snapshot.meta.term = _ents[i - offset].term;
    if (conf != nullptr) {
        _snapshot.meta.conf = *conf;
    }
    _snapshot.data = std::move(data);
    return _snapshot;
}

status memory_storage::compact(raft_index compact_index) {
    const raft_index offset = _ents[0].index;
    if (compact_index <= offset) {
        return failure{raft_error::compacted};
    }
    UETCD_ASSERT(compact_index <= last_index());
    const std::size_t i = compact_index - offset;
    std::vector<entry> kept;
    kept.reserve(_ents.size() - i);
    kept.push_back(entry{_ents[i].term, _ents[i].index, entry_type::normal, {}});
    kept.insert(kept.end(), _ents.begin() + static_cast<std::ptrdiff_t>(i) + 1, _ents.end());
    _ents = std::move(kept);
    return ok_status();
}

void memory_storage::append(const std::vector<entry>& ents) {
    if (ents.empty()) {
        return;
    }
    const raft_index first = first_index();
    const raft_index last = ents[0].index + ents.size() - 1;
    if (last < first) {
        return;  // everything is already compacted
    }
    // Skip the part of ents that is older than our snapshot.
    const std::size_t skip = first > ents[0].index ? first - ents[0].index : 0;
    const raft_index start = ents[skip].index;
    const raft_index offset = start - _ents[0].index;
    UETCD_ASSERT(offset <= _ents.size());  // no gap between the log and ents
    _ents.resize(offset);
    _ents.insert(_ents.end(), ents.begin() + static_cast<std::ptrdiff_t>(skip), ents.end());
    UETCD_ASSERT(last_index() == last);
}

}  // namespace uetcd::raft
