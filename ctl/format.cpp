// Parsing of the server's JSON answers (simdjson) and etcdctl's output formats.
#include "uetcd/ctl/format.hpp"

#include <simdjson.h>

#include <algorithm>

#include "uetcd/http/json_writer.hpp"

namespace uetcd::ctl {

namespace {

namespace sj = simdjson;

std::string string_member(sj::dom::object object, std::string_view name) {
    std::string_view text;
    if (object[name].get_string().get(text) != sj::SUCCESS) {
        return {};
    }
    return std::string(text);
}

std::uint64_t uint_member(sj::dom::object object, std::string_view name) {
    std::uint64_t value = 0;
    if (object[name].get_uint64().get(value) != sj::SUCCESS) {
        return 0;
    }
    return value;
}

// Depth-bounded: etcd trees from the server are bounded by key depth; 64 levels is plenty.
constexpr int node_depth_max = 64;

result<node, std::string> parse_node(sj::dom::object object, int depth) {
    if (depth > node_depth_max) {
        return failure{std::string("response nested too deeply")};
    }
    node out;
    out.key = string_member(object, "key");
    bool dir = false;
    if (object["dir"].get_bool().get(dir) == sj::SUCCESS) {
        out.dir = dir;
    }
    out.value = string_member(object, "value");
    out.created_index = uint_member(object, "createdIndex");
    out.modified_index = uint_member(object, "modifiedIndex");
    out.expiration = string_member(object, "expiration");
    std::int64_t ttl = 0;
    if (object["ttl"].get_int64().get(ttl) == sj::SUCCESS) {
        out.ttl = ttl;
    }
    sj::dom::array children;
    if (object["nodes"].get_array().get(children) == sj::SUCCESS) {
        out.nodes.emplace();
        for (sj::dom::element child : children) {
            sj::dom::object child_object;
            if (child.get_object().get(child_object) != sj::SUCCESS) {
                return failure{std::string("malformed node")};
            }
            auto parsed = parse_node(child_object, depth + 1);
            if (!parsed) {
                return failure{parsed.error()};
            }
            out.nodes->push_back(std::move(parsed).value());
        }
    }
    return out;
}

result<sj::dom::object, std::string> parse_object(sj::dom::parser& parser,
    std::string_view json) {
    sj::dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc) != sj::SUCCESS) {
        return failure{std::string("invalid character in JSON response")};
    }
    sj::dom::object object;
    if (doc.get_object().get(object) != sj::SUCCESS) {
        return failure{std::string("JSON response is not an object")};
    }
    return object;
}

void append_node_json(std::string& out, const node& n) {
    out += "{\"key\":";
    http::append_json_string(out, n.key);
    if (n.dir) {
        out += ",\"dir\":true";
    }
    out += ",\"value\":";
    http::append_json_string(out, n.value);
    out += ",\"nodes\":";
    if (!n.nodes) {
        out += "null";
    } else {
        out += '[';
        for (std::size_t i = 0; i < n.nodes->size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            append_node_json(out, (*n.nodes)[i]);
        }
        out += ']';
    }
    out += ",\"createdIndex\":";
    http::append_uint(out, n.created_index);
    out += ",\"modifiedIndex\":";
    http::append_uint(out, n.modified_index);
    if (!n.expiration.empty()) {
        out += ",\"expiration\":";
        http::append_json_string(out, n.expiration);
    }
    if (n.ttl != 0) {
        out += ",\"ttl\":";
        http::append_int(out, n.ttl);
    }
    out += '}';
}

void append_ls(std::string& out, const node& n, bool slash_dirs, int depth) {
    out += n.key;
    if (n.dir && slash_dirs) {
        out += '/';
    }
    out += '\n';
    if (n.nodes && depth < node_depth_max) {
        for (const auto& child : *n.nodes) {
            append_ls(out, child, slash_dirs, depth + 1);
        }
    }
}

bool is_unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void append_percent(std::string& out, unsigned char c) {
    static constexpr char hex[] = "0123456789ABCDEF";
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
}

}  // namespace

result<keys_response, std::string> parse_keys_response(std::string_view json,
    std::uint64_t etcd_index) {
    sj::dom::parser parser;
    auto object = parse_object(parser, json);
    if (!object) {
        return failure{object.error()};
    }
    keys_response out;
    out.index = etcd_index;
    out.action = string_member(*object, "action");
    sj::dom::object current;
    if ((*object)["node"].get_object().get(current) != sj::SUCCESS) {
        return failure{std::string("response has no node")};
    }
    auto parsed = parse_node(current, 0);
    if (!parsed) {
        return failure{parsed.error()};
    }
    out.current = std::move(parsed).value();
    sj::dom::object previous;
    if ((*object)["prevNode"].get_object().get(previous) == sj::SUCCESS) {
        auto prev = parse_node(previous, 0);
        if (!prev) {
            return failure{prev.error()};
        }
        out.prev = std::move(prev).value();
    }
    return out;
}

result<keys_error, std::string> parse_keys_error(std::string_view json) {
    sj::dom::parser parser;
    auto object = parse_object(parser, json);
    if (!object) {
        return failure{object.error()};
    }
    std::int64_t code = 0;
    if ((*object)["errorCode"].get_int64().get(code) != sj::SUCCESS) {
        return failure{std::string("not a keys error")};
    }
    keys_error out;
    out.code = static_cast<int>(code);
    out.message = string_member(*object, "message");
    out.cause = string_member(*object, "cause");
    out.index = uint_member(*object, "index");
    return out;
}

std::string response_json(const keys_response& response) {
    std::string out = "{\"action\":";
    http::append_json_string(out, response.action);
    out += ",\"node\":";
    append_node_json(out, response.current);
    out += ",\"prevNode\":";
    if (response.prev) {
        append_node_json(out, *response.prev);
    } else {
        out += "null";
    }
    out += '}';
    return out;
}

