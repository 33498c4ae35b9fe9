// HTTP request methods as a small enum, so handlers switch on a byte instead of comparing
// strings. Pure: no I/O. Unknown tokens map to method::other (Go's net/http accepts any
// token as a method; etcd's handlers then answer 405).
#pragma once

#include <cstdint>
#include <string_view>

namespace uetcd::http {

enum class method : std::uint8_t {
    get, head, put, post, delete_, options, patch, trace, connect, other
};

// Methods are case-sensitive (RFC 9110 9.1): "get" is method::other.
constexpr method method_from(std::string_view text) noexcept {
    switch (text.size()) {
    case 3:
        if (text == "GET") {
            return method::get;
        }
        if (text == "PUT") {
            return method::put;
        }
        break;
    case 4:
        if (text == "POST") {
            return method::post;
        }
        if (text == "HEAD") {
            return method::head;
        }
        break;
    case 5:
        if (text == "PATCH") {
            return method::patch;
        }
        if (text == "TRACE") {
            return method::trace;
        }
        break;
    case 6:
        if (text == "DELETE") {
            return method::delete_;
        }
        break;
    case 7:
        if (text == "OPTIONS") {
            return method::options;
        }
        if (text == "CONNECT") {
            return method::connect;
        }
        break;
    default:
        break;
    }
    return method::other;
}

// The canonical token; method::other has no single name, so it yields "OTHER".
constexpr std::string_view method_name(method m) noexcept {
    switch (m) {
    case method::get:
        return "GET";
    case method::head:
        return "HEAD";
    case method::put:
        return "PUT";
    case method::post:
        return "POST";
    case method::delete_:
        return "DELETE";
    case method::options:
        return "OPTIONS";
    case method::patch:
        return "PATCH";
    case method::trace:
        return "TRACE";
    case method::connect:
        return "CONNECT";
    case method::other:
        break;
    }
    return "OTHER";
}

}  // namespace uetcd::http
