// /v2/keys form decoding; see keys_request.hpp. The order of the checks below is etcd's
// parseKeyRequest order, which decides the error reported when several are wrong.
#include "uetcd/http/keys_request.hpp"

#include <charconv>

namespace uetcd::http {

namespace {

using store::error_code;

failure<keys_request_error> fail(error_code code, std::string cause) {
    return failure{keys_request_error{code, std::move(cause)}};
}

// etcd getBool: absent is false, present must parse (an empty value does not).
bool read_bool(const form& fields, std::string_view key, bool& out) {
    const auto text = fields.get(key);
    if (!text) {
        out = false;
        return true;
    }
    const auto parsed = parse_go_bool(*text);
    if (!parsed) {
        return false;
    }
    out = *parsed;
    return true;
}

bool read_uint(const form& fields, std::string_view key, std::uint64_t& out) {
    const auto text = fields.get(key);
    if (!text) {
        out = 0;
        return true;
    }
    const auto parsed = parse_go_uint64(*text);
    if (!parsed) {
        return false;
    }
    out = *parsed;
    return true;
}

// "/1" joined with the router's clean decoded path ("" , "/", "/a", "/a/"), as path.Join.
std::string internal_path(std::string_view key_path) {
    std::string p = "/1";
    p.append(key_path);
    while (p.size() > 2 && p.back() == '/') {
        p.pop_back();
    }
    return p;
}

struct bool_field {
    std::string_view name;
    bool keys_request::*member;
};

constexpr bool_field bool_fields[] = {
    {"recursive", &keys_request::recursive},
    {"sorted", &keys_request::sorted},
    {"wait", &keys_request::wait},
    {"dir", &keys_request::dir},
    {"quorum", &keys_request::quorum},
    {"stream", &keys_request::stream},
};

// The checks after the plain fields: prevValue, noValueOnSuccess, ttl, prevExist, refresh.
result<bool, keys_request_error> decode_write_fields(const form& fields, keys_request& req) {
    if (fields.has("prevValue") && req.prev_value.empty()) {
        return fail(error_code::prev_value_required, "\"prevValue\" cannot be empty");
    }
    if (!read_bool(fields, "noValueOnSuccess", req.no_value_on_success)) {
        return fail(error_code::invalid_field, "invalid value for \"noValueOnSuccess\"");
    }
    if (const auto ttl = fields.get("ttl"); ttl && !ttl->empty()) {
        const auto parsed = parse_go_uint64(*ttl);
        if (!parsed) {
            return fail(error_code::ttl_nan, "invalid value for \"ttl\"");
        }
        req.ttl_s = *parsed;
    }
    if (const auto pe = fields.get("prevExist"); pe) {
        const auto parsed = parse_go_bool(*pe);
        if (!parsed) {
            return fail(error_code::invalid_field, "invalid value for prevExist");
        }
        req.prev_exist = *parsed;
    }
    if (const auto refresh = fields.get("refresh"); refresh) {
        const auto parsed = parse_go_bool(*refresh);
        if (!parsed) {
            return fail(error_code::invalid_field, "invalid value for refresh");
        }
        req.refresh = *parsed;
        if (*parsed && fields.has("value") && !req.value.empty()) {
            return fail(error_code::refresh_value, "A value was provided on a refresh");
        }
        if (*parsed && !req.ttl_s) {
            return fail(error_code::refresh_ttl_required, "No TTL value set");
        }
    }
    return true;
}

}  // namespace

std::optional<bool> parse_go_bool(std::string_view text) noexcept {
    if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
        text == "True") {
        return true;
    }
    if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
        text == "False") {
        return false;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_go_uint64(std::string_view text) noexcept {
    // ParseUint: decimal digits only (no sign, no spaces, no "0x"), at least one, no overflow.
    if (text.empty()) {
        return std::nullopt;
    }
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
    }
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::int64_t expiration_for_ttl(std::uint64_t ttl_s, std::int64_t now_ns) noexcept {
    const std::uint64_t duration = ttl_s * 1'000'000'000ULL;  // wraps as Go's int64 does
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(now_ns) + duration);
}

keys_op keys_request::op() const noexcept {
    switch (method) {
    case http::method::get:
        return quorum ? keys_op::quorum_get : wait ? keys_op::watch : keys_op::get;
    case http::method::post:
        return keys_op::create_unique;
    case http::method::put:
        if (prev_exist) {
            if (!*prev_exist) {
                return keys_op::create;
            }
            return prev_index == 0 && prev_value.empty() ? keys_op::update
                                                         : keys_op::compare_and_swap;
        }
        return prev_index > 0 || !prev_value.empty() ? keys_op::compare_and_swap
                                                     : keys_op::set;
    case http::method::delete_:
        return prev_index > 0 || !prev_value.empty() ? keys_op::compare_and_delete
                                                     : keys_op::remove;
    default:
        return keys_op::get;  // HEAD: a plain get (quorum and wait do not apply)
    }
}

result<keys_request, keys_request_error> decode_keys_request(http::method m,
    std::string_view key_path, const form& fields) {
    if (fields.error() != form_error::none) {
        std::string cause;
        fields.append_error_cause(cause);
        return fail(error_code::invalid_form, std::move(cause));
    }
    keys_request req;
    req.method = m;
    req.path = internal_path(key_path);
    if (!read_uint(fields, "prevIndex", req.prev_index)) {
        return fail(error_code::index_nan, "invalid value for \"prevIndex\"");
    }
    if (!read_uint(fields, "waitIndex", req.wait_index)) {
        return fail(error_code::index_nan, "invalid value for \"waitIndex\"");
    }
    for (const bool_field& f : bool_fields) {
        if (!read_bool(fields, f.name, req.*f.member)) {
            std::string cause = "invalid value for \"";
            cause.append(f.name);
            cause.push_back('"');
            return fail(error_code::invalid_field, std::move(cause));
        }
    }
    if (req.wait && m != http::method::get) {
        return fail(error_code::invalid_field, "\"wait\" can only be used with GET requests");
    }
    req.prev_value = std::string(fields.get("prevValue").value_or(""));
    req.value = std::string(fields.get("value").value_or(""));
    if (auto ok = decode_write_fields(fields, req); !ok) {
        return failure{std::move(ok).error()};
    }
    return req;
}

}  // namespace uetcd::http
