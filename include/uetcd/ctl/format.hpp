// etcdctl v2's view of the server's answers: the keys response model parsed from JSON, the
// three output formats (simple, extended, json as Go's client.Response marshals), the error
// texts, and the request URLs Go's client builds. Pure: no I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uetcd/result.hpp"

namespace uetcd::ctl {

struct node {
    std::string key;
    bool dir = false;
    std::string value;
    std::optional<std::vector<node>> nodes;  // nullopt marshals as null
    std::uint64_t created_index = 0;
    std::uint64_t modified_index = 0;
    std::string expiration;  // RFC 3339 text as the server sent it, "" when absent
    std::int64_t ttl = 0;
};

struct keys_response {
    std::string action;
    node current;
    std::optional<node> prev;
    std::uint64_t index = 0;  // X-Etcd-Index
};

// A keys API error body: {"errorCode":100,"message":"Key not found","cause":"/x","index":5}.
struct keys_error {
    int code = 0;
    std::string message;
    std::string cause;
    std::uint64_t index = 0;
};

result<keys_response, std::string> parse_keys_response(std::string_view json,
    std::uint64_t etcd_index);
// Succeeds only for a body with an "errorCode" member.
result<keys_error, std::string> parse_keys_error(std::string_view json);

// What a command prints: to stdout and to stderr.
struct printed {
    std::string out;
    std::string err;
};

// printResponseKey: "simple", "extended", "json"; another format prints
// "Unsupported output format: x" to stderr.
printed format_response(const keys_response& response, std::string_view format);
// The Go client.Response JSON: {"action":..,"node":{..},"prevNode":..}.
std::string response_json(const keys_response& response);
// Go's client.Error text: "100: Key not found (/x) [5]".
std::string keys_error_text(const keys_error& error);
// Go's client.Error marshalled (handleError with -o json).
std::string keys_error_json(const keys_error& error);

// `ls`: keys depth-first, "/" after directories with `slash_dirs` (-p).
std::string format_ls(const keys_response& response, bool slash_dirs);

// URL pieces as Go's net/url writes them.
std::string go_path_escape(std::string_view path);
std::string go_query_escape(std::string_view text);
// path.Join("/v2/keys", key): cleaned, no trailing slash.
std::string keys_path(std::string_view key);
// url.Values.Encode(): pairs sorted by key, "k=v&..."; escaped.
std::string encode_query(std::vector<std::pair<std::string, std::string>> pairs);
// Go's %q for the cURL debug line.
std::string go_quote(std::string_view text);

// Members API pieces.
struct member {
    std::string id;
    std::string name;
    std::vector<std::string> peer_urls;
    std::vector<std::string> client_urls;
};
result<std::vector<member>, std::string> parse_members(std::string_view json);
result<member, std::string> parse_member(std::string_view json);
// {"message":"..."} of the members and auth APIs; "" when the body is not such JSON.
std::string api_error_message(std::string_view json);

// `member list` lines.
std::string format_member_list(const std::vector<member>& members, std::string_view leader_id);

}  // namespace uetcd::ctl
