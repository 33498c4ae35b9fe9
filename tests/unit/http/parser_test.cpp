// Tables of valid and invalid requests for the incremental HTTP/1.1 parser, each fed whole and
// byte by byte (with the buffer moving between calls), which must agree.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "uetcd/http/parser.hpp"

using namespace uetcd::http;

namespace {

struct outcome {
    parse_result result;
    std::string method_text;
    std::string target;
    std::string path;
    std::string query;
    int version_minor = -1;
    std::string body;
    bool keep_alive = false;
    bool expect_continue = false;
    std::vector<std::pair<std::string, std::string>> headers;
};

outcome capture(const parse_result& r, const request& req) {
    outcome o;
    o.result = r;
    if (r.status != parse_status::complete) {
        return o;
    }
    o.method_text = std::string(req.method_text);
    o.target = std::string(req.target);
    o.path = std::string(req.path);
    o.query = std::string(req.query);
    o.version_minor = req.version_minor;
    o.body = std::string(req.body);
    o.keep_alive = req.keep_alive;
    o.expect_continue = req.expect_continue;
    for (std::uint32_t i = 0; i < req.header_count; ++i) {
        o.headers.emplace_back(req.headers[i].name, req.headers[i].value);
    }
    return o;
}

outcome parse_whole(const std::string& raw, parser_limits limits = {}) {
    std::vector<char> buffer(raw.begin(), raw.end());
    request_parser parser(limits);
    request req;
    parse_result r = parser.parse(buffer, req);
    return capture(r, req);
}

// One byte more per call, and the bytes move to a fresh allocation each time, as a connection
// growing its buffer would do; in-place de-chunking done so far is carried over.
outcome parse_trickled(const std::string& raw, parser_limits limits = {}) {
    request_parser parser(limits);
    request req;
    std::vector<char> buffer;
    parse_result r;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        std::vector<char> moved(buffer);
        moved.reserve(raw.size() + i + 64);  // a different capacity: a different address
        moved.push_back(raw[i]);
        buffer = std::move(moved);
        r = parser.parse(buffer, req);
        if (r.status != parse_status::incomplete) {
            break;
        }
    }
    return capture(r, req);
}

void require_same(const outcome& a, const outcome& b) {
    REQUIRE(a.result.status == b.result.status);
    REQUIRE(a.result.consumed_bytes == b.result.consumed_bytes);
    REQUIRE(a.result.error_status == b.result.error_status);
    REQUIRE(a.method_text == b.method_text);
    REQUIRE(a.target == b.target);
    REQUIRE(a.path == b.path);
    REQUIRE(a.query == b.query);
    REQUIRE(a.version_minor == b.version_minor);
    REQUIRE(a.body == b.body);
    REQUIRE(a.keep_alive == b.keep_alive);
    REQUIRE(a.expect_continue == b.expect_continue);
    REQUIRE(a.headers == b.headers);
}

struct valid_case {
    const char* name;
    std::string raw;
    const char* method_text;
    const char* path;
    const char* query;
    int version_minor;
    std::string body;
    bool keep_alive;
    bool expect_continue;
    std::size_t consumed_bytes;  // 0: all of raw
};

const std::string typical_get =
    "GET /v2/keys/foo?recursive=true HTTP/1.1\r\n"
    "Host: 127.0.0.1:2379\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Accept-Encoding: gzip\r\n"
    "\r\n";

