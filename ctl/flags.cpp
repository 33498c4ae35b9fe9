// Command-line parsing with urfave/cli v1 + Go flag semantics (see flags.hpp).
#include "uetcd/ctl/flags.hpp"

#include <charconv>
#include <cmath>

#include "uetcd/assert.hpp"

namespace uetcd::ctl {

namespace {

// The names of a spec: "recursive, r" -> {"recursive", "r"}.
std::vector<std::string_view> names_of(const flag_spec& spec) {
    std::vector<std::string_view> out;
    std::string_view rest = spec.names;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view name = rest.substr(0, comma);
        while (!name.empty() && name.front() == ' ') {
            name.remove_prefix(1);
        }
        while (!name.empty() && name.back() == ' ') {
            name.remove_suffix(1);
        }
        out.push_back(name);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return out;
}

const flag_spec* find_spec(const std::vector<flag_spec>& specs, std::string_view name) {
    for (const auto& spec : specs) {
        for (auto n : names_of(spec)) {
            if (n == name) {
                return &spec;
            }
        }
    }
    return nullptr;
}

// "--name=v" / "-name" -> "name" (urfave's argIsFlag).
std::string_view bare_flag_name(std::string_view arg) {
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    return arg.substr(0, arg.find('='));
}

bool arg_is_flag(const std::vector<flag_spec>& specs, std::string_view arg) {
    if (arg == "-" || arg == "--" || !arg.starts_with("-")) {
        return false;
    }
    return find_spec(specs, bare_flag_name(arg)) != nullptr;
}

// urfave/cli v1 reorderArgs: known flags (with their values) first, the rest after.
std::vector<std::string> reorder_args(const std::vector<flag_spec>& specs,
    const std::vector<std::string>& args) {
    std::vector<std::string> flags;
    std::vector<std::string> rest;
    bool may_take_value = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (may_take_value && !arg_is_flag(specs, arg)) {
            may_take_value = false;
            flags.push_back(arg);
        } else if (arg == "--") {
            // urfave moves the "--" in front of the other positionals, so Go's flag package
            // consumes it: "set k -- -5" sets k to "-5".
            rest.insert(rest.begin(), "--");
            rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                args.end());
            break;
        } else if (arg_is_flag(specs, arg)) {
            // urfave 1.22 does not look at the flag's type: after "-r" the next positional
            // is moved too (harmless: Go's flag package then stops there).
            flags.push_back(arg);
            may_take_value = arg.find('=') == std::string::npos;
        } else {
            rest.push_back(arg);
        }
    }
    flags.insert(flags.end(), rest.begin(), rest.end());
    return flags;
}

std::optional<bool> parse_go_bool(std::string_view text) {
    if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" ||
        text == "True") {
        return true;
    }
    if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" ||
        text == "False") {
        return false;
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t v = 0;
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return v;
}

bool valid_value(flag_kind kind, std::string_view text) {
    switch (kind) {
    case flag_kind::boolean:
        return parse_go_bool(text).has_value();
    case flag_kind::integer:
        return parse_int(text).has_value();
    case flag_kind::duration:
        return parse_go_duration_ns(text).has_value();
    case flag_kind::text:
        return true;
    }
    return false;
}

}  // namespace

const std::string& parsed_flags::text(std::string_view name) const {
    for (const auto& v : values) {
        if (v.name == name) {
            return v.text;
        }
    }
    UETCD_ASSERT(false);
    return values.front().text;
}

bool parsed_flags::boolean(std::string_view name) const {
    return parse_go_bool(text(name)).value_or(false);
}

std::int64_t parsed_flags::integer(std::string_view name) const {
    return parse_int(text(name)).value_or(0);
}

std::vector<std::string> parsed_flags::all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& g : given) {
        if (g.name == name) {
            out.push_back(g.text);
        }
    }
    return out;
}

bool parsed_flags::was_set(std::string_view name) const {
    for (const auto& n : set_names) {
        if (n == name) {
            return true;
        }
    }
    return false;
}

result<parsed_flags, std::string> parse_flags(const std::vector<flag_spec>& specs,
    const std::vector<std::string>& input, bool reorder) {
    parsed_flags out;
    for (const auto& spec : specs) {
        out.values.push_back({std::string(names_of(spec).front()),
            spec.default_value.empty() && spec.kind == flag_kind::boolean
                ? std::string("false")
                : std::string(spec.default_value)});
    }
    const std::vector<std::string> args = reorder ? reorder_args(specs, input) : input;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.size() < 2 || arg.front() != '-') {
            break;
        }
        if (arg == "--") {
            ++i;
            break;
        }
        std::string_view body = arg.substr(arg.starts_with("--") ? 2 : 1);
        if (body.empty() || body.front() == '-' || body.front() == '=') {
            return failure{"bad flag syntax: " + std::string(arg)};
        }
        const auto eq = body.find('=');
        const std::string_view name = body.substr(0, eq);
        const flag_spec* spec = find_spec(specs, name);
        if (spec == nullptr) {
            return failure{"flag provided but not defined: -" + std::string(name)};
        }
        std::string value;
        if (eq != std::string_view::npos) {
            value = std::string(body.substr(eq + 1));
        } else if (spec->kind == flag_kind::boolean) {
            value = "true";
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return failure{"flag needs an argument: -" + std::string(name)};
        }
        if (!valid_value(spec->kind, value)) {
            return failure{"invalid value \"" + value + "\" for flag -" + std::string(name) +
                           ": parse error"};
        }
        const std::string first(names_of(*spec).front());
        for (auto& v : out.values) {
            if (v.name == first) {
                v.text = spec->kind == flag_kind::boolean
                             ? (*parse_go_bool(value) ? "true" : "false")
                             : value;
            }
        }
        out.set_names.push_back(first);
        out.given.push_back({first, value});
    }
    out.args.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return out;
}

