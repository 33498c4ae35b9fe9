// etcdctl's command line, parsed the way Go etcdctl v2 (urfave/cli v1 over Go's flag package)
// parses it: global flags up to the command name, then per-command flags that may follow the
// positional arguments (urfave's reordering) until a "--". Pure: no I/O, no environment reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"

namespace uetcd::ctl {

enum class flag_kind : std::uint8_t { boolean, text, integer, duration };

struct flag_spec {
    std::string_view names;  // "recursive, r": the long name first, aliases after commas
    flag_kind kind = flag_kind::boolean;
    std::string_view default_value;  // as written on a command line ("2s", "simple", "0")
};

struct flag_value {
    std::string name;  // the spec's first name
    std::string text;  // "true"/"false" for booleans
};

struct parsed_flags {
    std::vector<flag_value> values;  // one per spec, in spec order, defaults filled in
    std::vector<std::string> args;   // positional arguments in order

    // The value of the flag whose first name is `name`; asserts that it exists.
    const std::string& text(std::string_view name) const;
    bool boolean(std::string_view name) const;
    std::int64_t integer(std::string_view name) const;  // already validated by parse
    bool was_set(std::string_view name) const;

    // Every value given for the flag, in order (urfave StringSlice flags such as --roles).
    std::vector<std::string> all(std::string_view name) const;

    std::vector<std::string> set_names;  // first names of flags given on the command line
    std::vector<flag_value> given;       // (first name, value) for each flag on the line
};

// Go's flag package on `args` with `specs`: "-f", "--f", "-f=v", "--f v"; booleans take no
// separate value; parsing stops at the first non-flag or after "--". `reorder` applies
// urfave's reordering first (command flags only). Errors are Go's texts
// ("flag provided but not defined: -x", "invalid value \"q\" for flag -ttl: parse error").
result<parsed_flags, std::string> parse_flags(const std::vector<flag_spec>& specs,
    const std::vector<std::string>& args, bool reorder);

// Go's time.ParseDuration into nanoseconds ("2s", "1m30s", "500ms", "1.5h"); nullopt when bad.
std::optional<std::int64_t> parse_go_duration_ns(std::string_view text);

// The global options etcdctl knows, with 3.4's defaults.
const std::vector<flag_spec>& global_flag_specs();

struct global_options {
    std::vector<std::string> endpoints;  // resolved: flag/env order, scheme added, never empty
    std::string output = "simple";
    bool no_sync = false;
    bool debug = false;
    bool help = false;
    bool version = false;
    std::int64_t timeout_ns = 2'000'000'000;
    std::int64_t total_timeout_ns = 5'000'000'000;
    std::string username;  // "user" or "user:pass"
    std::string ca_file, cert_file, key_file;
};

// Looks an environment variable up; the caller passes getenv (tests pass a table).
using env_lookup = std::optional<std::string> (*)(const char* name, void* context);

// The global options from parsed global flags and the environment, with etcdctl's lookup
// order for endpoints: --endpoints, ETCDCTL_ENDPOINTS, --endpoint, ETCDCTL_ENDPOINT, --peers,
// ETCDCTL_PEERS, then http://127.0.0.1:2379,http://127.0.0.1:4001.
result<global_options, std::string> resolve_global_options(const parsed_flags& flags,
    env_lookup env, void* env_context);

// The Go "http://" default for an endpoint written without a scheme.
std::string normalize_endpoint(std::string_view endpoint);

}  // namespace uetcd::ctl
