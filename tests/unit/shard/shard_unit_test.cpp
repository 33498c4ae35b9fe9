// Routing, serial-entry rules, the two apply steps by hand, the global history window, and the
// cross-shard cases the random log reaches only rarely.
#include <catch2/catch.hpp>

#include "shard_test_support.hpp"
#include "uetcd/hash.hpp"

namespace {

using namespace shard_test;

command put(std::string path, std::string value) {
    command c;
    c.path = std::move(path);
    c.value = std::move(value);
    return c;
}

command del(std::string path, bool recursive) {
    command c;
    c.method = command_method::del;
    c.path = std::move(path);
    c.recursive = recursive;
    return c;
}

// Two first segments, one a string prefix of the other, owned by different shards.
std::pair<std::string, std::string> prefix_pair_on_two_shards(std::uint32_t shard_count) {
    for (char first = 'a'; first <= 'z'; ++first) {
        const std::string shorter(1, first);
        const std::string longer = shorter + "b";
        if (shard_of("/1/" + shorter, shard_count) != shard_of("/1/" + longer, shard_count)) {
            return {shorter, longer};
        }
    }
    FAIL("no prefix pair on two shards");
    return {};
}

}  // namespace

TEST_CASE("shard: routing by the first user segment; namespaces whole; root on all shards",
    "[shard][routing]") {
    const std::uint32_t n = 4;
    CHECK(shard_of("/", n) == all_shards);
    CHECK(shard_of("/1", n) == all_shards);
    CHECK(shard_of("/1/foo", n) == uetcd::hash64("foo") % n);
    CHECK(shard_of("/1/foo/bar/baz", n) == shard_of("/1/foo", n));
    CHECK(shard_of("/0", n) == uetcd::hash64("0") % n);
    CHECK(shard_of("/0/members/abc", n) == shard_of("/0", n));
    CHECK(shard_of("/2/users/root", n) == uetcd::hash64("2") % n);
    CHECK(shard_of("/1/foo", 1) == 0);
    // The sequencer routes a command by its clean path, whatever its spelling.
    sequencer seq(n);
    for (const char* spelling : {"/1/foo", "/1/x/../foo/", "//1/./foo", "/1/foo/a/.."}) {
        INFO(spelling);
        const batch_plan p = seq.plan(std::vector<command>{put(spelling, "v")}, t0_ns);
        REQUIRE(p.owner.size() == 1);
        CHECK(p.owner[0] == shard_of("/1/foo", n));
    }
    CHECK(is_serial(put("/1/foo/..", "v")));
    CHECK(is_serial(put("/1/", "v")));
}

TEST_CASE("shard: serial entries are those that need final indexes or every shard",
    "[shard][serial]") {
    struct row {
        command c;
        bool serial;
    };
    command post = put("/1/q", "v");
    post.method = command_method::post;
    command cas_index = put("/1/a", "v");
    cas_index.prev_index = 3;
    command cas_value = put("/1/a", "v");
    cas_value.prev_value = "old";
    command cad_index = del("/1/a", false);
    cad_index.prev_index = 3;
    command qget = put("/1/a", "");
    qget.method = command_method::qget;
    command sync;
    sync.method = command_method::sync;
    const std::vector<row> rows = {
        {put("/1/a", "v"), false},
        {put("/1/a/b/c", "v"), false},
        {cas_value, false},
        {del("/1/a", true), false},
        {put("/0/members/x", "v"), false},
        {post, true},
        {cas_index, true},
        {cad_index, true},
        {qget, true},
        {sync, true},
        {put("/1", "v"), true},
        {del("/", true), true},
    };
    for (const row& r : rows) {
        INFO(encode_command(r.c));
        CHECK(is_serial(r.c) == r.serial);
    }
}

