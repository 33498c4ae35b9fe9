// user, role and auth commands against /v2/auth, as Go etcdctl v2 prints them.
#include <simdjson.h>

#include <algorithm>

#include "ctl.hpp"
#include "uetcd/http/json_writer.hpp"

namespace uetcd::ctl {

namespace {

namespace sj = simdjson;

int fail(std::string_view text) {
    err(std::string(text) + "\n");
    return exit_bad_args;
}

// The auth API's error text: the server's {"message"}, else Go's status code text.
std::string auth_error(const result<http::client_response, request_error>& r) {
    if (!r) {
        return r.error().text();
    }
    const std::string message = api_error_message(r->body);
    return message.empty() ? "unexpected status code " + std::to_string(r->status) : message;
}

using api_result = result<http::client_response, request_error>;

reactor::task<api_result> auth_call(cluster_client& client, http::method m, std::string path,
    std::string body) {
    request r{.method = m, .path_and_query = std::move(path), .body = std::move(body),
        .has_body = m == http::method::put, .content_type = m == http::method::put
                                                                ? "application/json" : ""};
    co_return co_await client.send(std::move(r));
}

bool ok(const api_result& r, int status) {
    return r && r->status == status;
}

// Names from ["a","b"] or [{"user":"a"},...] / [{"role":"a"},...].
// Takes the lookup result, not an element: converting a failed lookup would throw.
std::vector<std::string> names_in(sj::simdjson_result<sj::dom::element> array,
    std::string_view field) {
    std::vector<std::string> out;
    sj::dom::array items;
    if (array.get_array().get(items) != sj::SUCCESS) {
        return out;
    }
    for (sj::dom::element item : items) {
        std::string_view text;
        if (item.get_string().get(text) == sj::SUCCESS ||
            (!field.empty() && item[field].get_string().get(text) == sj::SUCCESS)) {
            out.emplace_back(text);
        }
    }
    return out;
}

std::string json_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i > 0 ? "," : "";
        http::append_json_string(out, items[i]);
    }
    return out + "]";
}

std::string user_body(std::string_view user, std::string_view field, std::string_view json) {
    std::string body = "{\"user\":";
    http::append_json_string(body, user);
    return body + ",\"" + std::string(field) + "\":" + std::string(json) + "}";
}

std::string json_quoted(std::string_view text) {
    std::string out;
    http::append_json_string(out, text);
    return out;
}

reactor::task<std::optional<std::vector<std::string>>> user_roles(command_context& c,
    const std::string& user, std::string* error) {
    auto r = co_await auth_call(*c.client, http::method::get, "/v2/auth/users/" + user, {});
    if (!ok(r, 200)) {
        *error = auth_error(r);
        co_return std::nullopt;
    }
    sj::dom::parser parser;
    sj::dom::element doc;
    std::vector<std::string> roles;
    if (parser.parse(r->body).get(doc) == sj::SUCCESS) {
        roles = names_in(doc["roles"], "role");
    }
    co_return roles;
}

// 3.4 sends the change and prints "updated"; it no longer reads the user first.
reactor::task<int> user_grant_revoke(command_context& c, const std::string& user, bool grant) {
    const auto roles = c.flags.all("roles");
    const std::string body = user_body(user, grant ? "grant" : "revoke", json_list(roles));
    auto r = co_await auth_call(*c.client, http::method::put, "/v2/auth/users/" + user, body);
    if (!ok(r, 200)) {
        co_return fail(auth_error(r));
    }
    out("User " + user + " updated\n");
    co_return exit_success;
}

reactor::task<int> user_sub(std::string_view sub, command_context& c, const std::string& arg) {
    if (sub == "add" || sub == "passwd") {
        const auto colon = arg.find(':');
        const std::string user = arg.substr(0, colon);
        std::optional<std::string> pass;
        if (sub == "add" && colon != std::string::npos) {
            pass = arg.substr(colon + 1);
        } else {
            pass = read_password("New password: ");
        }
        if (!pass) {
            co_return fail("Error reading password: EOF");
        }
        auto r = co_await auth_call(*c.client, http::method::put, "/v2/auth/users/" + user,
            user_body(user, "password", json_quoted(*pass)));
        // 3.4 answers 200 when `user add` overwrites an existing user: still "created".
        if (!ok(r, 201) && !ok(r, 200)) {
            co_return fail(auth_error(r));
        }
        out(sub == "add" ? "User " + user + " created\n" : std::string("Password updated\n"));
        co_return exit_success;
    }
    if (sub == "remove") {
        auto r = co_await auth_call(*c.client, http::method::delete_, "/v2/auth/users/" + arg, {});
        if (!ok(r, 200)) {
            co_return fail(auth_error(r));
        }
        out("User " + arg + " removed\n");
        co_return exit_success;
    }
    if (sub == "get") {
        std::string error;
        auto roles = co_await user_roles(c, arg, &error);
        if (!roles) {
            co_return fail(error);
        }
        std::string line = "User: " + arg + "\nRoles: ";
        for (const auto& role : *roles) {
            line += " " + role;
        }
        out(line + "\n");
        co_return exit_success;
    }
    if (c.flags.all("roles").empty()) {
        co_return fail("No roles specified; please use `--roles`");
    }
    co_return co_await user_grant_revoke(c, arg, sub == "grant");
}

struct role_info {
    std::vector<std::string> read;
    std::vector<std::string> write;
    std::string json;  // the answer, minified: Go compares the decoded structs (DeepEqual)
};

std::string minified(const std::string& body) {
    sj::dom::parser parser;
    sj::dom::element doc;
    if (parser.parse(body).get(doc) != sj::SUCCESS) {
        return body;
    }
    return sj::minify(doc);
}

