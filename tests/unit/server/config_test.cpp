// parse_config end to end: etcd 2.3.8 defaults, legacy flags, environment precedence, the
// name-derived initial cluster, every config error text with its exit code, help/version.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "printers.hpp"
#include "uetcd/server/config.hpp"

using namespace uetcd::server;
using uetcd::result;

namespace {

result<config, config_error> parse(const std::vector<std::string>& args,
    const std::vector<std::string>& env = {}) {
    std::vector<const char*> argv;
    for (const std::string& a : args) {
        argv.push_back(a.c_str());
    }
    return parse_config(argv, environment(env));
}

config parse_ok(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    auto parsed = parse(args, env);
    if (!parsed) {
        FAIL("unexpected error: " << parsed.error().message);
    }
    return std::move(parsed).value();
}

bool has_record(const config& cfg, log_level level, const std::string& text) {
    for (const log_record& r : cfg.log_records) {
        if (r.level == level && r.text == text) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("config: defaults are etcd 2.3.8's", "[server][config]") {
    config cfg = parse_ok({});
    CHECK(cfg.action == config_action::run);
    CHECK(cfg.name == "default");
    CHECK(cfg.data_dir == "default.etcd");
    CHECK(cfg.wal_dir.empty());
    CHECK(cfg.snapshot_count == 10000);
    CHECK(cfg.heartbeat_interval_ms == 100);
    CHECK(cfg.election_timeout_ms == 1000);
    CHECK(cfg.election_ticks() == 10);
    CHECK(join_urls(cfg.listen_peer_urls) == "http://localhost:2380,http://localhost:7001");
    CHECK(join_urls(cfg.listen_client_urls) == "http://localhost:2379,http://localhost:4001");
    CHECK(join_urls(cfg.initial_advertise_peer_urls) ==
          "http://localhost:2380,http://localhost:7001");
    CHECK(join_urls(cfg.advertise_client_urls) == "http://localhost:2379,http://localhost:4001");
    CHECK(cfg.initial_cluster == "default=http://localhost:2380,default=http://localhost:7001");
    CHECK(cfg.initial_cluster_state == cluster_state::new_cluster);
    CHECK(cfg.initial_cluster_token == "etcd-cluster");
    CHECK(cfg.discovery_fallback_mode == discovery_fallback::proxy);
    CHECK(cfg.proxy == proxy_mode::off);
    CHECK(cfg.proxy_failure_wait_ms == 5000);
    CHECK(cfg.proxy_refresh_interval_ms == 30000);
    CHECK(cfg.proxy_dial_timeout_ms == 1000);
    CHECK(cfg.proxy_write_timeout_ms == 5000);
    CHECK(cfg.proxy_read_timeout_ms == 0);
    CHECK(cfg.max_snapshots == 5);
    CHECK(cfg.max_wals == 5);
    CHECK(cfg.cors.empty());
    CHECK(cfg.client_tls.empty());
    CHECK_FALSE(cfg.strict_reconfig_check);
    CHECK_FALSE(cfg.debug);
    CHECK(cfg.enable_v2);
    CHECK(cfg.cores == 0);
    CHECK(cfg.engine == io_engine::automatic);
    CHECK(cfg.flags_set.empty());
    CHECK(cfg.log_records == std::vector<log_record>{{log_level::warning, "etcdmain",
                                 "no data-dir provided, using default data-dir ./default.etcd"}});
}

TEST_CASE("config: every value flag reaches the struct", "[server][config]") {
    config cfg = parse_ok({"--name=n1", "--data-dir=/d", "--wal-dir=/w", "--snapshot-count=7",
        "--heartbeat-interval=50", "--election-timeout=500", "--max-snapshots=1",
        "--max-wals=2", "--cors=http://b.example, *,http://a.example",
        "--initial-cluster-state=existing", "--initial-cluster-token=t",
        "--discovery-fallback=exit", "--discovery-proxy=http://p:1", "--strict-reconfig-check",
        "--proxy=readonly", "--proxy-failure-wait=1", "--proxy-refresh-interval=2",
        "--proxy-dial-timeout=3", "--proxy-write-timeout=4", "--proxy-read-timeout=5",
        "--cert-file=c", "--key-file=k", "--ca-file=ca", "--peer-cert-file=pc",
        "--peer-key-file=pk", "--peer-trusted-ca-file=pt", "--peer-client-cert-auth",
        "--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA",
        "--debug", "--log-package-levels=etcdmain=DEBUG", "--force-new-cluster",
        "--enable-pprof", "--cores=4", "--io-engine=epoll"});
    CHECK(cfg.name == "n1");
    CHECK(cfg.data_dir == "/d");
    CHECK(cfg.wal_dir == "/w");
    CHECK(cfg.snapshot_count == 7);
    CHECK(cfg.election_ticks() == 10);
    CHECK(cfg.max_snapshots == 1);
    CHECK(cfg.max_wals == 2);
    CHECK(cfg.cors == std::vector<std::string>{"*", "http://a.example", "http://b.example"});
    CHECK(cfg.initial_cluster_state == cluster_state::existing);
    CHECK(cfg.initial_cluster_token == "t");
    CHECK(cfg.discovery_fallback_mode == discovery_fallback::exit);
    CHECK(cfg.discovery_proxy == "http://p:1");
    CHECK(cfg.strict_reconfig_check);
    CHECK(cfg.proxy == proxy_mode::readonly);
    CHECK(cfg.proxy_failure_wait_ms + cfg.proxy_refresh_interval_ms == 3);
    CHECK(cfg.proxy_dial_timeout_ms + cfg.proxy_write_timeout_ms == 7);
    CHECK(cfg.proxy_read_timeout_ms == 5);
    CHECK(cfg.client_tls.effective_trusted_ca_file() == "ca");
    CHECK(cfg.client_tls.effective_client_cert_auth());
    CHECK_FALSE(cfg.client_tls.empty());
    CHECK(cfg.peer_tls.effective_trusted_ca_file() == "pt");
    CHECK(cfg.peer_tls.effective_client_cert_auth());
    CHECK(cfg.cipher_suites.size() == 2);
    CHECK(cfg.debug);
    CHECK(cfg.parsed_log_package_levels ==
          package_levels{{"etcdmain", log_level::debug}});
    CHECK(cfg.force_new_cluster);
    CHECK(cfg.enable_pprof);
    CHECK(cfg.cores == 4);
    CHECK(cfg.engine == io_engine::epoll);
    CHECK(cfg.is_set("cores"));
    CHECK_FALSE(cfg.is_set("discovery"));
    CHECK(cfg.log_records.empty());
}

TEST_CASE("config: a changed name rebuilds the default initial cluster", "[server][config]") {
    config cfg = parse_ok({"--name", "infra1"});
    CHECK(cfg.initial_cluster == "infra1=http://localhost:2380,infra1=http://localhost:7001");
    CHECK(cfg.data_dir == "infra1.etcd");
    CHECK(has_record(cfg, log_level::warning,
        "no data-dir provided, using default data-dir ./infra1.etcd"));
    // etcd compares values: an explicit copy of the default is rebuilt too.
    cfg = parse_ok({"--name=x", "--initial-cluster",
        "default=http://localhost:2380,default=http://localhost:7001"});
    CHECK(cfg.initial_cluster == "x=http://localhost:2380,x=http://localhost:7001");
    cfg = parse_ok({"--name=x", "--initial-cluster=x=http://10.0.0.1:2380"});
    CHECK(cfg.initial_cluster == "x=http://10.0.0.1:2380");
    cfg = parse_ok({}, {"ETCD_NAME=fromenv"});
    CHECK(cfg.initial_cluster == "fromenv=http://localhost:2380,fromenv=http://localhost:7001");
    CHECK(initial_cluster_from_name("") == initial_cluster_from_name("default"));
}

TEST_CASE("config: environment is used when the flag is absent", "[server][config]") {
    config cfg = parse_ok({"--name=cli"}, {"ETCD_NAME=env", "ETCD_SNAPSHOT_COUNT=42",
                                              "ETCD_DEBUG=true", "ETCD_UNKNOWN=1"});
    CHECK(cfg.name == "cli");
    CHECK(cfg.snapshot_count == 42);
    CHECK(cfg.debug);
    CHECK(cfg.is_set("snapshot-count"));
    CHECK(cfg.environment_used == std::vector<std::pair<std::string, std::string>>{
                                      {"ETCD_DEBUG", "true"}, {"ETCD_SNAPSHOT_COUNT", "42"}});
    CHECK(has_record(cfg, log_level::info,
        "recognized and used environment variable ETCD_SNAPSHOT_COUNT=42"));
    CHECK(has_record(cfg, log_level::warning, "unrecognized environment variable ETCD_UNKNOWN=1"));
}

TEST_CASE("config: legacy address flags map to URLs", "[server][config]") {
    config cfg = parse_ok({"--addr=10.0.0.1:4001", "--peer-addr=10.0.0.1:7001"});
    CHECK(join_urls(cfg.advertise_client_urls) == "http://10.0.0.1:4001");
    CHECK(join_urls(cfg.listen_client_urls) == "http://[::]:4001");
    CHECK(join_urls(cfg.initial_advertise_peer_urls) == "http://10.0.0.1:7001");
    CHECK(join_urls(cfg.listen_peer_urls) == "http://[::]:7001");
    cfg = parse_ok({"--addr=10.0.0.1:4001", "--bind-addr=127.0.0.1:4002", "--cert-file=c"});
    CHECK(join_urls(cfg.advertise_client_urls) == "https://10.0.0.1:4001");
    CHECK(join_urls(cfg.listen_client_urls) == "https://127.0.0.1:4002");
    cfg = parse_ok({"--addr= 10.0.0.1:04001 ", "--peer-bind-addr=[::1]:7001"});
    CHECK(join_urls(cfg.advertise_client_urls) == "http://10.0.0.1:4001");
    CHECK(join_urls(cfg.listen_peer_urls) == "http://[::1]:7001");
    CHECK(parse({"--addr=1.2.3.4:0x10"}).error().message ==
          "invalid value \"1.2.3.4:0x10\" for flag -addr: bad port in address specification");
    CHECK(parse({"--addr=1.2.3.4:70000"}).error().exit_code == 2);
    // Only bind-addr: the advertised URLs keep their defaults, and no advertise error.
    cfg = parse_ok({"--bind-addr=127.0.0.1:4002"});
    CHECK(join_urls(cfg.listen_client_urls) == "http://127.0.0.1:4002");
    CHECK(join_urls(cfg.advertise_client_urls) == "http://localhost:2379,http://localhost:4001");
}

TEST_CASE("config: ignored, experimental and enable-v2 flags only warn", "[server][config]") {
    config cfg = parse_ok({"--v", "--experimental-v3demo", "--enable-v2=false"});
    CHECK(has_record(cfg, log_level::warning, "flag \"-v\" is no longer supported - ignoring."));
    CHECK(has_record(cfg, log_level::warning,
        "flag \"-experimental-v3demo\" has no effect in uetcd - ignoring."));
    CHECK(has_record(cfg, log_level::warning,
        "-enable-v2=false is ignored: uetcd always serves the v2 API"));
    cfg = parse_ok({"--log-package-levels=etcdmain"});
    CHECK(cfg.parsed_log_package_levels.empty());
    CHECK(has_record(cfg, log_level::warning,
        "couldn't parse log level string: oddly structured `pkg=level` option: etcdmain, "
        "continuing with default levels"));
}

TEST_CASE("config: configuration errors exit 1 with etcd's text", "[server][config]") {
    struct row {
        std::vector<std::string> args;
        std::vector<std::string> env;
        std::string error;
    };
    const std::string conflict =
        "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", "
        "\"discovery\" or \"discovery-srv\"";
    const std::vector<row> rows = {
        {{"positional"}, {}, "'positional' is not a valid flag"},
        {{"--name", "a", "b"}, {}, "'b' is not a valid flag"},
        {{"--", "x"}, {}, "'x' is not a valid flag"},
        {{"--listen-client-urls=http://127.0.0.1:2379"}, {},
            "-advertise-client-urls is required when -listen-client-urls is set explicitly"},
        {{}, {"ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379"},
            "-advertise-client-urls is required when -listen-client-urls is set explicitly"},
        {{"--election-timeout=100"}, {},
            "-election-timeout[100ms] should be at least as 5 times as "
            "-heartbeat-interval[100ms]"},
        {{"--election-timeout=0"}, {},
            "-election-timeout[0ms] should be at least as 5 times as -heartbeat-interval[100ms]"},
        {{"--election-timeout=60000", "--heartbeat-interval=1000"}, {},
            "-election-timeout[60000ms] is too long, and should be set less than 50000ms"},
        {{"--heartbeat-interval=0"}, {}, "-heartbeat-interval must be >0 (set to 0ms)"},
        {{"--discovery=http://d/x", "--initial-cluster=a=http://1.1.1.1:1"}, {}, conflict},
        {{"--discovery-srv=example.com"}, {"ETCD_DISCOVERY=http://d/x"}, conflict},
        {{"--addr=1.1.1.1:1", "--advertise-client-urls=http://a:1"}, {},
            "Set only one of flags -advertise-client-urls and -addr"},
        {{"--bind-addr=1.1.1.1:1", "--listen-client-urls=http://1.1.1.1:1",
             "--advertise-client-urls=http://1.1.1.1:1"},
            {}, "Set only one of flags -listen-client-urls and -bind-addr"},
        {{"--peer-addr=1.1.1.1:1", "--listen-peer-urls=http://1.1.1.1:1"}, {},
            "Set only one of flags -listen-peer-urls and -peer-bind-addr"},
        {{"--listen-peer-urls=http://foo:1"}, {},
            "expected IP in URL for binding (http://foo:1)"},
        {{"--cipher-suites=FOO"}, {}, "unexpected TLS cipher suite \"FOO\""},
        {{"--initial-advertise-peer-urls=http://10.0.0.1:1,http://:2"}, {},
            "-initial-advertise-peer-urls \"http://10.0.0.1:1,http://:2\" must be "
            "\"host:port\" (unexpected empty host (http://:2))"},
        {{"--cores=5000"}, {}, "-cores[5000] is more than the supported maximum of 1024"},
        {{}, {"ETCD_ELECTION_TIMEOUT=x"}, "invalid value \"x\" for ETCD_ELECTION_TIMEOUT: "
                                          "parse error"},
    };
    for (const row& r : rows) {
        INFO(r.error);
        auto parsed = parse(r.args, r.env);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().exit_code == 1);
        CHECK(parsed.error().message == r.error);
        CHECK(parsed.error().line() == "error verifying flags, " + r.error +
                                           ". See 'etcd --help'.");
    }
}

TEST_CASE("config: advertise rule is waived for proxies", "[server][config]") {
    const std::string listen = "--listen-client-urls=http://127.0.0.1:2379";
    CHECK(parse({listen, "--proxy=on"}).ok());
    CHECK(parse({listen, "--discovery=http://d/x"}).ok());
    CHECK_FALSE(parse({listen, "--discovery=http://d/x", "--discovery-fallback=exit"}).ok());
    auto missing = parse({listen});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().hint ==
          "When listening on specific address(es), this etcd process must advertise accessible "
          "url(s) to each connected client.");
}

TEST_CASE("config: flag syntax errors exit 2", "[server][config]") {
    auto parsed = parse({"--bogus"});
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().exit_code == 2);
    CHECK(parsed.error().line() == "flag provided but not defined: -bogus");
}

