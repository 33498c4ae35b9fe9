// Replays etcd_cases.txt through uetcd::store::tree and checks every answer byte for byte
// against etcd_golden.txt, which capture_etcd.py recorded from a real etcd 3.4.23. The
// dispatch below is etcd's (v2http parseKeyRequest + applierV2store); the three internal
// writes under /0 that a fresh etcd makes first are replayed so that indexes line up.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "uetcd/store/command.hpp"
#include "uetcd/store/tree.hpp"

namespace {

using namespace uetcd::store;

constexpr time_ns base_time_ns = 1'764'000'000LL * 1'000'000'000LL;
// etcd 3.4's leader proposes SYNC{now} every 500 ms while TTL keys exist.
constexpr time_ns sync_interval_ns = 500'000'000;

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

struct request {
    std::string method;
    std::string key;  // internal: "/1" + path
    std::map<std::string, std::string> params;

    bool flag(const std::string& name) const {
        auto it = params.find(name);
        return it != params.end() && it->second == "true";
    }
    std::string get(const std::string& name) const {
        auto it = params.find(name);
        return it == params.end() ? std::string{} : it->second;
    }
    std::uint64_t number(const std::string& name) const {
        auto it = params.find(name);
        return it == params.end() ? 0 : std::stoull(it->second);
    }
};

request parse_request(const std::string& method, const std::string& target) {
    request r;
    r.method = method;
    const std::size_t q = target.find('?');
    r.key = "/1" + url_decode(target.substr(0, q));
    if (q != std::string::npos) {
        std::stringstream query(target.substr(q + 1));
        std::string pair;
        while (std::getline(query, pair, '&')) {
            const std::size_t eq = pair.find('=');
            r.params[pair.substr(0, eq)] = url_decode(pair.substr(eq + 1));
        }
    }
    return r;
}

std::string normalise(std::string body) {
    static const std::regex expiration(R"("expiration":"[^"]*")");
    return std::regex_replace(body, expiration, "\"expiration\":\"<T>\"");
}

std::string answer(const write_result& r, bool no_value) {
    std::string body;
    if (!r) {
        write_error_json(body, r.error(), keys_prefix);
        return std::to_string(r.error().http_status()) + " " + std::to_string(r.error().index) +
               " " + body;
    }
    write_event_json(body, *r.value(), json_options{keys_prefix, no_value});
    const int status = r.value()->is_created() ? 201 : 200;
    return std::to_string(status) + " " + std::to_string(r.value()->etcd_index) + " " + body;
}

struct replay {
    tree store;
    time_ns now_ns = base_time_ns;
    time_ns next_sync_ns = base_time_ns + sync_interval_ns;
    std::map<std::string, watch_result> watches;
    std::map<std::string, std::vector<event_ptr>> received;

    replay() {
        // etcd's first three writes: the member's raftAttributes, its attributes, the version.
        REQUIRE(store.create("/0/members/1/raftAttributes", false, "{}", false, {}, now_ns));
        REQUIRE(store.set("/0/members/1/attributes", false, "{}", {}, now_ns));
        REQUIRE(store.set("/0/version", false, "3.4.0", {}, now_ns));
        // etcd reads /2/enabled once at start (a fresh member's stats show getsFail 1).
        REQUIRE_FALSE(store.get("/2/enabled", false, false, now_ns));
    }

    // The clock of the capture: `at_ms` after the first request, with the SYNCs in between.
    void advance_to(std::int64_t at_ms) {
        const time_ns target_ns = std::max(now_ns, base_time_ns + at_ms * 1'000'000);
        while (next_sync_ns <= target_ns) {
            store.expire(next_sync_ns);
            next_sync_ns += sync_interval_ns;
        }
        now_ns = target_ns;
    }

    void before_keys_request() {
        // Every /v2/keys request first reads /2/enabled to see whether auth is on.
        (void)store.get("/2/enabled", false, false, now_ns);
    }

    ttl_options ttl_of(const request& r) const {
        ttl_options ttl;
        if (!r.get("ttl").empty()) {
            ttl.expire_time_ns = now_ns + std::stoll(r.get("ttl")) * 1'000'000'000LL;
        }
        ttl.refresh = r.flag("refresh");
        return ttl;
    }

    // What the HTTP layer puts in the log for this request (v2http parseKeyRequest), applied
    // through the library's dispatch, then encoded and decoded as raft would carry it.
    write_result write(const request& r) {
        command c;
        c.method = r.method == "POST"     ? command_method::post
                   : r.method == "DELETE" ? command_method::del
                                          : command_method::put;
        c.path = clean_path(r.key);
        c.value = r.get("value");
        c.prev_value = r.get("prevValue");
        c.prev_index = r.number("prevIndex");
        if (r.params.contains("prevExist")) {
            c.prev_exist = r.flag("prevExist");
        }
        c.dir = r.flag("dir");
        c.recursive = r.flag("recursive");
        c.refresh = r.flag("refresh");
        c.expiration_ns = ttl_of(r).expire_time_ns;
        auto decoded = decode_command(encode_command(c));
        REQUIRE(decoded);
        REQUIRE(decoded.value() == c);
        return apply_command(store, decoded.value(), now_ns);
    }

    std::string get(const request& r) {
        if (r.flag("wait")) {
            auto w = store.watch(r.key, r.flag("recursive"), r.flag("stream"),
                r.number("waitIndex"), 0);
            if (!w) {
                return answer(uetcd::failure(w.error()), false);
            }
            if (w.value().immediate == nullptr) {
                store.remove_watcher(w.value().id);  // the client gave up waiting
                return "timeout\n";
            }
            std::string body;
            write_event_json(body, *w.value().immediate, json_options{keys_prefix, false});
            return "200 " + std::to_string(w.value().start_index) + " " + body;
        }
        auto got = store.get(r.key, r.flag("recursive"), r.flag("sorted"), now_ns);
        if (!got) {
            return answer(uetcd::failure(got.error()), false);
        }
        std::string body;
        write_event_json(body, got.value(), json_options{keys_prefix, false});
        return "200 " + std::to_string(got.value().etcd_index) + " " + body;
    }

    std::string run(const std::string& method, const std::string& target) {
        if (target == "STATS") {
            std::string body;
            write_stats_json(body, store.current_stats());
            return "200 - " + body + "\n";
        }
        before_keys_request();
        const request r = parse_request(method, target);
        if (method == "GET") {
            return get(r);
        }
        return answer(write(r), r.flag("noValueOnSuccess"));
    }

    void drain() {
        std::vector<notification> out;
        store.hub().take_notifications(out);
        for (const notification& n : out) {
            for (auto& [name, w] : watches) {
                if (w.immediate == nullptr && w.id == n.id) {
                    received[name].push_back(n.ev);
                }
            }
        }
    }

    void watch(const std::string& name, const std::string& target) {
        before_keys_request();
        const request r = parse_request("GET", target);
        auto w = store.watch(r.key, r.flag("recursive"), r.flag("stream"), r.number("waitIndex"),
            0);
        REQUIRE(w);
        watches[name] = w.value();
        if (w.value().immediate != nullptr) {
            received[name].push_back(w.value().immediate);
        }
    }

    std::vector<std::string> collect(const std::string& name) {
        drain();
        const watch_result w = watches.at(name);
        watches.erase(name);
        store.remove_watcher(w.id);  // the client goes away
        std::vector<event_ptr> events = received[name];
        received.erase(name);
        // etcd sends a one-shot watcher's first event only.
        const std::size_t count = events.size();
        std::vector<std::string> lines{"WRES 200 " + std::to_string(w.start_index) + " " +
                                       std::to_string(count)};
        for (const event_ptr& e : events) {
            std::string body;
            write_event_json(body, *e, json_options{keys_prefix, false});
            body.pop_back();
            lines.push_back("EV " + normalise(body));
        }
        return lines;
    }
};

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::stringstream in(line);
    std::string word;
    while (in >> word) {
        words.push_back(word);
    }
    return words;
}

}  // namespace

