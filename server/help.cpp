// The texts `etcd --help`, a flag syntax error and `etcd --version` print. Flag names and
// defaults are etcd 2.3.8's; the descriptions are our own words.
#include <string>

#include "uetcd/server/config.hpp"
#include "uetcd_build_info.h"

namespace uetcd::server {
namespace {

constexpr std::string_view usage = R"(usage: etcd [flags]
       run a uetcd member (an etcd v2 server)

       etcd --version
       print the version and exit

       etcd -h | --help
       print this help and exit
)";

constexpr std::string_view flags_help = R"(
member flags:

	--name 'default'
		name of this member; its key in --initial-cluster.
	--data-dir '${name}.etcd'
		directory that holds the member's WAL and snapshots.
	--wal-dir ''
		separate directory for the WAL (default: inside the data directory).
	--snapshot-count '10000'
		applied entries between two snapshots.
	--heartbeat-interval '100'
		leader heartbeat period, in milliseconds.
	--election-timeout '1000'
		follower timeout before it starts an election, in milliseconds
		(at least 5 heartbeats, at most 50000).
	--listen-peer-urls 'http://localhost:2380,http://localhost:7001'
		comma-separated URLs to accept peer (raft) connections on.
	--listen-client-urls 'http://localhost:2379,http://localhost:4001'
		comma-separated URLs to accept client connections on.
	--max-snapshots '5'
		snapshot files to keep; 0 keeps all.
	--max-wals '5'
		WAL files to keep; 0 keeps all.
	--cors ''
		comma-separated origins allowed by CORS; '*' allows any origin.

clustering flags:

	--initial-advertise-peer-urls 'http://localhost:2380,http://localhost:7001'
		peer URLs this member announces to the other members.
	--initial-cluster 'default=http://localhost:2380,default=http://localhost:7001'
		name=peer-URL pairs of every member, used to bootstrap a new cluster.
	--initial-cluster-state 'new'
		'new' to bootstrap a cluster, 'existing' to join one.
	--initial-cluster-token 'etcd-cluster'
		token mixed into cluster and member IDs; use a distinct one per cluster.
	--advertise-client-urls 'http://localhost:2379,http://localhost:4001'
		client URLs this member announces; clients must be able to reach them.
	--discovery ''
		discovery service URL to bootstrap the cluster with.
	--discovery-fallback 'proxy'
		what to do when the discovery cluster is full: 'exit' or 'proxy'.
	--discovery-proxy ''
		HTTP proxy for requests to the discovery service.
	--discovery-srv ''
		DNS domain whose SRV records list the initial members.
	--strict-reconfig-check
		refuse membership changes that would leave the cluster without quorum.

proxy flags:

	--proxy 'off'
		proxy mode: 'off', 'readonly' or 'on'.
	--proxy-failure-wait 5000
		milliseconds a failed endpoint stays out of rotation.
	--proxy-refresh-interval 30000
		milliseconds between refreshes of the endpoint list.
	--proxy-dial-timeout 1000
		milliseconds to wait for a connection to an endpoint; 0 waits forever.
	--proxy-write-timeout 5000
		milliseconds to wait for a write to an endpoint; 0 waits forever.
	--proxy-read-timeout 0
		milliseconds to wait for a read from an endpoint; 0 waits forever.

security flags:

	--ca-file '' [DEPRECATED]
		client CA file; same as --trusted-ca-file FILE --client-cert-auth.
	--cert-file ''
		certificate file for client connections (enables TLS).
	--key-file ''
		private key file for client connections.
	--client-cert-auth 'false'
		require clients to present a certificate signed by the trusted CA.
	--trusted-ca-file ''
		CA file that client certificates are checked against.
	--peer-ca-file '' [DEPRECATED]
		peer CA file; same as --peer-trusted-ca-file FILE --peer-client-cert-auth.
	--peer-cert-file ''
		certificate file for peer connections (enables TLS).
	--peer-key-file ''
		private key file for peer connections.
	--peer-client-cert-auth 'false'
		require peers to present a certificate signed by the trusted CA.
	--peer-trusted-ca-file ''
		CA file that peer certificates are checked against.
	--cipher-suites ''
		comma-separated TLS 1.2 cipher suites (Go names, as etcd 3.4); empty: defaults.

logging flags:

