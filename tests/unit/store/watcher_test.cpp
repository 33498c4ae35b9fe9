// Watcher hub and event history: one-shot, stream, recursive, hidden keys, waitIndex in the
// past and the future, the 1000-event window, removal and id reuse.
#include <catch2/catch.hpp>

#include "store_test_support.hpp"

using namespace store_test;

namespace {

std::vector<notification> drain(tree& t) {
    std::vector<notification> out;
    t.hub().take_notifications(out);
    return out;
}

watcher_id watch_ok(tree& t, std::string_view key, bool recursive, bool stream,
    std::uint64_t since = 0, std::uint64_t tag = 0) {
    auto w = t.watch(key, recursive, stream, since, tag);
    REQUIRE(w);
    REQUIRE(w.value().immediate == nullptr);
    return w.value().id;
}

}  // namespace

TEST_CASE("watch: a one-shot watcher gets one event and is gone", "[store][watch]") {
    tree t;
    const watcher_id id = watch_ok(t, "/1/k", false, false, 0, 42);
    CHECK(t.current_stats().watchers == 1);
    REQUIRE(t.set("/1/k", false, "1", {}, t0_ns));
    REQUIRE(t.set("/1/k", false, "2", {}, t0_ns));
    const auto got = drain(t);
    REQUIRE(got.size() == 1);
    CHECK(got[0].id == id);
    CHECK(got[0].tag == 42);
    CHECK(got[0].watcher_removed);
    CHECK(*got[0].ev->node.value == "1");
    CHECK(t.current_stats().watchers == 0);
    CHECK_FALSE(t.remove_watcher(id));
}

TEST_CASE("watch: which events reach which watcher", "[store][watch]") {
    struct row {
        std::string_view watch_key;
        bool recursive;
        std::string_view write_key;
        bool notified;
    };
    const row rows[] = {
        {"/1/a", false, "/1/a", true},
        {"/1/a", false, "/1/a/b", false},
        {"/1/a", true, "/1/a/b", true},
        {"/1/a", true, "/1/ab", false},
        {"/1", true, "/1/x/y/z", true},
        {"/1/a", true, "/1/a/_h", false},      // live recursive watches skip hidden keys
        {"/1/a", true, "/1/a/_h/x", false},    // ... and anything under a hidden dir
        {"/1/_a", true, "/1/_a/x", true},      // hidden above the watch point is fine
        {"/1/a/_h", false, "/1/a/_h", true},   // a watch on the hidden key itself
        {"/1/a/b", false, "/1/a", false},
    };
    for (const row& r : rows) {
        tree t;
        INFO(r.watch_key << " recursive=" << r.recursive << " write " << r.write_key);
        watch_ok(t, r.watch_key, r.recursive, false);
        REQUIRE(t.set(r.write_key, false, "v", {}, t0_ns));
        CHECK(drain(t).size() == (r.notified ? 1u : 0u));
    }
}

TEST_CASE("watch: deleting a dir tells watchers on every removed path", "[store][watch]") {
    tree t;
    REQUIRE(t.set("/1/d/a/x", false, "v", {}, t0_ns));
    REQUIRE(t.set("/1/d/b", false, "v", {}, t0_ns));
    watch_ok(t, "/1/d/a/x", false, false, 0, 1);
    watch_ok(t, "/1/d/b", false, false, 0, 2);
    watch_ok(t, "/1/d/never", false, false, 0, 3);
    const watcher_id stream = watch_ok(t, "/1/d", false, true, 0, 4);
    REQUIRE(t.remove("/1/d", true, true, t0_ns));
    const auto got = drain(t);
    std::vector<std::uint64_t> tags;
    for (const notification& n : got) {
        CHECK(n.ev->node.key == "/1/d");
        tags.push_back(n.tag);
    }
    std::sort(tags.begin(), tags.end());
    // etcd quirk: the stream watcher on the dir hears the delete twice (once as a removed
    // path, once as the event's own key).
    CHECK(tags == std::vector<std::uint64_t>{1, 2, 4, 4});
    CHECK(t.remove_watcher(stream));
    CHECK(t.current_stats().watchers == 1);  // the watcher on /1/d/never stays
}

TEST_CASE("watch: waitIndex in the past answers from history, without the hidden filter",
    "[store][watch]") {
    tree t;
    REQUIRE(t.set("/1/d/_h", false, "h", {}, t0_ns));  // 1
    REQUIRE(t.set("/1/d/x", false, "x", {}, t0_ns));   // 2
    auto hit = t.watch("/1/d", true, false, 1, 0);
    REQUIRE(hit);
    REQUIRE(hit.value().immediate != nullptr);
    CHECK(hit.value().immediate->node.key == "/1/d/_h");
    CHECK(hit.value().start_index == 2);
    CHECK(hit.value().immediate->etcd_index == 2);
    CHECK(t.current_stats().watchers == 0);  // a history hit registers nothing
    auto exact = t.watch("/1/d/x", false, true, 1, 0);
    REQUIRE(exact);
    REQUIRE(exact.value().immediate != nullptr);
    CHECK(exact.value().immediate->index() == 2);
}

