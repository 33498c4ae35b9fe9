// Normalising and comparing two servers' answers to the same request. What is normalised and
// why: docs/compatibility.md ("What the conformance suite ignores").
#pragma once

#include "conformance/http_exchange.hpp"
#include "conformance/json.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace uetcd::conformance {

// What one server's answer is normalised against.
struct norm_context {
    long long base_index = 0;  // X-Etcd-Index at the start of the case
    std::string client_url;    // http://127.0.0.1:<port>, replaced by <client-url>
    std::string peer_url;      // replaced by <peer-url>
};

struct compare_options {
    bool sorted_request = false;      // the request asked for sorted=true: keep `nodes` order
    bool prev_index_request = false;  // a 101 cause then ends with "[prevIndex != index]"
    bool struct_only = false;         // compare keys and types only (stats, members)
    std::vector<std::string> ignore;  // fields whose values are not compared
};

inline void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) {
        return;
    }
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
        s.replace(p, from.size(), to);
    }
}

inline std::string replace_urls(std::string s, const norm_context& c) {
    replace_all(s, c.client_url, "<client-url>");
    replace_all(s, c.peer_url, "<peer-url>");
    return s;
}

// An index relative to the case start; 0 stays 0 (parse errors report index 0).
inline std::string relative_index(const std::string& text, const norm_context& c) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        return text;
    }
    const long long v = std::atoll(text.c_str());
    return v == 0 ? "0" : "i" + std::to_string(v - c.base_index);
}

// In-order key names are the 20-digit write index: make them relative too.
inline std::string relative_names(const std::string& s, const norm_context& c) {
    static const std::regex twenty_digits("[0-9]{20}");
    std::string out;
    auto it = std::sregex_iterator(s.begin(), s.end(), twenty_digits);
    std::size_t last = 0;
    for (; it != std::sregex_iterator(); ++it) {
        out += s.substr(last, static_cast<std::size_t>(it->position()) - last);
        out += "<" + relative_index(it->str(), c) + ">";
        last = static_cast<std::size_t>(it->position() + it->length());
    }
    return out + s.substr(last);
}

// Go's time.Time JSON: RFC 3339, UTC, fraction of 1-9 digits with trailing zeros trimmed.
inline bool is_rfc3339nano_utc(const std::string& s) {
    static const std::regex form(
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,8}[1-9])?Z");
    return std::regex_match(s, form);
}

// "[a != b]" at the end of a 101 cause, or "[a/b]" in a 401 cause: both numbers are indexes.
inline std::string relative_cause(const std::string& cause, int code, const norm_context& c,
    const compare_options& o) {
    static const std::regex cleared("\\[([0-9]+)/([0-9]+)\\]");
    static const std::regex index_pair("\\[([0-9]+) != ([0-9]+)\\]$");
    std::smatch m;
    if (code == 401 && std::regex_search(cause, m, cleared)) {
        return m.prefix().str() + "[" + relative_index(m[1], c) + "/" + relative_index(m[2], c) +
               "]" + m.suffix().str();
    }
    if (code == 101 && o.prev_index_request && std::regex_search(cause, m, index_pair)) {
        return m.prefix().str() + "[" + relative_index(m[1], c) + " != " +
               relative_index(m[2], c) + "]";
    }
    return relative_names(cause, c);
}

inline void normalise_json(json_value& v, const norm_context& c, const compare_options& o) {
    if (v.type == json_value::kind::array) {
        for (auto& item : v.items) {
            normalise_json(item, c, o);
        }
        return;
    }
    if (v.type != json_value::kind::object) {
        return;
    }
    const json_value* code_field = member(v, "errorCode");
    const int code = code_field != nullptr ? std::atoi(code_field->text.c_str()) : 0;
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
        const std::string& name = v.keys[i];
        json_value& f = v.items[i];
        if (f.type == json_value::kind::number &&
            (name == "createdIndex" || name == "modifiedIndex" || name == "index")) {
            f.text = relative_index(f.text, c);
        } else if (f.type == json_value::kind::string && name == "expiration") {
            f.text = is_rfc3339nano_utc(f.text) ? "<rfc3339nano>" : "<bad time: " + f.text + ">";
        } else if (f.type == json_value::kind::string && name == "key") {
            f.text = relative_names(f.text, c);
        } else if (f.type == json_value::kind::string && name == "cause") {
            f.text = relative_cause(f.text, code, c, o);
        }
        normalise_json(f, c, o);
        if (name == "nodes" && f.type == json_value::kind::array && !o.sorted_request) {
            // Go lists a directory in map order: random, so compare sorted by key.
            std::stable_sort(f.items.begin(), f.items.end(), [](const auto& a, const auto& b) {
                const json_value* ka = member(a, "key");
                const json_value* kb = member(b, "key");
                return (ka ? ka->text : "") < (kb ? kb->text : "");
            });
        }
    }
}

inline std::string join_keys(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) {
        out += (out.empty() ? "" : ",") + k;
    }
    return "{" + out + "}";
}

struct json_comparer {
    const compare_options& opts;
    std::vector<std::string>& diffs;

