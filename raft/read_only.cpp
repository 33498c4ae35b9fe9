// read_only: pending ReadIndex requests on the leader, in arrival order.
#include "uetcd/raft/read_only.hpp"

namespace uetcd::raft {

bool read_only::add_request(raft_index index, const message& m) {
    UETCD_ASSERT(!m.entries.empty());
    const bytes& ctx = m.entries[0].data;
    if (_pending.count(ctx) != 0 || _queue.size() >= max_pending) {
        return false;
    }
    _pending.emplace(ctx, read_index_status{m, index, {}});
    _queue.push_back(ctx);
    UETCD_ASSERT(_pending.size() == _queue.size());
    return true;
}

std::size_t read_only::recv_ack(node_id from, const bytes& ctx) {
    auto it = _pending.find(ctx);
    if (it == _pending.end()) {
        return 0;
    }
    it->second.acks.insert(from);
    return it->second.acks.size();
}

std::vector<read_index_status> read_only::advance(const bytes& ctx) {
    std::vector<read_index_status> out;
    std::size_t n = 0;
    bool found = false;
    for (const bytes& queued : _queue) {
        ++n;
        if (queued == ctx) {
            found = true;
            break;
        }
    }
    if (!found) {
        return out;
    }
    for (std::size_t i = 0; i < n; ++i) {
        auto it = _pending.find(_queue.front());
        UETCD_ASSERT(it != _pending.end());
        out.push_back(std::move(it->second));
        _pending.erase(it);
        _queue.pop_front();
    }
    UETCD_ASSERT(_pending.size() == _queue.size());
    return out;
}

const bytes* read_only::last_pending_request_ctx() const {
    return _queue.empty() ? nullptr : &_queue.back();
}

}  // namespace uetcd::raft
