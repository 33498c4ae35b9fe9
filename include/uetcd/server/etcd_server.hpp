// The etcd server process: binds the client and peer listeners, prepares the data dir,
// starts one reactor per core, serves the HTTP API and shuts down on SIGINT/SIGTERM.
#pragma once

#include "uetcd/server/config.hpp"

namespace uetcd::server {

// Runs the server described by `cfg` until it is told to stop. Returns the exit status:
// 0 after a clean shutdown, 1 when start-up failed (the reason is logged on one line).
int run_etcd_server(const config& cfg);

}  // namespace uetcd::server
