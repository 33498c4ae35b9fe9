// JSON writers: Go's escaping, RFC 3339 times, ttl rounding, errors and stats.
#include <catch2/catch.hpp>

#include "store_test_support.hpp"

using namespace store_test;

TEST_CASE("errors: the table holds etcd's codes, messages and statuses", "[store][errors]") {
    struct row {
        error_code code;
        int status;
        std::string_view message;
    };
    const row rows[] = {
        {error_code::key_not_found, 404, "Key not found"},
        {error_code::test_failed, 412, "Compare failed"},
        {error_code::not_file, 403, "Not a file"},
        {error_code::not_dir, 400, "Not a directory"},
        {error_code::node_exist, 412, "Key already exists"},
        {error_code::root_read_only, 400, "Root is read only"},
        {error_code::dir_not_empty, 403, "Directory not empty"},
        {error_code::unauthorized, 401, "The request requires user authentication"},
        {error_code::prev_value_required, 400, "PrevValue is Required in POST form"},
        {error_code::ttl_nan, 400, "The given TTL in POST form is not a number"},
        {error_code::index_nan, 400, "The given index in POST form is not a number"},
        {error_code::invalid_field, 400, "Invalid field"},
        {error_code::invalid_form, 400, "Invalid POST form"},
        {error_code::refresh_value, 400, "Value provided on refresh"},
        {error_code::refresh_ttl_required, 400, "A TTL must be provided on refresh"},
        {error_code::raft_internal, 500, "Raft Internal Error"},
        {error_code::leader_elect, 500, "During Leader Election"},
        {error_code::watcher_cleared, 400, "watcher is cleared due to etcd recovery"},
        {error_code::event_index_cleared, 400,
            "The event in requested index is outdated and cleared"},
        {error_code::client_internal, 400, "Client Internal Error"},
    };
    for (const row& r : rows) {
        const error e{r.code, "", 0};
        CHECK(e.http_status() == r.status);
        CHECK(e.message() == r.message);
    }
    CHECK(std::size(error_table) == 32);
    const error unknown{static_cast<error_code>(999), "x", 1};
    CHECK(unknown.http_status() == 400);
    CHECK(unknown.message().empty());
}

TEST_CASE("errors: JSON body omits an empty cause and strips the keys prefix",
    "[store][errors]") {
    std::string out;
    write_error_json(out, error{error_code::key_not_found, "/1/a", 6}, "/1");
    CHECK(out ==
          "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/a\",\"index\":6}\n");
    out.clear();
    write_error_json(out, error{error_code::not_file, "/1", 26}, "/1");
    CHECK(out == "{\"errorCode\":102,\"message\":\"Not a file\",\"index\":26}\n");
    out.clear();
    write_error_json(out, error{error_code::unauthorized, "Insufficient credentials", 0});
    CHECK(out == "{\"errorCode\":110,\"message\":\"The request requires user authentication\","
                 "\"cause\":\"Insufficient credentials\",\"index\":0}\n");
}

TEST_CASE("json: strings are escaped as Go's encoding/json does", "[store][json]") {
    const std::pair<std::string, std::string> rows[] = {
        {"plain", R"("plain")"},
        {"<a&b>", R"("\u003ca\u0026b\u003e")"},
        {"q\"b\\", R"("q\"b\\")"},
        {"\n\r\t", R"("\n\r\t")"},
        {std::string("\b\f\x01\x1f", 4), R"("\u0008\u000c\u0001\u001f")"},
        {"\xe2\x80\xa8\xe2\x80\xa9", R"("\u2028\u2029")"},
        {"\xc3\xa9", "\"\xc3\xa9\""},
        {"\xff", R"("\ufffd")"},
        {"\xc3", R"("\ufffd")"},
        {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},  // a surrogate is invalid UTF-8
        {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
        {"\x7f", "\"\x7f\""},
    };
    for (const auto& [input, expected] : rows) {
        node_view n;
        n.value = input;
        std::string out;
        write_node_json(out, n, "");
        CHECK(out == "{\"value\":" + expected + "}");
    }
}

TEST_CASE("json: expiration is RFC 3339 with trimmed nanoseconds, UTC", "[store][json]") {
    const std::pair<time_ns, std::string_view> rows[] = {
        {1'764'000'000LL * second_ns, "2025-11-24T16:00:00Z"},
        {1'764'000'000LL * second_ns + 440'678'220, "2025-11-24T16:00:00.44067822Z"},
        {1'764'000'000LL * second_ns + 1, "2025-11-24T16:00:00.000000001Z"},
        {1'764'000'000LL * second_ns + 500'000'000, "2025-11-24T16:00:00.5Z"},
        {951'782'400LL * second_ns, "2000-02-29T00:00:00Z"},
        {-1, "1969-12-31T23:59:59.999999999Z"},
        {4'102'444'800LL * second_ns, "2100-01-01T00:00:00Z"},
    };
    for (const auto& [t, expected] : rows) {
        std::string out;
        append_rfc3339_nano(out, t);
        CHECK(out == expected);
    }
}

TEST_CASE("json: ttl is ceil((expire - now) / 1s) with Go's truncation", "[store][json]") {
    const std::pair<time_ns, std::int64_t> rows[] = {
        {100 * second_ns, 100},
        {99 * second_ns + 1, 100},
        {300'000'000, 1},
        {0, 0},
        {-300'000'000, 0},
        {-1'500'000'000, -1},
        {-2 * second_ns, -2},
    };
    for (const auto& [left_ns, ttl] : rows) {
        CHECK(ttl_seconds(t0_ns + left_ns, t0_ns) == ttl);
    }
    CHECK(ttl_seconds(permanent, t0_ns) == 0);
}

TEST_CASE("json: node fields follow etcd's order and omitempty rules", "[store][json]") {
    node_view n;
    n.key = "/1/d";
    n.dir = true;
    n.expire_time_ns = t0_ns;
    n.ttl_s = 5;
    n.modified_index = 7;
    n.created_index = 6;
    node_view child;
    child.key = "/1/d/x";
    child.value = "";
    child.modified_index = 7;
    child.created_index = 7;
    n.nodes.push_back(child);
    std::string out;
    write_node_json(out, n, "/1");
    CHECK(out == R"({"key":"/d","dir":true,"expiration":"2025-11-24T16:00:00Z","ttl":5,)"
                 R"("nodes":[{"key":"/d/x","value":"","modifiedIndex":7,"createdIndex":7}],)"
                 R"("modifiedIndex":7,"createdIndex":6})");
    event e;
    e.act = action::set;
    e.node = child;
    out.clear();
    write_event_json(out, e, json_options{"/1", true});
    CHECK(out == "{\"action\":\"set\"}\n");
    e.act = action::del;
    out.clear();
    write_event_json(out, e, json_options{"/1", true});
    CHECK(out == R"({"action":"delete","node":{"key":"/d/x","value":"","modifiedIndex":7,)"
                 R"("createdIndex":7}})"
                 "\n");
}

TEST_CASE("stats: JSON has etcd's field order and no newline", "[store][stats]") {
    stats s;
    s.gets_fail = 2;
    s.watchers = 3;
    std::string out;
    write_stats_json(out, s);
    CHECK(out == R"({"getsSuccess":0,"getsFail":2,"setsSuccess":0,"setsFail":0,)"
                 R"("deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,)"
                 R"("createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,)"
                 R"("compareAndSwapFail":0,"compareAndDeleteSuccess":0,)"
                 R"("compareAndDeleteFail":0,"expireCount":0,"watchers":3})");
}