TEST_CASE("config: help and version win before validation", "[server][config]") {
    auto help = parse({"--election-timeout=1", "-h", "junk"});
    REQUIRE(help.ok());
    CHECK(help->action == config_action::print_help);
    auto version = parse({"--election-timeout=1", "--version"}, {"ETCD_DEBUG=bad"});
    REQUIRE(version.ok());
    CHECK(version->action == config_action::print_version);
    CHECK(parse({"--version=false"}).value().action == config_action::run);
    // A positional is checked before --version, as in etcd.
    CHECK(parse({"--version", "x"}).error().message == "'x' is not a valid flag");
}

TEST_CASE("config: help and version texts", "[server][config]") {
    std::string help = help_text();
    CHECK(help.rfind(usage_text(), 0) == 0);
    for (const flag_spec& spec : config_flag_specs()) {
        bool ignored = spec.kind == flag_kind::ignored || spec.kind == flag_kind::deprecated ||
                       spec.name == "version";
        if (!ignored) {
            INFO(spec.name);
            CHECK(help.find("--" + std::string(spec.name)) != std::string::npos);
        }
    }
    std::string version = version_text();
    CHECK(version.rfind("etcd Version: 2.3.8\nGit SHA: ", 0) == 0);
    CHECK(std::count(version.begin(), version.end(), '\n') == 4);
    CHECK(version.find("\nGo Version: none (uetcd ") != std::string::npos);
    CHECK(version.find("\nGo OS/Arch: linux/") != std::string::npos);
}

