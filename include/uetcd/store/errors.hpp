// The etcd v2 error table (etcd v3.4 etcdserver/api/v2error/error.go): code, exact message text,
// HTTP status; the error value the store returns; and the JSON body etcd writes for it.
// No I/O: the HTTP layer adds the headers (X-Etcd-Index = error.index).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace uetcd::store {

enum class error_code : std::uint16_t {
    key_not_found = 100,
    test_failed = 101,
    not_file = 102,
    no_more_peer = 103,
    not_dir = 104,
    node_exist = 105,
    key_is_preserved = 106,
    root_read_only = 107,
    dir_not_empty = 108,
    existing_peer_addr = 109,
    unauthorized = 110,

    value_required = 200,
    prev_value_required = 201,
    ttl_nan = 202,
    index_nan = 203,
    value_or_ttl_required = 204,
    timeout_nan = 205,
    name_required = 206,
    index_or_value_required = 207,
    index_value_mutex = 208,
    invalid_field = 209,
    invalid_form = 210,
    refresh_value = 211,
    refresh_ttl_required = 212,

    raft_internal = 300,
    leader_elect = 301,

    watcher_cleared = 400,
    event_index_cleared = 401,
    standby_internal = 402,
    invalid_active_size = 403,
    invalid_remove_delay = 404,

    client_internal = 500,
};

struct error_info {
    error_code code;
    std::uint16_t http_status;
    std::string_view message;
};

// Every code etcd defines. Statuses: etcd's errorStatus map; any code not in it answers 400.
inline constexpr error_info error_table[] = {
    {error_code::key_not_found, 404, "Key not found"},
    {error_code::test_failed, 412, "Compare failed"},
    {error_code::not_file, 403, "Not a file"},
    {error_code::no_more_peer, 400, "Reached the max number of peers in the cluster"},
    {error_code::not_dir, 400, "Not a directory"},
    {error_code::node_exist, 412, "Key already exists"},
    {error_code::key_is_preserved, 400, "The prefix of given key is a keyword in etcd"},
    {error_code::root_read_only, 400, "Root is read only"},
    {error_code::dir_not_empty, 403, "Directory not empty"},
    {error_code::existing_peer_addr, 400, "Peer address has existed"},
    {error_code::unauthorized, 401, "The request requires user authentication"},
    {error_code::value_required, 400, "Value is Required in POST form"},
    {error_code::prev_value_required, 400, "PrevValue is Required in POST form"},
    {error_code::ttl_nan, 400, "The given TTL in POST form is not a number"},
    {error_code::index_nan, 400, "The given index in POST form is not a number"},
    {error_code::value_or_ttl_required, 400, "Value or TTL is required in POST form"},
    {error_code::timeout_nan, 400, "The given timeout in POST form is not a number"},
    {error_code::name_required, 400, "Name is required in POST form"},
    {error_code::index_or_value_required, 400, "Index or value is required"},
    {error_code::index_value_mutex, 400, "Index and value cannot both be specified"},
    {error_code::invalid_field, 400, "Invalid field"},
    {error_code::invalid_form, 400, "Invalid POST form"},
    {error_code::refresh_value, 400, "Value provided on refresh"},
    {error_code::refresh_ttl_required, 400, "A TTL must be provided on refresh"},
    {error_code::raft_internal, 500, "Raft Internal Error"},
    {error_code::leader_elect, 500, "During Leader Election"},
    {error_code::watcher_cleared, 400, "watcher is cleared due to etcd recovery"},
    {error_code::event_index_cleared, 400, "The event in requested index is outdated and cleared"},
    {error_code::standby_internal, 400, "Standby Internal Error"},
    {error_code::invalid_active_size, 400, "Invalid active size"},
    {error_code::invalid_remove_delay, 400, "Standby remove delay"},
    {error_code::client_internal, 400, "Client Internal Error"},
};

// Unknown codes get etcd's fallbacks: message "" (Go map miss) and status 400.
constexpr const error_info* find_error_info(error_code code) noexcept {
    for (const error_info& info : error_table) {
        if (info.code == code) {
            return &info;
        }
    }
    return nullptr;
}

// An etcd error as a value: what the store returns instead of throwing.
struct error {
    error_code code = error_code::key_not_found;
    std::string cause;        // may be empty: then the JSON omits it
    std::uint64_t index = 0;  // store index at failure (0 for request/auth/raft errors)

    int http_status() const noexcept {
        const error_info* info = find_error_info(code);
        return info == nullptr ? 400 : info->http_status;
    }
    std::string_view message() const noexcept {
        const error_info* info = find_error_info(code);
        return info == nullptr ? std::string_view{} : info->message;
    }
};

inline error make_error(error_code code, std::string cause, std::uint64_t index) {
    return error{code, std::move(cause), index};
}

// Appends {"errorCode":N,"message":"..","cause":"..","index":N} and "\n", as etcd's
// Error.WriteTo does. `cause_prefix` is stripped from the cause first when present
// (etcd v2http trimErrorPrefix strips the internal "/1" keys prefix).
void write_error_json(std::string& out, const error& e, std::string_view cause_prefix = {});

}  // namespace uetcd::store
