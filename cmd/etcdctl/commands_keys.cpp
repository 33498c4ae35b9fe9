// The key commands: set, get, mk, mkdir, setdir, update, updatedir, rm, rmdir, ls, watch,
// exec-watch. Each builds the request Go's client.KeysAPI would send.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <iterator>

#include "ctl.hpp"

extern char** environ;

namespace uetcd::ctl {

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

std::string with_query(std::string_view key, const pairs& params) {
    std::string target = go_path_escape(keys_path(key));
    const std::string query = encode_query(params);
    if (!query.empty()) {
        target += "?" + query;
    }
    return target;
}

struct set_options {
    bool dir = false;
    std::string prev_value;
    std::int64_t prev_index = 0;
    std::string prev_exist;  // "", "true", "false"
    std::int64_t ttl = 0;
};

// Go's setAction.HTTPRequest.
request set_request(std::string_view key, const std::string& value, const set_options& o) {
    pairs params;
    pairs form;
    if (o.dir) {
        params.emplace_back("dir", "true");
    } else {
        if (!o.prev_value.empty()) {
            params.emplace_back("prevValue", o.prev_value);
        }
        form.emplace_back("value", value);
    }
    if (o.prev_index != 0) {
        params.emplace_back("prevIndex", std::to_string(o.prev_index));
    }
    if (!o.prev_exist.empty()) {
        params.emplace_back("prevExist", o.prev_exist);
    }
    if (o.ttl > 0) {
        form.emplace_back("ttl", std::to_string(o.ttl));
    }
    return request{.method = http::method::put, .path_and_query = with_query(key, params),
        .body = encode_query(form), .has_body = true,
        .content_type = "application/x-www-form-urlencoded"};
}

// argOrStdin: the argument, else all of stdin (kept as is, newline included).
std::optional<std::string> arg_or_stdin(const std::vector<std::string>& args, std::size_t i) {
    if (args.size() > i) {
        return args[i];
    }
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (all.empty()) {
        return std::nullopt;
    }
    return all;
}

int print_response(const command_context& c, const keys_response& r) {
    const printed p = format_response(r, c.output);
    out(p.out);
    err(p.err);
    return exit_success;
}

// set, mk, update: a value from the arguments or stdin.
reactor::task<int> value_command(std::string_view name, command_context& c) {
    const auto& args = c.flags.args;
    if (args.empty()) {
        co_return handle_error_text(exit_bad_args, "key required");
    }
    auto value = arg_or_stdin(args, 1);
    if (!value) {
        co_return handle_error_text(exit_bad_args, "value required");
    }
    set_options o;
    o.ttl = c.flags.integer("ttl");
    request r;
    if (name == "set") {
        o.prev_value = c.flags.text("swap-with-value");
        o.prev_index = c.flags.integer("swap-with-index");
        r = set_request(args[0], *value, o);
    } else if (name == "update") {
        o.prev_exist = "true";
        r = set_request(args[0], *value, o);
    } else if (c.flags.boolean("in-order")) {
        pairs form{{"value", *value}};
        if (o.ttl > 0) {
            form.emplace_back("ttl", std::to_string(o.ttl));
        }
        r = request{.method = http::method::post, .path_and_query = with_query(args[0], {}),
            .body = encode_query(form), .has_body = true,
            .content_type = "application/x-www-form-urlencoded"};
    } else {
        o.prev_exist = "false";
        r = set_request(args[0], *value, o);
    }
    auto outcome = co_await keys_call(*c.client, std::move(r));
    if (!outcome.response) {
        co_return keys_failure(c, outcome);
    }
    co_return print_response(c, *outcome.response);
}

// mkdir, setdir, updatedir: print only with -o extended/json.
reactor::task<int> dir_command(std::string_view name, command_context& c) {
    if (c.flags.args.empty()) {
        co_return handle_error_text(exit_bad_args, "key required");
    }
    set_options o;
    o.dir = true;
    o.ttl = c.flags.integer("ttl");
    o.prev_exist = name == "mkdir" ? "false" : name == "updatedir" ? "true" : "";
    auto outcome = co_await keys_call(*c.client, set_request(c.flags.args[0], {}, o));
    if (!outcome.response) {
        co_return keys_failure(c, outcome);
    }
    if (c.output != "simple") {
        print_response(c, *outcome.response);
    }
    co_return exit_success;
}

reactor::task<int> remove_command(std::string_view name, command_context& c) {
    if (c.flags.args.empty()) {
        co_return handle_error_text(exit_bad_args, "key required");
    }
    pairs params;
    const bool rmdir = name == "rmdir";
    if (!rmdir) {
        if (!c.flags.text("with-value").empty()) {
            params.emplace_back("prevValue", c.flags.text("with-value"));
        }
        if (c.flags.integer("with-index") != 0) {
            params.emplace_back("prevIndex", std::to_string(c.flags.integer("with-index")));
        }
    }
    if (rmdir || c.flags.boolean("dir")) {
        params.emplace_back("dir", "true");
    }
    if (!rmdir && c.flags.boolean("recursive")) {
        params.emplace_back("recursive", "true");
    }
    request r{.method = http::method::delete_,
        .path_and_query = with_query(c.flags.args[0], params)};
    auto outcome = co_await keys_call(*c.client, std::move(r));
    if (!outcome.response) {
        co_return keys_failure(c, outcome);
    }
    if (!outcome.response->current.dir || c.output != "simple") {
        print_response(c, *outcome.response);
    }
    co_return exit_success;
}

reactor::task<int> read_command(std::string_view name, command_context& c) {
    const bool ls = name == "ls";
    if (!ls && c.flags.args.empty()) {
        co_return handle_error_text(exit_bad_args, "key required");
    }
    const std::string key = c.flags.args.empty() ? std::string("/") : c.flags.args[0];
    auto flag = [&](const char* n) { return c.flags.boolean(n) ? "true" : "false"; };
    const pairs params{{"recursive", ls ? flag("recursive") : "false"},
        {"sorted", flag("sort")}, {"quorum", flag("quorum")}};
    request r{.path_and_query = with_query(key, params)};
    auto outcome = co_await keys_call(*c.client, std::move(r));
    if (!outcome.response) {
        co_return keys_failure(c, outcome);
    }
    const keys_response& response = *outcome.response;
    if (ls) {
        if (c.output == "simple") {
            out(format_ls(response, c.flags.boolean("p")));
        } else {
            print_response(c, response);
        }
        co_return exit_success;
    }
    if (response.current.dir) {
        err(response.current.key + ": is a directory\n");
        co_return exit_bad_args;
    }
    co_return print_response(c, response);
}

void on_interrupt(int) {
    ::_exit(0);
}

// Runs the exec-watch command for one event, without waiting (Go starts it in a goroutine).
void spawn_command(const std::vector<std::string>& argv, const keys_response& r) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        env.emplace_back(*e);
    }
    env.push_back("ETCD_WATCH_ACTION=" + r.action);
    env.push_back("ETCD_WATCH_MODIFIED_INDEX=" + std::to_string(r.current.modified_index));
    env.push_back("ETCD_WATCH_KEY=" + r.current.key);
    env.push_back("ETCD_WATCH_VALUE=" + r.current.value);
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> args;
        std::vector<char*> envp;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        for (const auto& e : env) {
            envp.push_back(const_cast<char*>(e.c_str()));
        }
        envp.push_back(nullptr);
        ::execvpe(args[0], args.data(), envp.data());
        const std::string msg = "exec: \"" + argv[0] + "\": executable file not found in $PATH";
        ::write(2, msg.data(), msg.size());
        ::_exit(1);
    }
    // Reap finished children without blocking the watch.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

