// The per-request work of the HTTP server without the socket: parse a request, route it
// to the /version handler, and write the complete response (status line, headers, Date,
// Content-Length, body) into the connection's output buffer.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "uetcd/http/parser.hpp"
#include "uetcd/http/response.hpp"
#include "uetcd/http/router.hpp"
#include "uetcd/server/admin_routes.hpp"

namespace {

using namespace uetcd;
const std::vector<std::string> no_cors;

void BM_parse_route_write_version(benchmark::State& state) {
    http::router routes;
    server::add_admin_routes(routes, {}, no_cors);
    const std::string wire = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:2379\r\n"
                             "User-Agent: wrk\r\nAccept: */*\r\n\r\n";
    std::string buffer = wire;
    http::request_parser parser;
    http::request req;
    http::response res;
    http::date_cache dates;
    std::string out;
    std::string path;
    out.reserve(4096);
    for (auto _ : state) {
        std::memcpy(buffer.data(), wire.data(), wire.size());
        parser.reset();
        const auto pr = parser.parse(std::span<char>(buffer.data(), buffer.size()), req);
        res.reset();
        routes.route(req, res, path);
        out.clear();
        res.write_to(out, dates.get(1'700'000'000), false, false);
        benchmark::DoNotOptimize(pr);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_route_write_version);

void BM_route_write_not_found(benchmark::State& state) {
    http::router routes;
    server::add_admin_routes(routes, {}, no_cors);
    std::string wire = "GET /v2/unknown/path HTTP/1.1\r\nHost: a\r\n\r\n";
    http::request_parser parser;
    http::request req;
    parser.parse(std::span<char>(wire.data(), wire.size()), req);
    http::response res;
    http::date_cache dates;
    std::string out;
    std::string path;
    for (auto _ : state) {
        res.reset();
        routes.route(req, res, path);
        out.clear();
        res.write_to(out, dates.get(1'700'000'000), false, false);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_route_write_not_found);

}  // namespace

