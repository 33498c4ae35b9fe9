// libFuzzer target for the HTTP/1.1 request parser. Input: 2 control bytes (split seed, limits
// choice) then the bytes a client sends. The bytes are parsed as a pipelined stream twice, once
// whole and once trickled in random pieces through a moving buffer, and both runs must agree;
// every view must lie inside the buffer and consumed_bytes inside what was received.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "uetcd/http/parser.hpp"

using namespace uetcd::http;

namespace {

#define FUZZ_CHECK(expr)                                                        \
    do {                                                                        \
        if (!(expr)) {                                                          \
            __builtin_trap();                                                   \
        }                                                                       \
    } while (false)

constexpr std::size_t requests_max = 16;

// What one parse of one request produced, copied out of the buffer.
struct record {
    parse_status status;
    std::size_t consumed_bytes;
    int error_status;
    std::string summary;
};

bool inside(std::string_view view, const char* base, std::size_t size_bytes) {
    if (view.empty()) {
        return true;
    }
    auto begin = reinterpret_cast<std::uintptr_t>(base);
    auto first = reinterpret_cast<std::uintptr_t>(view.data());
    return first >= begin && first + view.size() <= begin + size_bytes;
}

std::string summarize(const request& req, const char* base, std::size_t size_bytes) {
    std::string s;
    for (std::string_view v : {req.method_text, req.target, req.path, req.query, req.body}) {
        FUZZ_CHECK(inside(v, base, size_bytes));
        s.append(v);
        s.push_back('\0');
    }
    FUZZ_CHECK(req.header_count <= header_count_capacity);
    for (std::uint32_t i = 0; i < req.header_count; ++i) {
        FUZZ_CHECK(inside(req.headers[i].name, base, size_bytes));
        FUZZ_CHECK(inside(req.headers[i].value, base, size_bytes));
        FUZZ_CHECK(!req.headers[i].name.empty());
        s.append(req.headers[i].name);
        s.push_back(':');
        s.append(req.headers[i].value);
        s.push_back('\0');
    }
    s += std::to_string(req.version_minor) + (req.keep_alive ? "k" : "-") +
        (req.expect_continue ? "e" : "-");
    return s;
}

record finish(const parse_result& r, const request& req, const char* base, std::size_t size) {
    record rec{r.status, r.consumed_bytes, r.error_status, {}};
    if (r.status == parse_status::complete) {
        FUZZ_CHECK(r.consumed_bytes > 0);
        FUZZ_CHECK(r.consumed_bytes <= size);
        FUZZ_CHECK(r.headers_done);
        rec.summary = summarize(req, base, size);
    }
    if (r.status == parse_status::error) {
        FUZZ_CHECK(r.error_status >= 400 && r.error_status <= 505);
        FUZZ_CHECK(!r.error_reason.empty());
    }
    return rec;
}

std::vector<record> parse_whole(const std::uint8_t* data, std::size_t size, parser_limits lim) {
    std::vector<char> buffer(data, data + size);
    std::vector<record> records;
    request_parser parser(lim);
    std::size_t offset = 0;
    while (records.size() < requests_max) {
        request req;
        std::span<char> rest(buffer.data() + offset, buffer.size() - offset);
        record rec = finish(parser.parse(rest, req), req, rest.data(), rest.size());
        records.push_back(rec);
        if (rec.status != parse_status::complete) {
            break;
        }
        offset += rec.consumed_bytes;
        parser.reset();
    }
    return records;
}

// A connection: append a random-sized piece, move the buffer, parse, drop consumed bytes.
std::vector<record> parse_split(const std::uint8_t* data, std::size_t size, parser_limits lim,
    std::uint32_t seed) {
    std::vector<char> buffer;
    std::vector<record> records;
    request_parser parser(lim);
    request req;
    std::size_t fed = 0;
    while (records.size() < requests_max) {
        seed = seed * 1103515245u + 12345u;
        std::size_t piece = (seed >> 16) % 9;  // 0..8 bytes, 0 re-parses the same bytes
        piece = piece > size - fed ? size - fed : piece;
        std::vector<char> moved;
        moved.reserve(buffer.size() + piece + (seed & 7));
        moved.assign(buffer.begin(), buffer.end());
        moved.insert(moved.end(), data + fed, data + fed + piece);
        buffer.swap(moved);
        fed += piece;
        parse_result r = parser.parse(buffer, req);
        if (r.status == parse_status::incomplete && fed < size) {
            continue;
        }
        record rec = finish(r, req, buffer.data(), buffer.size());
        records.push_back(rec);
        if (rec.status != parse_status::complete) {
            break;
        }
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(rec.consumed_bytes));
        parser.reset();
        req = request{};
        // The rest may already hold a whole request: parse it without feeding more.
        while (records.size() < requests_max) {
            r = parser.parse(buffer, req);
            if (r.status == parse_status::incomplete) {
                break;
            }
            rec = finish(r, req, buffer.data(), buffer.size());
            records.push_back(rec);
            if (rec.status != parse_status::complete) {
                return records;
            }
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(rec.consumed_bytes));
            parser.reset();
            req = request{};
        }
    }
    return records;
}

parser_limits choose_limits(std::uint8_t choice) {
    parser_limits lim;
    if ((choice & 1) != 0) {
        lim.request_line_bytes_max = 16 + (choice >> 4);
        lim.header_bytes_max = 32 + (choice >> 2);
        lim.header_count_max = 1 + (choice >> 5);
        lim.body_bytes_max = choice >> 1;
    }
    return lim;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    std::uint32_t seed = data[0];
    parser_limits lim = choose_limits(data[1]);
    data += 2;
    size -= 2;
    std::vector<record> whole = parse_whole(data, size, lim);
    std::vector<record> split = parse_split(data, size, lim, seed);
    FUZZ_CHECK(whole.size() == split.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
        FUZZ_CHECK(whole[i].status == split[i].status);
        FUZZ_CHECK(whole[i].consumed_bytes == split[i].consumed_bytes);
        FUZZ_CHECK(whole[i].error_status == split[i].error_status);
        FUZZ_CHECK(whole[i].summary == split[i].summary);
    }
    return 0;
}
