// The cluster's identity (member and cluster IDs computed as etcd computes them) and the read
// side of the cluster endpoints: /v2/members, /v2/members/leader, /v2/machines and
// /v2/stats/{self,leader,store}, with etcd's field order and formats. One member for now:
// membership changes answer etcd's validation errors, then 500 (they need raft).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/http/router.hpp"
#include "uetcd/server/config.hpp"

namespace uetcd::server {

class store_service;

struct member_info {
    std::uint64_t id = 0;
    std::string name;                      // "" until the member publishes (only self here)
    std::vector<std::string> peer_urls;    // sorted
    std::vector<std::string> client_urls;  // sorted
};

struct cluster_info {
    std::uint64_t cluster_id = 0;
    std::uint64_t self_id = 0;
    std::string cluster_id_hex;  // strconv.FormatUint(id, 16)
    std::string self_id_hex;
    std::vector<member_info> members;  // sorted by id
    std::string self_name;
    std::int64_t start_wall_ns = 0;  // process start: /v2/stats/self startTime
    std::int64_t leader_wall_ns = 0;  // when this member became leader
    std::int64_t leader_mono_ns = 0;  // the same instant on the monotonic clock (uptime)
    std::vector<std::string> cors;    // --cors origins; "*" allows any

    const member_info* find(std::uint64_t id) const noexcept;
};

// etcd membership.NewMember: the first 8 bytes (big-endian) of sha1(sorted peer URLs
// concatenated + cluster token) (no time suffix: a bootstrap member).
std::uint64_t compute_member_id(std::vector<std::string> peer_urls, std::string_view token);
// etcd RaftCluster.genID: the first 8 bytes of sha1 over the sorted member IDs (8 bytes BE each).
std::uint64_t compute_cluster_id(std::vector<std::uint64_t> member_ids);
std::string format_id(std::uint64_t id);

// The members of --initial-cluster (grouped by name), this member's client URLs from
// --advertise-client-urls, the IDs. Empty error text on success.
result<cluster_info, std::string> make_cluster_info(const config& cfg);

// {"id":"..","name":"..","peerURLs":[..],"clientURLs":[..]} (json.Marshal of etcd's Member).
void write_member_json(std::string& out, const member_info& m);

// CORS headers as etcd's cors.CORSHandler adds them (none when the list is empty).
void add_cors_headers(http::exchange& ex, const std::vector<std::string>& cors);
// etcd's CORS handler wraps every client handler and answers OPTIONS itself: 200, empty
// body, whatever --cors says. True when it answered.
bool answer_options(http::exchange& ex);

// Go's time.Duration.String(): "1.791452199s", "2m3.5s", "500ms", "0s".
std::string go_duration_string(std::int64_t ns);
// Go's time.Time RFC3339Nano for a UTC instant, with the quotes stripped.
std::string rfc3339_nano_utc(std::int64_t wall_ns);

// Registers the routes. `cluster` and `store` must outlive the router; the store lives on
// core 0 and is reached with submit_to.
void add_cluster_routes(http::router& routes, const cluster_info& cluster, store_service& store);

}  // namespace uetcd::server
