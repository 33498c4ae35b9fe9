// Snapshot save/recover: round trip, canonical bytes, TTL heap rebuild, total decoding.
#include <catch2/catch.hpp>

#include "store_test_support.hpp"
#include "uetcd/hash.hpp"
#include "uetcd/store/snapshot.hpp"

using namespace store_test;

namespace {

tree sample_tree() {
    tree t;
    REQUIRE(t.create("/0/members/1/raftAttributes", false, "{}", false, {}, t0_ns));
    REQUIRE(t.set("/1/a", false, "value <a>", {}, t0_ns));
    REQUIRE(t.set("/1/d/_hidden", false, "h", {}, t0_ns));
    REQUIRE(t.set("/1/d/e/f", false, std::string("bin\0ary", 7), {}, t0_ns));
    REQUIRE(t.set("/1/ttl", false, "t", ttl_at(t0_ns + 5 * second_ns), t0_ns));
    REQUIRE(t.set("/1/tdir", true, "", ttl_at(t0_ns + 9 * second_ns), t0_ns));
    REQUIRE(t.create("/1/q", false, "job", true, {}, t0_ns));
    REQUIRE(t.update("/1/a", "", ttl_options{t0_ns + 7 * second_ns, true}, t0_ns));
    REQUIRE(t.remove("/1/q", true, true, t0_ns));
    REQUIRE(t.get("/1/none", false, false, t0_ns).error().code == error_code::key_not_found);
    return t;
}

}  // namespace

TEST_CASE("snapshot: recover(save(t)) answers like t and saves the same bytes",
    "[store][snapshot]") {
    tree t = sample_tree();
    const std::string bytes = save_snapshot(t);
    auto recovered = recover_snapshot(bytes);
    REQUIRE(recovered);
    tree& r = recovered.value();
    CHECK(save_snapshot(r) == bytes);
    CHECK(r.index() == t.index());
    CHECK(r.node_count() == t.node_count());
    for (std::string_view key : {"/1", "/1/d", "/1/a", "/1/ttl", "/0"}) {
        CHECK(to_json(r.get(key, true, true, t0_ns)) == to_json(t.get(key, true, true, t0_ns)));
    }
    std::string stats_t;
    std::string stats_r;
    write_stats_json(stats_t, t.current_stats());
    write_stats_json(stats_r, r.current_stats());
    CHECK(stats_t == stats_r);
    // The history came along: a waitIndex watch answers from it.
    auto w = r.watch("/1/q", true, false, 1, 0);
    REQUIRE(w);
    REQUIRE(w.value().immediate != nullptr);
    CHECK(w.value().immediate->act == action::create);
    // The TTL heap was rebuilt: keys expire in the recovered tree in the same order.
    CHECK(r.next_expiry() == t.next_expiry());
    CHECK(r.expire(t0_ns + 60 * second_ns) == 3);
    CHECK(t.expire(t0_ns + 60 * second_ns) == 3);
    CHECK(save_snapshot(r) == save_snapshot(t));
}

TEST_CASE("snapshot: malformed input is an error value, never a crash", "[store][snapshot]") {
    const std::string bytes = save_snapshot(sample_tree());
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        CHECK_FALSE(recover_snapshot(std::string_view(bytes).substr(0, size)));
    }
    for (std::size_t i = 0; i < bytes.size(); i += 7) {
        std::string flipped = bytes;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
        CHECK_FALSE(recover_snapshot(flipped));
    }
    CHECK_FALSE(recover_snapshot("UETCDST1 definitely not a snapshot"));
}

TEST_CASE("snapshot: corrupted bodies with a valid checksum never crash the decoder",
    "[store][snapshot]") {
    const std::string bytes = save_snapshot(sample_tree());
    const std::string body = bytes.substr(0, bytes.size() - 8);
    std::uint64_t seed = 7;
    std::size_t accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string mutated = body;
        for (int k = 0; k < 1 + round % 4; ++k) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            const std::size_t at = 8 + (seed >> 33) % (mutated.size() - 8);
            mutated[at] = static_cast<char>(seed >> 56);
        }
        std::uint64_t sum = uetcd::hash64(mutated);
        for (int b = 0; b < 8; ++b) {
            mutated.push_back(static_cast<char>((sum >> (8 * b)) & 0xFF));
        }
        auto recovered = recover_snapshot(mutated);
        if (recovered) {
            accepted++;
            (void)recovered.value().get("/1", true, true, t0_ns);  // usable when accepted
            (void)recovered.value().expire(t0_ns + 100 * second_ns);
        }
    }
    CHECK(accepted < 3000);
}
