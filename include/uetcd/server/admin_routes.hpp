// The small endpoints every member answers: /version and /health (etcd 2.3.8 shapes).
#pragma once

#include "uetcd/http/router.hpp"

namespace uetcd::server {

// What /health reports; the cluster work will feed it from raft (leader known, index moving).
struct health_source {
    bool (*healthy)(void* context) = nullptr;
    void* context = nullptr;
};

void add_admin_routes(http::router& routes, health_source health);

}  // namespace uetcd::server