	--debug 'false'
		log at debug level.
	--log-package-levels ''
		per-package log levels, e.g. 'etcdmain=CRITICAL,etcdserver=DEBUG'.

unsafe flags:

Unsafe flags bypass the guarantees of the consensus protocol; use them with care.

	--force-new-cluster 'false'
		start as a one-member cluster from the existing data (disaster recovery).

profiling flags:

	--enable-pprof 'false'
		accepted for compatibility; uetcd has no Go profiler behind /debug/pprof.

compatibility flags:

	--enable-v2 'true'
		accepted for etcd 3.4 command lines; the v2 API is always served.
	--discovery-srv-name ''
		(etcd 3.4) SRV names become _etcd-server[-ssl]-<name>._tcp.<domain>.
	--log-level 'info'
		(etcd 3.4) base log level: debug, info, warn, error, panic or fatal.
	--addr, --bind-addr, --peer-addr, --peer-bind-addr [DEPRECATED]
		etcd 0.4 'IP:port' forms of the advertise and listen URLs.

uetcd flags:

	--cores '0'
		CPU cores to run on, one reactor thread each; 0 uses every online core.
	--io-engine 'auto'
		I/O backend: 'uring', 'epoll', or 'auto' (io_uring when the kernel allows it).

Every flag can also be set with an environment variable: ETCD_ followed by the flag name
in upper case with '-' replaced by '_' (--data-dir: ETCD_DATA_DIR). A flag given on the
command line wins over its variable.
)";

std::string_view go_arch() {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "386";
#elif defined(__arm__)
    return "arm";
#elif defined(__powerpc64__)
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#else
    return "unknown";
#endif
}

// "\t--a, --b,\n\t--c\n": flag names wrapped under 90 columns.
std::string flag_name_list(flag_support support) {
    std::string out;
    std::size_t line_length = 0;
    for (const flag_spec& spec : config_flag_specs()) {
        if (spec.support != support) {
            continue;
        }
        std::string item = "--" + std::string(spec.name);
        if (line_length > 0 && line_length + item.size() + 2 > 90) {
            out += ",\n";
            line_length = 0;
        } else if (line_length > 0) {
            out += ", ";
        }
        if (line_length == 0) {
            out += '\t';
        }
        out += item;
        line_length += item.size() + 2;
    }
    return out + "\n";
}

}  // namespace

std::string usage_text() { return std::string(usage); }

std::string help_text() {
    std::string text = std::string(usage) + std::string(flags_help);
    text += "\nflags accepted and ignored with a warning (etcd 3.4 v3, metrics and logging "
            "knobs,\netcd 2.3 v3 previews):\n\n";
    text += flag_name_list(flag_support::ignored);
    text += "\nflags refused with an error (ignoring them would weaken TLS checks or skip a "
            "config file):\n\n";
    text += flag_name_list(flag_support::refused);
    return text;
}

std::string version_text() {
    std::string git_sha = UETCD_GIT_SHA;
    if (git_sha.empty()) {
        git_sha = "Not provided";
    }
    // Four lines with etcd's labels, so scripts that read "etcd Version:" find the etcd
    // API version we serve; the Go line says what runs instead.
    std::string text = "etcd Version: " + std::string(etcd_api_version) + "\n";
    text += "Git SHA: " + git_sha + "\n";
    text += "Go Version: none (uetcd " UETCD_VERSION ", C++20, g++ " +
            std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + ")\n";
    text += "Go OS/Arch: linux/" + std::string(go_arch()) + "\n";
    return text;
}

}  // namespace uetcd::server