std::vector<valid_case> valid_cases() {
    return {
        {"typical GET with query", typical_get, "GET", "/v2/keys/foo", "recursive=true", 1, "",
            true, false, 0},
        {"PUT with form body",
            "PUT /v2/keys/a HTTP/1.1\r\nHost: h\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1",
            "PUT", "/v2/keys/a", "", 1, "value=1", true, false, 0},
        {"first of a pipelined pair consumes only its bytes",
            "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/a",
            "", 1, "", true, false, 28},
        {"pipelined POST then GET: the body ends the first",
            "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n",
            "POST", "/a", "", 1, "abc", true, false, 51},
        {"chunked body with extensions and trailers is de-chunked",
            "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5;name=val\r\nhello\r\n1; \r\n,\r\n"
            "0000A\r\n world!!!!\r\n0;last\r\nX-Trailer: t\r\nOther: o\r\n\r\n",
            "POST", "/c", "", 1, "hello, world!!!!", true, false, 0},
        {"chunked size line with trailing spaces and LF only",
            "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
            "3  \nabc\r\n0\n\n",
            "POST", "/c", "", 1, "abc", true, false, 0},
        {"HTTP/1.0 is close by default", "GET / HTTP/1.0\r\n\r\n", "GET", "/", "", 0, "",
            false, false, 0},
        {"HTTP/1.0 with Connection: keep-alive keeps alive",
            "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "", 0, "", true,
            false, 0},
        {"HTTP/1.1 Connection close in a token list closes",
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n", "GET", "/", "", 1,
            "", false, false, 0},
        {"HTTP/1.0 close wins over keep-alive",
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", "GET", "/",
            "", 0, "", false, false, 0},
        {"Expect 100-continue with a body",
            "PUT /k HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nab",
            "PUT", "/k", "", 1, "ab", true, true, 0},
        {"Expect 100-continue without a body asks nothing",
            "PUT /k HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", "PUT", "/k", "", 1, "",
            true, false, 0},
        {"Expect 100-continue on HTTP/1.0 is ignored",
            "PUT /k HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx", "PUT", "/k",
            "", 0, "x", false, false, 0},
        {"bare LF line endings are accepted as Go does",
            "GET /lf?x=1 HTTP/1.1\nHost: h\nX-A:  spaced value \t\n\n", "GET", "/lf", "x=1", 1,
            "", true, false, 0},
        {"repeated identical Content-Length is accepted",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz",
            "POST", "/", "", 1, "z", true, false, 0},
        {"absolute-form target yields the path after the authority",
            "GET http://h:2379/v2/keys?a=b HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/v2/keys", "a=b",
            1, "", true, false, 0},
        {"asterisk target", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", "", 1, "",
            true, false, 0},
        {"unknown method token and HTTP/1.2 are accepted",
            "PURGE /x? HTTP/1.2\r\nHost: h\r\n\r\n", "PURGE", "/x", "", 2, "", true, false, 0},
        {"empty Content-Length means no body, as in Go",
            "GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", "GET", "/", "", 1, "",
            true, false, 0},
        {"empty Host is accepted as Go does",
            "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET", "/", "", 1, "", true, false, 0},
        {"IPv6 Host with port", "GET / HTTP/1.1\r\nHost: [::1]:2379\r\n\r\n", "GET", "/", "",
            1, "", true, false, 0},
        {"empty header value and obs-text in a value",
            "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n", "GET", "/",
            "", 1, "", true, false, 0},
    };
}

}  // namespace

TEST_CASE("parser: valid requests parse the same whole and trickled byte by byte", "[http]") {
    for (const valid_case& c : valid_cases()) {
        SECTION(c.name) {
            outcome whole = parse_whole(c.raw);
            REQUIRE(whole.result.status == parse_status::complete);
            REQUIRE(whole.result.headers_done);
            CHECK(whole.method_text == c.method_text);
            CHECK(whole.path == c.path);
            CHECK(whole.query == c.query);
            CHECK(whole.version_minor == c.version_minor);
            CHECK(whole.body == c.body);
            CHECK(whole.keep_alive == c.keep_alive);
            CHECK(whole.expect_continue == c.expect_continue);
            std::size_t consumed = c.consumed_bytes == 0 ? c.raw.size() : c.consumed_bytes;
            CHECK(whole.result.consumed_bytes == consumed);
            require_same(whole, parse_trickled(c.raw));
        }
    }
}

TEST_CASE("parser: headers keep their order and trimmed values; lookup is case-insensitive",
    "[http]") {
    std::string raw = typical_get;
    std::vector<char> buffer(raw.begin(), raw.end());
    request_parser parser;
    request req;
    REQUIRE(parser.parse(buffer, req).status == parse_status::complete);
    REQUIRE(req.method == method::get);
    REQUIRE(req.target == "/v2/keys/foo?recursive=true");
    REQUIRE(req.header_count == 3);
    CHECK(req.headers[0].name == "Host");
    CHECK(req.headers[0].value == "127.0.0.1:2379");
    CHECK(req.header_value("user-agent") == "Go-http-client/1.1");
    CHECK(req.header_value("ACCEPT-ENCODING") == "gzip");
    CHECK(req.header_value("X-Missing").empty());
    CHECK(req.has_header("host"));
    CHECK_FALSE(req.has_header("hos"));
}

TEST_CASE("parser: pipelined requests parse one after another after reset", "[http]") {
    std::string raw = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                      "PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "1\r\nx\r\n0\r\n\r\n"
                      "DELETE /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    std::vector<char> buffer(raw.begin(), raw.end());
    request_parser parser;
    std::vector<std::string> paths;
    std::vector<std::string> bodies;
    std::size_t offset = 0;
    for (int i = 0; i < 3; ++i) {
        request req;
        parse_result r = parser.parse(std::span<char>(buffer).subspan(offset), req);
        REQUIRE(r.status == parse_status::complete);
        paths.emplace_back(req.path);
        bodies.emplace_back(req.body);
        offset += r.consumed_bytes;
        parser.reset();
        if (i == 2) {
            CHECK_FALSE(req.keep_alive);
        }
    }
    CHECK(offset == raw.size());
    CHECK(paths == std::vector<std::string>{"/a", "/b", "/c"});
    CHECK(bodies == std::vector<std::string>{"", "x", ""});
}

