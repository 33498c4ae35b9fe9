// etcdctl's I/O side: the cluster client (endpoint sync through /v2/members, failover to the
// next endpoint on errors, the --debug cURL lines, basic auth) and the command handlers.
// Everything printed goes through out()/err() so that the bytes match Go etcdctl's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/ctl/flags.hpp"
#include "uetcd/ctl/format.hpp"
#include "uetcd/http/client.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/result.hpp"

namespace uetcd::ctl {

// Go etcdctl's exit codes.
inline constexpr int exit_success = 0;
inline constexpr int exit_bad_args = 1;
inline constexpr int exit_bad_connection = 2;
inline constexpr int exit_server_error = 4;
inline constexpr int exit_cluster_not_healthy = 5;

void out(std::string_view text);
void err(std::string_view text);

// Go's client.ClusterError, or a single error (deadline) when `cluster` is false.
struct request_error {
    std::vector<std::string> errors;
    bool cluster = true;
    bool connection_only = true;  // every error was a dial/read failure (isConnectionError)

    std::string text() const;    // Error()
    std::string detail() const;  // Detail()
};

struct request {
    http::method method = http::method::get;
    std::string path_and_query;  // "/v2/keys/a?recursive=false"
    std::string body;            // form or JSON
    bool has_body = false;       // Go sends (and the cURL line shows) a body, even ""
    std::string content_type;
    bool wait = false;  // a watch: no header timeout
};

class cluster_client {
public:
    cluster_client(global_options options, std::string auth_header);

    // One request, trying each endpoint in turn from the pinned one.
    reactor::task<result<http::client_response, request_error>> send(request r);
    // The initial sync (unless --no-sync); returns the exit code to stop with, or 0.
    reactor::task<int> sync();

    const global_options& options() const { return _options; }
    // TLS for https endpoints (--ca-file, --cert-file, --key-file); null: the system's roots.
    void set_tls(std::shared_ptr<http::tls_client_context> tls) { _tls = std::move(tls); }
    const http::tls_client_context* tls() const { return _tls.get(); }
    std::int64_t command_deadline_ns() const { return _deadline_ns; }

private:
    struct attempt_error {
        std::string text;
        bool connection = false;  // Go's isConnectionError: dial and read failures
    };
    // One try on one endpoint.
    reactor::task<result<http::client_response, attempt_error>> attempt(
        const std::string& endpoint, const request& r, std::int64_t left_ns);

    global_options _options;
    std::string _auth_header;
    std::shared_ptr<http::tls_client_context> _tls;
    std::vector<std::string> _endpoints;
    std::size_t _pinned = 0;
    std::int64_t _deadline_ns = 0;
};

struct command_context {
    cluster_client* client = nullptr;
    parsed_flags flags;
    std::string output;  // -o
};

// Prints "Error:  <text>" (+ the cluster detail) or the JSON error; returns `code`.
int handle_error(const command_context& c, int code, const request_error& e);
int handle_error_text(int code, std::string_view text);

// A keys answer: the response, or a keys error, or a request error.
struct keys_outcome {
    std::optional<keys_response> response;
    std::optional<keys_error> key_error;
    std::optional<request_error> failed;
};
reactor::task<keys_outcome> keys_call(cluster_client& client, request r);
// The exit code for a failed keys_outcome, with the error printed.
int keys_failure(const command_context& c, const keys_outcome& o);

// Command handlers: each returns the exit code.
reactor::task<int> run_key_command(std::string_view name, command_context& c);
reactor::task<int> run_member_command(std::string_view sub, command_context& c);
reactor::task<int> run_cluster_health(command_context& c);
reactor::task<int> run_user_command(std::string_view sub, command_context& c);
reactor::task<int> run_role_command(std::string_view sub, command_context& c);
reactor::task<int> run_auth_command(std::string_view sub, command_context& c);

// Reads a password: prompt on stdout, no echo on a terminal.
std::optional<std::string> read_password(std::string_view prompt);
std::string base64(std::string_view data);

}  // namespace uetcd::ctl