printed format_response(const keys_response& response, std::string_view format) {
    printed p;
    const bool deleted = response.action == "delete";
    if (format == "simple") {
        p.out = deleted ? "PrevNode.Value: " + (response.prev ? response.prev->value : "") + "\n"
                        : response.current.value + "\n";
    } else if (format == "extended") {
        const node& n = response.current;
        p.out = "Key: " + n.key + "\nCreated-Index: " + std::to_string(n.created_index) +
                "\nModified-Index: " + std::to_string(n.modified_index) + "\n";
        if (response.prev) {
            p.out += "PrevNode.Value: " + response.prev->value + "\n";
        }
        p.out += "TTL: " + std::to_string(n.ttl) + "\nIndex: " + std::to_string(response.index) +
                 "\n";
        if (!deleted) {
            p.out += "\n" + n.value + "\n";
        }
    } else if (format == "json") {
        p.out = response_json(response) + "\n";
    } else {
        p.err = "Unsupported output format: " + std::string(format) + "\n";
    }
    return p;
}

std::string keys_error_text(const keys_error& error) {
    return std::to_string(error.code) + ": " + error.message + " (" + error.cause + ") [" +
           std::to_string(error.index) + "]";
}

std::string keys_error_json(const keys_error& error) {
    std::string out = "{\"errorCode\":";
    http::append_int(out, error.code);
    out += ",\"message\":";
    http::append_json_string(out, error.message);
    out += ",\"cause\":";
    http::append_json_string(out, error.cause);
    out += ",\"index\":";
    http::append_uint(out, error.index);
    out += '}';
    return out;
}

std::string format_ls(const keys_response& response, bool slash_dirs) {
    std::string out;
    if (!response.current.dir) {
        out += response.current.key + "\n";
    }
    if (response.current.nodes) {
        for (const auto& child : *response.current.nodes) {
            append_ls(out, child, slash_dirs, 0);
        }
    }
    return out;
}

std::string go_path_escape(std::string_view path) {
    std::string out;
    for (char ch : path) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || std::string_view("$&+,/:;=@").find(ch) != std::string_view::npos) {
            out += ch;
        } else {
            append_percent(out, c);
        }
    }
    return out;
}

std::string go_query_escape(std::string_view text) {
    std::string out;
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c)) {
            out += ch;
        } else if (ch == ' ') {
            out += '+';
        } else {
            append_percent(out, c);
        }
    }
    return out;
}

std::string keys_path(std::string_view key) {
    std::string raw = "/v2/keys";
    if (!key.empty() && key.front() != '/') {
        raw += '/';
    }
    raw += key;
    // path.Clean, then the trailing slash kept (pathutil.CanonicalURLPath).
    std::vector<std::string_view> parts;
    std::string_view rest = raw;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view part = rest.substr(0, slash);
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    std::string out;
    for (auto part : parts) {
        out += '/';
        out += part;
    }
    if (out.empty()) {
        out = "/";
    }
    if (raw.back() == '/' && out != "/") {
        out += '/';
    }
    return out;
}

std::string encode_query(std::vector<std::pair<std::string, std::string>> pairs) {
    std::stable_sort(pairs.begin(), pairs.end(),
        [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& [k, v] : pairs) {
        if (!out.empty()) {
            out += '&';
        }
        out += go_query_escape(k) + "=" + go_query_escape(v);
    }
    return out;
}

std::string go_quote(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

result<member, std::string> parse_member(std::string_view json) {
    sj::dom::parser parser;
    auto object = parse_object(parser, json);
    if (!object) {
        return failure{object.error()};
    }
    member m;
    m.id = string_member(*object, "id");
    m.name = string_member(*object, "name");
    for (const char* field : {"peerURLs", "clientURLs"}) {
        sj::dom::array urls;
        if ((*object)[field].get_array().get(urls) == sj::SUCCESS) {
            for (sj::dom::element url : urls) {
                std::string_view text;
                if (url.get_string().get(text) == sj::SUCCESS) {
                    (field[0] == 'p' ? m.peer_urls : m.client_urls).emplace_back(text);
                }
            }
        }
    }
    return m;
}

result<std::vector<member>, std::string> parse_members(std::string_view json) {
    sj::dom::parser parser;
    auto object = parse_object(parser, json);
    if (!object) {
        return failure{object.error()};
    }
    std::vector<member> out;
    sj::dom::array members;
    if ((*object)["members"].get_array().get(members) != sj::SUCCESS) {
        return out;
    }
    for (sj::dom::element m : members) {
        auto parsed = parse_member(sj::minify(m));
        if (!parsed) {
            return failure{parsed.error()};
        }
        out.push_back(std::move(parsed).value());
    }
    return out;
}

std::string api_error_message(std::string_view json) {
    sj::dom::parser parser;
    auto object = parse_object(parser, json);
    if (!object) {
        return {};
    }
    return string_member(*object, "message");
}

std::string format_member_list(const std::vector<member>& members, std::string_view leader_id) {
    std::string out;
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) {
            s += (s.empty() ? "" : ",") + x;
        }
        return s;
    };
    for (const auto& m : members) {
        if (m.name.empty()) {
            out += m.id + "[unstarted]: peerURLs=" + join(m.peer_urls) + "\n";
        } else {
            out += m.id + ": name=" + m.name + " peerURLs=" + join(m.peer_urls) +
                   " clientURLs=" + join(m.client_urls) +
                   " isLeader=" + (m.id == leader_id ? "true" : "false") + "\n";
        }
    }
    return out;
}

}  // namespace uetcd::ctl
