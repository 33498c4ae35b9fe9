// parse_config: the flag table of the uetcd `etcd` binary and etcd 2.3.8's checks, in the
// order etcdmain/config.go Parse and the start of etcdmain.Main run them, so that an
// invalid command line fails with the same first error as etcd.
#include "uetcd/server/config.hpp"

#include <algorithm>
#include <array>

namespace uetcd::server {
namespace {

constexpr std::string_view default_peer_urls = "http://localhost:2380,http://localhost:7001";
constexpr std::string_view default_client_urls = "http://localhost:2379,http://localhost:4001";
constexpr std::string_view default_initial_cluster =
    "default=http://localhost:2380,default=http://localhost:7001";
// etcd 2.3.8 etcdmain/config.go maxElectionMs (Documentation/tuning.md).
constexpr std::uint64_t election_timeout_ms_max = 50000;
// A bound on --cores: far above today's sockets, low enough to size per-core tables.
constexpr std::uint64_t cores_max = 1024;

using k = flag_kind;
constexpr flag_support ignore = flag_support::ignored;
constexpr flag_support refuse = flag_support::refused;

// In help order. Defaults are etcd 2.3.8's; the kinds match its flag.Value types.
constexpr std::array flag_table = {
    flag_spec{"name", k::string, "default"},
    flag_spec{"data-dir", k::string, ""},
    flag_spec{"wal-dir", k::string, ""},
    flag_spec{"snapshot-count", k::uint, "10000"},
    flag_spec{"heartbeat-interval", k::uint, "100"},
    flag_spec{"election-timeout", k::uint, "1000"},
    flag_spec{"listen-peer-urls", k::urls, default_peer_urls},
    flag_spec{"listen-client-urls", k::urls, default_client_urls},
    flag_spec{"max-snapshots", k::uint, "5"},
    flag_spec{"max-wals", k::uint, "5"},
    flag_spec{"cors", k::cors, ""},
    flag_spec{"initial-advertise-peer-urls", k::urls, default_peer_urls},
    flag_spec{"initial-cluster", k::string, default_initial_cluster},
    flag_spec{"initial-cluster-state", k::choice, "new", "new|existing"},
    flag_spec{"initial-cluster-token", k::string, "etcd-cluster"},
    flag_spec{"advertise-client-urls", k::urls, default_client_urls},
    flag_spec{"discovery", k::string, ""},
    flag_spec{"discovery-fallback", k::choice, "proxy", "exit|proxy"},
    flag_spec{"discovery-proxy", k::string, ""},
    flag_spec{"discovery-srv", k::string, ""},
    flag_spec{"strict-reconfig-check", k::boolean, "false"},
    flag_spec{"proxy", k::choice, "off", "off|readonly|on"},
    flag_spec{"proxy-failure-wait", k::uint, "5000"},
    flag_spec{"proxy-refresh-interval", k::uint, "30000"},
    flag_spec{"proxy-dial-timeout", k::uint, "1000"},
    flag_spec{"proxy-write-timeout", k::uint, "5000"},
    flag_spec{"proxy-read-timeout", k::uint, "0"},
    flag_spec{"ca-file", k::string, ""},
    flag_spec{"cert-file", k::string, ""},
    flag_spec{"key-file", k::string, ""},
    flag_spec{"client-cert-auth", k::boolean, "false"},
    flag_spec{"trusted-ca-file", k::string, ""},
    flag_spec{"peer-ca-file", k::string, ""},
    flag_spec{"peer-cert-file", k::string, ""},
    flag_spec{"peer-key-file", k::string, ""},
    flag_spec{"peer-client-cert-auth", k::boolean, "false"},
    flag_spec{"peer-trusted-ca-file", k::string, ""},
    flag_spec{"cipher-suites", k::string, ""},
    flag_spec{"debug", k::boolean, "false"},
    flag_spec{"log-package-levels", k::string, ""},
    flag_spec{"force-new-cluster", k::boolean, "false"},
    flag_spec{"version", k::boolean, "false"},
    // etcd 2.3 v3 previews: uetcd serves only the v2 API.
    flag_spec{"experimental-v3demo", k::boolean, "false", {}, ignore},
    flag_spec{"experimental-gRPC-addr", k::string, "127.0.0.1:2378", {}, ignore},
    flag_spec{"experimental-auto-compaction-retention", k::integer, "0", {}, ignore},
    flag_spec{"enable-pprof", k::boolean, "false"},
    flag_spec{"enable-v2", k::boolean, "true"},
    flag_spec{"cores", k::uint, "0"},
    flag_spec{"io-engine", k::choice, "auto", "auto|uring|epoll"},
    flag_spec{"addr", k::ip_port, ""},
    flag_spec{"bind-addr", k::ip_port, ""},
    flag_spec{"peer-addr", k::ip_port, ""},
    flag_spec{"peer-bind-addr", k::ip_port, ""},
    flag_spec{"peers", k::deprecated, ""},
    flag_spec{"peers-file", k::deprecated, ""},
    // etcd 0.4 flags, accepted and ignored with a warning (etcd 2.3.8 `ignored`).
    flag_spec{"cluster-active-size", k::ignored, ""},
    flag_spec{"cluster-remove-delay", k::ignored, ""},
    flag_spec{"cluster-sync-interval", k::ignored, ""},
    flag_spec{"config", k::ignored, ""},
    flag_spec{"force", k::ignored, ""},
    flag_spec{"max-result-buffer", k::ignored, ""},
    flag_spec{"max-retry-attempts", k::ignored, ""},
    flag_spec{"peer-heartbeat-interval", k::ignored, ""},
    flag_spec{"peer-election-timeout", k::ignored, ""},
    flag_spec{"retry-interval", k::ignored, ""},
    flag_spec{"snapshot", k::ignored, ""},
    flag_spec{"v", k::ignored, ""},
    flag_spec{"vv", k::ignored, ""},
    // etcd 3.4 flags, so that 3.4 command lines start; they are v3, metrics or logging
    // knobs with no counterpart here. The kinds only decide whether a value follows.
    flag_spec{"discovery-srv-name", k::string, ""},
    flag_spec{"log-level", k::choice, "info", "debug|info|warn|error|panic|fatal"},
    flag_spec{"initial-election-tick-advance", k::boolean, "true", {}, ignore},
    flag_spec{"pre-vote", k::boolean, "false", {}, ignore},
    flag_spec{"quota-backend-bytes", k::string, "0", {}, ignore},
    flag_spec{"backend-batch-interval", k::string, "0", {}, ignore},
    flag_spec{"backend-batch-limit", k::string, "0", {}, ignore},
    flag_spec{"max-txn-ops", k::string, "128", {}, ignore},
    flag_spec{"max-request-bytes", k::string, "1572864", {}, ignore},
    flag_spec{"max-concurrent-streams", k::string, "", {}, ignore},
    flag_spec{"grpc-keepalive-min-time", k::string, "5s", {}, ignore},
    flag_spec{"grpc-keepalive-interval", k::string, "2h0m0s", {}, ignore},
    flag_spec{"grpc-keepalive-timeout", k::string, "20s", {}, ignore},
    flag_spec{"auto-compaction-retention", k::string, "0", {}, ignore},
    flag_spec{"auto-compaction-mode", k::string, "periodic", {}, ignore},
    flag_spec{"host-whitelist", k::string, "*", {}, ignore},
    flag_spec{"auth-token", k::string, "simple", {}, ignore},
    flag_spec{"bcrypt-cost", k::string, "10", {}, ignore},
    flag_spec{"auth-token-ttl", k::string, "300", {}, ignore},
    flag_spec{"metrics", k::string, "basic", {}, ignore},
    flag_spec{"listen-metrics-urls", k::string, "", {}, ignore},
    flag_spec{"logger", k::string, "capnslog", {}, ignore},
    flag_spec{"log-outputs", k::string, "default", {}, ignore},
    flag_spec{"experimental-initial-corrupt-check", k::boolean, "false", {}, ignore},
    flag_spec{"experimental-corrupt-check-time", k::string, "0s", {}, ignore},
    flag_spec{"experimental-enable-v2v3", k::string, "", {}, ignore},
    flag_spec{"experimental-backend-bbolt-freelist-type", k::string, "map", {}, ignore},
    flag_spec{"experimental-enable-lease-checkpoint", k::boolean, "false", {}, ignore},
    flag_spec{"experimental-compaction-batch-limit", k::string, "1000", {}, ignore},
    flag_spec{"experimental-watch-progress-notify-interval", k::string, "10m0s", {}, ignore},
    flag_spec{"experimental-warning-apply-duration", k::string, "100ms", {}, ignore},
    flag_spec{"auto-tls", k::boolean, "false", {}, refuse},
    flag_spec{"peer-auto-tls", k::boolean, "false", {}, refuse},
    flag_spec{"client-crl-file", k::string, "", {}, refuse},
    flag_spec{"peer-crl-file", k::string, "", {}, refuse},
    flag_spec{"client-cert-allowed-hostname", k::string, "", {}, refuse},
    flag_spec{"peer-cert-allowed-cn", k::string, "", {}, refuse},
    flag_spec{"peer-cert-allowed-hostname", k::string, "", {}, refuse},
    flag_spec{"experimental-peer-skip-client-san-verification", k::boolean, "false", {}, refuse},
    flag_spec{"config-file", k::string, "", {}, refuse},
};

// Go's crypto/tls names (what etcd 3.4 --cipher-suites takes) and OpenSSL's.
constexpr std::pair<std::string_view, std::string_view> cipher_names[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
};

config_error config_failure(std::string message, std::string hint = {}) {
    return config_error{1, std::move(message), std::move(hint)};
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    for (std::string_view piece : split_on(text, ',')) {
        std::string_view item = trim_spaces(piece);
        if (!item.empty()) {
            items.emplace_back(item);
        }
    }
    return items;
}

// Values were validated when set, so these conversions cannot fail.
std::uint64_t uint_of(const flag_set& flags, std::string_view name) {
    auto parsed = parse_go_uint(flags.value(name).text);
    UETCD_ASSERT(parsed.ok());
    return parsed.value();
}

bool bool_of(const flag_set& flags, std::string_view name) {
    auto parsed = parse_go_bool(flags.value(name).text);
    UETCD_ASSERT(parsed.ok());
    return parsed.value();
}

const std::string& text_of(const flag_set& flags, std::string_view name) {
    return flags.value(name).text;
}

// etcd 2.3.8 pkg/flags SetBindAddrFromAddr: -addr alone also binds [::]:<its port>.
void set_bind_addr_from_addr(flag_set& flags, std::string_view bind_name,
    std::string_view addr_name) {
    if (flags.is_set(bind_name) || !flags.is_set(addr_name)) {
        return;
    }
    auto host_port = split_host_port(text_of(flags, addr_name));
    UETCD_ASSERT(host_port.ok());
    auto set = flags.set(bind_name, "[::]:" + host_port.value().second,
        flags.value(addr_name).source);
    UETCD_ASSERT(set.ok());
}

// etcd 2.3.8 pkg/flags URLsFromFlags: a legacy IP:port flag becomes one URL, https when
// the TLS files are set; setting both spellings is an error.
result<std::vector<url>, config_error> urls_from_flags(const flag_set& flags,
    std::string_view urls_name, std::string_view addr_name, const tls_files& tls) {
    if (flags.is_set(addr_name)) {
        if (flags.is_set(urls_name)) {
            return failure{config_failure("Set only one of flags -" + std::string(urls_name) +
                                          " and -" + std::string(addr_name))};
        }
        std::string scheme = tls.empty() ? "http://" : "https://";
        auto parsed = parse_url(scheme + text_of(flags, addr_name));
        UETCD_ASSERT(parsed.ok());
        return std::vector<url>{std::move(parsed.value())};
    }
    auto parsed = parse_url_list(text_of(flags, urls_name));
    UETCD_ASSERT(parsed.ok());
    return std::move(parsed.value());
}

// etcd 3.4 --log-level words onto capnslog levels; --debug wins, as in 3.4.
log_level base_log_level_of(std::string_view word, bool debug) {
    if (debug || word == "debug") {
        return log_level::debug;
    }
    if (word == "warn") {
        return log_level::warning;
    }
    if (word == "error") {
        return log_level::error;
    }
    if (word == "panic" || word == "fatal") {
        return log_level::critical;
    }
    return log_level::info;
}

tls_files tls_of(const flag_set& flags, std::string_view prefix) {
    auto name = [&](std::string_view rest) { return std::string(prefix) + std::string(rest); };
    tls_files tls;
    tls.cert_file = text_of(flags, name("cert-file"));
    tls.key_file = text_of(flags, name("key-file"));
    tls.ca_file = text_of(flags, name("ca-file"));
    tls.trusted_ca_file = text_of(flags, name("trusted-ca-file"));
    tls.client_cert_auth = bool_of(flags, name("client-cert-auth"));
    return tls;
}

void read_member_flags(const flag_set& flags, config& cfg) {
    cfg.name = text_of(flags, "name");
    cfg.data_dir = text_of(flags, "data-dir");
    cfg.wal_dir = text_of(flags, "wal-dir");
    cfg.snapshot_count = uint_of(flags, "snapshot-count");
    cfg.heartbeat_interval_ms = uint_of(flags, "heartbeat-interval");
    cfg.election_timeout_ms = uint_of(flags, "election-timeout");
    cfg.max_snapshots = uint_of(flags, "max-snapshots");
    cfg.max_wals = uint_of(flags, "max-wals");
    cfg.cors = split_list(text_of(flags, "cors"));
    std::sort(cfg.cors.begin(), cfg.cors.end());
    cfg.cors.erase(std::unique(cfg.cors.begin(), cfg.cors.end()), cfg.cors.end());
    cfg.initial_cluster = text_of(flags, "initial-cluster");
    cfg.initial_cluster_state = text_of(flags, "initial-cluster-state") == "existing"
                                    ? cluster_state::existing
                                    : cluster_state::new_cluster;
    cfg.initial_cluster_token = text_of(flags, "initial-cluster-token");
    cfg.discovery = text_of(flags, "discovery");
    cfg.discovery_srv = text_of(flags, "discovery-srv");
    cfg.discovery_fallback_mode = text_of(flags, "discovery-fallback") == "exit"
                                      ? discovery_fallback::exit
                                      : discovery_fallback::proxy;
    cfg.discovery_proxy = text_of(flags, "discovery-proxy");
    cfg.discovery_srv_name = text_of(flags, "discovery-srv-name");
    cfg.strict_reconfig_check = bool_of(flags, "strict-reconfig-check");
}

void read_other_flags(const flag_set& flags, config& cfg) {
    const std::string& proxy = text_of(flags, "proxy");
    cfg.proxy = proxy == "on" ? proxy_mode::on
                : proxy == "readonly" ? proxy_mode::readonly
                                      : proxy_mode::off;
    cfg.proxy_failure_wait_ms = uint_of(flags, "proxy-failure-wait");
    cfg.proxy_refresh_interval_ms = uint_of(flags, "proxy-refresh-interval");
    cfg.proxy_dial_timeout_ms = uint_of(flags, "proxy-dial-timeout");
    cfg.proxy_write_timeout_ms = uint_of(flags, "proxy-write-timeout");
    cfg.proxy_read_timeout_ms = uint_of(flags, "proxy-read-timeout");
    cfg.client_tls = tls_of(flags, "");
    cfg.peer_tls = tls_of(flags, "peer-");
    cfg.cipher_suites = split_list(text_of(flags, "cipher-suites"));
    cfg.debug = bool_of(flags, "debug");
    cfg.base_log_level = base_log_level_of(text_of(flags, "log-level"), cfg.debug);
    cfg.log_package_levels = text_of(flags, "log-package-levels");
    cfg.force_new_cluster = bool_of(flags, "force-new-cluster");
    cfg.enable_pprof = bool_of(flags, "enable-pprof");
    cfg.enable_v2 = bool_of(flags, "enable-v2");
    const std::string& engine = text_of(flags, "io-engine");
    cfg.engine = engine == "uring" ? io_engine::uring
                 : engine == "epoll" ? io_engine::epoll
                                     : io_engine::automatic;
}

// etcd 2.3.8 config.Parse after the environment: bootstrap flags, legacy addresses, the
// advertise rule and the election timeout bounds.
result<bool, config_error> check_etcd_rules(flag_set& flags, config& cfg) {
    int bootstrap_flags_set = static_cast<int>(flags.is_set("discovery")) +
                              static_cast<int>(flags.is_set("initial-cluster")) +
                              static_cast<int>(flags.is_set("discovery-srv"));
    if (bootstrap_flags_set > 1) {
        return failure{config_failure(
            "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", "
            "\"discovery\" or \"discovery-srv\"")};
    }
    set_bind_addr_from_addr(flags, "peer-bind-addr", "peer-addr");
    set_bind_addr_from_addr(flags, "bind-addr", "addr");
    struct url_flag {
        std::vector<url>* target;
        std::string_view urls_name, addr_name;
        const tls_files* tls;
    };
    const url_flag url_flags[] = {
        {&cfg.listen_peer_urls, "listen-peer-urls", "peer-bind-addr", &cfg.peer_tls},
        {&cfg.initial_advertise_peer_urls, "initial-advertise-peer-urls", "peer-addr",
            &cfg.peer_tls},
        {&cfg.listen_client_urls, "listen-client-urls", "bind-addr", &cfg.client_tls},
        {&cfg.advertise_client_urls, "advertise-client-urls", "addr", &cfg.client_tls},
    };
    for (const url_flag& f : url_flags) {
        auto urls = urls_from_flags(flags, f.urls_name, f.addr_name, *f.tls);
        if (!urls) {
            return failure{std::move(urls).error()};
        }
        *f.target = std::move(urls.value());
    }
    bool may_fall_back_to_proxy =
        flags.is_set("discovery") && cfg.discovery_fallback_mode == discovery_fallback::proxy;
    bool may_be_proxy = cfg.is_proxy() || may_fall_back_to_proxy;
    if (!may_be_proxy && flags.is_set("listen-client-urls") &&
        !flags.is_set("advertise-client-urls")) {
        return failure{config_failure(
            "-advertise-client-urls is required when -listen-client-urls is set explicitly",
            "When listening on specific address(es), this etcd process must advertise "
            "accessible url(s) to each connected client.")};
    }
    return true;
}

result<bool, config_error> check_timing(const config& cfg) {
    // etcd 2.3.8 divides by the heartbeat interval; 3.4 rejects 0 first, and so do we.
    if (cfg.heartbeat_interval_ms == 0) {
        return failure{config_failure("-heartbeat-interval must be >0 (set to 0ms)")};
    }
    // 5 * heartbeat > election, written so that it cannot overflow.
    if (cfg.heartbeat_interval_ms > cfg.election_timeout_ms / 5) {
        return failure{config_failure("-election-timeout[" +
                                      std::to_string(cfg.election_timeout_ms) +
                                      "ms] should be at least as 5 times as -heartbeat-interval[" +
                                      std::to_string(cfg.heartbeat_interval_ms) + "ms]")};
    }
    if (cfg.election_timeout_ms > election_timeout_ms_max) {
        return failure{config_failure(
            "-election-timeout[" + std::to_string(cfg.election_timeout_ms) +
            "ms] is too long, and should be set less than " +
            std::to_string(election_timeout_ms_max) + "ms")};
    }
    return true;
}

// "--auto-tls=false" or "--client-crl-file=" ask for nothing we lack.
bool is_default(const flag_spec& spec, const std::string& text) {
    if (spec.kind == flag_kind::boolean) {
        return parse_go_bool(text).value() == parse_go_bool(spec.default_value).value();
    }
    return text == spec.default_value;
}

// Checks etcd 2.3.8 leaves to later stages (or lacks) that uetcd makes at parse time.
result<bool, config_error> check_uetcd_rules(const flag_set& flags, config& cfg) {
    for (const auto* urls : {&cfg.listen_peer_urls, &cfg.listen_client_urls}) {
        for (const url& u : *urls) {
            auto bind = resolve_bind_address(u);
            if (!bind) {
                return failure{config_failure(bind.error())};
            }
        }
    }
    // etcd 3.4 checkHostURLs: an advertised URL without a host reaches nobody.
    const std::pair<std::string_view, const std::vector<url>*> advertised[] = {
        {"initial-advertise-peer-urls", &cfg.initial_advertise_peer_urls},
        {"advertise-client-urls", &cfg.advertise_client_urls},
    };
    for (const auto& [name, urls] : advertised) {
        for (const url& u : *urls) {
            if (u.host.empty()) {
                return failure{config_failure("-" + std::string(name) + " \"" +
                                              join_urls(*urls) + "\" must be \"host:port\" " +
                                              "(unexpected empty host (" + u.text + "))")};
            }
        }
    }
    for (std::size_t i = 0; i < flags.specs.size(); i++) {
        if (flags.specs[i].support == flag_support::refused &&
            !is_default(flags.specs[i], flags.values[i].text)) {
            return failure{config_failure("flag -" + std::string(flags.specs[i].name) +
                                          " (etcd 3.4) is not supported by uetcd")};
        }
    }
    for (const std::string& suite : cfg.cipher_suites) {
        if (openssl_cipher_name(suite).empty()) {
            return failure{config_failure("unexpected TLS cipher suite \"" + suite + "\"")};
        }
    }
    std::uint64_t cores = uint_of(flags, "cores");
    if (cores > cores_max) {
        return failure{config_failure("-cores[" + std::to_string(cores) +
                                      "] is more than the supported maximum of " +
                                      std::to_string(cores_max))};
    }
    cfg.cores = static_cast<std::uint32_t>(cores);
    return true;
}

// The start of etcd 2.3.8 etcdmain.Main and setupLogging: derived defaults and warnings.
void apply_derived_defaults(const flag_set& flags, config& cfg) {
    // etcd compares values, not whether the flag was set: an explicit default is rebuilt.
    if (cfg.name != "default" && cfg.initial_cluster == initial_cluster_from_name("default")) {
        cfg.initial_cluster = initial_cluster_from_name(cfg.name);
    }
    if (cfg.data_dir.empty()) {
        cfg.data_dir = cfg.name + ".etcd";
        cfg.log_records.push_back(log_record{log_level::warning, "etcdmain",
            "no data-dir provided, using default data-dir ./" + cfg.data_dir});
    }
    if (!cfg.log_package_levels.empty()) {
        auto levels = parse_log_package_levels(cfg.log_package_levels);
        if (levels) {
            cfg.parsed_log_package_levels = std::move(levels.value());
        } else {
            cfg.log_records.push_back(log_record{log_level::warning, "etcdmain",
                "couldn't parse log level string: " + levels.error() +
                    ", continuing with default levels"});
        }
    }
    for (std::size_t i = 0; i < flags.specs.size(); i++) {
        if (flags.specs[i].support == flag_support::ignored && flags.values[i].set()) {
            cfg.log_records.push_back(log_record{log_level::warning, "etcdmain",
                "flag \"-" + std::string(flags.specs[i].name) +
                    "\" has no effect in uetcd - ignoring."});
        }
    }
    if (!cfg.enable_v2) {
        cfg.log_records.push_back(log_record{log_level::warning, "etcdmain",
            "-enable-v2=false is ignored: uetcd always serves the v2 API"});
    }
}

}  // namespace

bool config::is_set(std::string_view flag_name) const {
    return std::binary_search(flags_set.begin(), flags_set.end(), flag_name);
}

std::span<const flag_spec> config_flag_specs() { return flag_table; }

std::string initial_cluster_from_name(std::string_view name) {
    std::string n(name.empty() ? std::string_view("default") : name);
    return n + "=http://localhost:2380," + n + "=http://localhost:7001";
}

std::string_view openssl_cipher_name(std::string_view go_name) {
    for (const auto& [go, openssl] : cipher_names) {
        if (go == go_name) {
            return openssl;
        }
    }
    return {};
}

result<config, config_error> parse_config(std::span<const char* const> arguments,
    const environment& env) {
    flag_set flags(flag_table);
    auto parsed = parse_command_line(flags, arguments);
    if (!parsed) {
        return failure{std::move(parsed).error()};
    }
    config cfg;
    if (flags.help_requested) {
        cfg.action = config_action::print_help;
        return cfg;
    }
    if (!flags.positionals.empty()) {
        return failure{config_failure("'" + flags.positionals.front() + "' is not a valid flag")};
    }
    if (bool_of(flags, "version")) {
        cfg.action = config_action::print_version;
        return cfg;
    }
    auto from_env = apply_environment(flags, env);
    if (!from_env) {
        return failure{std::move(from_env).error()};
    }
    read_member_flags(flags, cfg);
    read_other_flags(flags, cfg);
    if (auto check = check_etcd_rules(flags, cfg); !check) {
        return failure{std::move(check).error()};
    }
    if (auto check = check_timing(cfg); !check) {
        return failure{std::move(check).error()};
    }
    if (auto check = check_uetcd_rules(flags, cfg); !check) {
        return failure{std::move(check).error()};
    }
    cfg.log_records = std::move(flags.notes);
    apply_derived_defaults(flags, cfg);
    cfg.environment_used = std::move(flags.environment_used);
    for (std::size_t i = 0; i < flags.specs.size(); i++) {
        if (flags.values[i].set()) {
            cfg.flags_set.emplace_back(flags.specs[i].name);
        }
    }
    std::sort(cfg.flags_set.begin(), cfg.flags_set.end());
    return cfg;
}

}  // namespace uetcd::server
