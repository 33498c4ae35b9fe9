// Go flag-package parsing and etcd's ETCD_* environment rules over a flag table.
// Follows Go's flag.FlagSet.parseOne and etcd 2.3.8 pkg/flags/flag.go step by step, so that
// the same argv produces the same values, errors and exit codes.
#include "uetcd/server/flags.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>

#include "uetcd/server/url.hpp"

namespace uetcd::server {
namespace {

constexpr std::string_view parse_error = "parse error";
constexpr std::string_view range_error = "value out of range";

config_error syntax_error(std::string message) {
    return config_error{2, std::move(message), {}};
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A' + 10;
    }
    return 99;
}

// Go's base-0 rules: 0x/0X hex, 0b/0B binary, 0o/0O or a leading 0 octal, else decimal.
// Underscores between digits are allowed only after a prefix, as in strconv.
result<std::uint64_t, std::string> parse_unsigned_base0(std::string_view text) {
    if (text.empty()) {
        return failure{std::string(parse_error)};
    }
    unsigned base = 10;
    bool prefixed = false;
    if (text.size() >= 2 && text[0] == '0') {
        char marker = static_cast<char>(text[1] | 0x20);
        base = marker == 'x' ? 16 : marker == 'b' ? 2 : marker == 'o' ? 8 : 8;
        prefixed = marker == 'x' || marker == 'b' || marker == 'o';
        text.remove_prefix(prefixed ? 2 : 1);
        if (text.empty()) {
            return failure{std::string(parse_error)};
        }
    }
    std::uint64_t value = 0;
    bool range_exceeded = false;
    for (char c : text) {
        if (c == '_' && prefixed) {
            continue;
        }
        auto digit = static_cast<unsigned>(digit_value(c));
        if (digit >= base) {
            return failure{std::string(parse_error)};
        }
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / base) {
            range_exceeded = true;
            continue;
        }
        value = value * base + digit;
    }
    if (range_exceeded) {
        return failure{std::string(range_error)};
    }
    return value;
}

// pkg/cors CORSInfo.Set: each non-empty, non-"*" origin must survive Go's url.Parse.
result<bool, std::string> validate_cors(std::string_view text) {
    for (std::string_view piece : split_on(text, ',')) {
        std::string_view origin = trim_spaces(piece);
        if (origin.empty() || origin == "*") {
            continue;
        }
        if (origin.front() == ':') {
            return failure{"parse \"" + std::string(origin) + "\": missing protocol scheme"};
        }
        for (char c : origin) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                return failure{"parse \"" + std::string(origin) +
                               "\": net/url: invalid control character in URL"};
            }
        }
    }
    return true;
}

// pkg/flags IPAddressPort.Set: "IP:port" with a literal IP and a decimal port. Returns the
// canonical "ip:port" ("[v6]:port") that IPAddressPort.String would print.
result<std::string, std::string> normalize_ip_port(std::string_view text) {
    auto host_port = split_host_port(trim_spaces(text));
    if (!host_port) {
        return failure{host_port.error()};
    }
    const auto& [host, port] = host_port.value();
    if (!is_ip_literal(host)) {
        return failure{std::string("bad IP in address specification")};
    }
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), is_digit);
    // Go's Atoi would take "+1" or "-1" and fail later at listen time; we refuse them here.
    if (!digits || std::stoul(port) > 65535) {
        return failure{std::string("bad port in address specification")};
    }
    std::string port_text = std::to_string(std::stoul(port));
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + port_text;
    }
    return host + ":" + port_text;
}

result<bool, std::string> validate_choice(std::string_view choices, std::string_view text) {
    for (std::string_view choice : split_on(choices, '|')) {
        if (choice == text) {
            return true;
        }
    }
    return failure{std::string("invalid value")};
}

std::string quote(std::string_view text) {
    // Go's %q for the printable ASCII that flags carry; escapes quotes and backslashes.
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

// A parse result reduced to "valid, or why not".
template <typename T>
result<bool, std::string> error_only(result<T, std::string> parsed) {
    if (!parsed) {
        return failure{std::move(parsed).error()};
    }
    return true;
}

bool is_bool_like(flag_kind kind) {
    return kind == flag_kind::boolean || kind == flag_kind::ignored;
}

}  // namespace

std::string config_error::line() const {
    if (exit_code == 2) {
        return message;
    }
    return "error verifying flags, " + message + ". See 'etcd --help'.";
}

result<std::uint64_t, std::string> parse_go_uint(std::string_view text) {
    return parse_unsigned_base0(text);
}