    void scalar(const json_value& a, const json_value& b, const std::string& path,
        const std::string& field) const {
        const bool ignored = opts.struct_only ||
                             std::find(opts.ignore.begin(), opts.ignore.end(), field) !=
                                 opts.ignore.end();
        if (ignored || a.text == b.text) {
            return;
        }
        if (field == "ttl" && a.type == json_value::kind::number &&
            std::llabs(std::atoll(a.text.c_str()) - std::atoll(b.text.c_str())) <= 1) {
            return;  // computed at response time: one second may pass between the two
        }
        diffs.push_back(path + ": " + a.text + " vs " + b.text);
    }
    void compare(const json_value& a, const json_value& b, const std::string& path,
        const std::string& field) const {
        if (diffs.size() >= 20) {
            return;
        }
        if (a.type != b.type) {
            diffs.push_back(path + ": " + kind_name(a.type) + " vs " + kind_name(b.type));
            return;
        }
        if (a.type == json_value::kind::array) {
            if (a.items.size() != b.items.size()) {
                diffs.push_back(path + ": " + std::to_string(a.items.size()) + " items vs " +
                                std::to_string(b.items.size()));
                return;
            }
            for (std::size_t i = 0; i < a.items.size(); ++i) {
                compare(a.items[i], b.items[i], path + "[" + std::to_string(i) + "]", field);
            }
        } else if (a.type == json_value::kind::object) {
            if (a.keys != b.keys) {
                diffs.push_back(path + ": fields " + join_keys(a.keys) + " vs " +
                                join_keys(b.keys));
                return;
            }
            for (std::size_t i = 0; i < a.keys.size(); ++i) {
                compare(a.items[i], b.items[i], path + "." + a.keys[i], a.keys[i]);
            }
        } else {
            scalar(a, b, path, field);
        }
    }
};

// A stream watch body: one JSON document per line, each line ending in "\n".
inline std::optional<json_value> parse_json_lines(const std::string& body) {
    if (body.empty() || body.back() != '\n' || body.find('\n') == body.size() - 1) {
        return std::nullopt;
    }
    json_value lines;
    lines.type = json_value::kind::array;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        auto doc = parse_json(line);
        if (!doc) {
            return std::nullopt;
        }
        lines.items.push_back(std::move(*doc));
    }
    return lines;
}

inline std::optional<json_value> parse_body(const std::string& body) {
    auto doc = parse_json(body);
    return doc ? doc : parse_json_lines(body);
}

inline void compare_bodies(const http_response& a, const norm_context& ca,
    const http_response& b, const norm_context& cb, const compare_options& o,
    std::vector<std::string>& diffs) {
    const std::string ba = replace_urls(a.body, ca);
    const std::string bb = replace_urls(b.body, cb);
    auto ja = parse_body(ba);
    auto jb = parse_body(bb);
    if (ja && jb) {
        normalise_json(*ja, ca, o);
        normalise_json(*jb, cb, o);
        json_comparer{o, diffs}.compare(*ja, *jb, "body", "");
        const bool nl_a = !ba.empty() && ba.back() == '\n';
        const bool nl_b = !bb.empty() && bb.back() == '\n';
        if (nl_a != nl_b) {
            diffs.push_back(std::string("body: trailing newline ") + (nl_a ? "yes" : "no") +
                            " vs " + (nl_b ? "yes" : "no"));
        }
    } else if (ja || jb) {
        diffs.push_back(std::string("body: ") + (ja ? "JSON" : "not JSON") + " vs " +
                        (jb ? "JSON" : "not JSON"));
    } else if (ba != bb) {
        diffs.push_back("body bytes differ");
    }
}

inline void compare_headers(const http_response& a, const norm_context& ca,
    const http_response& b, const norm_context& cb, std::vector<std::string>& diffs) {
    static const char* const exact[] = {"Content-Type", "Location", "Allow",
        "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers"};
    static const char* const presence[] = {"X-Etcd-Cluster-Id", "X-Raft-Index", "X-Raft-Term"};
    for (const char* name : exact) {
        const std::string* ha = find_header(a, name);
        const std::string* hb = find_header(b, name);
        const std::string va = ha ? replace_urls(*ha, ca) : "(absent)";
        const std::string vb = hb ? replace_urls(*hb, cb) : "(absent)";
        if (va != vb) {
            diffs.push_back(std::string(name) + ": " + va + " vs " + vb);
        }
    }
    for (const char* name : presence) {
        if ((find_header(a, name) == nullptr) != (find_header(b, name) == nullptr)) {
            diffs.push_back(std::string(name) + ": present in one only");
        }
    }
    const std::string* xa = find_header(a, "X-Etcd-Index");
    const std::string* xb = find_header(b, "X-Etcd-Index");
    const std::string va = xa ? relative_index(*xa, ca) : "(absent)";
    const std::string vb = xb ? relative_index(*xb, cb) : "(absent)";
    if (va != vb) {
        diffs.push_back("X-Etcd-Index: " + va + " vs " + vb);
    }
}

// Every difference between the reference's answer `a` and the candidate's `b`; empty = same.
inline std::vector<std::string> compare_responses(const http_response& a, const norm_context& ca,
    const http_response& b, const norm_context& cb, const compare_options& o) {
    std::vector<std::string> diffs;
    if (!a.complete || !b.complete) {
        // Two missing answers are no match either: the step proved nothing.
        diffs.push_back(std::string("no complete response from the ") +
                        (a.complete ? "candidate" : !b.complete ? "reference nor the candidate"
                                                                : "reference"));
        return diffs;
    }
    if (a.status != b.status) {
        diffs.push_back("status: " + std::to_string(a.status) + " vs " + std::to_string(b.status));
    }
    compare_headers(a, ca, b, cb, diffs);
    compare_bodies(a, ca, b, cb, o, diffs);
    return diffs;
}

}  // namespace uetcd::conformance