reactor::task<std::optional<role_info>> get_role(command_context& c, const std::string& role,
    std::string* error) {
    auto r = co_await auth_call(*c.client, http::method::get, "/v2/auth/roles/" + role, {});
    if (!ok(r, 200)) {
        *error = auth_error(r);
        co_return std::nullopt;
    }
    role_info info;
    sj::dom::parser parser;
    sj::dom::element doc;
    if (parser.parse(r->body).get(doc) == sj::SUCCESS) {
        info.read = names_in(doc["permissions"]["kv"]["read"], "");
        info.write = names_in(doc["permissions"]["kv"]["write"], "");
    }
    info.json = minified(r->body);
    co_return info;
}

reactor::task<int> role_grant_revoke(command_context& c, const std::string& role, bool grant) {
    const std::string path = c.flags.text("path");
    if (path.empty()) {
        co_return fail("No path specified; please use `--path`");
    }
    const std::string canonical = keys_path(path).substr(8);
    if (canonical != path) {
        co_return fail("Not canonical path; please use `--path=" + canonical + "`");
    }
    const bool read = c.flags.boolean("read");
    const bool write = c.flags.boolean("write");
    const bool rw = c.flags.boolean("readwrite");
    if (int{read} + int{write} + int{rw} != 1) {
        co_return fail("Please specify exactly one of --read, --write or --readwrite");
    }
    std::string error;
    auto before = co_await get_role(c, role, &error);
    if (!before) {
        co_return fail(error);
    }
    const std::string list = json_list({path});
    const std::string kv = "{\"kv\":{\"read\":" + ((read || rw) ? list : "null") +
                           ",\"write\":" + ((write || rw) ? list : "null") + "}}";
    const std::string body = "{\"role\":" + json_quoted(role) + ",\"" +
                             (grant ? "grant" : "revoke") + "\":" + kv + "}";
    auto r = co_await auth_call(*c.client, http::method::put, "/v2/auth/roles/" + role, body);
    if (!ok(r, 200)) {
        co_return fail(auth_error(r));
    }
    if (minified(r->body) == before->json) {
        out(grant ? "Role unchanged; already granted" : "Role unchanged; already revoked");
    }
    out("Role " + role + " updated\n");
    co_return exit_success;
}

}  // namespace

reactor::task<int> run_user_command(std::string_view sub, command_context& c) {
    if (sub == "list") {
        auto r = co_await auth_call(*c.client, http::method::get, "/v2/auth/users", {});
        if (!ok(r, 200)) {
            co_return fail(auth_error(r));
        }
        sj::dom::parser parser;
        sj::dom::element doc;
        std::vector<std::string> users;
        if (parser.parse(r->body).get(doc) == sj::SUCCESS) {
            users = names_in(doc["users"], "user");
        }
        std::sort(users.begin(), users.end());
        for (const auto& u : users) {
            out(u + "\n");
        }
        co_return exit_success;
    }
    if ((sub == "grant" || sub == "revoke") && c.flags.all("roles").empty()) {
        co_return fail("No roles specified; please use `--roles`");
    }
    if (c.flags.args.size() != 1) {
        co_return fail("Please provide a username");
    }
    co_return co_await user_sub(sub, c, c.flags.args[0]);
}

reactor::task<int> run_role_command(std::string_view sub, command_context& c) {
    if (sub == "list") {
        auto r = co_await auth_call(*c.client, http::method::get, "/v2/auth/roles", {});
        if (!ok(r, 200)) {
            co_return fail(auth_error(r));
        }
        sj::dom::parser parser;
        sj::dom::element doc;
        std::vector<std::string> roles;
        if (parser.parse(r->body).get(doc) == sj::SUCCESS) {
            roles = names_in(doc["roles"], "role");
        }
        std::sort(roles.begin(), roles.end());
        for (const auto& role : roles) {
            out(role + "\n");
        }
        co_return exit_success;
    }
    if (c.flags.args.size() != 1) {
        co_return fail("Please provide a role name");
    }
    const std::string role = c.flags.args[0];
    std::string error;
    if (sub == "add") {
        if (co_await get_role(c, role, &error)) {
            co_return fail("Role " + role + " already exists");
        }
        auto r = co_await auth_call(*c.client, http::method::put, "/v2/auth/roles/" + role,
            "{\"role\":" + json_quoted(role) + "}");
        if (!ok(r, 201)) {
            co_return fail(auth_error(r));
        }
        out("Role " + role + " created\n");
        co_return exit_success;
    }
    if (sub == "remove") {
        auto r = co_await auth_call(*c.client, http::method::delete_, "/v2/auth/roles/" + role, {});
        if (!ok(r, 200)) {
            co_return fail(auth_error(r));
        }
        out("Role " + role + " removed\n");
        co_return exit_success;
    }
    if (sub == "get") {
        auto info = co_await get_role(c, role, &error);
        if (!info) {
            co_return fail(error);
        }
        std::string text = "Role: " + role + "\nKV Read:\n";
        for (const auto& p : info->read) {
            text += "\t" + p + "\n";
        }
        text += "KV Write:\n";
        for (const auto& p : info->write) {
            text += "\t" + p + "\n";
        }
        out(text);
        co_return exit_success;
    }
    co_return co_await role_grant_revoke(c, role, sub == "grant");
}

reactor::task<int> run_auth_command(std::string_view sub, command_context& c) {
    const bool enable = sub == "enable";
    auto r = co_await auth_call(*c.client, enable ? http::method::put : http::method::delete_,
        "/v2/auth/enable", {});
    if (!ok(r, 200)) {
        co_return fail(auth_error(r));
    }
    out(enable ? "Authentication Enabled\n" : "Authentication Disabled\n");
    co_return exit_success;
}

}  // namespace uetcd::ctl
