// Go flag-package rules and etcd's environment rules over the real flag table: both dash
// forms, = and space values, bools, "--", and Go's error texts with exit code 2.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "printers.hpp"
#include "uetcd/server/config.hpp"
#include "uetcd/server/flags.hpp"

using namespace uetcd::server;

namespace {

struct parsed_flags {
    flag_set flags{config_flag_specs()};
    std::optional<config_error> error;
};

parsed_flags parse_flags(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    for (const std::string& a : args) {
        argv.push_back(a.c_str());
    }
    parsed_flags out;
    auto parsed = parse_command_line(out.flags, argv);
    if (!parsed) {
        out.error = parsed.error();
    }
    return out;
}

}  // namespace

TEST_CASE("flags: dash forms and value forms all set the flag", "[server][flags]") {
    const std::vector<std::vector<std::string>> forms = {
        {"-name", "n1"}, {"--name", "n1"}, {"-name=n1"}, {"--name=n1"},
        {"--name", "x", "--name", "n1"},  // the last one wins, as in Go
    };
    for (const auto& form : forms) {
        INFO(form.front());
        auto p = parse_flags(form);
        REQUIRE_FALSE(p.error.has_value());
        CHECK(p.flags.value("name").text == "n1");
        CHECK(p.flags.is_set("name"));
        CHECK(p.flags.value("name").source == flag_source::command_line);
    }
}

TEST_CASE("flags: booleans take no separate value", "[server][flags]") {
    struct row {
        std::vector<std::string> args;
        const char* debug;
        std::vector<std::string> positionals;
    };
    const std::vector<row> rows = {
        {{"--debug"}, "true", {}},
        {{"-debug=false"}, "false", {}},
        {{"--debug=0"}, "0", {}},
        {{"--debug=T"}, "T", {}},
        {{"--debug", "false"}, "true", {"false"}},  // "false" is a positional, as in Go
    };
    for (const row& r : rows) {
        INFO(r.args.front());
        auto p = parse_flags(r.args);
        REQUIRE_FALSE(p.error.has_value());
        CHECK(p.flags.value("debug").text == r.debug);
        CHECK(p.flags.positionals == r.positionals);
    }
}

TEST_CASE("flags: parsing stops at a positional or at --", "[server][flags]") {
    auto p = parse_flags({"--name", "a", "extra", "--bogus"});
    REQUIRE_FALSE(p.error.has_value());
    CHECK(p.flags.positionals == std::vector<std::string>{"extra", "--bogus"});
    p = parse_flags({"--name=a", "--", "--debug"});
    REQUIRE_FALSE(p.error.has_value());
    CHECK(p.flags.positionals == std::vector<std::string>{"--debug"});
    CHECK_FALSE(p.flags.is_set("debug"));
    p = parse_flags({"--name=a", "--"});
    REQUIRE_FALSE(p.error.has_value());
    CHECK(p.flags.positionals.empty());
    p = parse_flags({"-"});
    REQUIRE_FALSE(p.error.has_value());
    CHECK(p.flags.positionals == std::vector<std::string>{"-"});
}

TEST_CASE("flags: -h, -help and --help ask for help", "[server][flags]") {
    for (const char* form : {"-h", "--h", "-help", "--help", "--help=x"}) {
        INFO(form);
        auto p = parse_flags({"--debug", form, "--bogus"});
        REQUIRE_FALSE(p.error.has_value());
        CHECK(p.flags.help_requested);
    }
}

