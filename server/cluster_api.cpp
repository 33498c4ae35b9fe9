// Cluster identity and the cluster endpoints; see cluster_api.hpp. Shapes from etcd v3.4
// etcdserver/api/v2http (members, machines, stats) and the members' JSON (httptypes.Member).
#include "uetcd/server/cluster_api.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "uetcd/http/json_writer.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/server/auth_api.hpp"
#include "uetcd/server/store_service.hpp"
#include "uetcd/server/url.hpp"
#include "uetcd/store/event.hpp"

namespace uetcd::server {

namespace {

std::uint64_t sha1_prefix64(const void* data, std::size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    const int ok = EVP_Digest(data, size, digest, &digest_size, EVP_sha1(), nullptr);
    UETCD_ASSERT(ok == 1 && digest_size >= 8);
    std::uint64_t id = 0;
    for (int i = 0; i < 8; ++i) {
        id = (id << 8) | digest[i];
    }
    return id;
}

// etcd allowMethod: "Allow" with the methods joined by ",", then http.Error 405.
bool allow_methods(http::exchange& ex, std::string_view allow,
    std::initializer_list<http::method> methods) {
    for (http::method m : methods) {
        if (ex.request.method == m) {
            return true;
        }
    }
    ex.response.add_header("Allow", allow);
    ex.response.reply_text_error(405, "Method Not Allowed");
    return false;
}

// httptypes.HTTPError.WriteTo: {"message":".."} with no newline.
void reply_message(http::exchange& ex, int status, std::string_view message) {
    std::string body;
    http::json_writer(body).begin_object().key("message").value(message).end_object();
    ex.response.reply(status, "application/json", body);
}

void members_get(http::exchange& ex, const cluster_info& c, std::string_view rest) {
    if (rest.empty()) {
        std::string body = "{\"members\":[";
        for (std::size_t i = 0; i < c.members.size(); ++i) {
            if (i > 0) {
                body.push_back(',');
            }
            write_member_json(body, c.members[i]);
        }
        body.append("]}\n");
        ex.response.reply(200, "application/json", body);
        return;
    }
    if (rest == "leader") {
        std::string body;
        write_member_json(body, *c.find(c.self_id));
        body.push_back('\n');
        ex.response.reply(200, "application/json", body);
        return;
    }
    reply_message(ex, 404, "Not found");
}

// etcd unmarshalRequest's Content-Type check (3.4: parameters allowed).
bool json_content_type(http::exchange& ex) {
    std::string ctype(ex.request.header_value("Content-Type"));
    if (const auto semicolon = ctype.find(';'); semicolon != std::string::npos) {
        ctype.resize(semicolon);
        std::transform(ctype.begin(), ctype.end(), ctype.begin(),
            [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        while (!ctype.empty() && ctype.back() == ' ') {
            ctype.pop_back();
        }
        ctype.erase(0, ctype.find_first_not_of(' '));
    }
    if (ctype == "application/json") {
        return true;
    }
    reply_message(ex, 415, "Bad Content-Type " + ctype + ", accept application/json");
    return false;
}

// A small reader for etcd's member request body {"peerURLs":[..]}, with Go's error texts
// for the common failures (json.Unmarshal, then types.NewURLs). Other keys are skipped.
class member_body_reader {
public:
    explicit member_body_reader(std::string_view text) : _text(text) {}

    // The peer URLs, or the message etcd answers with 400 (or 409 left to the caller).
    result<std::vector<std::string>, std::string> read() {
        skip_space();
        if (_at >= _text.size()) {
            return failure{std::string("unexpected end of JSON input")};
        }
        const char first = _text[_at];
        if (first != '{') {
            if (auto bad = skip_value(); !bad.empty()) {
                return failure{bad};
            }
            const char* kind = first == '[' ? "array" : first == '"' ? "string"
                : first == 't' || first == 'f' ? "bool" : first == 'n' ? "" : "number";
            if (*kind == '\0') {
                return failure{std::string("no valid URLs given")};  // null: nothing set
            }
            return failure{std::string("json: cannot unmarshal ") + kind +
                " into Go value of type struct { PeerURLs []string \"json:\\\"peerURLs\\\"\" }"};
        }
        ++_at;
        std::vector<std::string> urls;
        for (;;) {
            skip_space();
            if (_at < _text.size() && _text[_at] == '}') {
                ++_at;
                break;
            }
            std::string key;
            if (!read_string(key)) {
                return failure{syntax_error("looking for beginning of object key string")};
            }
            skip_space();
            if (_at >= _text.size() || _text[_at] != ':') {
                return failure{syntax_error("after object key")};
            }
            ++_at;
            skip_space();
            if (key == "peerURLs" && _at < _text.size() && _text[_at] == '"') {
                return failure{std::string("json: cannot unmarshal string into Go struct "
                                           "field .peerURLs of type []string")};
            }
            if (key == "peerURLs" && _at < _text.size() && _text[_at] == '[') {
                if (auto bad = read_string_array(urls); !bad.empty()) {
                    return failure{bad};
                }
            } else if (auto bad = skip_value(); !bad.empty()) {
                return failure{bad};
            }
            skip_space();
            if (_at < _text.size() && _text[_at] == ',') {
                ++_at;
                continue;
            }
            if (_at < _text.size() && _text[_at] == '}') {
                ++_at;
                break;
            }
            return failure{syntax_error("after object key:value pair")};
        }
        return check_urls(std::move(urls));
    }

private:
    std::string syntax_error(std::string_view context) const {
        if (_at >= _text.size()) {
            return "unexpected end of JSON input";
        }
        return std::string("invalid character '") + _text[_at] + "' " + std::string(context);
    }
    void skip_space() {
        while (_at < _text.size() && (_text[_at] == ' ' || _text[_at] == '\t' ||
                   _text[_at] == '\n' || _text[_at] == '\r')) {
            ++_at;
        }
    }
    bool read_string(std::string& out) {
        if (_at >= _text.size() || _text[_at] != '"') {
            return false;
        }
        ++_at;
        while (_at < _text.size() && _text[_at] != '"') {
            if (_text[_at] == '\\' && _at + 1 < _text.size()) {
                ++_at;  // simple escapes only: the next byte as it is
            }
            out.push_back(_text[_at++]);
        }
        if (_at >= _text.size()) {
            return false;
        }
        ++_at;
        return true;
    }
    std::string read_string_array(std::vector<std::string>& out) {
        ++_at;  // '['
        skip_space();
        if (_at < _text.size() && _text[_at] == ']') {
            ++_at;
            return {};
        }
        for (;;) {
            skip_space();
            std::string item;
            if (!read_string(item)) {
                return _at >= _text.size() ? "unexpected end of JSON input"
                    : "json: cannot unmarshal value into Go struct field .peerURLs of type "
                      "string";
            }
            out.push_back(std::move(item));
            skip_space();
            if (_at < _text.size() && _text[_at] == ',') {
                ++_at;
                continue;
            }
            if (_at < _text.size() && _text[_at] == ']') {
                ++_at;
                return {};
            }
            return syntax_error("after array element");
        }
    }
    // Any JSON value (literals checked as Go's scanner does); "" on success.
    std::string skip_value() {
        skip_space();
        if (_at >= _text.size()) {
            return "unexpected end of JSON input";
        }
        const char c = _text[_at];
        for (std::string_view literal : {"null", "true", "false"}) {
            if (c != literal[0]) {
                continue;
            }
            for (std::size_t i = 1; i < literal.size(); ++i, ++_at) {
                if (_at + 1 >= _text.size()) {
                    return "unexpected end of JSON input";
                }
                if (_text[_at + 1] != literal[i]) {
                    ++_at;
                    return syntax_error("in literal " + std::string(literal) +
                        " (expecting '" + literal[i] + "')");
                }
            }
            ++_at;
            return {};
        }
        if (c == '"') {
            std::string ignored;
            return read_string(ignored) ? std::string() : "unexpected end of JSON input";
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            while (_at < _text.size() && std::string_view("+-.eE0123456789").find(
                                             _text[_at]) != std::string_view::npos) {
                ++_at;
            }
            return {};
        }
        if (c == '[' || c == '{') {
            return skip_container();
        }
        return syntax_error("looking for beginning of value");
    }
    std::string skip_container() {
        const char close = _text[_at] == '[' ? ']' : '}';
        ++_at;
        for (;;) {
            skip_space();
            if (_at < _text.size() && _text[_at] == close) {
                ++_at;
                return {};
            }
            if (close == '}') {
                std::string ignored;
                skip_space();
                if (!read_string(ignored)) {
                    return syntax_error("looking for beginning of object key string");
                }
                skip_space();
                if (_at >= _text.size() || _text[_at++] != ':') {
                    return syntax_error("after object key");
                }
            }
            if (auto bad = skip_value(); !bad.empty()) {
                return bad;
            }
            skip_space();
            if (_at < _text.size() && _text[_at] == ',') {
                ++_at;
            } else if (_at >= _text.size() || _text[_at] != close) {
                return syntax_error(close == ']' ? "after array element"
                                                 : "after object key:value pair");
            }
        }
    }
    static result<std::vector<std::string>, std::string> check_urls(
        std::vector<std::string> urls) {
        if (urls.empty()) {
            return failure{std::string("no valid URLs given")};
        }
        for (std::string& u : urls) {
            const auto first = u.find_first_not_of(" \t\n\r");
            const auto last = u.find_last_not_of(" \t\n\r");
            u = first == std::string::npos ? std::string() : u.substr(first, last - first + 1);
            const auto scheme_end = u.find("://");
            const std::string scheme = scheme_end == std::string::npos ? std::string()
                                                                       : u.substr(0, scheme_end);
            if (scheme != "http" && scheme != "https" && scheme != "unix" && scheme != "unixs") {
                return failure{"URL scheme must be http, https, unix, or unixs: " + u};
            }
            const std::string rest = u.substr(scheme_end + 3);
            const auto slash = rest.find('/');
            if (!split_host_port(rest.substr(0, slash))) {
                return failure{"URL address does not have the form \"host:port\": " + u};
            }
            if (slash != std::string::npos) {
                return failure{"URL must not contain a path: " + u};
            }
        }
        return urls;
    }

    std::string_view _text;
    std::size_t _at = 0;
};

// Answers 400 (bad body) or 409 (a peer URL of another member) as etcd does; true when the
// request is valid.
bool member_urls_valid(http::exchange& ex, const cluster_info& c, std::uint64_t self = 0) {
    auto urls = member_body_reader(ex.request.body).read();
    if (!urls) {
        reply_message(ex, 400, urls.error());
        return false;
    }
    for (const member_info& m : c.members) {
        for (const std::string& u : urls.value()) {
            if (m.id != self &&
                std::find(m.peer_urls.begin(), m.peer_urls.end(), u) != m.peer_urls.end()) {
                reply_message(ex, 409, "membership: peerURL exists");
                return false;
            }
        }
    }
    return true;
}

// PUT and DELETE /v2/members/<id>, POST /v2/members: membership changes need raft, which
// is not there yet. Unknown members get etcd's 404; a change that etcd would make is 500.
void members_change(http::exchange& ex, const cluster_info& c, std::string_view rest) {
    if (ex.request.method == http::method::post) {
        if (json_content_type(ex) && member_urls_valid(ex, c)) {
            reply_message(ex, 500, "Internal Server Error");
        }
        return;
    }
    if (rest.empty()) {
        ex.response.reply_text_error(405, "Method Not Allowed");
        return;
    }
    std::uint64_t id = 0;
    bool valid = rest.size() <= 16;
    for (char ch : rest) {
        const int digit = ch >= '0' && ch <= '9' ? ch - '0'
            : ch >= 'a' && ch <= 'f'             ? ch - 'a' + 10
            : ch >= 'A' && ch <= 'F'             ? ch - 'A' + 10
                                                 : -1;
        valid = valid && digit >= 0;
        id = (id << 4) | static_cast<std::uint64_t>(digit < 0 ? 0 : digit);
    }
    if (!valid) {  // etcd getID: not a hex id
        reply_message(ex, 404, "No such member: " + std::string(rest));
        return;
    }
    if (ex.request.method == http::method::put &&
        !(json_content_type(ex) && member_urls_valid(ex, c, id))) {
        return;
    }
    if (c.find(id) == nullptr) {
        reply_message(ex, 404, "No such member: " + std::string(rest));
        return;
    }
    reply_message(ex, 500, "Internal Server Error");
}

void add_members_routes(http::router& routes, const cluster_info& c) {
    auto handler = [&c](http::exchange& ex) -> reactor::task<void> {
        add_cors_headers(ex, c.cors);
        if (answer_options(ex)) {
            co_return;
        }
        if (!allow_methods(ex, "GET,POST,DELETE,PUT",
                {http::method::get, http::method::post, http::method::delete_,
                    http::method::put})) {
            co_return;
        }
        // etcd hasWriteRootAccess: member changes need the root role once auth is on.
        if (auth_service* auth = auth_service::current()) {
            access_check check = auth->check_root(ex, true);
            const bool allowed = co_await check;
            if (!allowed) {
                reply_no_auth(ex);
                co_return;
            }
        }
        ex.response.add_header("X-Etcd-Cluster-Id", c.cluster_id_hex);
        std::string_view rest = ex.path.substr(std::min<std::size_t>(ex.path.size(), 11));
        if (!rest.empty() && rest.front() == '/') {
            rest.remove_prefix(1);
        }
        if (ex.request.method == http::method::get) {
            members_get(ex, c, rest);
        } else {
            members_change(ex, c, rest);
        }
    };
    routes.exact_async("/v2/members", handler);
    routes.subtree_async("/v2/members/", handler);
}

void stats_self(http::exchange& ex, const cluster_info& c) {
    std::string body;
    http::json_writer w(body);
    const auto now_mono = reactor::reactor::current().now_ns();
    w.begin_object().key("name").value(c.self_name).key("id").value(c.self_id_hex);
    w.key("state").value("StateLeader");
    w.key("startTime").value(rfc3339_nano_utc(c.start_wall_ns));
    w.key("leaderInfo").begin_object().key("leader").value(c.self_id_hex);
    w.key("uptime").value(go_duration_string(now_mono - c.leader_mono_ns));
    w.key("startTime").value(rfc3339_nano_utc(c.leader_wall_ns)).end_object();
    // A lone leader receives and sends no appends: counts 0 and no rate fields (omitempty).
    w.key("recvAppendRequestCnt").value(0).key("sendAppendRequestCnt").value(0);
    w.end_object();
    ex.response.reply(200, "application/json", body);
}

}  // namespace

const member_info* cluster_info::find(std::uint64_t id) const noexcept {
    for (const auto& m : members) {
        if (m.id == id) {
            return &m;
        }
    }
    return nullptr;
}

std::uint64_t compute_member_id(std::vector<std::string> peer_urls, std::string_view token) {
    std::sort(peer_urls.begin(), peer_urls.end());
    std::string b;
    for (const auto& u : peer_urls) {
        b.append(u);
    }
    b.append(token);
    return sha1_prefix64(b.data(), b.size());
}

std::uint64_t compute_cluster_id(std::vector<std::uint64_t> member_ids) {
    std::sort(member_ids.begin(), member_ids.end());
    std::string b;
    for (std::uint64_t id : member_ids) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            b.push_back(static_cast<char>((id >> shift) & 0xff));
        }
    }
    return sha1_prefix64(b.data(), b.size());
}

std::string format_id(std::uint64_t id) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    do {
        out.insert(out.begin(), digits[id & 0xf]);
        id >>= 4;
    } while (id != 0);
    return out;
}