TEST_CASE("parser: headers_done is reported before the body arrives (100-continue)", "[http]") {
    std::string head = "PUT /k HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                       "Content-Length: 5\r\n\r\n";
    std::vector<char> buffer(head.begin(), head.end());
    request_parser parser;
    request req;
    parse_result r = parser.parse(buffer, req);
    REQUIRE(r.status == parse_status::incomplete);
    REQUIRE(r.headers_done);
    REQUIRE(req.expect_continue);
    REQUIRE(req.path == "/k");
    for (char c : std::string("hello")) {
        buffer.push_back(c);
        r = parser.parse(buffer, req);
    }
    REQUIRE(r.status == parse_status::complete);
    REQUIRE(req.body == "hello");
    REQUIRE(req.path == "/k");  // re-pointed after the vector reallocated
}

namespace {

struct invalid_case {
    const char* name;
    std::string raw;
    int status;
};

parser_limits small_limits() {
    parser_limits limits;
    limits.request_line_bytes_max = 32;
    limits.header_bytes_max = 64;
    limits.header_count_max = 3;
    limits.body_bytes_max = 16;
    return limits;
}

std::vector<invalid_case> invalid_cases() {
    const std::string line = "GET / HTTP/1.1\r\n";
    const std::string host = "Host: h\r\n";
    return {
        {"request line over the limit", "GET /" + std::string(40, 'a') + " HTTP/1.1\r\n\r\n", 414},
        {"request line over the limit while incomplete", "GET /" + std::string(40, 'a'), 414},
        {"headers over the limit", line + host + "X: " + std::string(60, 'v') + "\r\n\r\n", 431},
        {"headers over the limit while incomplete", line + host + "X: " + std::string(60, 'v'),
            431},
        {"too many headers", line + host + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431},
        {"Content-Length over the body limit", line + host + "Content-Length: 17\r\n\r\n", 413},
        {"chunked body over the body limit",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            "10\r\n0123456789abcdef\r\n1\r\n",
            413},
        {"both Content-Length and Transfer-Encoding",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400},
        {"differing repeated Content-Length",
            line + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"negative Content-Length", line + host + "Content-Length: -1\r\n\r\n", 400},
        {"non-numeric Content-Length", line + host + "Content-Length: 1x\r\n\r\n", 400},
        {"Content-Length list", line + host + "Content-Length: 1, 1\r\n\r\n", 400},
        {"overflowing Content-Length",
            line + host + "Content-Length: 99999999999999999999\r\n\r\n", 400},
        {"empty then non-empty Content-Length",
            line + host + "Content-Length:\r\nContent-Length: 0\r\n\r\n", 400},
        {"gzip Transfer-Encoding", line + host + "Transfer-Encoding: gzip\r\n\r\n", 501},
        {"gzip, chunked Transfer-Encoding",
            line + host + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"two Transfer-Encoding headers",
            line + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        {"bad chunk size", line + host + "Transfer-Encoding: chunked\r\n\r\nxyz\r\n", 400},
        {"empty chunk size", line + host + "Transfer-Encoding: chunked\r\n\r\n\r\n", 400},
        {"space before chunk extension", line + host + "Transfer-Encoding: chunked\r\n\r\n"
            "1 ;x\r\n", 400},
        {"chunk size of 17 hex digits", line + host + "Transfer-Encoding: chunked\r\n\r\n"
            "00000000000000001\r\n", 400},
        {"chunk data not followed by CRLF", line + host + "Transfer-Encoding: chunked\r\n\r\n"
            "1\r\nab\r\n", 400},
        {"HTTP/1.1 without Host", line + "\r\n", 400},
        {"two Host headers", line + host + host + "\r\n", 400},
        {"space in Host", line + "Host: a b\r\n\r\n", 400},
        {"'/' in Host", line + "Host: a/b\r\n\r\n", 400},
        {"'@' in Host", line + "Host: user@h\r\n\r\n", 400},
        {"non-ASCII in Host", line + "Host: caf\xc3\xa9\r\n\r\n", 400},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        {"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505},
        {"garbage version", "GET / HTTQ/1.1\r\n\r\n", 400},
        {"version with two-digit minor", "GET / HTTP/1.10\r\n\r\n", 400},
        {"missing version", "GET /\r\n\r\n", 400},
        {"space inside the target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"control byte in the target", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"DEL in the target", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"relative target", "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"bad method character", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"space in a header name", line + host + "Bad Name: v\r\n\r\n", 400},
        {"space before the colon", line + host + "Name : v\r\n\r\n", 400},
        {"header without colon", line + host + "NoColon\r\n\r\n", 400},
        {"empty header name", line + host + ": v\r\n\r\n", 400},
        {"control byte in a header value", line + host + "X: a\x01z\r\n\r\n", 400},
        {"bare CR in a header value", line + host + "X: a\rb\r\n\r\n", 400},
        {"obs-fold continuation line", line + host + "X: a\r\n b\r\n\r\n", 400},
        {"empty request line", "\r\nGET / HTTP/1.1\r\n\r\n", 400},
        {"unknown expectation", line + host + "Expect: 200-ok\r\n\r\n", 417},
        {"binary garbage", std::string("\x00\xff\x13\x37\n", 5), 400},
        {"TLS ClientHello",
            std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x0a\x20\x0d\x0a\x00", 16),
            400},
    };
}

}  // namespace

TEST_CASE("parser: invalid requests are rejected with Go's status, whole and trickled",
    "[http]") {
    for (const invalid_case& c : invalid_cases()) {
        SECTION(c.name) {
            outcome whole = parse_whole(c.raw, small_limits());
            REQUIRE(whole.result.status == parse_status::error);
            CHECK(whole.result.error_status == c.status);
            CHECK_FALSE(whole.result.error_reason.empty());
            require_same(whole, parse_trickled(c.raw, small_limits()));
        }
    }
}

TEST_CASE("parser: bytes that cannot start a request fail before any line end arrives",
    "[http]") {
    // A TLS ClientHello or binary garbage may never send '\n': answer at once.
    const std::vector<std::string> prefixes = {std::string("\x16\x03\x01\x02\x00", 5),
        std::string("\x00\x01", 2), "GE(", " GET", "\rX"};
    for (const auto& raw : prefixes) {
        std::vector<char> buffer(raw.begin(), raw.end());
        request_parser parser;
        request req;
        const auto r = parser.parse(buffer, req);
        CHECK(r.status == parse_status::error);
        CHECK(r.error_status == 400);
    }
    // A CR may be the start of a line end: the parser waits for the next byte.
    for (const std::string partial : {"GET /still-coming", "GET\r", "\r"}) {
        std::vector<char> buffer(partial.begin(), partial.end());
        request_parser parser;
        request req;
        REQUIRE(parser.parse(buffer, req).status == parse_status::incomplete);
    }
}

TEST_CASE("parser: an error is sticky until reset", "[http]") {
    std::string raw = "G(T / HTTP/1.1\r\n\r\n";
    std::vector<char> buffer(raw.begin(), raw.end());
    request_parser parser;
    request req;
    REQUIRE(parser.parse(buffer, req).error_status == 400);
    REQUIRE(parser.parse(buffer, req).error_status == 400);
    parser.reset();
    std::string good = "GET / HTTP/1.0\r\n\r\n";
    std::vector<char> good_buffer(good.begin(), good.end());
    REQUIRE(parser.parse(good_buffer, req).status == parse_status::complete);
}

TEST_CASE("parser: limits are exact: a request line of exactly the limit passes", "[http]") {
    parser_limits limits = small_limits();
    std::string target = "/" + std::string(limits.request_line_bytes_max - 14, 'a');
    std::string raw = "GET " + target + " HTTP/1.0\r\n\r\n";
    REQUIRE(raw.size() - 4 == limits.request_line_bytes_max);
    CHECK(parse_whole(raw, limits).result.status == parse_status::complete);
    CHECK(parse_trickled(raw, limits).result.status == parse_status::complete);
    std::string longer = "GET " + target + "a HTTP/1.0\r\n\r\n";
    CHECK(parse_whole(longer, limits).result.error_status == 414);
}

TEST_CASE("parser: a body of exactly body_bytes_max passes, chunked or not", "[http]") {
    parser_limits limits = small_limits();
    std::string body(limits.body_bytes_max, 'b');
    std::string plain = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n" + body;
    CHECK(parse_whole(plain, limits).body == body);
    std::string chunked = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "8\r\n" + body.substr(0, 8) + "\r\n8\r\n" + body.substr(8) +
        "\r\n0\r\n\r\n";
    CHECK(parse_whole(chunked, limits).body == body);
    CHECK(parse_trickled(chunked, limits).body == body);
}

TEST_CASE("method: names round-trip and unknown tokens are other", "[http]") {
    for (method m : {method::get, method::head, method::put, method::post, method::delete_,
             method::options, method::patch, method::trace, method::connect}) {
        CHECK(method_from(method_name(m)) == m);
    }
    CHECK(method_from("get") == method::other);
    CHECK(method_from("PURGE") == method::other);
    CHECK(method_name(method::other) == "OTHER");
}