TEST_CASE("flags: syntax errors are Go's texts with exit code 2", "[server][flags]") {
    struct row {
        std::vector<std::string> args;
        const char* error;
    };
    // Each text was compared with etcd 3.4.23's output for the same arguments.
    const std::vector<row> rows = {
        {{"--bogus"}, "flag provided but not defined: -bogus"},
        {{"-bogus=1"}, "flag provided but not defined: -bogus"},
        {{"---x"}, "bad flag syntax: ---x"},
        {{"-=x"}, "bad flag syntax: -=x"},
        {{"--name"}, "flag needs an argument: -name"},
        {{"-snapshot-count=abc"}, "invalid value \"abc\" for flag -snapshot-count: parse error"},
        {{"--snapshot-count", "-1"}, "invalid value \"-1\" for flag -snapshot-count: parse error"},
        {{"--max-wals=99999999999999999999"},
            "invalid value \"99999999999999999999\" for flag -max-wals: value out of range"},
        {{"--debug=maybe"}, "invalid boolean value \"maybe\" for -debug: parse error"},
        {{"--initial-cluster-state=bad"},
            "invalid value \"bad\" for flag -initial-cluster-state: invalid value"},
        {{"--proxy=bad"}, "invalid value \"bad\" for flag -proxy: invalid value"},
        {{"--io-engine=aio"}, "invalid value \"aio\" for flag -io-engine: invalid value"},
        {{"--listen-peer-urls=ftp://x:1"}, "invalid value \"ftp://x:1\" for flag "
                                           "-listen-peer-urls: URL scheme must be http or "
                                           "https: ftp://x:1"},
        {{"--listen-peer-urls=http://127.0.0.1"},
            "invalid value \"http://127.0.0.1\" for flag -listen-peer-urls: URL address does "
            "not have the form \"host:port\": http://127.0.0.1"},
        {{"--cors=:bad"}, "invalid value \":bad\" for flag -cors: parse \":bad\": missing "
                          "protocol scheme"},
        {{"--peers=a"}, "invalid value \"a\" for flag -peers: flag \"-peers\" is no longer "
                        "supported."},
        {{"--peers-file", "f"}, "invalid value \"f\" for flag -peers-file: flag "
                                "\"-peers-file\" is no longer supported."},
        {{"--addr=foo:1"}, "invalid value \"foo:1\" for flag -addr: bad IP in address "
                           "specification"},
        {{"--addr=1.2.3.4:x"}, "invalid value \"1.2.3.4:x\" for flag -addr: bad port in "
                               "address specification"},
        {{"--addr=1.2.3.4"}, "invalid value \"1.2.3.4\" for flag -addr: address 1.2.3.4: "
                             "missing port in address"},
    };
    for (const row& r : rows) {
        INFO(r.args.front());
        auto p = parse_flags(r.args);
        REQUIRE(p.error.has_value());
        CHECK(p.error->exit_code == 2);
        CHECK(p.error->message == r.error);
        CHECK(p.error->line() == r.error);
    }
}

TEST_CASE("flags: numbers parse as Go's strconv with base prefixes", "[server][flags]") {
    CHECK(parse_go_uint("0").value() == 0);
    CHECK(parse_go_uint("10000").value() == 10000);
    CHECK(parse_go_uint("0x10").value() == 16);
    CHECK(parse_go_uint("010").value() == 8);
    CHECK(parse_go_uint("0b11").value() == 3);
    CHECK(parse_go_uint("0o17").value() == 15);
    CHECK(parse_go_uint("0x1_0").value() == 16);
    CHECK(parse_go_uint("18446744073709551615").value() == UINT64_MAX);
    CHECK(parse_go_uint("18446744073709551616").error() == "value out of range");
    CHECK(parse_go_uint("08").error() == "parse error");
    CHECK(parse_go_uint("1_0").error() == "parse error");
    CHECK(parse_go_uint("").error() == "parse error");
    CHECK(parse_go_uint("+1").error() == "parse error");
    CHECK(parse_go_int("-5").value() == -5);
    CHECK(parse_go_int("-9223372036854775808").value() == INT64_MIN);
    CHECK(parse_go_int("9223372036854775808").error() == "value out of range");
}

TEST_CASE("flags: ignored 0.4 flags warn and take no value", "[server][flags]") {
    auto p = parse_flags({"-v", "--snapshot", "--max-retry-attempts=3", "--name", "n"});
    REQUIRE_FALSE(p.error.has_value());
    CHECK(p.flags.value("name").text == "n");
    REQUIRE(p.flags.notes.size() == 3);
    CHECK(p.flags.notes[0] == log_record{log_level::warning, "flags",
                                  "flag \"-v\" is no longer supported - ignoring."});
    CHECK(p.flags.notes[2].text == "flag \"-max-retry-attempts\" is no longer supported - "
                                   "ignoring.");
}

