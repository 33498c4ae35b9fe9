// Tree operations beyond the golden replay: expiry order, TTL transitions, in-order keys,
// index accounting across namespaces, and a directory with many children.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "store_test_support.hpp"
#include "uetcd/store/snapshot.hpp"

using namespace store_test;

TEST_CASE("tree: a fresh store has /0 and /1 at index 0 and shares one index", "[store][tree]") {
    tree t;
    CHECK(t.index() == 0);
    CHECK(to_json(t.get("/1", false, false, t0_ns)) ==
          "{\"action\":\"get\",\"node\":{\"dir\":true}}\n");
    REQUIRE(t.create("/0/members/1/raftAttributes", false, "{}", false, {}, t0_ns));
    REQUIRE(t.set("/0/version", false, "3.4.0", {}, t0_ns));
    REQUIRE(t.set("/2/enabled", false, "false", {}, t0_ns));
    auto first = t.set("/1/k", false, "v", {}, t0_ns);
    REQUIRE(first);
    CHECK(first.value()->etcd_index == 4);
    // User keys never see the other namespaces.
    CHECK(to_json(t.get("/1", true, true, t0_ns)) ==
          R"({"action":"get","node":{"dir":true,"nodes":[{"key":"/k","value":"v",)"
          R"("modifiedIndex":4,"createdIndex":4}]}})"
          "\n");
    // The namespaces themselves are read only.
    for (std::string_view ns : {"/", "/0", "/1"}) {
        CHECK(t.set(ns, false, "x", {}, t0_ns).error().code == error_code::root_read_only);
        CHECK(t.remove(ns, true, true, t0_ns).error().code == error_code::root_read_only);
    }
    CHECK(t.index() == 4);
}

TEST_CASE("tree: failed writes do not move the index", "[store][tree]") {
    tree t;
    REQUIRE(t.set("/1/f", false, "v", {}, t0_ns));
    const std::uint64_t before = t.index();
    CHECK_FALSE(t.create("/1/f", false, "v", false, {}, t0_ns));
    CHECK_FALSE(t.update("/1/none", "v", {}, t0_ns));
    CHECK_FALSE(t.compare_and_swap("/1/f", "other", 0, "v", {}, t0_ns));
    CHECK_FALSE(t.compare_and_delete("/1/f", "", 99, t0_ns));
    CHECK_FALSE(t.remove("/1/none", false, false, t0_ns));
    CHECK_FALSE(t.set("/1/f/under", false, "v", {}, t0_ns));
    CHECK(t.index() == before);
}

TEST_CASE("tree: count_get counts exactly as a get of the same path", "[store][tree]") {
    tree counted;
    tree fetched;
    for (tree* t : {&counted, &fetched}) {
        REQUIRE(t->set("/1/f", false, "v", {}, t0_ns));
        REQUIRE(t->set("/1/d/x", false, "v", {}, t0_ns));
    }
    for (const char* path : {"/1/f", "/1/d", "/1/d/x", "/1/none", "/1/f/under", "/2/enabled",
             "/1", "/"}) {
        INFO(path);
        counted.count_get(path);
        (void)fetched.get(path, false, false, t0_ns);
        CHECK(counted.current_stats().gets_success == fetched.current_stats().gets_success);
        CHECK(counted.current_stats().gets_fail == fetched.current_stats().gets_fail);
    }
    CHECK(counted.current_stats().gets_fail == 3);
}

TEST_CASE("tree: in-order keys are the new index on 20 digits", "[store][tree]") {
    tree t;
    std::vector<std::string> keys;
    for (int i = 0; i < 3; ++i) {
        auto e = t.create("/1/q", false, "job", true, {}, t0_ns);
        REQUIRE(e);
        keys.push_back(e.value()->node.key);
        REQUIRE(t.set("/1/other", false, "x", {}, t0_ns));  // indexes are shared
    }
    CHECK(keys == std::vector<std::string>{"/1/q/00000000000000000001",
                      "/1/q/00000000000000000003", "/1/q/00000000000000000005"});
    CHECK(std::is_sorted(keys.begin(), keys.end()));
    auto dir = t.get("/1/q", false, false, t0_ns);
    REQUIRE(dir);
    CHECK(dir.value().node.created_index == 1);  // the dir was made by the first POST
}

