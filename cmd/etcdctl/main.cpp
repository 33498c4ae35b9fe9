// etcdctl: the etcd v2 command-line client, a drop-in for Go etcdctl v2 (etcd 3.4 with
// ETCDCTL_API=2). Parses the command line, resolves endpoints, then runs one command on a
// one-core reactor. docs/etcdctl.md lists the commands and the differences from Go's.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backup.hpp"
#include "ctl.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd_build_info.h"

namespace ctl = uetcd::ctl;
namespace rx = uetcd::reactor;
using ctl::flag_kind;
using ctl::flag_spec;

namespace {

struct command_spec {
    std::string_view name;
    std::vector<std::string_view> subcommands;  // empty: a plain command
    std::vector<flag_spec> flags;
    std::string_view usage;
};

const std::vector<command_spec>& commands() {
    const flag_spec ttl{"ttl", flag_kind::integer, "0"};
    const flag_spec recursive{"recursive, r", flag_kind::boolean, ""};
    const flag_spec sort{"sort", flag_kind::boolean, ""};
    const flag_spec quorum{"quorum, q", flag_kind::boolean, ""};
    const flag_spec after{"after-index", flag_kind::integer, "0"};
    static const std::vector<command_spec> table = {
        {"backup", {}, {{"data-dir", flag_kind::text, ""}, {"wal-dir", flag_kind::text, ""},
            {"backup-dir", flag_kind::text, ""}, {"backup-wal-dir", flag_kind::text, ""},
            {"with-v3", flag_kind::boolean, ""}}, "backup an etcd directory"},
        {"cluster-health", {}, {{"forever, f", flag_kind::boolean, ""}},
            "check the health of the etcd cluster"},
        {"mk", {}, {{"in-order", flag_kind::boolean, ""}, ttl},
            "make a new key with a given value"},
        {"mkdir", {}, {ttl}, "make a new directory"},
        {"rm", {}, {{"dir", flag_kind::boolean, ""}, recursive,
            {"with-value", flag_kind::text, ""}, {"with-index", flag_kind::integer, "0"}},
            "remove a key or a directory"},
        {"rmdir", {}, {}, "removes the key if it is an empty directory or a key-value pair"},
        {"get", {}, {sort, quorum}, "retrieve the value of a key"},
        {"ls", {}, {sort, recursive, {"p", flag_kind::boolean, ""}, quorum},
            "retrieve a directory"},
        {"set", {}, {ttl, {"swap-with-value", flag_kind::text, ""},
            {"swap-with-index", flag_kind::integer, "0"}}, "set the value of a key"},
        {"setdir", {}, {ttl}, "create a new directory or update an existing directory TTL"},
        {"update", {}, {ttl}, "update an existing key with a given value"},
        {"updatedir", {}, {ttl}, "update an existing directory"},
        {"watch", {}, {{"forever, f", flag_kind::boolean, ""}, after, recursive},
            "watch a key for changes"},
        {"exec-watch", {}, {after, recursive}, "watch a key for changes and exec an executable"},
        {"member", {"list", "add", "remove", "update"}, {},
            "member add, remove and list subcommands"},
        {"user", {"add", "get", "list", "remove", "grant", "revoke", "passwd"},
            {{"roles", flag_kind::text, ""}}, "user add, grant and revoke subcommands"},
        {"role", {"add", "get", "list", "remove", "grant", "revoke"},
            {{"path", flag_kind::text, ""}, {"read", flag_kind::boolean, ""},
                {"write", flag_kind::boolean, ""}, {"readwrite, rw", flag_kind::boolean, ""}},
            "role add, grant and revoke subcommands"},
        {"auth", {"enable", "disable"}, {}, "overall auth controls"},
        {"version", {}, {}, "print the version (uetcd addition)"},
    };
    return table;
}

void print_help() {
    std::string text =
        "NAME:\n   etcdctl - A simple command line client for etcd (uetcd, v2 API).\n\n"
        "USAGE:\n   etcdctl [global options] command [command options] [arguments...]\n\n"
        "VERSION:\n   3.4.23 (uetcd " UETCD_VERSION ")\n\nCOMMANDS:\n";
    for (const auto& c : commands()) {
        text += "   " + std::string(c.name);
        text += std::string(16 - std::min<std::size_t>(15, c.name.size()), ' ');
        text += std::string(c.usage) + "\n";
    }
    text +=
        "\nGLOBAL OPTIONS:\n"
        "   --debug                          output cURL commands to reproduce the requests\n"
        "   --no-sync                        don't synchronize cluster information first\n"
        "   --output value, -o value         simple, extended or json (default: \"simple\")\n"
        "   --endpoints value                comma-separated client URLs (default: "
        "\"http://127.0.0.1:2379,http://127.0.0.1:4001\")\n"
        "   --peers value, -C value          deprecated: use --endpoints\n"
        "   --endpoint value                 deprecated: use --endpoints\n"
        "   --cert-file value                identify HTTPS client using this SSL certificate "
        "file\n"
        "   --key-file value                 identify HTTPS client using this SSL key file\n"
        "   --ca-file value                  verify certificates of HTTPS-enabled servers using "
        "this CA bundle\n"
        "   --username value, -u value       username[:password]; prompts without password\n"
        "   --timeout value                  per-request timeout (default: 2s)\n"
        "   --total-timeout value            timeout for the command (default: 5s)\n"
        "   --help, -h                       show help\n"
        "   --version, -v                    print the version\n";
    ctl::out(text);
}

// Our own short usage of one command (the wording is not Go's).
std::string command_usage(const command_spec& spec) {
    std::string text = "USAGE:\n   etcdctl " + std::string(spec.name) +
                       " [command options] [arguments...]\n\nOPTIONS:\n";
    for (const auto& f : spec.flags) {
        std::string line;
        std::string_view names = f.names;
        while (!names.empty()) {
            const auto comma = names.find(',');
            std::string_view name = names.substr(0, comma);
            name.remove_prefix(name.starts_with(' ') ? 1 : 0);
            line += (line.empty() ? "" : ", ") + std::string(name.size() > 1 ? "--" : "-") +
                    std::string(name);
            names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);
        }
        text += "   " + line + "\n";
    }
    return text;
}

