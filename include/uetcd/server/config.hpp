// The configuration of the uetcd `etcd` binary: every etcd v2.3.8 server flag (plus
// etcd 3.4's --cipher-suites and --enable-v2, and uetcd's --cores and --io-engine), parsed
// from argv and ETCD_* variables with etcd's rules, defaults and error texts.
// Pure: the caller passes argv and the environment, and prints and logs what comes back.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uetcd/result.hpp"
#include "uetcd/server/flags.hpp"
#include "uetcd/server/log.hpp"
#include "uetcd/server/url.hpp"

namespace uetcd::server {

// The etcd API version uetcd speaks (what `etcd --version` and /version report).
inline constexpr std::string_view etcd_api_version = "2.3.8";

enum class config_action : std::uint8_t {
    run,            // start the server
    print_help,     // print help_text() to stdout, exit 0
    print_version,  // print version_text() to stdout, exit 0
};

enum class cluster_state : std::uint8_t { new_cluster, existing };
enum class discovery_fallback : std::uint8_t { exit, proxy };
enum class proxy_mode : std::uint8_t { off, readonly, on };
enum class io_engine : std::uint8_t { automatic, uring, epoll };

struct tls_files {
    std::string cert_file;
    std::string key_file;
    std::string ca_file;  // deprecated: same as trusted_ca_file + client_cert_auth
    std::string trusted_ca_file;
    bool client_cert_auth = false;

    // etcd 2.3.8 transport.TLSInfo.Empty: TLS is on when a cert or a key is given.
    bool empty() const { return cert_file.empty() && key_file.empty(); }
    // The CA that verifies the other side, and whether its cert is required: the
    // deprecated ca-file turns both on (etcd 2.3.8 TLSInfo.ServerConfig).
    const std::string& effective_trusted_ca_file() const {
        return trusted_ca_file.empty() ? ca_file : trusted_ca_file;
    }
    bool effective_client_cert_auth() const { return client_cert_auth || !ca_file.empty(); }
};

struct config {
    config_action action = config_action::run;

    // member
    std::string name = "default";
    std::string data_dir;  // "<name>.etcd" when not given (a warning is in log_records)
    std::string wal_dir;
    std::uint64_t snapshot_count = 10000;
    std::uint64_t heartbeat_interval_ms = 100;
    std::uint64_t election_timeout_ms = 1000;
    std::vector<url> listen_peer_urls;
    std::vector<url> listen_client_urls;
    std::uint64_t max_snapshots = 5;
    std::uint64_t max_wals = 5;
    std::vector<std::string> cors;  // allowed origins, sorted; "*" allows any

    // clustering
    std::vector<url> initial_advertise_peer_urls;
    std::vector<url> advertise_client_urls;
    std::string initial_cluster;  // "name=url,..."; parse with parse_initial_cluster()
    cluster_state initial_cluster_state = cluster_state::new_cluster;
    std::string initial_cluster_token = "etcd-cluster";
    std::string discovery;
    std::string discovery_srv;
    discovery_fallback discovery_fallback_mode = discovery_fallback::proxy;
    std::string discovery_proxy;
    std::string discovery_srv_name;  // etcd 3.4: SRV records _etcd-server[-ssl]-<name>._tcp
    bool strict_reconfig_check = false;

    // proxy
    proxy_mode proxy = proxy_mode::off;
    std::uint64_t proxy_failure_wait_ms = 5000;
    std::uint64_t proxy_refresh_interval_ms = 30000;
    std::uint64_t proxy_dial_timeout_ms = 1000;
    std::uint64_t proxy_write_timeout_ms = 5000;
    std::uint64_t proxy_read_timeout_ms = 0;

    // security
    tls_files client_tls;
    tls_files peer_tls;
    std::vector<std::string> cipher_suites;  // Go names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

    // logging, debugging, unsafe
    bool debug = false;
    log_level base_log_level = log_level::info;  // --debug or etcd 3.4 --log-level
    std::string log_package_levels;
    package_levels parsed_log_package_levels;  // empty when unset or unparsable (warned)
    bool enable_pprof = false;
    bool force_new_cluster = false;
    bool enable_v2 = true;  // accepted for etcd 3.4 command lines; the v2 API is always on

    // uetcd's own
    std::uint32_t cores = 0;  // 0: every online CPU
    io_engine engine = io_engine::automatic;

    // What the server logs once logging is set up, in order: ignored flags, environment
    // variables used or unknown, defaults taken (e.g. the data dir).
    std::vector<log_record> log_records;
    // Every ETCD_* variable that set a flag, with its value.
    std::vector<std::pair<std::string, std::string>> environment_used;
    // Names of the flags given explicitly (command line or environment), sorted.
    std::vector<std::string> flags_set;

    bool is_set(std::string_view flag_name) const;
    bool is_proxy() const { return proxy != proxy_mode::off; }
    // election ticks as etcd computes them: election timeout / heartbeat interval.
    std::uint64_t election_ticks() const { return election_timeout_ms / heartbeat_interval_ms; }
};

// The flag table (name, kind, default) in help order; docs and tests walk it.
std::span<const flag_spec> config_flag_specs();

// Parses argv without the program name (argv + 1) and the environment, as etcd 2.3.8
// etcdmain config.Parse followed by the start of etcdmain.Main (name-derived
// initial-cluster, default data-dir). For --help and --version only `action` matters.
result<config, config_error> parse_config(std::span<const char* const> arguments,
    const environment& env);

// etcd 2.3.8's initial-cluster default for a name: "n=http://localhost:2380,n=...:7001".
std::string initial_cluster_from_name(std::string_view name);

// The OpenSSL name of a Go TLS cipher suite name accepted by --cipher-suites (etcd 3.4
// pkg/tlsutil), e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> ECDHE-RSA-AES128-GCM-SHA256;
// empty when unknown. TLS 1.3 names map to themselves (OpenSSL's ciphersuites list).
std::string_view openssl_cipher_name(std::string_view go_name);

// Texts to print. help_text(): usage and every flag (stdout, exit 0). usage_text(): the
// short usage etcd prints after a flag syntax error. version_text(): the 4 lines of
// `etcd --version`.
std::string help_text();
std::string usage_text();
std::string version_text();

}  // namespace uetcd::server