result<cluster_info, std::string> make_cluster_info(const config& cfg) {
    auto entries = parse_initial_cluster(cfg.initial_cluster);
    if (!entries) {
        return failure{entries.error()};
    }
    std::map<std::string, std::vector<std::string>> by_name;
    for (const auto& [name, u] : entries.value()) {
        by_name[name].push_back(u.text);
    }
    if (by_name.find(cfg.name) == by_name.end()) {
        return failure{"couldn't find local name \"" + cfg.name +
            "\" in the initial cluster configuration"};
    }
    cluster_info c;
    c.self_name = cfg.name;
    c.cors = cfg.cors;
    std::vector<std::uint64_t> ids;
    for (auto& [name, urls] : by_name) {
        member_info m;
        std::sort(urls.begin(), urls.end());
        m.peer_urls = urls;
        m.id = compute_member_id(urls, cfg.initial_cluster_token);
        if (name == cfg.name) {
            m.name = name;
            for (const auto& u : cfg.advertise_client_urls) {
                m.client_urls.push_back(u.text);
            }
            std::sort(m.client_urls.begin(), m.client_urls.end());
            c.self_id = m.id;
        }
        ids.push_back(m.id);
        c.members.push_back(std::move(m));
    }
    std::sort(c.members.begin(), c.members.end(),
        [](const member_info& a, const member_info& b) { return a.id < b.id; });
    c.cluster_id = compute_cluster_id(ids);
    c.cluster_id_hex = format_id(c.cluster_id);
    c.self_id_hex = format_id(c.self_id);
    return c;
}