std::optional<std::string> real_env(const char* name, void*) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::nullopt : std::optional<std::string>(v);
}

const command_spec* find_command(std::string_view name) {
    for (const auto& c : commands()) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

// Authorization header from -u user[:pass]; prompts for a missing password.
std::optional<std::string> auth_header(const std::string& username) {
    if (username.empty()) {
        return std::string();
    }
    std::string user_pass = username;
    if (username.find(':') == std::string::npos) {
        auto pass = ctl::read_password("Password: ");
        if (!pass) {
            return std::nullopt;
        }
        user_pass += ":" + *pass;
    }
    return "Basic " + ctl::base64(user_pass);
}

int run_command(const command_spec& spec, std::string_view sub, ctl::global_options options,
    ctl::parsed_flags flags, std::string auth,
    std::shared_ptr<uetcd::http::tls_client_context> tls) {
    int code = 0;
    const std::string error = rx::smp::run(rx::smp_config{.cores = 1, .pin_threads = false},
        [&](unsigned) -> rx::task<void> {
            ctl::cluster_client client(options, auth);
            client.set_tls(tls);
            // cluster-health lists members without syncing (mustNewClientNoSync).
            if (spec.name != "cluster-health") {
                code = co_await client.sync();
                if (code != 0) {
                    co_return;
                }
            }
            ctl::command_context context{&client, std::move(flags), options.output};
            const std::string_view name = spec.name;
            if (name == "member") {
                code = co_await ctl::run_member_command(sub, context);
            } else if (name == "cluster-health") {
                code = co_await ctl::run_cluster_health(context);
            } else if (name == "user") {
                code = co_await ctl::run_user_command(sub, context);
            } else if (name == "role") {
                code = co_await ctl::run_role_command(sub, context);
            } else if (name == "auth") {
                code = co_await ctl::run_auth_command(sub, context);
            } else {
                code = co_await ctl::run_key_command(name, context);
            }
        });
    if (!error.empty()) {
        ctl::err("etcdctl: " + error + "\n");
        return 1;
    }
    return code;
}

// Go etcdctl's getTransport: the TLS files are loaded and checked whenever given.
uetcd::result<std::shared_ptr<uetcd::http::tls_client_context>, std::string> load_client_tls(
    const ctl::global_options& o) {
    const bool https = std::any_of(o.endpoints.begin(), o.endpoints.end(),
        [](const std::string& e) { return e.starts_with("https://"); });
    if (o.ca_file.empty() && o.cert_file.empty() && o.key_file.empty() && !https) {
        return std::shared_ptr<uetcd::http::tls_client_context>();
    }
    if (o.cert_file.empty() != o.key_file.empty()) {
        return uetcd::failure{"KeyFile and CertFile must both be present[key: " + o.key_file +
            ", cert: " + o.cert_file + "]"};
    }
    uetcd::http::tls_options t;
    t.cert_file = o.cert_file;
    t.key_file = o.key_file;
    t.trusted_ca_file = o.ca_file;
    auto ctx = uetcd::http::tls_client_context::load(t);
    if (!ctx) {
        return uetcd::failure{ctx.error()};
    }
    return std::move(ctx).value();
}

int version_lines(bool ours) {
    ctl::out(std::string("etcdctl version: 3.4.23\nAPI version: 2\n") +
             (ours ? "uetcd version: " UETCD_VERSION "\n" : ""));
    return 0;
}

int dispatch(const std::vector<std::string>& args) {
    auto global = ctl::parse_flags(ctl::global_flag_specs(), args, false);
    if (!global) {
        ctl::out("Incorrect Usage. " + global.error() + "\n\n");
        print_help();
        ctl::err(global.error() + "\n");
        return 1;
    }
    auto options = ctl::resolve_global_options(*global, real_env, nullptr);
    if (options->version) {
        return version_lines(false);
    }
    const auto& rest = global->args;
    if (options->help || rest.empty() || rest[0] == "help") {
        print_help();
        return 0;
    }
    const command_spec* spec = find_command(rest[0]);
    if (spec == nullptr) {
        ctl::err("No help topic for '" + rest[0] + "'\n");
        return 3;
    }
    if (spec->name == "version") {
        return version_lines(true);
    }
    std::vector<std::string> command_args(rest.begin() + 1, rest.end());
    std::string sub;
    if (!spec->subcommands.empty()) {
        if (command_args.empty() || command_args[0] == "help" || command_args[0] == "--help" ||
            command_args[0] == "-h") {
            std::string text = "USAGE:\n   etcdctl " + std::string(spec->name) +
                               " command [command options] [arguments...]\n\nCOMMANDS:\n";
            for (auto s : spec->subcommands) {
                text += "   " + std::string(s) + "\n";
            }
            ctl::out(text);
            return 0;
        }
        sub = command_args[0];
        if (std::find(spec->subcommands.begin(), spec->subcommands.end(), sub) ==
            spec->subcommands.end()) {
            ctl::err("No help topic for '" + sub + "'\n");
            return 3;
        }
        command_args.erase(command_args.begin());
    }
    for (const auto& a : command_args) {
        if (a == "--") {
            break;
        }
        if (a == "--help" || a == "-h" || a == "-help") {
            ctl::out(command_usage(*spec));
            return 0;
        }
    }
    auto flags = ctl::parse_flags(spec->flags, command_args, true);
    if (!flags) {
        ctl::out("Incorrect Usage: " + flags.error() + "\n\n" + command_usage(*spec));
        ctl::err(flags.error() + "\n");
        return 1;
    }
    if (spec->name == "backup") {
        const ctl::parsed_flags& f = flags.value();
        return uetcd::ctl::run_backup(f.text("data-dir"), f.text("wal-dir"),
            f.text("backup-dir"), f.text("backup-wal-dir"));
    }
    auto tls = load_client_tls(*options);
    if (!tls) {
        ctl::err(tls.error() + "\n");  // Go etcdctl prints the bare error, exit 1
        return 1;
    }
    auto auth = auth_header(options->username);
    if (!auth) {
        ctl::err("Error:  reading password: EOF\n");
        return 1;
    }
    return run_command(*spec, sub, std::move(options).value(), std::move(flags).value(),
        std::move(*auth), std::move(tls).value());
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return dispatch(args);
}
