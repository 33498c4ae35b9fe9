// The simulator's own checks must be able to fail: the linearizability checker and the
// KV model on hand-made histories.
#include <catch2/catch.hpp>

#include "linearizability.hpp"

using namespace uetcd::sim;

namespace {
history_op put(std::uint64_t id, std::int64_t v, std::uint64_t call, std::uint64_t ret) {
    return history_op{kv_op{id, op_kind::put, 0, v, 0}, call, ret, 0};
}
history_op get(std::uint64_t id, std::int64_t want, std::uint64_t call, std::uint64_t ret) {
    return history_op{kv_op{id, op_kind::get, 0, 0, 0}, call, ret, want};
}
history_op cas(std::uint64_t id, std::int64_t from, std::int64_t to, bool ok,
    std::uint64_t call, std::uint64_t ret) {
    return history_op{kv_op{id, op_kind::cas, 0, from, to}, call, ret, ok ? 1 : 0};
}
}  // namespace

TEST_CASE("linearizability: verdicts on small histories", "[sim][checker]") {
    struct row {
        const char* what;
        std::vector<history_op> h;
        lin_verdict want;
    };
    const std::vector<row> rows = {
        {"sequential put then get", {put(1, 5, 1, 2), get(2, 5, 3, 4)},
            lin_verdict::linearizable},
        {"stale read after a completed put", {put(1, 5, 1, 2), get(2, 0, 3, 4)},
            lin_verdict::not_linearizable},
        {"concurrent read may see either", {put(1, 5, 1, 4), get(2, 0, 2, 3)},
            lin_verdict::linearizable},
        {"a pending put may explain a read", {put(1, 7, 1, never_returned), get(2, 7, 5, 6)},
            lin_verdict::linearizable},
        {"a pending put may also never happen", {put(1, 7, 1, never_returned), get(2, 0, 5, 6)},
            lin_verdict::linearizable},
        {"reads cannot go back in time",
            {put(1, 7, 1, never_returned), get(2, 7, 5, 6), get(3, 0, 7, 8)},
            lin_verdict::not_linearizable},
        {"two successful cas from the same value", {cas(1, 0, 1, true, 1, 5),
            cas(2, 0, 2, true, 2, 6)}, lin_verdict::not_linearizable},
        {"cas chain", {cas(1, 0, 1, true, 1, 5), cas(2, 1, 2, true, 2, 6), get(3, 2, 7, 8)},
            lin_verdict::linearizable},
    };
    for (const row& r : rows) {
        CAPTURE(r.what);
        CHECK(check_linearizable(r.h) == r.want);
    }
}

TEST_CASE("kv model: duplicate op ids apply once; state survives encode/decode",
    "[sim][checker]") {
    kv_state s;
    CHECK(s.apply(kv_op{1, op_kind::put, 1, 9, 0}) == 0);
    CHECK_FALSE(s.apply(kv_op{1, op_kind::put, 1, 3, 0}).has_value());
    CHECK(s.values[1] == 9);
    auto back = kv_state::decode(s.encode());
    REQUIRE(back.has_value());
    CHECK(back->values == s.values);
    CHECK(back->seen == s.seen);
    CHECK(decode_op(encode_op(kv_op{5, op_kind::cas, 1, 2, 3}))->arg2 == 3);
    CHECK_FALSE(decode_op("garbage").has_value());
}
