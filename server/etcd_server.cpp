// Start-up, serving and shutdown of the etcd server process; see etcd_server.hpp.
// Start-up does its checks (data dir, ports) synchronously before any reactor runs, so
// that every failure is one clear line and a non-zero exit.
#include "uetcd/server/etcd_server.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "uetcd/http/server.hpp"
#include "uetcd/http/tls.hpp"
#include "uetcd/reactor/net.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/server/admin_routes.hpp"
#include "uetcd/server/auth_api.hpp"
#include "uetcd/server/cluster_api.hpp"
#include "uetcd/server/keys_api.hpp"
#include "uetcd/server/store_service.hpp"
#include "uetcd/server/log.hpp"
#include "uetcd_build_info.h"

namespace uetcd::server {

namespace {

constexpr std::string_view pkg_main = "etcdmain";
constexpr std::string_view pkg_server = "etcdserver";


std::int64_t clock_ns(clockid_t id) {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

unsigned online_cores() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
        return static_cast<unsigned>(CPU_COUNT(&allowed));
    }
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

// mkdir -p with mode 0700, as etcd's fileutil.TouchDirAll; then a write probe.
result<bool, std::string> prepare_dir(const std::string& path) {
    std::string partial;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) {
            end = path.size();
        }
        partial = path.substr(0, end);
        start = end + 1;
        if (partial.empty()) {
            continue;
        }
        if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
            return failure{"mkdir " + partial + ": " + reactor::os_error_text(errno)};
        }
    }
    if (::access(path.c_str(), W_OK | X_OK) != 0) {
        return failure{"open " + path + ": " + reactor::os_error_text(errno)};
    }
    return true;
}

// One listening URL, bound once per core (SO_REUSEPORT: the kernel spreads connections).
struct listener_set {
    url where;
    std::vector<reactor::unique_fd> per_core;
    // https: one TLS context per core (each reloads renewed files without a lock).
    std::vector<std::unique_ptr<http::tls_server_context>> tls_per_core = {};
};

result<listener_set, std::string> bind_listener(const url& u, unsigned cores) {
    auto address = reactor::make_socket_address(u.host, u.port);
    if (!address) {
        return failure{address.error()};
    }
    listener_set set{u, {}};
    for (unsigned core = 0; core < cores; ++core) {
        auto fd = reactor::listen_tcp(*address,
            {.reuse_port = true, .check_exclusive = core == 0});
        if (!fd) {
            return failure{fd.error()};
        }
        if (core == 0 && address->port() == 0) {
            // An ephemeral port: the other cores must share the one the kernel chose.
            *address = reactor::local_address(fd->get());
        }
        set.per_core.push_back(std::move(fd).value());
    }
    return set;
}

struct process_state {
    const config& cfg;
    unsigned cores;
    std::vector<listener_set> clients;
    std::vector<listener_set> peers;
    http::router client_routes;
    http::router peer_routes;
    // One shutdown event per core, each touched only by its own core.
    std::vector<std::unique_ptr<reactor::event>> shutdown;
    int signal_fd = -1;
    // The v2 store lives on core 0 (store_service.hpp); the keys API reaches it from any core.
    cluster_info cluster;
    std::unique_ptr<store_service> store;
    std::unique_ptr<keys_api> keys;
    std::unique_ptr<auth_service> auth = {};
    // Store start-up (recovery) runs on core 0 before any core serves: one event per core.
    std::vector<std::unique_ptr<reactor::event>> store_open = {};
    bool store_failed = false;
};

durability_options durability_of(const config& cfg, const std::string& member_dir) {
    durability_options d;
    d.wal_dir = cfg.wal_dir.empty() ? member_dir + "/wal" : cfg.wal_dir;
    d.snap_dir = member_dir + "/snap";
    d.snapshot_count = cfg.snapshot_count;
    d.max_snapshots = cfg.max_snapshots;
    d.max_wals = cfg.max_wals;
    // Test hook: small WAL segments make cuts and retention observable.
    if (const char* bytes = std::getenv("UETCD_WAL_SEGMENT_BYTES"); bytes != nullptr) {
        d.segment_bytes = std::max<std::uint64_t>(std::strtoull(bytes, nullptr, 10), 1 << 16);
    }
    return d;
}

// On core 0: recover (or bootstrap) the store, then let every core serve, or stop them all
// with one clear line when the data dir cannot be used.
reactor::task<void> open_store(process_state& state) {
    const std::int64_t start_ns = clock_ns(CLOCK_MONOTONIC);
    auto opened = co_await state.store->open_durable(
        durability_of(state.cfg, state.cfg.data_dir + "/member"), state.cluster);
    if (!opened) {
        log_critical(pkg_main, opened.error());
        state.store_failed = true;
    } else {
        log_info(pkg_server, "store ready at raft index " +
            std::to_string(state.store->raft_index()) + " in " +
            std::to_string((clock_ns(CLOCK_MONOTONIC) - start_ns) / 1'000'000) + " ms");
    }
    auto& s = reactor::smp::current();
    for (unsigned core = 0; core < state.cores; ++core) {
        co_await s.submit_to(core, [&state, core] { state.store_open[core]->set(); });
    }
}

