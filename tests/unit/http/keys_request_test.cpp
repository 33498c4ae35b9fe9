// The form -> keys_request table: every validation error etcd 3.4 reports (codes, causes,
// precedence) and the operation each method and flag combination maps to.
#include <catch2/catch.hpp>

#include <string>

#include "uetcd/http/keys_request.hpp"

using namespace uetcd::http;
using uetcd::store::error_code;

namespace {

struct decoded {
    bool ok = false;
    keys_request req;
    error_code code = error_code::key_not_found;
    std::string cause;
};

decoded decode(method m, std::string_view path, std::string_view query,
    std::string_view body = {}) {
    form f;
    f.parse(query, body);
    auto r = decode_keys_request(m, path, f);
    decoded d;
    if (r) {
        d.ok = true;
        d.req = std::move(r).value();
    } else {
        d.code = r.error().code;
        d.cause = r.error().cause;
    }
    return d;
}

}  // namespace

TEST_CASE("keys request: every validation error, code and cause", "[keys]") {
    struct row {
        method m;
        const char* query;
        error_code code;
        const char* cause;
    };
    const row rows[] = {
        {method::get, "a=%zz", error_code::invalid_form, "invalid URL escape \"%zz\""},
        {method::get, "a=1;b=2", error_code::invalid_form,
            "invalid semicolon separator in query"},
        {method::get, "prevIndex=x", error_code::index_nan, "invalid value for \"prevIndex\""},
        {method::get, "prevIndex=-1", error_code::index_nan, "invalid value for \"prevIndex\""},
        {method::get, "prevIndex=", error_code::index_nan, "invalid value for \"prevIndex\""},
        {method::get, "waitIndex=1.5", error_code::index_nan, "invalid value for \"waitIndex\""},
        {method::get, "prevIndex=x&waitIndex=y", error_code::index_nan,
            "invalid value for \"prevIndex\""},
        {method::get, "recursive=tru", error_code::invalid_field,
            "invalid value for \"recursive\""},
        {method::get, "recursive=", error_code::invalid_field,
            "invalid value for \"recursive\""},
        {method::get, "sorted=yes", error_code::invalid_field, "invalid value for \"sorted\""},
        {method::get, "wait=2", error_code::invalid_field, "invalid value for \"wait\""},
        {method::put, "dir=on", error_code::invalid_field, "invalid value for \"dir\""},
        {method::get, "quorum=x", error_code::invalid_field, "invalid value for \"quorum\""},
        {method::get, "stream=x", error_code::invalid_field, "invalid value for \"stream\""},
        {method::get, "stream=x&recursive=x", error_code::invalid_field,
            "invalid value for \"recursive\""},
        {method::put, "wait=true", error_code::invalid_field,
            "\"wait\" can only be used with GET requests"},
        {method::head, "wait=true", error_code::invalid_field,
            "\"wait\" can only be used with GET requests"},
        {method::put, "prevValue=", error_code::prev_value_required,
            "\"prevValue\" cannot be empty"},
        {method::put, "noValueOnSuccess=x", error_code::invalid_field,
            "invalid value for \"noValueOnSuccess\""},
        {method::put, "ttl=abc", error_code::ttl_nan, "invalid value for \"ttl\""},
        {method::put, "ttl=-1", error_code::ttl_nan, "invalid value for \"ttl\""},
        {method::put, "prevExist=maybe", error_code::invalid_field,
            "invalid value for prevExist"},
        {method::put, "refresh=x", error_code::invalid_field, "invalid value for refresh"},
        {method::put, "refresh=true&ttl=5&value=v", error_code::refresh_value,
            "A value was provided on a refresh"},
        {method::put, "refresh=true", error_code::refresh_ttl_required, "No TTL value set"},
        {method::put, "refresh=true&ttl=", error_code::refresh_ttl_required,
            "No TTL value set"},
        {method::put, "ttl=x&prevExist=x", error_code::ttl_nan, "invalid value for \"ttl\""},
        {method::put, "prevValue=&ttl=x", error_code::prev_value_required,
            "\"prevValue\" cannot be empty"},
    };
    for (const row& r : rows) {
        INFO(r.query);
        const auto d = decode(r.m, "/k", r.query);
        REQUIRE_FALSE(d.ok);
        CHECK(static_cast<int>(d.code) == static_cast<int>(r.code));
        CHECK(d.cause == r.cause);
    }
}