reactor::task<int> watch_command(std::string_view name, command_context& c) {
    const bool exec = name == "exec-watch";
    const auto& args = c.flags.args;
    std::string key;
    std::vector<std::string> command;
    if (exec) {
        if (args.size() < 2) {
            co_return handle_error_text(exit_bad_args, "key and command to exec required");
        }
        std::size_t separator = 0;
        for (std::size_t i = 1; i < args.size() && separator == 0; ++i) {
            separator = args[i] == "--" ? i : 0;
        }
        key = separator != 0 ? args[0] : args.back();
        command = separator != 0 ? std::vector<std::string>(args.begin() + 2, args.end())
                                 : std::vector<std::string>(args.begin(), args.end() - 1);
        if (command.empty()) {
            co_return handle_error_text(exit_bad_args, "key and command to exec required");
        }
    } else {
        if (args.empty()) {
            co_return handle_error_text(exit_bad_args, "key required");
        }
        key = args[0];
    }
    ::signal(SIGINT, on_interrupt);
    const bool recursive = c.flags.boolean("recursive");
    const bool forever = exec || c.flags.boolean("forever");
    const std::int64_t after = c.flags.integer("after-index");
    std::uint64_t wait_index = after > 0 ? static_cast<std::uint64_t>(after) + 1 : 0;
    // Bounded only by the user: watch --forever runs until interrupted, as Go's does.
    for (;;) {
        const pairs params{{"wait", "true"}, {"waitIndex", std::to_string(wait_index)},
            {"recursive", recursive ? "true" : "false"}};
        request r{.path_and_query = with_query(key, params), .wait = true};
        auto outcome = co_await keys_call(*c.client, std::move(r));
        if (!outcome.response) {
            co_return keys_failure(c, outcome);
        }
        const keys_response& response = *outcome.response;
        wait_index = response.current.modified_index + 1;
        if (response.current.dir) {
            if (exec) {
                err("Ignored dir " + response.current.key + " change\n");
            }
            continue;
        }
        if (exec) {
            spawn_command(command, response);
            continue;
        }
        if (recursive) {
            out("[" + response.action + "] " + response.current.key + "\n");
        }
        print_response(c, response);
        if (!forever) {
            co_return exit_success;
        }
    }
}

}  // namespace

reactor::task<int> run_key_command(std::string_view name, command_context& c) {
    if (name == "set" || name == "mk" || name == "update") {
        co_return co_await value_command(name, c);
    }
    if (name == "mkdir" || name == "setdir" || name == "updatedir") {
        co_return co_await dir_command(name, c);
    }
    if (name == "rm" || name == "rmdir") {
        co_return co_await remove_command(name, c);
    }
    if (name == "get" || name == "ls") {
        co_return co_await read_command(name, c);
    }
    co_return co_await watch_command(name, c);
}

}  // namespace uetcd::ctl