reactor::task<void> watch_signals(process_state& state) {
    signalfd_siginfo info{};
    const auto n = co_await reactor::read_at(state.signal_fd, &info, sizeof(info), 0);
    if (n == static_cast<std::int32_t>(sizeof(info))) {
        const char* what = info.ssi_signo == SIGINT ? "interrupt" : "terminated";
        log_notice("osutil", std::string("received ") + what + " signal, shutting down...");
    }
    auto& s = reactor::smp::current();
    for (unsigned core = 0; core < state.cores; ++core) {
        co_await s.submit_to(core, [&state, core] { state.shutdown[core]->set(); });
    }
}

reactor::task<void> core_main(process_state& state, unsigned core) {
    if (core == 0) {
        co_await open_store(state);
        if (!state.store_failed) {
            reactor::spawn(state.store->run_expiry());
            // Every core's auth replica, from the store as recovered.
            co_await state.auth->load_from_store();
        }
    }
    co_await state.store_open[core]->wait();
    if (state.store_failed) {
        co_return;
    }
    std::vector<std::unique_ptr<http::server>> servers;
    for (auto& l : state.clients) {
        servers.push_back(std::make_unique<http::server>(state.client_routes,
            http::server_limits{}));
        if (!l.tls_per_core.empty()) {
            servers.back()->set_tls(l.tls_per_core[core].get());
        }
        servers.back()->start(l.per_core[core].get());
    }
    for (auto& l : state.peers) {
        servers.push_back(std::make_unique<http::server>(state.peer_routes,
            http::server_limits{}));
        if (!l.tls_per_core.empty()) {
            servers.back()->set_tls(l.tls_per_core[core].get());
        }
        servers.back()->start(l.per_core[core].get());
    }
    if (core == 0) {
        for (auto& l : state.clients) {
            const std::string where = l.where.host + ":" + std::to_string(l.where.port);
            log_notice(pkg_main, l.where.tls() ? "serving client requests on " + where
                : "serving insecure client requests on " + where +
                    ", this is strongly discouraged!");
        }
        reactor::spawn(watch_signals(state));
    }
    co_await state.shutdown[core]->wait();
    state.keys->stop_watches(core);
    for (auto& srv : servers) {
        co_await srv->stop();
    }
    if (core == 0) {
        co_await state.store->stop();
    }
}

int block_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return ::signalfd(-1, &mask, SFD_CLOEXEC);
}

reactor::io_engine to_reactor_engine(io_engine e) {
    switch (e) {
    case io_engine::uring: return reactor::io_engine::uring;
    case io_engine::epoll: return reactor::io_engine::epoll;
    case io_engine::automatic: return reactor::io_engine::automatic;
    }
    return reactor::io_engine::automatic;
}

void log_start_banner(const config& cfg) {
    log_info(pkg_main, std::string("etcd Version: ") + std::string(etcd_api_version) +
        " (uetcd " UETCD_VERSION ")");
    log_info(pkg_main, "Git SHA: " UETCD_GIT_SHA);
    for (const auto& record : cfg.log_records) {
        logger::instance().log(record);
    }
}

http::tls_options tls_options_of(const tls_files& files, const config& cfg) {
    http::tls_options o;
    o.cert_file = files.cert_file;
    o.key_file = files.key_file;
    o.trusted_ca_file = files.effective_trusted_ca_file();
    o.client_cert_auth = files.effective_client_cert_auth();
    // etcd 3.4 --cipher-suites: Go names; TLS 1.3 ones go to OpenSSL's ciphersuites list.
    for (const auto& suite : cfg.cipher_suites) {
        const std::string_view name = openssl_cipher_name(suite);
        std::string& list = name.starts_with("TLS_") ? o.ciphersuites : o.cipher_list;
        list.append(list.empty() ? "" : ":").append(name);
    }
    return o;
}

