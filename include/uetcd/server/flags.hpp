// Go `flag` package semantics over a table of flag specs, plus etcd's pkg/flags rules for
// ETCD_* environment variables. Produces raw text values; config.hpp turns them into a
// typed config. Pure: the environment is passed in.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/server/log.hpp"

namespace uetcd::server {

// One failure of flag parsing or config validation, with the exit code etcd uses:
// 2 for flag syntax (Go's flag package: etcd prints the message, then the usage), 1 for a
// configuration error (etcd logs "error verifying flags, <message>. See 'etcd --help'.").
struct config_error {
    int exit_code = 1;
    std::string message;  // one line, no trailing newline
    std::string hint;     // a second line etcd logs for some errors, else empty

    // The line to print: the bare message for exit 2 (to stderr, before usage_text()),
    // etcd's "error verifying flags, ..." wording for exit 1 (an E record of etcdmain).
    std::string line() const;
};

// How a flag's value is checked when set (the Go flag.Value kinds etcd uses).
enum class flag_kind : std::uint8_t {
    string,
    uint,        // Go uint: strconv.ParseUint(s, 0, 64)
    integer,     // Go int: strconv.ParseInt(s, 0, 64)
    boolean,     // no value needed; -f=false to turn off
    urls,        // pkg/flags URLsValue
    choice,      // pkg/flags StringsFlag: one of `choices`, else "invalid value"
    ip_port,     // pkg/flags IPAddressPort (legacy -addr and friends)
    cors,        // pkg/cors CORSInfo
    ignored,     // etcd 0.4 flag: boolean-like, warns and is ignored
    deprecated,  // -peers, -peers-file: setting it fails
};

// What uetcd does with a flag beyond parsing it.
enum class flag_support : std::uint8_t {
    full,     // honoured
    ignored,  // an etcd 3.4 flag without meaning here: accepted, a warning is logged
    refused,  // an etcd 3.4 flag whose silent loss would weaken security: exit 1
};

struct flag_spec {
    std::string_view name;
    flag_kind kind;
    std::string_view default_value;
    std::string_view choices = {};  // for flag_kind::choice: "new|existing"
    flag_support support = flag_support::full;
};

enum class flag_source : std::uint8_t { default_value, command_line, environment };

struct flag_value {
    std::string text;
    flag_source source = flag_source::default_value;
    bool set() const { return source != flag_source::default_value; }
};

// Parse state of one flag set: a value per spec, the notes to log, and the flow result.
struct flag_set {
    std::span<const flag_spec> specs;
    std::vector<flag_value> values;        // parallel to specs
    std::vector<std::string> positionals;  // arguments left after the flags
    std::vector<log_record> notes;         // warnings and infos to log once logging is up
    std::vector<std::pair<std::string, std::string>> environment_used;  // ETCD_X, value
    bool help_requested = false;

    explicit flag_set(std::span<const flag_spec> table);
    const flag_spec* find(std::string_view name) const;
    const flag_value& value(std::string_view name) const;  // name must be in the table
    bool is_set(std::string_view name) const;
    // Sets a flag as Go's FlagSet.Set does: validates, then records the value and source.
    result<bool, std::string> set(std::string_view name, std::string_view text,
        flag_source source);
};

// Go's FlagSet.Parse over argv without the program name. "-h"/"-help" (any dashes) sets
// help_requested and stops. Errors are Go's texts with exit code 2, e.g.
// "flag provided but not defined: -x", "flag needs an argument: -name",
// `invalid value "abc" for flag -snapshot-count: parse error`, "bad flag syntax: ---x".
result<bool, config_error> parse_command_line(flag_set& flags,
    std::span<const char* const> arguments);

// The process environment as "KEY=value" strings (what environ holds), in order.
class environment {
public:
    environment() = default;
    explicit environment(std::vector<std::string> entries) : _entries(std::move(entries)) {}
    // Copies a NULL-terminated envp array (environ); pure, reads only the array.
    static environment from_envp(const char* const* envp);

    // The value of `key`, or an empty view when unset (etcd treats empty as unset).
    std::string_view get(std::string_view key) const;
    const std::vector<std::string>& entries() const { return _entries; }

private:
    std::vector<std::string> _entries;
};

// "data-dir" -> "ETCD_DATA_DIR" (pkg/flags flagToEnv).
std::string flag_to_env(std::string_view flag_name);

// etcd 2.3.8 pkg/flags SetFlagsFromEnv: each flag not given on the command line takes a
// non-empty ETCD_<NAME>; notes record "recognized and used environment variable ...",
// shadowed variables and unknown ETCD_* ones. A bad value is an error (exit 1; with
// several, the last in flag-name order, as etcd reports):
// `invalid value "v" for ETCD_X: parse error`.
result<bool, config_error> apply_environment(flag_set& flags, const environment& env);

// Checks a value for a kind, as the flag's Set would; returns Go's error text.
result<bool, std::string> validate_flag_value(const flag_spec& spec, std::string_view text);

// Go strconv.ParseUint(s, 0, 64) / ParseBool, with the flag package's error words
// ("parse error", "value out of range").
result<std::uint64_t, std::string> parse_go_uint(std::string_view text);
result<std::int64_t, std::string> parse_go_int(std::string_view text);
result<bool, std::string> parse_go_bool(std::string_view text);

}  // namespace uetcd::server
