// The replicated command: codec round trip, total decoding, and etcd's dispatch.
#include <catch2/catch.hpp>

#include "store_test_support.hpp"
#include "uetcd/store/command.hpp"

using namespace store_test;

namespace {

std::vector<command> sample_commands() {
    command put;
    put.path = "/1/a";
    put.value = std::string("v\0<", 3);
    put.expiration_ns = t0_ns;
    command cas = put;
    cas.prev_value = "old";
    cas.prev_index = 7;
    cas.prev_exist = true;
    command create = put;
    create.prev_exist = false;
    create.dir = true;
    command post;
    post.method = command_method::post;
    post.path = "/1/q";
    command del;
    del.method = command_method::del;
    del.path = "/1/d";
    del.recursive = true;
    command qget;
    qget.method = command_method::qget;
    qget.path = "/1";
    qget.sorted = true;
    command sync;
    sync.method = command_method::sync;
    sync.sync_time_ns = t0_ns;
    command refresh = put;
    refresh.refresh = true;
    return {put, cas, create, post, del, qget, sync, refresh};
}

}  // namespace

TEST_CASE("command: encode then decode gives the same command", "[store][command]") {
    for (const command& c : sample_commands()) {
        auto decoded = decode_command(encode_command(c));
        REQUIRE(decoded);
        CHECK(decoded.value() == c);
    }
}

TEST_CASE("command: malformed bytes are refused", "[store][command]") {
    for (const command& c : sample_commands()) {
        const std::string bytes = encode_command(c);
        for (std::size_t size = 0; size < bytes.size(); ++size) {
            CHECK_FALSE(decode_command(std::string_view(bytes).substr(0, size)));
        }
        CHECK_FALSE(decode_command(bytes + "x"));
    }
    std::string bad_method = encode_command(sample_commands()[0]);
    bad_method[3] = 9;
    CHECK_FALSE(decode_command(bad_method));
    std::string bad_flags = encode_command(sample_commands()[0]);
    bad_flags[4] = 32;  // a prev_exist value without prev_exist set
    CHECK_FALSE(decode_command(bad_flags));
}

TEST_CASE("command: apply follows etcd's applierV2store dispatch", "[store][command]") {
    tree t;
    struct row {
        command_method method;
        std::optional<bool> prev_exist;
        std::string prev_value;
        std::uint64_t prev_index;
        bool ok;
        action act;
    };
    const row rows[] = {
        {command_method::put, std::nullopt, "", 0, true, action::set},
        {command_method::put, false, "", 0, false, action::create},       // exists: 105
        {command_method::put, true, "", 0, true, action::update},
        {command_method::put, true, "v", 0, true, action::compare_and_swap},
        {command_method::put, std::nullopt, "", 3, true, action::compare_and_swap},
        {command_method::put, std::nullopt, "nope", 0, false, action::compare_and_swap},
        {command_method::del, std::nullopt, "v", 0, true, action::compare_and_delete},
        {command_method::put, false, "", 0, true, action::create},
        {command_method::del, std::nullopt, "", 0, true, action::del},
        {command_method::post, std::nullopt, "", 0, true, action::create},
        {command_method::qget, std::nullopt, "", 0, true, action::get},
    };
    for (const row& r : rows) {
        command c;
        c.method = r.method;
        c.path = "/1/k";
        c.value = "v";
        c.prev_exist = r.prev_exist;
        c.prev_value = r.prev_value;
        c.prev_index = r.prev_index;
        c.recursive = r.method == command_method::qget;
        INFO("row " << (&r - rows));
        auto applied = apply_command(t, c, t0_ns);
        REQUIRE(static_cast<bool>(applied) == r.ok);
        if (r.ok) {
            CHECK(applied.value()->act == r.act);
        }
    }
    command sync;
    sync.method = command_method::sync;
    sync.sync_time_ns = t0_ns;
    REQUIRE(t.set("/1/ttl", false, "v", ttl_at(t0_ns), t0_ns));
    auto synced = apply_command(t, sync, t0_ns);
    REQUIRE(synced);
    CHECK(synced.value() == nullptr);
    CHECK(t.current_stats().expire_count == 1);
}