// Loads an https listener's contexts (checked here, so a bad file is one clear line at
// start-up; an expired certificate is a warning), or warns that an http one ignores them.
bool load_tls(listener_set& set, const tls_files& files, const config& cfg, unsigned cores,
    std::string_view side) {
    const bool peer = side == "peer";
    if (!set.where.tls()) {
        if (!files.empty()) {
            log_warning("embed", "The scheme of " + std::string(side) + " url " +
                set.where.text + " is HTTP while peer key/cert files are presented. " +
                "Ignored key/cert files.");
        }
        return true;
    }
    if (files.empty()) {
        log_critical(pkg_main, std::string("TLS key/cert (--") + (peer ? "peer-" : "") +
            "cert-file, --" + (peer ? "peer-" : "") + "key-file) must be provided for " +
            std::string(side) + " url " + set.where.text + " with HTTPS scheme");
        return false;
    }
    const http::tls_options options = tls_options_of(files, cfg);
    for (unsigned core = 0; core < cores; ++core) {
        std::vector<std::string> warnings;
        auto ctx = http::tls_server_context::load(options, &warnings);
        if (!ctx) {
            log_critical(pkg_main, ctx.error());
            return false;
        }
        for (const auto& w : core == 0 ? warnings : std::vector<std::string>{}) {
            log_warning(pkg_main, w);
        }
        set.tls_per_core.push_back(std::move(ctx).value());
    }
    log_info("embed", std::string(peer ? "Peer" : "Client") + "TLS: cert = " +
        options.cert_file + ", key = " + options.key_file + ", trusted-ca = " +
        options.trusted_ca_file + ", client-cert-auth = " +
        (options.client_cert_auth ? "true" : "false") + ", crl-file = ");
    return true;
}

bool bind_all(process_state& state) {
    for (const auto& u : state.cfg.listen_peer_urls) {
        auto set = bind_listener(u, state.cores);
        if (!set) {
            log_critical(pkg_main, set.error());
            return false;
        }
        if (!load_tls(*set, state.cfg.peer_tls, state.cfg, state.cores, "peer")) {
            return false;
        }
        log_notice(pkg_main, "listening for peers on " + u.text);
        state.peers.push_back(std::move(set).value());
    }
    for (const auto& u : state.cfg.listen_client_urls) {
        auto set = bind_listener(u, state.cores);
        if (!set) {
            log_critical(pkg_main, set.error());
            return false;
        }
        if (!load_tls(*set, state.cfg.client_tls, state.cfg, state.cores, "client")) {
            return false;
        }
        log_notice(pkg_main, "listening for client requests on " + u.text);
        state.clients.push_back(std::move(set).value());
    }
    return true;
}

}  // namespace

int run_etcd_server(const config& cfg) {
    log_start_banner(cfg);
    const std::string member_dir = cfg.data_dir + "/member";
    if (auto ok = prepare_dir(member_dir); !ok) {
        log_critical(pkg_main, "cannot access data directory: " + ok.error());
        return 1;
    }
    process_state state{cfg, cfg.cores == 0 ? online_cores() : cfg.cores, {}, {}, {}, {}, {}, -1,
        {}, {}, {}};
    if (!bind_all(state)) {
        return 1;
    }
    log_info(pkg_server, "name = " + cfg.name);
    log_info(pkg_server, "data dir = " + cfg.data_dir);
    log_info(pkg_server, "member dir = " + member_dir);
    auto cluster = make_cluster_info(cfg);
    if (!cluster) {
        log_critical(pkg_main, cluster.error());
        return 1;
    }
    state.cluster = std::move(cluster).value();
    state.cluster.start_wall_ns = clock_ns(CLOCK_REALTIME);
    state.cluster.leader_wall_ns = state.cluster.start_wall_ns;
    state.cluster.leader_mono_ns = clock_ns(CLOCK_MONOTONIC);
    state.store = std::make_unique<store_service>(state.cores);
    state.keys = std::make_unique<keys_api>(state.cluster, *state.store, state.cores);
    state.keys->add_routes(state.client_routes);
    state.auth = std::make_unique<auth_service>(state.cluster, *state.store, state.cores,
        cfg.client_tls.effective_client_cert_auth());
    state.auth->add_routes(state.client_routes);
    add_cluster_routes(state.client_routes, state.cluster, *state.store);
    static const std::vector<std::string> no_cors;
    add_admin_routes(state.client_routes, {}, cfg.cors);
    add_admin_routes(state.peer_routes, {}, no_cors);
    for (unsigned core = 0; core < state.cores; ++core) {
        state.shutdown.push_back(std::make_unique<reactor::event>());
        state.store_open.push_back(std::make_unique<reactor::event>());
    }
    // Choose the I/O engine once here, so the choice (or the refusal) is logged before
    // any reactor starts; every core then makes the same choice.
    const auto engine = to_reactor_engine(cfg.engine);
    {
        reactor::backend_choice probe = reactor::make_backend(engine, 8);
        if (!probe.engine) {
            log_critical(pkg_main, probe.error);
            return 1;
        }
        if (probe.error.find("refused") != std::string::npos) {
            log_warning(pkg_main, probe.error);
        } else {
            log_info(pkg_main, probe.error);
        }
        log_info(pkg_main, "running " + std::to_string(state.cores) + " reactor core(s)");
    }
    state.signal_fd = block_signals();
    const std::string error = reactor::smp::run(
        reactor::smp_config{.cores = state.cores, .engine = engine},
        [&state](unsigned core) { return core_main(state, core); });
    if (!error.empty()) {
        log_critical(pkg_main, "cannot start the I/O engine: " + error);
        return 1;
    }
    ::close(state.signal_fd);
    return state.store_failed ? 1 : 0;
}

}  // namespace uetcd::server
