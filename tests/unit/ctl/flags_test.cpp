// etcdctl command-line parsing: Go flag + urfave/cli v1 reordering.
#include <catch2/catch.hpp>

#include "uetcd/ctl/flags.hpp"

using namespace uetcd::ctl;

namespace {

const std::vector<flag_spec> set_flags = {{"ttl", flag_kind::integer, "0"},
    {"swap-with-value", flag_kind::text, ""}, {"recursive, r", flag_kind::boolean, ""}};

std::optional<std::string> no_env(const char*, void*) { return std::nullopt; }

std::optional<std::string> table_env(const char* name, void* context) {
    auto* table = static_cast<std::vector<std::pair<std::string, std::string>>*>(context);
    for (const auto& [k, v] : *table) {
        if (k == name) {
            return v;
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("flags: command flags after the arguments are reordered (urfave)", "[ctl]") {
    auto p = parse_flags(set_flags, {"/k", "v", "--ttl", "5", "-r"}, true);
    REQUIRE(p.ok());
    REQUIRE(p->integer("ttl") == 5);
    REQUIRE(p->boolean("recursive"));
    REQUIRE(p->args == std::vector<std::string>{"/k", "v"});
}

TEST_CASE("flags: -flag=value, --flag value, booleans take no value", "[ctl]") {
    auto p = parse_flags(set_flags, {"-ttl=7", "--swap-with-value", "x", "--recursive", "k"},
        true);
    REQUIRE(p.ok());
    REQUIRE(p->integer("ttl") == 7);
    REQUIRE(p->text("swap-with-value") == "x");
    REQUIRE(p->args == std::vector<std::string>{"k"});
    REQUIRE(p->was_set("ttl"));
}

TEST_CASE("flags: unknown flags after a positional stay positional; -- ends reordering",
    "[ctl]") {
    auto p = parse_flags(set_flags, {"k", "-5"}, true);
    REQUIRE(p.ok());
    REQUIRE(p->args == std::vector<std::string>{"k", "-5"});
    auto q = parse_flags(set_flags, {"/w", "--", "sh", "--ttl", "1"}, true);
    REQUIRE(q.ok());
    REQUIRE(q->integer("ttl") == 0);
    REQUIRE(q->args == std::vector<std::string>{"/w", "sh", "--ttl", "1"});
    auto n = parse_flags(set_flags, {"k", "--", "-5"}, true);
    REQUIRE(n->args == std::vector<std::string>{"k", "-5"});
}

TEST_CASE("flags: Go's error texts", "[ctl]") {
    auto p = parse_flags(set_flags, {"-x", "k"}, true);
    REQUIRE(!p.ok());
    REQUIRE(p.error() == "flag provided but not defined: -x");
    auto q = parse_flags(set_flags, {"--ttl", "abc", "k"}, true);
    REQUIRE(q.error() == "invalid value \"abc\" for flag -ttl: parse error");
    auto r = parse_flags(set_flags, {"--ttl"}, true);
    REQUIRE(r.error() == "flag needs an argument: -ttl");
}

TEST_CASE("flags: global flags stop at the command name", "[ctl]") {
    auto p = parse_flags(global_flag_specs(), {"-o", "json", "get", "--sort", "/a"}, false);
    REQUIRE(p.ok());
    REQUIRE(p->text("output") == "json");
    REQUIRE(p->args == std::vector<std::string>{"get", "--sort", "/a"});
}

TEST_CASE("flags: Go durations", "[ctl]") {
    REQUIRE(parse_go_duration_ns("2s") == 2'000'000'000);
    REQUIRE(parse_go_duration_ns("1m30s") == 90'000'000'000);
    REQUIRE(parse_go_duration_ns("500ms") == 500'000'000);
    REQUIRE(parse_go_duration_ns("1.5h") == 5400'000'000'000);
    REQUIRE(parse_go_duration_ns("0") == 0);
    REQUIRE(!parse_go_duration_ns("2"));
    REQUIRE(!parse_go_duration_ns("s"));
}

TEST_CASE("flags: endpoint lookup order and defaults", "[ctl]") {
    auto none = parse_flags(global_flag_specs(), {}, false);
    auto d = resolve_global_options(*none, no_env, nullptr);
    REQUIRE(d->endpoints ==
            std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.1:4001"});
    REQUIRE(d->timeout_ns == 2'000'000'000);
    REQUIRE(d->total_timeout_ns == 5'000'000'000);
    std::vector<std::pair<std::string, std::string>> env = {
        {"ETCDCTL_PEERS", "http://a:1"}, {"ETCDCTL_ENDPOINTS", "b:2,http://c:3"}};
    auto e = resolve_global_options(*none, table_env, &env);
    REQUIRE(e->endpoints == std::vector<std::string>{"http://b:2", "http://c:3"});
    auto peers = parse_flags(global_flag_specs(), {"-C", "http://x:9"}, false);
    auto f = resolve_global_options(*peers, table_env, &env);
    REQUIRE(f->endpoints == std::vector<std::string>{"http://b:2", "http://c:3"});
    auto endpoints = parse_flags(global_flag_specs(), {"--endpoints", "http://y:8"}, false);
    auto g = resolve_global_options(*endpoints, table_env, &env);
    REQUIRE(g->endpoints == std::vector<std::string>{"http://y:8"});
    auto h = resolve_global_options(*peers, no_env, nullptr);
    REQUIRE(h->endpoints == std::vector<std::string>{"http://x:9"});
}
