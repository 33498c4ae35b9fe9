// Micro-benchmarks of the pure HTTP pieces on the request path: parsing a typical etcd client
// GET, a pipelined batch, form decoding and JSON escaping of a 64-byte value.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "uetcd/http/json_writer.hpp"
#include "uetcd/http/parser.hpp"
#include "uetcd/http/query.hpp"

namespace {

using namespace uetcd::http;

// What etcdctl (Go net/http client) sends for `etcdctl get /foo`: 101 bytes, 3 headers.
const std::string typical_get =
    "GET /v2/keys/foo?quorum=false HTTP/1.1\r\n"
    "Host: 127.0.0.1:2379\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Accept-Encoding: gzip\r\n"
    "\r\n";

void BM_http_parse_typical_get(benchmark::State& state) {
    std::vector<char> buffer(typical_get.begin(), typical_get.end());
    request_parser parser;
    request req;
    for (auto _ : state) {
        parser.reset();
        parse_result r = parser.parse(buffer, req);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(req.path.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buffer.size()));
}
BENCHMARK(BM_http_parse_typical_get);

// 32 pipelined requests in one buffer, alternating GET and a form PUT with a body.
void BM_http_parse_pipelined_batch(benchmark::State& state) {
    constexpr int requests = 32;
    std::string raw;
    for (int i = 0; i < requests; ++i) {
        if (i % 2 == 0) {
            raw += typical_get;
        } else {
            raw += "PUT /v2/keys/foo HTTP/1.1\r\nHost: 127.0.0.1:2379\r\n"
                   "User-Agent: Go-http-client/1.1\r\nContent-Length: 9\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\n"
                   "Accept-Encoding: gzip\r\n\r\nvalue=bar";
        }
    }
    std::vector<char> buffer(raw.begin(), raw.end());
    request_parser parser;
    request req;
    for (auto _ : state) {
        std::size_t offset = 0;
        for (int i = 0; i < requests; ++i) {
            parser.reset();
            parse_result r = parser.parse(std::span<char>(buffer).subspan(offset), req);
            offset += r.consumed_bytes;
        }
        benchmark::DoNotOptimize(offset);
    }
    state.SetItemsProcessed(state.iterations() * requests);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buffer.size()));
}
BENCHMARK(BM_http_parse_pipelined_batch);

void BM_http_form_plain_query(benchmark::State& state) {
    form f;
    for (auto _ : state) {
        f.parse("recursive=true&sorted=true&quorum=false", "");
        auto value = f.get("sorted");
        benchmark::DoNotOptimize(value);
    }
}
BENCHMARK(BM_http_form_plain_query);

void BM_http_form_decoded_body(benchmark::State& state) {
    form f;
    for (auto _ : state) {
        f.parse("", "value=hello+world%21%20with%2Fescapes&ttl=60&prevExist=false");
        auto value = f.get("value");
        benchmark::DoNotOptimize(value);
    }
}
BENCHMARK(BM_http_form_decoded_body);

void BM_http_percent_decode_path(benchmark::State& state) {
    std::string out;
    for (auto _ : state) {
        bool ok = percent_decode_path("/v2/keys/services/web%20front/10.0.0.1%3A8080", out);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_http_percent_decode_path);

void BM_http_json_escape_64_ascii(benchmark::State& state) {
    // A JSON document as a value: 12 quotes to escape in 63 bytes.
    const std::string_view value =
        "{\"host\":\"10.0.0.1\",\"port\":8080,\"weight\":10,\"zone\":\"eu-west-1a\"}";
    std::string out;
    out.reserve(256);
    for (auto _ : state) {
        out.clear();
        append_json_string(out, value);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(value.size()));
}
BENCHMARK(BM_http_json_escape_64_ascii);

void BM_http_json_escape_64_plain(benchmark::State& state) {
    const std::string value = "service-instance-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHI";
    std::string out;
    out.reserve(256);
    for (auto _ : state) {
        out.clear();
        append_json_string(out, value);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(value.size()));
}
BENCHMARK(BM_http_json_escape_64_plain);

}  // namespace