TEST_CASE("tree: expiry removes keys in expiry order, ties by key, one index each",
    "[store][tree][ttl]") {
    tree t;
    REQUIRE(t.set("/1/c", false, "v", ttl_at(t0_ns + 3 * second_ns), t0_ns));
    REQUIRE(t.set("/1/b", false, "v", ttl_at(t0_ns + 1 * second_ns), t0_ns));
    REQUIRE(t.set("/1/a", false, "v", ttl_at(t0_ns + 1 * second_ns), t0_ns));
    REQUIRE(t.set("/1/d/x", false, "v", ttl_at(t0_ns + 2 * second_ns), t0_ns));
    REQUIRE(t.set("/1/keep", false, "v", {}, t0_ns));
    CHECK(t.next_expiry() == t0_ns + second_ns);
    auto w = t.watch("/1", true, true, 0, 7);
    REQUIRE(w);
    CHECK(t.expire(t0_ns + second_ns - 1) == 0);
    CHECK(t.expire(t0_ns + 10 * second_ns) == 4);
    std::vector<notification> got;
    t.hub().take_notifications(got);
    std::vector<std::string> order;
    for (const notification& n : got) {
        CHECK(n.ev->act == action::expire);
        CHECK(n.ev->index() == 5 + order.size() + 1);
        order.push_back(n.ev->node.key);
    }
    CHECK(order == std::vector<std::string>{"/1/a", "/1/b", "/1/d/x", "/1/c"});
    CHECK(t.index() == 9);
    CHECK(t.current_stats().expire_count == 4);
    CHECK_FALSE(t.has_ttl_keys());
    CHECK(t.get("/1/keep", false, false, t0_ns));
    CHECK(t.get("/1/d", false, false, t0_ns));  // only the key expired, not its parent
}

TEST_CASE("tree: an expiring dir takes its subtree and its TTL children with it",
    "[store][tree][ttl]") {
    tree t;
    REQUIRE(t.set("/1/d", true, "", ttl_at(t0_ns + second_ns), t0_ns));
    REQUIRE(t.set("/1/d/x", false, "v", ttl_at(t0_ns + 5 * second_ns), t0_ns));
    REQUIRE(t.set("/1/d/y/z", false, "v", {}, t0_ns));
    auto w = t.watch("/1/d/y/z", false, false, 0, 1);
    REQUIRE(w);
    CHECK(t.expire(t0_ns + 2 * second_ns) == 1);
    CHECK_FALSE(t.has_ttl_keys());
    CHECK(t.get("/1/d", false, false, t0_ns).error().code == error_code::key_not_found);
    std::vector<notification> got;
    t.hub().take_notifications(got);
    REQUIRE(got.size() == 1);
    std::string json;
    write_event_json(json, *got[0].ev, json_options{keys_prefix, false});
    CHECK(json == R"({"action":"expire","node":{"key":"/d","dir":true,"modifiedIndex":4,)"
                  R"("createdIndex":1},"prevNode":{"key":"/d","dir":true,)"
                  R"("expiration":"2025-11-24T16:00:01Z","ttl":-1,"modifiedIndex":1,)"
                  R"("createdIndex":1}})"
                  "\n");
    CHECK(t.node_count() == 3);  // "/", "/0", "/1"
}

TEST_CASE("tree: TTL transitions follow etcd's UpdateTTL", "[store][tree][ttl]") {
    tree t;
    SECTION("update without ttl makes a key permanent") {
        REQUIRE(t.set("/1/k", false, "v", ttl_at(t0_ns + second_ns), t0_ns));
        REQUIRE(t.update("/1/k", "w", {}, t0_ns));
        CHECK_FALSE(t.has_ttl_keys());
        CHECK(t.expire(t0_ns + 10 * second_ns) == 0);
    }
    SECTION("compare-and-swap can add a ttl to a permanent key") {
        REQUIRE(t.set("/1/k", false, "v", {}, t0_ns));
        REQUIRE(t.compare_and_swap("/1/k", "v", 0, "w", ttl_at(t0_ns + second_ns), t0_ns));
        CHECK(t.next_expiry() == t0_ns + second_ns);
    }
    SECTION("create and set treat an expiry before 2000 as permanent") {
        auto e = t.set("/1/k", false, "v", ttl_at(min_expire_time_ns - 1), t0_ns);
        REQUIRE(e);
        CHECK(e.value()->node.expire_time_ns == permanent);
        CHECK_FALSE(t.has_ttl_keys());
    }
    SECTION("update keeps an expiry before 2000, so the next SYNC expires the key") {
        REQUIRE(t.set("/1/k", false, "v", {}, t0_ns));
        REQUIRE(t.update("/1/k", "v", ttl_at(second_ns), t0_ns));
        CHECK(t.expire(t0_ns) == 1);
    }
    SECTION("a refresh keeps the value, moves the expiry, and tells no watcher") {
        REQUIRE(t.set("/1/k", false, "v", ttl_at(t0_ns + second_ns), t0_ns));
        auto w = t.watch("/1/k", false, false, 0, 1);
        REQUIRE(w);
        auto e = t.update("/1/k", "", ttl_options{t0_ns + 9 * second_ns, true}, t0_ns);
        REQUIRE(e);
        CHECK(e.value()->node.value == "v");
        CHECK(e.value()->node.ttl_s == 9);
        CHECK_FALSE(t.hub().has_notifications());
        CHECK(t.expire(t0_ns + 5 * second_ns) == 0);
        CHECK(t.expire(t0_ns + 9 * second_ns) == 1);
        CHECK(t.hub().has_notifications());
    }
}

