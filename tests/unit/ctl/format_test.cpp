// etcdctl output formats, error texts and request URLs, against bytes Go etcdctl 3.4 printed.
#include <catch2/catch.hpp>

#include "uetcd/ctl/format.hpp"

using namespace uetcd::ctl;

namespace {

keys_response parse(std::string_view json, std::uint64_t index) {
    auto r = parse_keys_response(json, index);
    REQUIRE(r.ok());
    return std::move(r).value();
}

}  // namespace

TEST_CASE("format: simple, extended and json of a set with a previous node", "[ctl]") {
    auto r = parse(R"({"action":"set","node":{"key":"/a/b","value":"x2","modifiedIndex":5,)"
                   R"("createdIndex":5},"prevNode":{"key":"/a/b","value":"hello",)"
                   R"("modifiedIndex":4,"createdIndex":4}})", 5);
    REQUIRE(format_response(r, "simple").out == "x2\n");
    REQUIRE(format_response(r, "extended").out ==
            "Key: /a/b\nCreated-Index: 5\nModified-Index: 5\nPrevNode.Value: hello\nTTL: 0\n"
            "Index: 5\n\nx2\n");
    REQUIRE(format_response(r, "json").out ==
            R"({"action":"set","node":{"key":"/a/b","value":"x2","nodes":null,"createdIndex":5,)"
            R"("modifiedIndex":5},"prevNode":{"key":"/a/b","value":"hello","nodes":null,)"
            R"("createdIndex":4,"modifiedIndex":4}})" "\n");
    auto bad = format_response(r, "bogus");
    REQUIRE(bad.out.empty());
    REQUIRE(bad.err == "Unsupported output format: bogus\n");
}

TEST_CASE("format: TTL, expiration and dir fields in Go's order", "[ctl]") {
    auto r = parse(R"({"action":"get","node":{"key":"/a/c","value":"x",)"
                   R"("expiration":"2026-11-29T20:01:31.096293816Z","ttl":30,)"
                   R"("modifiedIndex":6,"createdIndex":6}})", 6);
    REQUIRE(response_json(r) ==
            R"({"action":"get","node":{"key":"/a/c","value":"x","nodes":null,"createdIndex":6,)"
            R"("modifiedIndex":6,"expiration":"2026-11-29T20:01:31.096293816Z","ttl":30},)"
            R"("prevNode":null})");
    auto d = parse(R"({"action":"create","node":{"key":"/d2","dir":true,"modifiedIndex":10,)"
                   R"("createdIndex":10}})", 10);
    REQUIRE(response_json(d) ==
            R"({"action":"create","node":{"key":"/d2","dir":true,"value":"","nodes":null,)"
            R"("createdIndex":10,"modifiedIndex":10},"prevNode":null})");
}

TEST_CASE("format: delete prints the previous value", "[ctl]") {
    auto r = parse(R"({"action":"delete","node":{"key":"/a/c","modifiedIndex":8,)"
                   R"("createdIndex":6},"prevNode":{"key":"/a/c","value":"x",)"
                   R"("modifiedIndex":6,"createdIndex":6}})", 8);
    REQUIRE(format_response(r, "simple").out == "PrevNode.Value: x\n");
    REQUIRE(format_response(r, "extended").out ==
            "Key: /a/c\nCreated-Index: 6\nModified-Index: 8\nPrevNode.Value: x\nTTL: 0\n"
            "Index: 8\n");
}

TEST_CASE("format: ls depth-first with -p", "[ctl]") {
    auto r = parse(R"({"action":"get","node":{"dir":true,"nodes":[{"key":"/a","dir":true,)"
                   R"("nodes":[{"key":"/a/b","value":"1"},{"key":"/a/c","dir":true}]},)"
                   R"({"key":"/x","value":"2"}]}})", 3);
    REQUIRE(format_ls(r, true) == "/a/\n/a/b\n/a/c/\n/x\n");
    REQUIRE(format_ls(r, false) == "/a\n/a/b\n/a/c\n/x\n");
    auto file = parse(R"({"action":"get","node":{"key":"/x","value":"2"}})", 3);
    REQUIRE(format_ls(file, true) == "/x\n");
}

TEST_CASE("format: keys error text and JSON", "[ctl]") {
    auto e = parse_keys_error(
        R"({"errorCode":100,"message":"Key not found","cause":"/nokey","index":5})");
    REQUIRE(e.ok());
    REQUIRE(keys_error_text(*e) == "100: Key not found (/nokey) [5]");
    REQUIRE(keys_error_json(*e) ==
            R"({"errorCode":100,"message":"Key not found","cause":"/nokey","index":5})");
    REQUIRE(!parse_keys_error(R"({"message":"x"})").ok());
}

TEST_CASE("format: URLs as Go's net/url writes them", "[ctl]") {
    REQUIRE(keys_path("a/b") == "/v2/keys/a/b");
    REQUIRE(keys_path("/a//b/../c/") == "/v2/keys/a/c/");
    REQUIRE(keys_path("/") == "/v2/keys/");
    REQUIRE(keys_path("") == "/v2/keys");
    REQUIRE(go_path_escape("/v2/keys/q?x y") == "/v2/keys/q%3Fx%20y");
    REQUIRE(encode_query({{"value", "a b"}, {"ttl", "5"}}) == "ttl=5&value=a+b");
    REQUIRE(encode_query({{"value", "{\"x\":\"<&>\"}\n"}}) ==
            "value=%7B%22x%22%3A%22%3C%26%3E%22%7D%0A");
    REQUIRE(go_quote("ttl=5&value=a\"b") == "\"ttl=5&value=a\\\"b\"");
}

TEST_CASE("format: member list lines", "[ctl]") {
    auto ms = parse_members(R"({"members":[{"id":"bdae9bbc11dd390d","name":"ref",)"
                            R"("peerURLs":["http://127.0.0.1:23801"],)"
                            R"("clientURLs":["http://127.0.0.1:23791"]},)"
                            R"({"id":"efb941ab753903ca","name":"",)"
                            R"("peerURLs":["http://127.0.0.1:9999"],"clientURLs":[]}]})");
    REQUIRE(ms.ok());
    REQUIRE(format_member_list(*ms, "bdae9bbc11dd390d") ==
            "bdae9bbc11dd390d: name=ref peerURLs=http://127.0.0.1:23801 "
            "clientURLs=http://127.0.0.1:23791 isLeader=true\n"
            "efb941ab753903ca[unstarted]: peerURLs=http://127.0.0.1:9999\n");
    REQUIRE(api_error_message(R"({"message":"membership: peerURL exists"})") ==
            "membership: peerURL exists");
}