std::optional<std::int64_t> parse_go_duration_ns(std::string_view text) {
    if (text == "0") {
        return 0;
    }
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    struct unit {
        std::string_view name;
        double ns;
    };
    static constexpr unit units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"μs", 1e3},
        {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    double total = 0;
    while (!text.empty()) {
        std::size_t n = 0;
        while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) {
            ++n;
        }
        if (n == 0) {
            return std::nullopt;
        }
        const std::string number(text.substr(0, n));
        text.remove_prefix(n);
        const unit* found = nullptr;
        for (const auto& u : units) {
            if (text.starts_with(u.name) && (found == nullptr || u.name.size() >
                                                                     found->name.size())) {
                found = &u;
            }
        }
        if (found == nullptr) {
            return std::nullopt;
        }
        text.remove_prefix(found->name.size());
        total += std::strtod(number.c_str(), nullptr) * found->ns;
    }
    if (total > 9.2e18) {
        return std::nullopt;
    }
    const auto ns = static_cast<std::int64_t>(std::llround(total));
    return negative ? -ns : ns;
}

const std::vector<flag_spec>& global_flag_specs() {
    static const std::vector<flag_spec> specs = {
        {"debug", flag_kind::boolean, ""},
        {"no-sync", flag_kind::boolean, ""},
        {"output, o", flag_kind::text, "simple"},
        {"discovery-srv, D", flag_kind::text, ""},
        {"insecure-discovery", flag_kind::boolean, ""},
        {"peers, C", flag_kind::text, ""},
        {"endpoint", flag_kind::text, ""},
        {"endpoints", flag_kind::text, ""},
        {"cert-file", flag_kind::text, ""},
        {"key-file", flag_kind::text, ""},
        {"ca-file", flag_kind::text, ""},
        {"username, u", flag_kind::text, ""},
        {"timeout", flag_kind::duration, "2s"},
        {"total-timeout", flag_kind::duration, "5s"},
        {"help, h", flag_kind::boolean, ""},
        {"version, v", flag_kind::boolean, ""},
    };
    return specs;
}

std::string normalize_endpoint(std::string_view endpoint) {
    if (endpoint.find("://") == std::string_view::npos) {
        return "http://" + std::string(endpoint);
    }
    return std::string(endpoint);
}

result<global_options, std::string> resolve_global_options(const parsed_flags& flags,
    env_lookup env, void* env_context) {
    global_options out;
    auto lookup = [&](const char* name) { return env(name, env_context).value_or(""); };
    std::string peers = flags.text("endpoints");
    const char* order[] = {"ETCDCTL_ENDPOINTS", "endpoint", "ETCDCTL_ENDPOINT", "peers",
        "ETCDCTL_PEERS"};
    for (const char* source : order) {
        if (peers.empty()) {
            peers = source[0] == 'E' ? lookup(source) : flags.text(source);
        }
    }
    if (peers.empty()) {
        peers = "http://127.0.0.1:2379,http://127.0.0.1:4001";
    }
    std::string_view rest = peers;
    for (;;) {
        const auto comma = rest.find(',');
        out.endpoints.push_back(normalize_endpoint(rest.substr(0, comma)));
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    out.output = flags.text("output");
    out.no_sync = flags.boolean("no-sync");
    out.debug = flags.boolean("debug");
    out.help = flags.boolean("help");
    out.version = flags.boolean("version");
    out.timeout_ns = parse_go_duration_ns(flags.text("timeout")).value_or(0);
    out.total_timeout_ns = parse_go_duration_ns(flags.text("total-timeout")).value_or(0);
    out.username = flags.text("username");
    if (out.username.empty()) {
        out.username = lookup("ETCDCTL_USERNAME");
    }
    out.ca_file = flags.text("ca-file").empty() ? lookup("ETCDCTL_CA_FILE") : flags.text("ca-file");
    out.cert_file =
        flags.text("cert-file").empty() ? lookup("ETCDCTL_CERT_FILE") : flags.text("cert-file");
    out.key_file =
        flags.text("key-file").empty() ? lookup("ETCDCTL_KEY_FILE") : flags.text("key-file");
    return out;
}

}  // namespace uetcd::ctl