result<std::int64_t, std::string> parse_go_int(std::string_view text) {
    bool negative = !text.empty() && text.front() == '-';
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        text.remove_prefix(1);
    }
    auto magnitude = parse_unsigned_base0(text);
    if (!magnitude) {
        return failure{magnitude.error()};
    }
    constexpr auto max_positive = static_cast<std::uint64_t>(
        std::numeric_limits<std::int64_t>::max());
    if (magnitude.value() > max_positive + (negative ? 1 : 0)) {
        return failure{std::string(range_error)};
    }
    if (negative) {
        return static_cast<std::int64_t>(0 - magnitude.value());
    }
    return static_cast<std::int64_t>(magnitude.value());
}

result<bool, std::string> parse_go_bool(std::string_view text) {
    // strconv.ParseBool's exact list.
    for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
        if (text == yes) {
            return true;
        }
    }
    for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
        if (text == no) {
            return false;
        }
    }
    return failure{std::string(parse_error)};
}

result<bool, std::string> validate_flag_value(const flag_spec& spec, std::string_view text) {
    switch (spec.kind) {
    case flag_kind::string: return true;
    case flag_kind::ignored: return true;
    case flag_kind::uint: return error_only(parse_go_uint(text));
    case flag_kind::integer: return error_only(parse_go_int(text));
    case flag_kind::boolean: return error_only(parse_go_bool(text));
    case flag_kind::urls: return error_only(parse_url_list(text));
    case flag_kind::choice: return validate_choice(spec.choices, text);
    case flag_kind::ip_port: return error_only(normalize_ip_port(text));
    case flag_kind::cors: return validate_cors(text);
    case flag_kind::deprecated:
        return failure{"flag \"-" + std::string(spec.name) + "\" is no longer supported."};
    }
    UETCD_UNREACHABLE();
}

flag_set::flag_set(std::span<const flag_spec> table) : specs(table) {
    values.reserve(table.size());
    for (const flag_spec& spec : table) {
        values.push_back(flag_value{std::string(spec.default_value), flag_source::default_value});
    }
}

const flag_spec* flag_set::find(std::string_view name) const {
    for (const flag_spec& spec : specs) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

const flag_value& flag_set::value(std::string_view name) const {
    const flag_spec* spec = find(name);
    UETCD_ASSERT(spec != nullptr);
    return values[static_cast<std::size_t>(spec - specs.data())];
}

bool flag_set::is_set(std::string_view name) const { return value(name).set(); }

result<bool, std::string> flag_set::set(std::string_view name, std::string_view text,
    flag_source source) {
    const flag_spec* spec = find(name);
    UETCD_ASSERT(spec != nullptr);
    UETCD_ASSERT(source != flag_source::default_value);
    auto valid = validate_flag_value(*spec, text);
    if (!valid) {
        return failure{valid.error()};
    }
    if (spec->kind == flag_kind::ignored) {
        notes.push_back(log_record{log_level::warning, "flags",
            "flag \"-" + std::string(name) + "\" is no longer supported - ignoring."});
    }
    flag_value& slot = values[static_cast<std::size_t>(spec - specs.data())];
    slot.text = spec->kind == flag_kind::ip_port ? normalize_ip_port(text).value()
                                                 : std::string(text);
    slot.source = source;
    return true;
}

namespace {

// One step of Go's FlagSet.parseOne. Returns false when flag parsing stops (a positional,
// "--", or the end); `index` moves past what was consumed.
result<bool, config_error> parse_one(flag_set& flags, std::span<const char* const> arguments,
    std::size_t& index) {
    if (index >= arguments.size()) {
        return false;
    }
    std::string_view argument = arguments[index];
    if (argument.size() < 2 || argument[0] != '-') {
        return false;
    }
    std::size_t minuses = argument[1] == '-' ? 2 : 1;
    if (minuses == 2 && argument.size() == 2) {
        index++;  // "--" ends the flags and is dropped.
        return false;
    }
    std::string_view name = argument.substr(minuses);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
        return failure{syntax_error("bad flag syntax: " + std::string(argument))};
    }
    index++;
    bool has_value = false;
    std::string_view text;
    if (std::size_t equals = name.find('=', 1); equals != std::string_view::npos) {
        text = name.substr(equals + 1);
        name = name.substr(0, equals);
        has_value = true;
    }
    const flag_spec* spec = flags.find(name);
    if (spec == nullptr) {
        if (name == "help" || name == "h") {
            flags.help_requested = true;
            return false;
        }
        return failure{syntax_error("flag provided but not defined: -" + std::string(name))};
    }
    if (is_bool_like(spec->kind)) {
        auto set = flags.set(name, has_value ? text : "true", flag_source::command_line);
        if (!set) {
            return failure{syntax_error("invalid boolean value " + quote(text) + " for -" +
                                        std::string(name) + ": " + set.error())};
        }
        return true;
    }
    if (!has_value && index < arguments.size()) {
        text = arguments[index];
        index++;
        has_value = true;
    }
    if (!has_value) {
        return failure{syntax_error("flag needs an argument: -" + std::string(name))};
    }
    auto set = flags.set(name, text, flag_source::command_line);
    if (!set) {
        return failure{syntax_error("invalid value " + quote(text) + " for flag -" +
                                    std::string(name) + ": " + set.error())};
    }
    return true;
}

}  // namespace