TEST_CASE("keys request: form too large is 210 with Go's text", "[keys]") {
    std::string body(form_body_bytes_max + 1, 'a');
    const auto d = decode(method::put, "/k", "", body);
    REQUIRE_FALSE(d.ok);
    CHECK(d.code == error_code::invalid_form);
    CHECK(d.cause == "http: POST too large");
}

TEST_CASE("keys request: accepted values and defaults", "[keys]") {
    auto d = decode(method::put, "/a/b/", "value=v&ttl=&refresh=false&prevExist=True");
    REQUIRE(d.ok);
    CHECK(d.req.path == "/1/a/b");
    CHECK(d.req.value == "v");
    CHECK_FALSE(d.req.ttl_s.has_value());
    CHECK(d.req.prev_exist == std::optional<bool>(true));
    CHECK(d.req.op() == keys_op::update);

    d = decode(method::put, "", "refresh=1&ttl=5&value=");
    REQUIRE(d.ok);
    CHECK(d.req.path == "/1");
    CHECK(d.req.ttl_s == std::optional<std::uint64_t>(5));
    CHECK(d.req.is_refresh());

    d = decode(method::get, "/", "recursive=t&sorted=T&wait=TRUE&stream=True&waitIndex=7");
    REQUIRE(d.ok);
    CHECK(d.req.path == "/1");
    CHECK((d.req.recursive && d.req.sorted && d.req.wait && d.req.stream));
    CHECK(d.req.wait_index == 7);
    CHECK(d.req.op() == keys_op::watch);

    // The body wins over the query; the first value of a repeated key wins.
    d = decode(method::put, "/k", "value=q&value=r", "value=b&value=c");
    REQUIRE(d.ok);
    CHECK(d.req.value == "b");

    d = decode(method::put, "/k", "ttl=18446744073709551615");
    REQUIRE(d.ok);
    CHECK(d.req.ttl_s == std::optional<std::uint64_t>(18446744073709551615ULL));
    d = decode(method::put, "/k", "ttl=18446744073709551616");
    CHECK_FALSE(d.ok);
}

TEST_CASE("keys request: method and flags map to etcd's store operations", "[keys]") {
    struct row {
        method m;
        const char* query;
        keys_op op;
    };
    const row rows[] = {
        {method::get, "", keys_op::get},
        {method::head, "quorum=true", keys_op::get},
        {method::get, "quorum=true&wait=true", keys_op::quorum_get},
        {method::get, "wait=true", keys_op::watch},
        {method::post, "prevExist=false&prevValue=x", keys_op::create_unique},
        {method::put, "", keys_op::set},
        {method::put, "prevIndex=0", keys_op::set},
        {method::put, "prevExist=false", keys_op::create},
        {method::put, "prevExist=false&prevValue=x", keys_op::create},
        {method::put, "prevExist=true", keys_op::update},
        {method::put, "prevExist=true&prevIndex=3", keys_op::compare_and_swap},
        {method::put, "prevValue=a", keys_op::compare_and_swap},
        {method::put, "prevIndex=2", keys_op::compare_and_swap},
        {method::delete_, "", keys_op::remove},
        {method::delete_, "recursive=true&prevExist=x1", keys_op::remove},
        {method::delete_, "prevValue=a", keys_op::compare_and_delete},
        {method::delete_, "prevIndex=9", keys_op::compare_and_delete},
    };
    for (const row& r : rows) {
        INFO(r.query);
        const auto d = decode(r.m, "/k", r.query);
        if (r.m == method::delete_ && std::string_view(r.query).find("x1") !=
                std::string_view::npos) {
            // prevExist is validated for every method (etcd parses it before dispatch).
            CHECK_FALSE(d.ok);
            continue;
        }
        REQUIRE(d.ok);
        CHECK(d.req.op() == r.op);
    }
}

TEST_CASE("keys request: ttl expiration wraps like Go's int64", "[keys]") {
    const std::int64_t now = 1'700'000'000'000'000'000;
    CHECK(expiration_for_ttl(5, now) == now + 5'000'000'000);
    CHECK(expiration_for_ttl(0, now) == now);
    // 9999999999 s overflows time.Duration and lands before 2000: permanent in the store.
    CHECK(expiration_for_ttl(9'999'999'999ULL, now) < 946'684'800LL * 1'000'000'000LL);
}
