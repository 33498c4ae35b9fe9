// raft_log and memory_storage: log matching, conflicts, commit and compaction.
#include <catch2/catch.hpp>

#include "test_network.hpp"

using namespace uetcd::raft;
using uetcd::raft::testing::make_entries;

TEST_CASE("log: find_conflict returns the first mismatching index", "[raft][log]") {
    memory_storage s;
    raft_log log(s);
    log.append(make_entries({{1, 1}, {2, 2}, {3, 3}}));
    struct row {
        std::vector<entry> ents;
        raft_index want;
    };
    const std::vector<row> rows = {
        {{}, 0},
        {make_entries({{1, 1}, {2, 2}, {3, 3}}), 0},
        {make_entries({{2, 2}, {3, 3}}), 0},
        {make_entries({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 4}}), 4},
        {make_entries({{3, 3}, {4, 4}}), 4},
        {make_entries({{1, 4}, {2, 4}}), 1},
        {make_entries({{2, 1}, {3, 4}, {4, 4}}), 2},
        {make_entries({{3, 1}, {4, 2}}), 3},
    };
    for (const row& r : rows) {
        CHECK(log.find_conflict(r.ents) == r.want);
    }
}

TEST_CASE("log: maybe_append matches, truncates conflicts and commits", "[raft][log]") {
    struct row {
        raft_index index;
        raft_term log_term;
        raft_index commit;
        std::vector<entry> ents;
        std::optional<raft_index> want_last;
        raft_index want_commit;
    };
    // Base log: (1,1) (2,2) (3,3); committed 1.
    const std::vector<row> rows = {
        {3, 2, 3, make_entries({{4, 4}}), std::nullopt, 1},     // term mismatch
        {4, 3, 3, make_entries({{5, 4}}), std::nullopt, 1},     // index beyond the log
        {3, 3, 3, {}, 3, 3},                                    // heartbeat-like
        {3, 3, 4, {}, 3, 3},                                    // commit capped at last new
        {3, 3, 2, {}, 3, 2},
        {3, 3, 4, make_entries({{4, 4}}), 4, 4},
        {2, 2, 4, make_entries({{3, 4}}), 3, 3},                // truncates (3,3)
        {1, 1, 2, make_entries({{2, 4}, {3, 4}}), 3, 2},
        {0, 0, 3, make_entries({{1, 1}, {2, 2}, {3, 3}, {4, 3}}), 4, 3},
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const row& r = rows[i];
        memory_storage s;
        raft_log log(s);
        log.append(make_entries({{1, 1}, {2, 2}, {3, 3}}));
        log.commit_to(1);
        CAPTURE(i);
        CHECK(log.maybe_append(r.index, r.log_term, r.commit, r.ents) == r.want_last);
        CHECK(log.committed() == r.want_commit);
        if (r.want_last && !r.ents.empty()) {
            CHECK(log.term_or_zero(r.ents.back().index) == r.ents.back().term);
        }
    }
}

TEST_CASE("log: maybe_commit only counts entries of the given term", "[raft][log]") {
    memory_storage s;
    raft_log log(s);
    log.append(make_entries({{1, 1}, {2, 2}, {3, 3}}));
    CHECK_FALSE(log.maybe_commit(2, 3));
    CHECK(log.committed() == 0);
    CHECK(log.maybe_commit(3, 3));
    CHECK(log.committed() == 3);
    CHECK_FALSE(log.maybe_commit(2, 2));  // never moves back
}

TEST_CASE("log: find_conflict_by_term skips a whole term", "[raft][log]") {
    memory_storage s;
    raft_log log(s);
    log.append(make_entries({{1, 1}, {2, 2}, {3, 2}, {4, 2}, {5, 5}, {6, 5}}));
    struct row {
        raft_index index;
        raft_term term;
        raft_index want;
    };
    const std::vector<row> rows = {
        {6, 5, 6}, {6, 4, 4}, {6, 2, 4}, {6, 1, 1}, {6, 0, 0}, {3, 1, 1}, {9, 3, 9},
    };
    for (const row& r : rows) {
        CAPTURE(r.index, r.term);
        CHECK(log.find_conflict_by_term(r.index, r.term) == r.want);
    }
}

TEST_CASE("log: unstable entries become stable only when the term matches", "[raft][log]") {
    memory_storage s;
    raft_log log(s);
    log.append(make_entries({{1, 1}, {2, 1}}));
    CHECK(log.unstable_entries().size() == 2);
    log.stable_to(2, 2);  // stale: entry 2 has term 1
    CHECK(log.unstable_entries().size() == 2);
    s.append(log.unstable_entries());
    log.stable_to(2, 1);
    CHECK(log.unstable_entries().empty());
    CHECK(log.last_index() == 2);
}

TEST_CASE("log: next_entries spans applied+1..committed", "[raft][log]") {
    memory_storage s;
    s.append(make_entries({{1, 1}, {2, 1}, {3, 1}}));
    raft_log log(s);
    log.append(make_entries({{4, 1}, {5, 1}}));
    log.commit_to(4);
    auto next = log.next_entries();
    REQUIRE(next.size() == 4);
    CHECK(next.front().index == 1);
    CHECK(next.back().index == 4);
    log.applied_to(2);
    CHECK(log.next_entries().size() == 2);
    log.applied_to(4);
    CHECK_FALSE(log.has_next_entries());
}

TEST_CASE("memory_storage: compact, term, entries and size limits", "[raft][storage]") {
    memory_storage s;
    s.append(make_entries({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}}));
    REQUIRE(s.compact(3).ok());
    CHECK(s.first_index() == 4);
    CHECK(s.last_index() == 5);
    CHECK(*s.term(3) == 3);
    CHECK(s.term(2).error() == raft_error::compacted);
    CHECK(s.term(6).error() == raft_error::unavailable);
    CHECK(s.entries(3, 5, no_limit).error() == raft_error::compacted);
    CHECK(s.entries(4, 6, no_limit)->size() == 2);
    CHECK(s.compact(2).error() == raft_error::compacted);
    std::vector<entry> big = make_entries({{6, 5}, {7, 5}, {8, 5}});
    for (entry& e : big) {
        e.data = std::string(100, 'x');
    }
    s.append(big);
    CHECK(s.entries(6, 9, 150)->size() == 1);  // at least one, then within the limit
    CHECK(s.entries(6, 9, 200)->size() == 2);
    s.append(make_entries({{7, 6}}));            // truncates the conflicting suffix
    CHECK(s.last_index() == 7);
    CHECK(*s.term(7) == 6);
}

TEST_CASE("memory_storage: snapshots replace the log and refuse older ones", "[raft][storage]") {
    memory_storage s;
    s.append(make_entries({{1, 1}, {2, 1}, {3, 2}}));
    const conf_state cs{{1, 2, 3}};
    auto snap = s.create_snapshot(2, &cs, "state");
    REQUIRE(snap.ok());
    CHECK(snap->meta.term == 1);
    CHECK(s.create_snapshot(2, &cs, "again").error() == raft_error::snapshot_out_of_date);
    memory_storage t;
    snapshot incoming;
    incoming.meta = snapshot_meta{cs, 10, 4};
    REQUIRE(t.apply_snapshot(incoming).ok());
    CHECK(t.first_index() == 11);
    CHECK(t.last_index() == 10);
    CHECK(*t.term(10) == 4);
    CHECK(t.apply_snapshot(incoming).error() == raft_error::snapshot_out_of_date);
    CHECK(t.initial().conf.voters == cs.voters);
}