TEST_CASE("watch: waitIndex in the future waits for that index", "[store][watch]") {
    tree t;
    watch_ok(t, "/1/k", false, true, 3);
    REQUIRE(t.set("/1/k", false, "1", {}, t0_ns));  // 1: too early
    REQUIRE(t.set("/1/k", false, "2", {}, t0_ns));  // 2: too early
    CHECK(drain(t).empty());
    REQUIRE(t.set("/1/k", false, "3", {}, t0_ns));  // 3
    const auto got = drain(t);
    REQUIRE(got.size() == 1);
    CHECK(got[0].ev->index() == 3);
    CHECK_FALSE(got[0].watcher_removed);
}

TEST_CASE("watch: the history keeps the last 1000 events, older waitIndex is 401",
    "[store][watch]") {
    tree t;
    for (int i = 0; i < 1100; ++i) {
        REQUIRE(t.set("/1/k", false, std::to_string(i), {}, t0_ns));
    }
    CHECK(t.hub().history().start_index() == 101);
    CHECK(t.hub().history().last_index() == 1100);
    auto cleared = t.watch("/1/k", false, false, 100, 0);
    REQUIRE_FALSE(cleared);
    CHECK(to_json(uetcd::result<event, error>(uetcd::failure(cleared.error()))) ==
          R"({"errorCode":401,"message":"The event in requested index is outdated and cleared",)"
          R"("cause":"the requested history has been cleared [101/100]","index":1100})"
          "\n");
    CHECK(cleared.error().http_status() == 400);
    auto oldest = t.watch("/1/k", false, false, 101, 0);
    REQUIRE(oldest);
    REQUIRE(oldest.value().immediate != nullptr);
    CHECK(oldest.value().immediate->index() == 101);
}

TEST_CASE("watch: refresh events stay out of live and history watches", "[store][watch]") {
    tree t;
    REQUIRE(t.set("/1/k", false, "v", ttl_at(t0_ns + second_ns), t0_ns));  // 1
    watch_ok(t, "/1/k", false, false);
    REQUIRE(t.set("/1/k", false, "", ttl_options{t0_ns + 5 * second_ns, true}, t0_ns));  // 2
    CHECK(drain(t).empty());
    auto from_history = t.watch("/1/k", false, false, 2, 0);
    REQUIRE(from_history);
    CHECK(from_history.value().immediate == nullptr);  // registered: index 2 was a refresh
}

TEST_CASE("watch: removal is by id; stale ids after reuse do nothing", "[store][watch]") {
    tree t;
    const watcher_id first = watch_ok(t, "/1/a", false, false);
    CHECK(t.remove_watcher(first));
    const watcher_id second = watch_ok(t, "/1/b", false, false);
    CHECK(second.slot == first.slot);  // the slot is reused...
    CHECK_FALSE(t.remove_watcher(first));  // ...so the old id must not remove the new one
    CHECK(t.current_stats().watchers == 1);
    CHECK(t.remove_watcher(second));
    CHECK(t.current_stats().watchers == 0);
}

TEST_CASE("watch: 10000 watchers on distinct keys, each write wakes only its own",
    "[store][watch]") {
    tree t;
    std::vector<watcher_id> ids;
    for (int i = 0; i < 10000; ++i) {
        ids.push_back(watch_ok(t, "/1/w/" + std::to_string(i), false, true, 0, i));
    }
    REQUIRE(t.set("/1/w/1234", false, "v", {}, t0_ns));
    const auto got = drain(t);
    REQUIRE(got.size() == 1);
    CHECK(got[0].tag == 1234);
    for (std::size_t i = 0; i < ids.size(); i += 2) {
        CHECK(t.remove_watcher(ids[i]));
    }
    CHECK(t.current_stats().watchers == 5000);
}

TEST_CASE("watch: a history with index gaps (one shard's share) still finds the next event",
    "[store][watch]") {
    event_history h;
    for (std::uint64_t index : {10, 20, 30}) {
        auto e = std::make_shared<event>();
        e->act = action::set;
        e->node.key = "/1/k";
        e->node.modified_index = index;
        h.add(e);
    }
    const std::pair<std::uint64_t, std::uint64_t> rows[] = {{10, 10}, {11, 20}, {20, 20},
        {25, 30}, {30, 30}};
    for (const auto& [since, found] : rows) {
        auto hit = h.scan("/1/k", false, since);
        REQUIRE(hit);
        REQUIRE(hit.value() != nullptr);
        CHECK(hit.value()->index() == found);
    }
    CHECK(h.scan("/1/k", false, 31).value() == nullptr);
    CHECK_FALSE(h.scan("/1/k", false, 9));
}