TEST_CASE("flags: environment names", "[server][flags]") {
    CHECK(flag_to_env("data-dir") == "ETCD_DATA_DIR");
    CHECK(flag_to_env("experimental-gRPC-addr") == "ETCD_EXPERIMENTAL_GRPC_ADDR");
    CHECK(flag_to_env("v") == "ETCD_V");
    environment env({"A=1", "B=", "C=x=y", "NOEQUALS"});
    CHECK(env.get("A") == "1");
    CHECK(env.get("B").empty());
    CHECK(env.get("C") == "x=y");
    CHECK(env.get("NOEQUALS").empty());
    const char* envp[] = {"ETCD_NAME=z", "PATH=/bin", nullptr};
    CHECK(environment::from_envp(envp).get("ETCD_NAME") == "z");
}

TEST_CASE("flags: environment fills only flags not on the command line", "[server][flags]") {
    auto p = parse_flags({"--name", "cli"});
    environment env({"ETCD_NAME=env", "ETCD_DATA_DIR=/d", "ETCD_WAL_DIR=", "ETCD_BOGUS=1",
        "HOME=/root", "BROKEN"});
    auto applied = apply_environment(p.flags, env);
    REQUIRE(applied.ok());
    CHECK(p.flags.value("name").text == "cli");
    CHECK(p.flags.value("data-dir").text == "/d");
    CHECK(p.flags.value("data-dir").source == flag_source::environment);
    CHECK_FALSE(p.flags.is_set("wal-dir"));  // empty counts as unset
    CHECK(p.flags.environment_used ==
          std::vector<std::pair<std::string, std::string>>{{"ETCD_DATA_DIR", "/d"}});
    const std::vector<log_record> expected = {
        {log_level::info, "flags", "recognized and used environment variable ETCD_DATA_DIR=/d"},
        {log_level::info, "flags",
            "recognized environment variable ETCD_NAME, but unused: shadowed by "
            "corresponding flag"},
        // etcd 2.3.8 quirk: an empty known variable is unused, so it reads as unknown.
        {log_level::warning, "flags", "unrecognized environment variable ETCD_WAL_DIR="},
        {log_level::warning, "flags", "unrecognized environment variable ETCD_BOGUS=1"},
        {log_level::warning, "flags", "found invalid env BROKEN"},
    };
    CHECK(p.flags.notes == expected);
}

TEST_CASE("flags: a bad environment value is an exit-1 error", "[server][flags]") {
    struct row {
        const char* variable;
        const char* error;
    };
    const row rows[] = {
        {"ETCD_SNAPSHOT_COUNT=abc", "invalid value \"abc\" for ETCD_SNAPSHOT_COUNT: parse error"},
        {"ETCD_DEBUG=yes", "invalid value \"yes\" for ETCD_DEBUG: parse error"},
        {"ETCD_PROXY=maybe", "invalid value \"maybe\" for ETCD_PROXY: invalid value"},
        {"ETCD_PEERS=a", "invalid value \"a\" for ETCD_PEERS: flag \"-peers\" is no longer "
                         "supported."},
        {"ETCD_LISTEN_CLIENT_URLS=x", "invalid value \"x\" for ETCD_LISTEN_CLIENT_URLS: URL "
                                      "scheme must be http or https: x"},
    };
    for (const row& r : rows) {
        INFO(r.variable);
        auto p = parse_flags({});
        auto applied = apply_environment(p.flags, environment({r.variable}));
        REQUIRE_FALSE(applied.ok());
        CHECK(applied.error().exit_code == 1);
        CHECK(applied.error().message == r.error);
    }
}

TEST_CASE("flags: with several bad variables the last by name is reported", "[server][flags]") {
    auto p = parse_flags({});
    auto applied = apply_environment(p.flags,
        environment({"ETCD_SNAPSHOT_COUNT=x", "ETCD_DEBUG=y", "ETCD_MAX_WALS=z"}));
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().message == "invalid value \"x\" for ETCD_SNAPSHOT_COUNT: parse error");
}
