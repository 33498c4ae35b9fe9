// /version and /health as etcd 2.3.8 answers them (etcdhttp/client.go serveVersion,
// etcdhttp/http.go healthHandler): GET only, else 405 with "Allow: GET".
#include "uetcd/server/admin_routes.hpp"

#include "uetcd/server/cluster_api.hpp"
#include "uetcd/server/config.hpp"

namespace uetcd::server {

namespace {

bool allow_get_only(http::exchange& ex, const std::vector<std::string>& cors) {
    add_cors_headers(ex, cors);
    if (answer_options(ex)) {
        return false;
    }
    if (ex.request.method == http::method::get) {
        return true;
    }
    ex.response.add_header("Allow", "GET");
    ex.response.reply_text_error(405, "Method Not Allowed");
    return false;
}

}  // namespace

void add_admin_routes(http::router& routes, health_source health,
    const std::vector<std::string>& cors) {
    routes.exact("/version", [&cors](http::exchange& ex) {
        if (!allow_get_only(ex, cors)) {
            return;
        }
        // 2.3.8 writes the JSON with Content-Type application/json and no newline.
        ex.response.reply(200, "application/json",
            R"({"etcdserver":"2.3.8","etcdcluster":"2.3.0"})");
    });
    routes.exact("/health", [health, &cors](http::exchange& ex) {
        if (!allow_get_only(ex, cors)) {
            return;
        }
        const bool ok = health.healthy == nullptr || health.healthy(health.context);
        if (ok) {
            // 2.3.8 sets no Content-Type: Go sniffs text/plain and writes it last.
            ex.response.set_status(200);
            ex.response.body().assign(R"({"health": "true"})");
            ex.response.set_sniffed_content_type("text/plain; charset=utf-8");
        } else {
            ex.response.reply_text_error(503, R"({"health": "false"})");
            ex.response.set_status(503);
        }
    });
}

}  // namespace uetcd::server
