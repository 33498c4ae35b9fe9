// The small endpoints every member answers: /version and /health (etcd 2.3.8 shapes).
#pragma once

#include <string>
#include <vector>

#include "uetcd/http/router.hpp"

namespace uetcd::server {

// What /health reports; the cluster work will feed it from raft (leader known, index moving).
struct health_source {
    bool (*healthy)(void* context) = nullptr;
    void* context = nullptr;
};

// `cors` (--cors origins; may be empty) must outlive the routes. etcd wraps every client
// handler in its CORS handler; the peer port passes an empty list.
void add_admin_routes(http::router& routes, health_source health,
    const std::vector<std::string>& cors);

}  // namespace uetcd::server