TEST_CASE("tree: a directory with many children stays consistent", "[store][tree]") {
    tree t;
    std::map<std::string, std::string> model;
    std::uint64_t seed = 42;
    for (int i = 0; i < 20000; ++i) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        std::string name = std::to_string((seed >> 33) % 3000);
        name.insert(name.begin(), 'k');
        if ((seed >> 20) % 3 == 0) {
            const bool existed = model.erase(name) > 0;
            CHECK(static_cast<bool>(t.remove("/1/big/" + name, false, false, t0_ns)) == existed);
        } else {
            model[name] = std::to_string(i);
            REQUIRE(t.set("/1/big/" + name, false, std::to_string(i), {}, t0_ns));
        }
    }
    auto listing = t.get("/1/big", false, true, t0_ns);
    REQUIRE(listing);
    REQUIRE(listing.value().node.nodes.size() == model.size());
    std::size_t i = 0;
    std::vector<std::string> sorted_keys;
    for (const auto& [name, value] : model) {
        sorted_keys.push_back("/1/big/" + name);
    }
    std::sort(sorted_keys.begin(), sorted_keys.end());
    for (const node_view& n : listing.value().node.nodes) {
        CHECK(n.key == sorted_keys[i]);
        CHECK(*n.value == model.at(n.key.substr(7)));
        i++;
    }
    CHECK(t.node_count() == 4 + model.size());
}

TEST_CASE("tree: paths are cleaned as Go's path.Clean does", "[store][tree]") {
    const std::pair<std::string_view, std::string_view> rows[] = {
        {"", "/"}, {"/", "/"}, {"a", "/a"}, {"/a/", "/a"}, {"//a//b", "/a/b"},
        {"/a/./b", "/a/b"}, {"/a/../b", "/b"}, {"/../a", "/a"}, {"/a/b/..", "/a"},
    };
    for (const auto& [input, expected] : rows) {
        CHECK(clean_path(input) == expected);
    }
}

TEST_CASE("tree: random operations keep every invariant and survive snapshots",
    "[store][tree][random]") {
    tree t;
    std::uint64_t seed = 2024;
    const auto next = [&](std::uint64_t bound) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return (seed >> 33) % bound;
    };
    const std::string names[] = {"a", "b", "_h", "c"};
    time_ns now_ns = t0_ns;
    for (int step = 0; step < 4000; ++step) {
        std::string path = "/1";
        for (std::uint64_t depth = 1 + next(3); depth > 0; --depth) {
            path += "/" + names[next(4)];
        }
        const std::string value = std::to_string(next(3));
        const ttl_options ttl = next(3) == 0 ? ttl_at(now_ns + static_cast<time_ns>(next(5)) *
                                                                  second_ns)
                                             : ttl_options{};
        const std::uint64_t before = t.index();
        bool ok = false;
        switch (next(8)) {
        case 0: ok = static_cast<bool>(t.set(path, next(4) == 0, value, ttl, now_ns)); break;
        case 1: ok = static_cast<bool>(t.create(path, next(4) == 0, value, next(2) == 0, ttl,
                         now_ns));
            break;
        case 2: ok = static_cast<bool>(t.update(path, next(2) == 0 ? "" : value, ttl, now_ns));
            break;
        case 3: ok = static_cast<bool>(t.compare_and_swap(path, value, next(2) * before, "x",
                         ttl, now_ns));
            break;
        case 4: ok = static_cast<bool>(t.remove(path, next(2) == 0, next(2) == 0, now_ns)); break;
        case 5: ok = static_cast<bool>(t.compare_and_delete(path, value, 0, now_ns)); break;
        case 6: (void)t.watch(path, next(2) == 0, next(2) == 0, 0, 0); break;
        default:
            now_ns += second_ns;
            t.expire(now_ns);
            break;
        }
        CHECK(t.index() >= before);
        if (ok) {
            CHECK(t.index() == before + 1);
        }
        t.assert_invariants();
        std::vector<notification> drained;
        t.hub().take_notifications(drained);
        if (step % 500 == 0) {
            auto recovered = recover_snapshot(save_snapshot(t));
            REQUIRE(recovered);
            recovered.value().assert_invariants();
            CHECK(save_snapshot(recovered.value()) == save_snapshot(t));
        }
    }
    CHECK(t.index() > 1000);
}
