// etcd URL parsing: the subset of Go's net/url and net.SplitHostPort that etcd's URL flags
// exercise, with the error texts etcd prints. Pure: inet_pton is the only libc call.
#include "uetcd/server/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace uetcd::server {
namespace {

bool is_scheme_char(char c, bool first) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first) {
        return letter;
    }
    return letter || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

// Go url.Parse's getScheme: a scheme is letters then [a-zA-Z0-9+-.] up to the first ':'.
// Returns the scheme length, 0 for "no scheme", or -1 for ":..." (missing protocol scheme).
int scheme_length(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c == ':') {
            return i == 0 ? -1 : static_cast<int>(i);
        }
        if (!is_scheme_char(c, i == 0)) {
            return 0;
        }
    }
    return 0;
}

std::string go_parse_error(std::string_view text, std::string_view why) {
    return "parse \"" + std::string(text) + "\": " + std::string(why);
}

bool has_control_char(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

// Errors that Go's url.Parse itself reports, before etcd's own checks.
result<std::string, std::string> parse_scheme(std::string_view text) {
    if (has_control_char(text)) {
        return failure{go_parse_error(text, "net/url: invalid control character in URL")};
    }
    int length = scheme_length(text);
    if (length < 0) {
        return failure{go_parse_error(text, "missing protocol scheme")};
    }
    if (length == 0) {
        // No scheme: Go reads the text as a path, and rejects a colon in its first segment.
        std::string_view first_segment = text.substr(0, text.find('/'));
        if (first_segment.find(':') != std::string_view::npos) {
            return failure{
                go_parse_error(text, "first path segment in URL cannot contain colon")};
        }
        return std::string();
    }
    return to_lower(text.substr(0, static_cast<std::size_t>(length)));
}

result<std::uint16_t, std::string> parse_port(std::string_view port, std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size()) {
        return failure{go_parse_error(text, "invalid port \":" + std::string(port) +
                                                "\" after host")};
    }
    if (value > 65535) {
        return failure{"URL port out of range: " + std::string(text)};
    }
    return static_cast<std::uint16_t>(value);
}

std::string address_error(std::string_view address, std::string_view why) {
    return "address " + std::string(address) + ": " + std::string(why);
}

}  // namespace

std::vector<std::string_view> split_on(std::string_view text, char separator) {
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    for (std::size_t at = text.find(separator); at != std::string_view::npos;
         at = text.find(separator, start)) {
        pieces.push_back(text.substr(start, at - start));
        start = at + 1;
    }
    pieces.push_back(text.substr(start));
    return pieces;
}

std::string_view trim_spaces(std::string_view text) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

result<std::pair<std::string, std::string>, std::string> split_host_port(std::string_view text) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return failure{address_error(text, "missing port in address")};
    }
    std::string_view host = text.substr(0, colon);
    std::string_view port = text.substr(colon + 1);
    if (!host.empty() && host.front() == '[') {
        std::size_t close = host.find(']');
        if (close == std::string_view::npos) {
            return failure{address_error(text, "missing ']' in address")};
        }
        if (close != host.size() - 1) {
            return failure{address_error(text, "missing port in address")};
        }
        host = host.substr(1, close - 1);
        if (host.find('[') != std::string_view::npos) {
            return failure{address_error(text, "unexpected '[' in address")};
        }
    } else if (host.find(':') != std::string_view::npos) {
        return failure{address_error(text, "too many colons in address")};
    } else if (host.find_first_of("[]") != std::string_view::npos) {
        char bad = host[host.find_first_of("[]")];
        return failure{address_error(text, std::string("unexpected '") + bad + "' in address")};
    }
    if (port.find(']') != std::string_view::npos) {
        return failure{address_error(text, "unexpected ']' in address")};
    }
    return std::pair{std::string(host), std::string(port)};
}

bool is_ip_literal(std::string_view text) {
    if (text.empty() || text.size() > 64) {
        return false;
    }
    std::string copy(text);
    unsigned char buffer[16];
    return inet_pton(AF_INET, copy.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

result<url, std::string> parse_url(std::string_view raw) {
    std::string_view text = trim_spaces(raw);
    auto scheme = parse_scheme(text);
    if (!scheme) {
        return failure{scheme.error()};
    }
    if (scheme.value() != "http" && scheme.value() != "https") {
        return failure{"URL scheme must be http or https: " + std::string(text)};
    }
    std::string_view rest = text.substr(scheme.value().size() + 1);
    if (rest.substr(0, 2) != "//") {
        return failure{"URL address does not have the form \"host:port\": " + std::string(text)};
    }
    rest.remove_prefix(2);
    std::size_t authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view tail =
        authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
    if (!tail.empty() && tail.front() == '/') {
        return failure{"URL must not contain a path: " + std::string(text)};
    }
    if (!tail.empty() || authority.find('@') != std::string_view::npos) {
        // etcd would carry a query or user info along unused; we refuse them outright.
        return failure{"URL must not contain user info, a query or a fragment: " +
                       std::string(text)};
    }
    auto host_port = split_host_port(authority);
    if (!host_port || host_port.value().second.empty()) {
        return failure{"URL address does not have the form \"host:port\": " + std::string(text)};
    }
    auto port = parse_port(host_port.value().second, text);
    if (!port) {
        return failure{port.error()};
    }
    url out;
    out.scheme = scheme.value();
    out.host = host_port.value().first;
    out.port = port.value();
    out.text = out.scheme + "://" + std::string(authority);
    return out;
}

result<std::vector<url>, std::string> parse_url_list(std::string_view text) {
    std::vector<url> urls;
    for (std::string_view element : split_on(text, ',')) {
        auto parsed = parse_url(element);
        if (!parsed) {
            return failure{parsed.error()};
        }
        urls.push_back(std::move(parsed.value()));
    }
    // etcd 2.3.8 types.NewURLs sorts by the printed form; duplicates are kept.
    std::stable_sort(urls.begin(), urls.end(),
        [](const url& a, const url& b) { return a.text < b.text; });
    return urls;
}

std::string join_urls(const std::vector<url>& urls) {
    std::string out;
    for (const url& u : urls) {
        if (!out.empty()) {
            out += ',';
        }
        out += u.text;
    }
    return out;
}

result<bind_address, std::string> resolve_bind_address(const url& listen_url) {
    bind_address out;
    out.port = listen_url.port;
    if (listen_url.host.empty() || listen_url.host == "::") {
        out.ip = "::";
        out.ipv6 = true;
        out.dual_stack = true;
        return out;
    }
    if (listen_url.host == "localhost") {
        out.ip = "127.0.0.1";
        return out;
    }
    if (!is_ip_literal(listen_url.host)) {
        return failure{"expected IP in URL for binding (" + listen_url.text + ")"};
    }
    out.ip = listen_url.host;
    out.ipv6 = listen_url.host.find(':') != std::string::npos;
    return out;
}

result<std::vector<initial_cluster_entry>, std::string> parse_initial_cluster(
    std::string_view text) {
    std::vector<initial_cluster_entry> entries;
    for (std::string_view element : split_on(text, ',')) {
        if (element.empty()) {
            continue;
        }
        std::size_t equals = element.find('=');
        std::string_view name = element.substr(0, equals);
        std::string_view value =
            equals == std::string_view::npos ? std::string_view() : element.substr(equals + 1);
        auto parsed = parse_url(value);
        if (!parsed) {
            return failure{parsed.error()};
        }
        entries.emplace_back(std::string(name), std::move(parsed.value()));
    }
    return entries;
}

}  // namespace uetcd::server
