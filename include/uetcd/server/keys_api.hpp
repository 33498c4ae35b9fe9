// The /v2/keys endpoint (etcd v3.4 etcdserver/api/v2http/client.go keysHandler): every request
// is parsed and validated on the core that received it (errors 2xx answered there, index 0),
// then the store operation runs on the store's core (store_service, core 0) and its answer
// comes back by value. Watches hold no thread: the watcher lives in the hub on core 0 and its
// events come back to the waiting connection's core as batched cross-core messages.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "uetcd/http/router.hpp"
#include "uetcd/server/cluster_api.hpp"
#include "uetcd/server/store_service.hpp"

namespace uetcd::server {

class keys_api {
public:
    // Registers one watch sink per core with `store`. Everything must outlive the reactors.
    keys_api(const cluster_info& cluster, store_service& store, unsigned cores);
    ~keys_api();
    keys_api(const keys_api&) = delete;
    keys_api& operator=(const keys_api&) = delete;

    // /v2/keys and /v2/keys/...
    void add_routes(http::router& routes);
    // On each core before its HTTP servers stop: ends the watches waiting there, as etcd
    // ends them at shutdown (the response is finished and the connection closed).
    void stop_watches(unsigned core);

    struct core_state;  // keys_api.cpp: the core's waiting watches

private:
    const cluster_info& _cluster;
    store_service& _store;
    std::vector<std::unique_ptr<core_state>> _cores;
};

}  // namespace uetcd::server