TEST_CASE("config: cipher suite names map to OpenSSL's", "[server][config]") {
    CHECK(openssl_cipher_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") ==
          "ECDHE-RSA-AES128-GCM-SHA256");
    CHECK(openssl_cipher_name("TLS_AES_128_GCM_SHA256") == "TLS_AES_128_GCM_SHA256");
    CHECK(openssl_cipher_name("ECDHE-RSA-AES128-GCM-SHA256").empty());
}

TEST_CASE("config: etcd 3.4 flags are honoured, ignored or refused", "[server][config]") {
    config cfg = parse_ok({"--logger=zap", "--log-outputs", "stderr", "--pre-vote",
        "--quota-backend-bytes=8589934592", "--discovery-srv-name=x", "--log-level=warn",
        "--auto-compaction-retention", "1h"});
    CHECK(cfg.discovery_srv_name == "x");
    CHECK(cfg.base_log_level == log_level::warning);
    for (std::string name : {"logger", "log-outputs", "pre-vote", "quota-backend-bytes"}) {
        CHECK(has_record(cfg, log_level::warning,
            "flag \"-" + name + "\" has no effect in uetcd - ignoring."));
    }
    CHECK(has_record(cfg, log_level::warning,
        "flag \"-auto-compaction-retention\" has no effect in uetcd - ignoring."));
    CHECK(parse_ok({"--log-level=debug"}).base_log_level == log_level::debug);
    CHECK(parse_ok({"--debug", "--log-level=error"}).base_log_level == log_level::debug);
    CHECK(parse({"--log-level=loud"}).error().exit_code == 2);
    for (const char* refused : {"--auto-tls", "--client-crl-file=x", "--config-file=c.yml"}) {
        INFO(refused);
        auto parsed = parse({refused});
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().exit_code == 1);
        CHECK(parsed.error().message.find(" (etcd 3.4) is not supported by uetcd") !=
              std::string::npos);
    }
    CHECK(parse({"--auto-tls"}).error().message ==
          "flag -auto-tls (etcd 3.4) is not supported by uetcd");
    CHECK(parse({"--auto-tls=false", "--client-crl-file="}).ok());
}

