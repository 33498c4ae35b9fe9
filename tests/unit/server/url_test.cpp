// URL lists, member maps and bind addresses: etcd's accepted forms and its error texts
// (the expected errors were checked against etcd 3.4.23 where the rule is the same).
#include <catch2/catch.hpp>

#include "uetcd/server/url.hpp"

using namespace uetcd::server;

TEST_CASE("url: accepted forms keep host, port and the printed text", "[server][url]") {
    struct row {
        const char* input;
        const char* scheme;
        const char* host;
        unsigned port;
        const char* text;
    };
    const row rows[] = {
        {"http://127.0.0.1:2379", "http", "127.0.0.1", 2379, "http://127.0.0.1:2379"},
        {"https://localhost:2380", "https", "localhost", 2380, "https://localhost:2380"},
        {"  http://10.0.0.1:1  ", "http", "10.0.0.1", 1, "http://10.0.0.1:1"},
        {"HTTP://a.example:80", "http", "a.example", 80, "http://a.example:80"},
        {"http://[::1]:2379", "http", "::1", 2379, "http://[::1]:2379"},
        {"http://:2379", "http", "", 2379, "http://:2379"},
        {"http://127.0.0.1:0", "http", "127.0.0.1", 0, "http://127.0.0.1:0"},
    };
    for (const row& r : rows) {
        INFO(r.input);
        auto parsed = parse_url(r.input);
        REQUIRE(parsed.ok());
        CHECK(parsed->scheme == r.scheme);
        CHECK(parsed->host == r.host);
        CHECK(parsed->port == r.port);
        CHECK(parsed->text == r.text);
    }
}

TEST_CASE("url: rejected forms give etcd's error text", "[server][url]") {
    struct row {
        const char* input;
        const char* error;
    };
    const row rows[] = {
        {"ftp://x:1", "URL scheme must be http or https: ftp://x:1"},
        {"unix://x:1", "URL scheme must be http or https: unix://x:1"},
        {"localhost:2379", "URL scheme must be http or https: localhost:2379"},
        {"", "URL scheme must be http or https: "},
        {"http://127.0.0.1",
            "URL address does not have the form \"host:port\": http://127.0.0.1"},
        {"http://::1:2379",
            "URL address does not have the form \"host:port\": http://::1:2379"},
        {"http://127.0.0.1:1/p", "URL must not contain a path: http://127.0.0.1:1/p"},
        {"http://127.0.0.1:1/", "URL must not contain a path: http://127.0.0.1:1/"},
        {":bad", "parse \":bad\": missing protocol scheme"},
        {"127.0.0.1:2379",
            "parse \"127.0.0.1:2379\": first path segment in URL cannot contain colon"},
        {"http://h:abc", "parse \"http://h:abc\": invalid port \":abc\" after host"},
        {"http://h:70000", "URL port out of range: http://h:70000"},
    };
    for (const row& r : rows) {
        INFO(r.input);
        auto parsed = parse_url(r.input);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error() == r.error);
    }
}

TEST_CASE("url: a list is sorted by text and keeps duplicates", "[server][url]") {
    auto parsed = parse_url_list("http://b:2,http://a:1,http://b:2");
    REQUIRE(parsed.ok());
    CHECK(join_urls(parsed.value()) == "http://a:1,http://b:2,http://b:2");
    auto bad = parse_url_list("http://a:1,,http://b:2");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error() == "URL scheme must be http or https: ");
}

TEST_CASE("url: bind addresses follow Go's net.Listen", "[server][url]") {
    struct row {
        const char* input;
        const char* ip;
        bool ipv6;
        bool dual_stack;
    };
    const row rows[] = {
        {"http://localhost:2379", "127.0.0.1", false, false},
        {"http://127.0.0.1:2379", "127.0.0.1", false, false},
        {"http://[::1]:2379", "::1", true, false},
        {"http://:2379", "::", true, true},
        {"http://[::]:2379", "::", true, true},
        {"http://0.0.0.0:2379", "0.0.0.0", false, false},
    };
    for (const row& r : rows) {
        INFO(r.input);
        auto bind = resolve_bind_address(parse_url(r.input).value());
        REQUIRE(bind.ok());
        CHECK(bind->ip == r.ip);
        CHECK(bind->port == 2379);
        CHECK(bind->ipv6 == r.ipv6);
        CHECK(bind->dual_stack == r.dual_stack);
    }
    auto named = resolve_bind_address(parse_url("http://foo:1").value());
    REQUIRE_FALSE(named.ok());
    CHECK(named.error() == "expected IP in URL for binding (http://foo:1)");
}

TEST_CASE("url: IP literals as Go's net.ParseIP", "[server][url]") {
    CHECK(is_ip_literal("1.2.3.4"));
    CHECK(is_ip_literal("::1"));
    CHECK(is_ip_literal("::ffff:1.2.3.4"));
    CHECK_FALSE(is_ip_literal("localhost"));
    CHECK_FALSE(is_ip_literal("1.2.3"));
    CHECK_FALSE(is_ip_literal("01.2.3.4"));
    CHECK_FALSE(is_ip_literal("256.1.1.1"));
    CHECK_FALSE(is_ip_literal("fe80::1%eth0"));
    CHECK_FALSE(is_ip_literal(""));
}

TEST_CASE("url: split_host_port errors are Go's", "[server][url]") {
    CHECK(split_host_port("a:1").value() == std::pair<std::string, std::string>{"a", "1"});
    CHECK(split_host_port("[::1]:1").value() == std::pair<std::string, std::string>{"::1", "1"});
    CHECK(split_host_port(":1").value() == std::pair<std::string, std::string>{"", "1"});
    CHECK(split_host_port("a").error() == "address a: missing port in address");
    CHECK(split_host_port("::1:2").error() == "address ::1:2: too many colons in address");
    CHECK(split_host_port("[::1:2").error() == "address [::1:2: missing ']' in address");
    CHECK(split_host_port("[::1]x:2").error() == "address [::1]x:2: missing port in address");
}

TEST_CASE("url: initial-cluster keeps names, repeats and order", "[server][url]") {
    auto parsed = parse_initial_cluster(
        "b=http://10.0.0.2:2380,a=http://10.0.0.1:2380,,a=http://10.0.0.1:7001");
    REQUIRE(parsed.ok());
    REQUIRE(parsed->size() == 3);
    CHECK((*parsed)[0].first == "b");
    CHECK((*parsed)[1].first == "a");
    CHECK((*parsed)[2].second.text == "http://10.0.0.1:7001");
    CHECK(parse_initial_cluster("").value().empty());
    CHECK(parse_initial_cluster("foo").error() == "URL scheme must be http or https: ");
    CHECK(parse_initial_cluster("a=http://x").error() ==
          "URL address does not have the form \"host:port\": http://x");
}

TEST_CASE("url: split_on and trim_spaces follow Go's strings package", "[server][url]") {
    using pieces = std::vector<std::string_view>;
    CHECK(split_on("a,b", ',') == pieces{"a", "b"});
    CHECK(split_on("", ',') == pieces{""});
    CHECK(split_on(",a,", ',') == pieces{"", "a", ""});
    CHECK(trim_spaces(" \t a b \r\n") == "a b");
    CHECK(trim_spaces("   ").empty());
}