result<bool, config_error> parse_command_line(flag_set& flags,
    std::span<const char* const> arguments) {
    std::size_t index = 0;
    // Each step consumes at least one argument, so the loop is bounded by argc.
    for (std::size_t step = 0; step <= arguments.size(); step++) {
        auto more = parse_one(flags, arguments, index);
        if (!more) {
            return failure{std::move(more).error()};
        }
        if (!more.value()) {
            break;
        }
    }
    if (!flags.help_requested) {
        for (; index < arguments.size(); index++) {
            flags.positionals.emplace_back(arguments[index]);
        }
    }
    return true;
}

environment environment::from_envp(const char* const* envp) {
    std::vector<std::string> entries;
    // Bounded by the kernel's argument+environment limit; a NULL pointer ends the array.
    for (std::size_t i = 0; envp != nullptr && envp[i] != nullptr; i++) {
        entries.emplace_back(envp[i]);
    }
    return environment(std::move(entries));
}

std::string_view environment::get(std::string_view key) const {
    for (const std::string& entry : _entries) {
        if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
            entry[key.size()] == '=') {
            return std::string_view(entry).substr(key.size() + 1);
        }
    }
    return {};
}

std::string flag_to_env(std::string_view flag_name) {
    std::string out = "ETCD_";
    for (char c : flag_name) {
        out += c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    return out;
}

namespace {

// Notes for variables that no flag used: shadowed by a flag, unknown ETCD_*, or malformed.
void note_unused_environment(flag_set& flags, const environment& env) {
    for (const std::string& entry : env.entries()) {
        std::size_t equals = entry.find('=');
        if (equals == std::string::npos) {
            flags.notes.push_back(
                log_record{log_level::warning, "flags", "found invalid env " + entry});
        }
        std::string_view key = std::string_view(entry).substr(0, equals);
        bool used = std::any_of(flags.environment_used.begin(), flags.environment_used.end(),
            [&](const auto& pair) { return pair.first == key; });
        if (used) {
            continue;
        }
        bool shadowed = false;
        for (std::size_t i = 0; i < flags.specs.size(); i++) {
            shadowed = shadowed || (flags.values[i].source == flag_source::command_line &&
                                       flag_to_env(flags.specs[i].name) == key);
        }
        if (shadowed) {
            flags.notes.push_back(log_record{log_level::info, "flags",
                "recognized environment variable " + std::string(key) +
                    ", but unused: shadowed by corresponding flag"});
        } else if (key.substr(0, 5) == "ETCD_") {
            flags.notes.push_back(log_record{log_level::warning, "flags",
                "unrecognized environment variable " + entry});
        }
    }
}

}  // namespace

result<bool, config_error> apply_environment(flag_set& flags, const environment& env) {
    // Go's VisitAll walks flags in name order; errors and notes follow that order.
    std::vector<std::size_t> order(flags.specs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
        [&](std::size_t a, std::size_t b) { return flags.specs[a].name < flags.specs[b].name; });
    // etcd (2.3.8 and 3.4) keeps walking and reports the last bad variable.
    std::optional<config_error> last_error;
    for (std::size_t i : order) {
        if (flags.values[i].source == flag_source::command_line) {
            continue;
        }
        std::string key = flag_to_env(flags.specs[i].name);
        std::string_view text = env.get(key);
        if (text.empty()) {
            continue;
        }
        flags.environment_used.emplace_back(key, std::string(text));
        auto set = flags.set(flags.specs[i].name, text, flag_source::environment);
        if (!set) {
            last_error = config_error{
                1, "invalid value " + quote(text) + " for " + key + ": " + set.error(), {}};
        }
        flags.notes.push_back(log_record{log_level::info, "flags",
            "recognized and used environment variable " + key + "=" + std::string(text)});
    }
    note_unused_environment(flags, env);
    if (last_error) {
        return failure{std::move(*last_error)};
    }
    return true;
}

}  // namespace uetcd::server
