// member list|add|remove|update and cluster-health, as Go etcdctl v2 prints them.
#include <signal.h>
#include <unistd.h>

#include <simdjson.h>

#include "ctl.hpp"
#include "uetcd/http/json_writer.hpp"
#include "uetcd/reactor/ops.hpp"

namespace uetcd::ctl {

namespace {

std::string urls_json(const std::vector<std::string>& urls) {
    std::string body = "{\"peerURLs\":[";
    for (std::size_t i = 0; i < urls.size(); ++i) {
        body += i > 0 ? "," : "";
        http::append_json_string(body, urls[i]);
    }
    return body + "]}";
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    for (;;) {
        const auto comma = text.find(',');
        out.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(comma + 1);
    }
}

// A members API failure as Go's client reports it: the cluster error, the server's message,
// or "unexpected status code N".
std::string members_error(const result<http::client_response, request_error>& r) {
    if (!r) {
        return r.error().text();
    }
    const std::string message = api_error_message(r->body);
    return message.empty() ? "unexpected status code " + std::to_string(r->status) : message;
}

reactor::task<result<std::vector<member>, request_error>> list_members(cluster_client& client) {
    request r{.path_and_query = "/v2/members"};
    auto response = co_await client.send(r);
    if (!response) {
        co_return failure{response.error()};
    }
    if (response->status != 200) {
        co_return failure{request_error{
            {"unexpected status code " + std::to_string(response->status)}, false, false}};
    }
    auto members = parse_members(response->body);
    if (!members) {
        co_return failure{request_error{{members.error()}, false, false}};
    }
    co_return std::move(members).value();
}

int fail(std::string_view text) {
    err(std::string(text) + "\n");
    return exit_bad_args;
}

reactor::task<int> member_list(command_context& c) {
    auto members = co_await list_members(*c.client);
    if (!members) {
        co_return fail(members.error().text());
    }
    request r{.path_and_query = "/v2/members/leader"};
    auto leader = co_await c.client->send(r);
    if (!leader || leader->status != 200) {
        err("Failed to get leader:  " + members_error(leader) + "\n");
        co_return exit_bad_args;
    }
    auto leader_member = parse_member(leader->body);
    out(format_member_list(*members, leader_member ? leader_member->id : ""));
    co_return exit_success;
}

reactor::task<int> member_add(command_context& c) {
    const auto& args = c.flags.args;
    if (args.size() != 2) {
        co_return fail("Provide a name and a single member peerURL");
    }
    request r{.method = http::method::post, .path_and_query = "/v2/members",
        .body = urls_json({args[1]}), .has_body = true, .content_type = "application/json"};
    auto response = co_await c.client->send(r);
    if (!response || response->status != 201) {
        co_return fail(members_error(response));
    }
    auto added = parse_member(response->body);
    const std::string new_id = added ? added->id : "";
    out("Added member named " + args[0] + " with ID " + new_id + " to cluster\n");
    auto members = co_await list_members(*c.client);
    if (!members) {
        co_return fail(members.error().text());
    }
    std::string conf;
    for (const auto& m : *members) {
        for (const auto& u : m.peer_urls) {
            conf += (conf.empty() ? "" : ",") + (m.id == new_id ? args[0] : m.name) + "=" + u;
        }
    }
    out("\nETCD_NAME=" + go_quote(args[0]) + "\nETCD_INITIAL_CLUSTER=" + go_quote(conf) +
        "\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n");
    co_return exit_success;
}

reactor::task<int> member_remove(command_context& c) {
    const auto& args = c.flags.args;
    if (args.size() != 1) {
        co_return fail("Provide a single member ID");
    }
    const std::string& id = args[0];
    auto members = co_await list_members(*c.client);
    if (!members) {
        co_return fail(members.error().text());
    }
    bool found = false;
    const member* named = nullptr;
    for (const auto& m : *members) {
        found = found || m.id == id;
        named = m.name == id ? &m : named;
    }
    if (!found) {
        std::string text;
        if (named != nullptr) {
            text = "Found a member named " + named->name +
                   "; if this is correct, please use its ID, eg:\n\tetcdctl member remove " +
                   named->id + "\nFor more details, read the documentation at "
                   "https://github.com/etcd-io/etcd/blob/master/Documentation/"
                   "runtime-configuration.md#remove-a-member\n\n";
        }
        err(text + "Couldn't find a member in the cluster with an ID of " + id + ".\n");
        co_return exit_bad_args;
    }
    request r{.method = http::method::delete_, .path_and_query = "/v2/members/" + id};
    auto response = co_await c.client->send(r);
    if (!response || response->status != 204) {
        err("Received an error trying to remove member " + id + ": " +
            (response ? "unexpected status code " + std::to_string(response->status)
                      : response.error().text()));
        co_return exit_bad_args;
    }
    out("Removed member " + id + " from cluster\n");
    co_return exit_success;
}

reactor::task<int> member_update(command_context& c) {
    const auto& args = c.flags.args;
    if (args.size() != 2) {
        co_return fail("Provide an ID and a list of comma separated peerURL "
                       "(0xabcd http://example.com,http://example1.com)");
    }
    request r{.method = http::method::put, .path_and_query = "/v2/members/" + args[0],
        .body = urls_json(split_commas(args[1])), .has_body = true,
        .content_type = "application/json"};
    auto response = co_await c.client->send(r);
    if (!response || response->status != 204) {
        co_return fail(members_error(response));
    }
    out("Updated member with ID " + args[0] + " in cluster\n");
    co_return exit_success;
}

// One member's health line; true when healthy.
reactor::task<std::optional<bool>> check_member(const member& m, std::int64_t timeout_ns,
    const http::tls_client_context* tls) {
    for (const auto& url : m.client_urls) {
        const std::string health_url = url + "/health";
        auto response =
            co_await http::fetch(health_url, http::method::get, {}, {}, timeout_ns, tls);
        if (!response) {
            out("failed to check the health of member " + m.id + " on " + url + ": Get \"" +
                health_url + "\": " + response.error() + "\n");
            continue;
        }
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        if (parser.parse(response->body).get(doc) != simdjson::SUCCESS) {
            out("failed to check the health of member " + m.id + " on " + url +
                ": invalid character in JSON\n");
            continue;
        }
        std::string_view health;
        const bool healthy = doc["health"].get_string().get(health) == simdjson::SUCCESS &&
                             health == "true";
        out("member " + m.id + (healthy ? " is healthy: got healthy result from "
                                        : " is unhealthy: got unhealthy result from ") +
            url + "\n");
        co_return healthy;
    }
    co_return std::nullopt;
}

}  // namespace

reactor::task<int> run_member_command(std::string_view sub, command_context& c) {
    if (sub == "list") {
        co_return co_await member_list(c);
    }
    if (sub == "add") {
        co_return co_await member_add(c);
    }
    if (sub == "remove") {
        co_return co_await member_remove(c);
    }
    co_return co_await member_update(c);
}

reactor::task<int> run_cluster_health(command_context& c) {
    auto members = co_await list_members(*c.client);
    if (!members) {
        out("cluster may be unhealthy: failed to list members\n");
        co_return handle_error(c, exit_server_error, members.error());
    }
    const bool forever = c.flags.boolean("forever");
    // Bounded by the user only with --forever (Ctrl-C ends it), as Go's.
    for (;;) {
        std::size_t healthy = 0;
        for (const auto& m : *members) {
            if (m.client_urls.empty()) {
                out("member " + m.id + " is unreachable: no available published client urls\n");
                continue;
            }
            auto checked = co_await check_member(m, 30'000'000'000, c.client->tls());
            if (!checked) {
                std::string urls;
                for (const auto& u : m.client_urls) {
                    urls += (urls.empty() ? "" : " ") + u;
                }
                out("member " + m.id + " is unreachable: [" + urls + "] are all unreachable\n");
            } else if (*checked) {
                ++healthy;
            }
        }
        out(healthy == members->size() ? "cluster is healthy\n"
            : healthy == 0              ? "cluster is unavailable\n"
                                        : "cluster is degraded\n");
        if (!forever) {
            co_return healthy == members->size() ? exit_success : exit_cluster_not_healthy;
        }
        out("\nnext check after 10 second...\n\n");
        co_await reactor::sleep_for(10'000'000'000);
    }
}

}  // namespace uetcd::ctl
