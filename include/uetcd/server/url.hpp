// etcd URL lists ("http://10.0.0.1:2380,https://host:2381") and member maps
// ("name=http://...,name2=http://..."): parsing, etcd's validation errors, and turning a
// listen URL into the address to bind. Pure: no DNS, no sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uetcd/result.hpp"

namespace uetcd::server {

// Go's strings.Split(text, sep): n separators give n+1 pieces, "" gives one empty piece.
std::vector<std::string_view> split_on(std::string_view text, char separator);

// Go's strings.TrimSpace for ASCII: drops leading and trailing spaces, tabs, CR and LF.
std::string_view trim_spaces(std::string_view text);

// One URL of an etcd URL flag. etcd (pkg/types/urls.go) keeps Go url.URL values; we keep
// the parts it uses. `text` is the canonical form etcd prints (scheme://host:port).
struct url {
    std::string scheme;  // "http" or "https"
    std::string host;    // without brackets: "127.0.0.1", "::1", "localhost", "" (wildcard)
    std::uint16_t port = 0;
    std::string text;  // "http://[::1]:2379": what etcd prints and sorts by

    bool tls() const { return scheme == "https"; }
    friend bool operator==(const url&, const url&) = default;
};

// Parses one URL as etcd's types.NewURLs does for each element: trims spaces, requires
// scheme http or https, host:port, and no path. Error texts are etcd 2.3.8's, e.g.
// "URL scheme must be http or https: ftp://x:1".
result<url, std::string> parse_url(std::string_view text);

// Parses a comma-separated list; the result is sorted by `text`, as etcd sorts it.
// An empty list element is an error, as in etcd (url.Parse("") has no scheme).
result<std::vector<url>, std::string> parse_url_list(std::string_view text);

// "http://a:1,http://b:2", the inverse of parse_url_list.
std::string join_urls(const std::vector<url>& urls);

// Where to bind for a listen URL. etcd hands u.Host to Go's net.Listen, which binds one
// address for "localhost" (IPv4 first, so 127.0.0.1 only, never ::1) and both IPv4 and
// IPv6 for an empty host or "::" (a dual-stack socket).
struct bind_address {
    std::string ip;  // literal: "127.0.0.1", "::", "10.0.0.1", "::1"
    std::uint16_t port = 0;
    bool ipv6 = false;
    bool dual_stack = false;  // bind "::" with IPV6_V6ONLY off: all IPv4 and IPv6 addresses
};

// A listen URL's host must be an IP literal, "localhost" or empty (etcd 3.4
// embed/config.go checkBindURLs; 2.3.8 would resolve a name, we do not do DNS).
// Error: "expected IP in URL for binding (http://foo:1)".
result<bind_address, std::string> resolve_bind_address(const url& listen_url);

// True when `text` is an IPv4 or IPv6 literal that Go's net.ParseIP accepts.
bool is_ip_literal(std::string_view text);

// A member of --initial-cluster: a name with one URL (a name may appear several times).
using initial_cluster_entry = std::pair<std::string, url>;

// Parses "name=url,name=url" as etcd's types.NewURLsMap does: empty elements are skipped,
// an element without "=" has an empty URL (so the error is parse_url's "URL scheme must
// be http or https: "). Entries keep their order of appearance.
result<std::vector<initial_cluster_entry>, std::string> parse_initial_cluster(
    std::string_view text);

// "host:port" as Go's net.SplitHostPort accepts it; IPv6 hosts in brackets. Errors are
// Go's: "address x: missing port in address", "address x: too many colons in address".
result<std::pair<std::string, std::string>, std::string> split_host_port(std::string_view text);

}  // namespace uetcd::server
