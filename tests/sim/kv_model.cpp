// kv_model: see kv_model.hpp. Text encodings keep traces readable when a seed fails.
#include "kv_model.hpp"

#include <cstdio>
#include <sstream>

namespace uetcd::sim {

op_result model_apply(std::array<std::int64_t, kv_key_count>& values, const kv_op& op) {
    std::int64_t& v = values[op.key % kv_key_count];
    switch (op.kind) {
    case op_kind::put: v = op.arg1; return 0;
    case op_kind::get: return v;
    case op_kind::cas:
        if (v == op.arg1) {
            v = op.arg2;
            return 1;
        }
        return 0;
    }
    return 0;
}

std::optional<op_result> kv_state::apply(const kv_op& op) {
    if (!seen.insert(op.id).second) {
        return std::nullopt;
    }
    return model_apply(values, op);
}

std::string kv_state::encode() const {
    std::ostringstream out;
    for (std::int64_t v : values) {
        out << v << ' ';
    }
    out << seen.size();
    for (std::uint64_t id : seen) {
        out << ' ' << id;
    }
    return out.str();
}

std::optional<kv_state> kv_state::decode(const std::string& data) {
    if (data.empty()) {
        return kv_state{};
    }
    std::istringstream in(data);
    kv_state s;
    for (std::int64_t& v : s.values) {
        if (!(in >> v)) {
            return std::nullopt;
        }
    }
    std::size_t n = 0;
    if (!(in >> n)) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t id = 0;
        if (!(in >> id)) {
            return std::nullopt;
        }
        s.seen.insert(id);
    }
    return s;
}

std::string encode_op(const kv_op& op) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "op %llu %u %u %lld %lld",
        static_cast<unsigned long long>(op.id), static_cast<unsigned>(op.kind),
        static_cast<unsigned>(op.key), static_cast<long long>(op.arg1),
        static_cast<long long>(op.arg2));
    return buf;
}

std::optional<kv_op> decode_op(const std::string& data) {
    unsigned long long id = 0;
    unsigned kind = 0;
    unsigned key = 0;
    long long a = 0;
    long long b = 0;
    if (std::sscanf(data.c_str(), "op %llu %u %u %lld %lld", &id, &kind, &key, &a, &b) != 5 ||
        kind > 2) {
        return std::nullopt;
    }
    return kv_op{id, static_cast<op_kind>(kind), static_cast<std::uint8_t>(key), a, b};
}

}  // namespace uetcd::sim