void write_member_json(std::string& out, const member_info& m) {
    http::json_writer w(out);
    w.begin_object().key("id").value(format_id(m.id)).key("name").value(m.name);
    w.key("peerURLs").begin_array();
    for (const auto& u : m.peer_urls) {
        w.value(u);
    }
    w.end_array().key("clientURLs").begin_array();
    for (const auto& u : m.client_urls) {
        w.value(u);
    }
    w.end_array().end_object();
}

void add_cors_headers(http::exchange& ex, const std::vector<std::string>& cors) {
    if (cors.empty()) {
        return;
    }
    std::string_view origin;
    if (std::find(cors.begin(), cors.end(), "*") != cors.end()) {
        origin = "*";
    } else {
        const auto requested = ex.request.header_value("Origin");
        if (std::find(cors.begin(), cors.end(), requested) == cors.end()) {
            return;
        }
        origin = requested;
    }
    ex.response.add_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
    ex.response.add_header("Access-Control-Allow-Origin", origin);
    ex.response.add_header("Access-Control-Allow-Headers", "accept, content-type, authorization");
}

bool answer_options(http::exchange& ex) {
    if (ex.request.method != http::method::options) {
        return false;
    }
    ex.response.set_status(200);
    return true;
}

std::string go_duration_string(std::int64_t ns) {
    if (ns == 0) {
        return "0s";
    }
    std::string sign = ns < 0 ? "-" : "";
    auto u = static_cast<std::uint64_t>(ns < 0 ? -ns : ns);
    // Below one second Go picks ns, µs or ms and prints the fraction of that unit.
    auto fraction = [](std::uint64_t v, std::uint64_t unit) {
        std::string s = std::to_string(v / unit);
        std::string frac = std::to_string(v % unit + unit).substr(1);
        while (!frac.empty() && frac.back() == '0') {
            frac.pop_back();
        }
        return frac.empty() ? s : s + "." + frac;
    };
    if (u < 1'000) {
        return sign + std::to_string(u) + "ns";
    }
    if (u < 1'000'000) {
        return sign + fraction(u, 1'000) + "\xc2\xb5s";
    }
    if (u < 1'000'000'000) {
        return sign + fraction(u, 1'000'000) + "ms";
    }
    const std::uint64_t total_s = u / 1'000'000'000;
    std::string out = sign;
    if (total_s >= 3600) {
        out += std::to_string(total_s / 3600) + "h";
    }
    if (total_s >= 60) {
        out += std::to_string(total_s / 60 % 60) + "m";
    }
    out += fraction(u % 60'000'000'000, 1'000'000'000) + "s";
    return out;
}

std::string rfc3339_nano_utc(std::int64_t wall_ns) {
    std::string out;
    store::append_rfc3339_nano(out, wall_ns);
    return out;
}

void add_cluster_routes(http::router& routes, const cluster_info& cluster,
    store_service& store) {
    add_members_routes(routes, cluster);
    routes.exact("/v2/machines", [&cluster](http::exchange& ex) {
        add_cors_headers(ex, cluster.cors);
        if (answer_options(ex)) {
            return;
        }
        if (!allow_methods(ex, "GET,HEAD", {http::method::get, http::method::head})) {
            return;
        }
        std::vector<std::string> urls;
        for (const auto& m : cluster.members) {
            urls.insert(urls.end(), m.client_urls.begin(), m.client_urls.end());
        }
        std::sort(urls.begin(), urls.end());
        std::string body;
        for (std::size_t i = 0; i < urls.size(); ++i) {
            body.append(i == 0 ? "" : ", ").append(urls[i]);
        }
        ex.response.set_status(200);
        ex.response.body() = std::move(body);
        ex.response.set_sniffed_content_type("text/plain; charset=utf-8");
    });
    routes.exact("/v2/stats/self", [&cluster](http::exchange& ex) {
        add_cors_headers(ex, cluster.cors);
        if (answer_options(ex)) {
            return;
        }
        if (allow_methods(ex, "GET", {http::method::get})) {
            stats_self(ex, cluster);
        }
    });
    routes.exact("/v2/stats/leader", [&cluster](http::exchange& ex) {
        add_cors_headers(ex, cluster.cors);
        if (answer_options(ex)) {
            return;
        }
        if (allow_methods(ex, "GET", {http::method::get})) {
            std::string body = "{\"leader\":\"" + cluster.self_id_hex + "\",\"followers\":{}}";
            ex.response.reply(200, "application/json", body);
        }
    });
    routes.exact_async("/v2/stats/store",
        [&cluster, &store](http::exchange& ex) -> reactor::task<void> {
            add_cors_headers(ex, cluster.cors);
            if (answer_options(ex)) {
                co_return;
            }
            if (!allow_methods(ex, "GET", {http::method::get})) {
                co_return;
            }
            store_service* svc = &store;
            auto call = reactor::smp::current().submit_to(0, [svc] { return svc->stats_json(); });
            std::string body = co_await call;
            ex.response.reply(200, "application/json", body);
        });
}

}  // namespace uetcd::server