TEST_CASE("golden: every answer matches etcd 3.4.23 byte for byte", "[store][golden]") {
    std::ifstream golden(UETCD_STORE_GOLDEN_FILE);
    REQUIRE(golden.good());
    std::vector<std::string> lines;
    for (std::string line; std::getline(golden, line);) {
        lines.push_back(line);
    }
    replay r;
    // The capture script's readiness probe is one successful GET of the keys root.
    r.before_keys_request();
    REQUIRE(r.store.get("/1", false, false, r.now_ns));
    std::size_t checked = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::vector<std::string> words = split_words(lines[i]);
        if (words.empty() || words[0][0] == '#') {
            continue;
        }
        if (words.back()[0] == '@') {
            r.advance_to(std::stoll(words.back().substr(1)));
            words.pop_back();
        }
        INFO("line " << i + 1 << ": " << lines[i]);
        if (words[0] == "REQ") {
            std::string got = normalise(r.run(words[1], words[2]));
            got.pop_back();  // the trailing "\n" of the body
            CHECK("RES " + got == lines[i + 1]);
            checked++;
        } else if (words[0] == "REPEAT") {
            for (int n = 0; n < std::stoi(words[1]); ++n) {
                (void)r.run(words[2], words[3]);
            }
        } else if (words[0] == "WATCH") {
            r.watch(words[1], words[2]);
        } else if (words[0] == "COLLECT") {
            for (const std::string& got : r.collect(words[1])) {
                CHECK(got == lines[++i]);
                checked++;
            }
        }
    }
    CHECK(checked >= 160);  // every RES and EV line of the golden file
}