TEST_CASE("config: random command lines never crash the parser", "[server][config]") {
    const std::vector<std::string> tokens = {"--name", "-name=x", "--addr", "1.2.3.4:5",
        "--bind-addr=[::]:1", "--listen-client-urls", "http://127.0.0.1:1", "--debug",
        "--debug=false", "-v", "--peers", "--", "x", "--election-timeout", "0", "60000",
        "--heartbeat-interval=0", "--proxy=on", "--discovery=d", "--initial-cluster=a=b",
        "--cors", ":x", "--cipher-suites=", "--auto-tls", "--log-level=warn", "-h",
        "--version", "--cores=2", "--advertise-client-urls=http://:1", "=", "-", "---",
        "--snapshot-count=0x", "--initial-cluster-state", "existing", "--peer-addr=::1:1"};
    const std::vector<std::string> env_tokens = {"ETCD_NAME=e", "ETCD_DEBUG=1", "ETCD_X=1",
        "ETCD_ADDR=1.1.1.1:1", "ETCD_ELECTION_TIMEOUT=q", "ETCD_PROXY=readonly", "ETCD_V=1"};
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;  // xorshift64, fixed seed: reproducible
    auto next = [&state](std::size_t bound) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return static_cast<std::size_t>(state % bound);
    };
    int errors = 0;
    for (int round = 0; round < 3000; round++) {
        std::vector<std::string> args;
        std::vector<std::string> env;
        for (std::size_t i = next(7); i > 0; i--) {
            args.push_back(tokens[next(tokens.size())]);
        }
        for (std::size_t i = next(3); i > 0; i--) {
            env.push_back(env_tokens[next(env_tokens.size())]);
        }
        auto parsed = parse(args, env);
        if (!parsed) {
            errors++;
            CHECK((parsed.error().exit_code == 1 || parsed.error().exit_code == 2));
            CHECK_FALSE(parsed.error().message.empty());
            CHECK(parsed.error().message.find('\n') == std::string::npos);
        }
    }
    CHECK(errors > 0);
}
