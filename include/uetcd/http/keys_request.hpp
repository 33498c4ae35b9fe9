// A /v2/keys request decoded from its form, with etcd's 2xx validation errors (etcd v3.4
// etcdserver/api/v2http/client.go parseKeyRequest): the checks run in etcd's order, so the
// error etcd reports first is the one reported here. Pure: no I/O, no clock, no store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "uetcd/http/method.hpp"
#include "uetcd/http/query.hpp"
#include "uetcd/result.hpp"
#include "uetcd/store/errors.hpp"

namespace uetcd::http {

// Which store operation a request maps to (etcd applierV2store and v2_server.go Do).
enum class keys_op : std::uint8_t {
    get,                 // GET/HEAD, served from the local store
    quorum_get,          // GET quorum=true: through consensus (wins over wait)
    watch,               // GET wait=true
    set,                 // PUT
    create,              // PUT prevExist=false
    create_unique,       // POST (in-order key)
    update,              // PUT prevExist=true
    compare_and_swap,    // PUT prevValue/prevIndex
    remove,              // DELETE
    compare_and_delete,  // DELETE prevValue/prevIndex
};

struct keys_request {
    http::method method = http::method::get;
    std::string path;  // internal: "/1" joined with the key, cleaned ("/1" for the root)
    std::string value;
    std::string prev_value;  // "" = not given (an explicit empty one is error 201)
    std::uint64_t prev_index = 0;
    std::uint64_t wait_index = 0;
    std::optional<std::uint64_t> ttl_s;  // absent or "ttl=": no TTL (clears it)
    std::optional<bool> prev_exist;
    std::optional<bool> refresh;
    bool recursive = false;
    bool sorted = false;
    bool wait = false;
    bool dir = false;
    bool quorum = false;
    bool stream = false;
    bool no_value_on_success = false;

    keys_op op() const noexcept;
    bool is_refresh() const noexcept { return refresh.value_or(false); }
};

// A validation failure: answered as {"errorCode":code,...,"index":0} without the store.
struct keys_request_error {
    store::error_code code;
    std::string cause;
};

// `key_path` is the percent-decoded URL path after "/v2/keys" ("" or "/a/b"); `fields` is the
// parsed form (query + urlencoded body, with its parse error if any). Methods other than
// HEAD, GET, PUT, POST and DELETE are the caller's 405.
result<keys_request, keys_request_error> decode_keys_request(http::method m,
    std::string_view key_path, const form& fields);

// Go's strconv.ParseBool and strconv.ParseUint(v, 10, 64), as etcd's getBool/getUint64.
std::optional<bool> parse_go_bool(std::string_view text) noexcept;
std::optional<std::uint64_t> parse_go_uint64(std::string_view text) noexcept;

// etcd: expiration = clock.Now().Add(time.Duration(ttl) * time.Second).UnixNano(), with
// Go's wrapping int64 arithmetic (huge TTLs wrap to the past and then count as permanent).
std::int64_t expiration_for_ttl(std::uint64_t ttl_s, std::int64_t now_ns) noexcept;

}  // namespace uetcd::http
