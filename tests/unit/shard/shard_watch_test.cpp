// The watch property across shards: a client that re-watches from index+1 after each event
// sees every event of a random write load exactly once, in index order.
#include <catch2/catch.hpp>

#include "shard_test_support.hpp"

namespace {

using namespace shard_test;

// One long-poll client: watch, take one event, re-watch from its index + 1.
class rewatching_client {
public:
    rewatching_client(std::string key, bool recursive)
        : _key(std::move(key)), _recursive(recursive) {}

    // Called after every apply: drains history hits and this client's notification.
    void poll(shard_driver& d, const std::vector<notification>& notifications) {
        for (const notification& n : notifications) {
            if (_waiting && n.id == _id) {
                REQUIRE(n.watcher_removed);
                take(*n.ev);
                _waiting = false;
            }
        }
        for (int bounded = 0; !_waiting && bounded < 100000; ++bounded) {
            auto w = d.watch(_key, _recursive, false, _next_index, _tag);
            REQUIRE(w.ok());
            if (w->immediate == nullptr) {
                _id = w->id;
                _waiting = true;
                return;
            }
            take(*w->immediate);
        }
        REQUIRE(_waiting);
    }

    const std::vector<std::uint64_t>& seen() const { return _seen; }

private:
    void take(const event& e) {
        REQUIRE(e.index() >= _next_index);
        _seen.push_back(e.index());
        _next_index = e.index() + 1;
    }

    std::string _key;
    bool _recursive;
    std::uint64_t _tag = 7;
    std::uint64_t _next_index = 1;
    watcher_id _id;
    bool _waiting = false;
    std::vector<std::uint64_t> _seen;
};

// Writes only: every index is one event, none a refresh, no hidden key.
command random_write(uetcd::prng& rng, time_ns now_ns) {
    static const char* const tops[] = {"a", "ab", "b", "c", "d", "e", "f", "g"};
    command c;
    c.path = std::string("/1/") + tops[rng.below(std::size(tops))];
    if (rng.chance(500)) {
        c.path += rng.chance(500) ? "/x" : "/y";
    }
    const std::uint64_t kind = rng.below(10);
    if (kind < 6) {
        c.value = "v" + std::to_string(rng.below(3));
        if (rng.chance(200)) {
            c.expiration_ns = now_ns + static_cast<time_ns>(1 + rng.below(3)) * second_ns;
        }
    } else if (kind < 8) {
        c.method = command_method::del;
        c.recursive = rng.chance(700);
    } else if (kind < 9) {
        c.method = command_method::post;
        c.value = "p";
    } else {
        c.method = command_method::sync;
        c.sync_time_ns = now_ns;
    }
    return c;
}

}  // namespace

TEST_CASE("shard: a re-watching client sees every event once, in index order, across shards",
    "[shard][watch][property]") {
    for (std::uint32_t shard_count : {1U, 2U, 4U}) {
        for (std::uint64_t seed = 1; seed <= 20; ++seed) {
            INFO("shards " << shard_count << " seed " << seed);
            uetcd::prng rng(seed * 7919 + shard_count);
            shard_driver driver(shard_count);
            tree reference;
            rewatching_client root_client("/1", true);
            rewatching_client dir_client("/1/a", true);
            // The reference's stream watcher records every event on /1/a exactly.
            auto stream = reference.watch("/1/a", true, true, 1, 1);
            REQUIRE(stream.ok());
            std::vector<std::uint64_t> expected_dir;
            std::vector<notification> taken;
            time_ns now_ns = t0_ns;
            for (int round = 0; round < 120; ++round) {
                now_ns += static_cast<time_ns>(rng.below(1200)) * 1'000'000;
                std::vector<command> log;
                const std::uint64_t length = 1 + rng.below(15);
                for (std::uint64_t i = 0; i < length; ++i) {
                    log.push_back(random_write(rng, now_ns));
                }
                for (const command& c : log) {
                    (void)apply_command(reference, c, now_ns);
                }
                (void)driver.apply(log, now_ns);
                driver.take_notifications(taken);
                root_client.poll(driver, taken);
                dir_client.poll(driver, taken);
                reference.hub().take_notifications(taken);
                for (const notification& n : taken) {
                    // A recursive delete tells a stream watcher on the dir twice (etcd: once
                    // as a removed node, once as the event's key); a re-watch sees it once.
                    if (expected_dir.empty() || expected_dir.back() != n.ev->index()) {
                        expected_dir.push_back(n.ev->index());
                    }
                }
            }
            REQUIRE(driver.index() == reference.index());
            // Under /1 every write is an event: the root client sees 1..index, each once.
            std::vector<std::uint64_t> all(driver.index());
            for (std::uint64_t i = 0; i < all.size(); ++i) {
                all[i] = i + 1;
            }
            CHECK(root_client.seen() == all);
            CHECK(dir_client.seen() == expected_dir);
            CHECK(driver.current_stats().watchers == 2);
            driver.assert_invariants();
        }
    }
}