TEST_CASE("shard: step 1 applies provisional indexes, step 2 makes them the single tree's",
    "[shard][steps]") {
    const auto [a, b] = prefix_pair_on_two_shards(2);
    const std::uint32_t sa = shard_of("/1/" + a, 2);
    const std::uint32_t sb = shard_of("/1/" + b, 2);
    const std::vector<command> log = {put("/1/" + a, "1"), del("/1/" + b + "/none", false),
        put("/1/" + b, "2"), put("/1/" + a, "3")};
    sequencer seq(2, 10);
    std::vector<shard> shards;
    shards.emplace_back(0, 2);
    shards.emplace_back(1, 2);
    for (shard& s : shards) {
        s.store().advance_index(10);
    }
    const batch_plan p = seq.plan(log, t0_ns);
    REQUIRE(p.command_count == 4);
    REQUIRE(p.mode == index_mode::provisional);
    std::vector<batch_evaluation> evaluations(2);
    for (std::uint32_t s = 0; s < 2; ++s) {
        evaluations[s] = shards[s].evaluate(p.requests[s]);
        CHECK(is_provisional_index(shards[s].store().index()));
    }
    CHECK(evaluations[sa].success == std::vector<bool>{true, true});
    CHECK(evaluations[sb].success == std::vector<bool>{false, true});
    const auto commits = seq.resolve(p, evaluations);
    CHECK(commits[sa].slot_index == std::vector<std::uint64_t>{11, 13});
    CHECK(commits[sb].slot_index == std::vector<std::uint64_t>{12});
    CHECK(commits[sb].entry_index == std::vector<std::uint64_t>{11, 11});
    std::vector<std::vector<entry_answer>> answers;
    for (std::uint32_t s = 0; s < 2; ++s) {
        answers.push_back(shards[s].commit(commits[s]));
        CHECK(shards[s].store().index() == 13);
    }
    const auto gathered = gather_answers(p, std::move(answers));
    REQUIRE(gathered.size() == 4);
    CHECK(gathered[0].value()->node.modified_index == 11);
    CHECK(gathered[1].error().index == 11);
    CHECK(gathered[2].value()->node.modified_index == 12);
    CHECK(gathered[3].value()->prev_node->modified_index == 11);
    CHECK(gathered[3].value()->node.modified_index == 13);
    CHECK(gathered[3].value()->node.created_index == 13);
    auto got = shards[sa].store().get("/1/" + a, false, false, t0_ns);
    CHECK(got.value().node.modified_index == 13);
}

TEST_CASE("shard: waitIndex older than the whole store's window is etcd's 401",
    "[shard][history]") {
    tree reference;
    shard_driver driver(4);
    std::vector<command> log;
    for (int i = 0; i < 1500; ++i) {
        log.push_back(put("/1/k" + std::to_string(i % 37), "v"));
    }
    for (const command& c : log) {
        REQUIRE(apply_command(reference, c, t0_ns).ok());
    }
    (void)driver.apply(log, t0_ns);
    for (std::uint64_t since : {499, 500, 501, 502, 1500, 1501}) {
        auto expected = reference.watch("/1/k3", false, false, since, 1);
        auto got = driver.watch("/1/k3", false, false, since, 1);
        INFO("since " << since);
        REQUIRE(expected.ok() == got.ok());
        if (!expected) {
            CHECK(render(got.error()) == render(expected.error()));
            CHECK(render(got.error()).find("[501/") != std::string::npos);
        } else if (expected->immediate) {
            CHECK(render(*got->immediate, false) == render(*expected->immediate, false));
        }
    }
}

TEST_CASE("shard: a waitIndex watch sees a deleted dir on another shard whose key prefixes it",
    "[shard][watch]") {
    // etcd EventHistory.scan matches a deleted dir by string prefix: deleting /1/a answers a
    // watch on /1/ab, and the two live on different shards.
    const auto [a, b] = prefix_pair_on_two_shards(4);
    tree reference;
    shard_driver driver(4);
    const std::vector<command> log = {put("/1/" + a + "/x", "1"), put("/1/" + b, "2"),
        del("/1/" + a, true)};
    for (const command& c : log) {
        REQUIRE(apply_command(reference, c, t0_ns).ok());
    }
    (void)driver.apply(log, t0_ns);
    auto expected = reference.watch("/1/" + b, false, false, 3, 1);
    auto got = driver.watch("/1/" + b, false, false, 3, 1);
    REQUIRE(expected.ok());
    REQUIRE(expected->immediate != nullptr);
    CHECK(expected->immediate->act == action::del);
    REQUIRE(got.ok());
    REQUIRE(got->immediate != nullptr);
    CHECK(render(*got->immediate, false) == render(*expected->immediate, false));
}

TEST_CASE("shard: sorted listings of the root merge every shard like one tree",
    "[shard][get]") {
    tree reference;
    shard_driver driver(4);
    std::vector<command> log;
    for (const char* key : {"/1/m", "/1/a/b", "/1/z", "/1/_hidden", "/1/c/d/e", "/0/x", "/2/y"}) {
        log.push_back(put(key, "v"));
    }
    for (const command& c : log) {
        REQUIRE(apply_command(reference, c, t0_ns).ok());
    }
    (void)driver.apply(log, t0_ns);
    for (const char* path : {"/", "/1"}) {
        for (bool recursive : {false, true}) {
            INFO(path << " recursive " << recursive);
            CHECK(render(driver.get(path, recursive, true, t0_ns), false) ==
                  render(reference.get(path, recursive, true, t0_ns), false));
            CHECK(render(driver.get(path, recursive, false, t0_ns), true) ==
                  render(reference.get(path, recursive, false, t0_ns), true));
        }
    }
    CHECK(render(driver.current_stats()) == render(reference.current_stats()));
}
