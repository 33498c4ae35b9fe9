// The v2 conformance suite: every case of tests/conformance/cases runs against the reference
// (etcd 3.4 --enable-v2) and a candidate (our build/etcd, or a second etcd 3.4 in self-check
// mode), step by step in the same order, and each pair of answers is compared after
// normalising what legitimately differs (compare.hpp). Last line: "N passed, M failed".
//   conformance --mode selfcheck|candidate --cases DIR [--filter TEXT] [--reports N]
//               [--reference PATH] [--candidate PATH] [--verbose 1]
#include "conformance/case_file.hpp"
#include "conformance/compare.hpp"
#include "conformance/http_exchange.hpp"
#include "support/process.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <set>

namespace uetcd::conformance {
namespace {

using namespace std::chrono_literals;

// A fresh directory, on tmpfs when there is one (etcd fsyncs every write), removed at the end.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern = std::filesystem::is_directory("/dev/shm")
                                  ? "/dev/shm/uetcd-conformance-XXXXXX"
                                  : "/tmp/uetcd-conformance-XXXXXX";
        _path = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
    }
    ~scratch_dir() {
        std::error_code ec;
        if (!_path.empty()) {
            std::filesystem::remove_all(_path, ec);
        }
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

// The CORS origin both servers are started with (etcd 3.4 defaults to "*", 2.3 to none).
constexpr const char* cors_origin = "http://cors.test:8080";

struct server {
    std::string label;
    scratch_dir dir;
    int client_port = testing::free_port();
    int peer_port = testing::free_port();
    std::optional<testing::process> proc;
    norm_context norm;
    std::map<std::string, std::string> vars;
    std::map<std::string, std::unique_ptr<pending_exchange>> watches;
    int unanswered_in_a_row = 0;  // after max_unanswered, the server is no longer asked

    static constexpr int max_unanswered = 3;
    bool given_up() const { return unanswered_in_a_row >= max_unanswered; }

    server(std::string name, const std::string& binary) : label(std::move(name)) {
        norm.client_url = "http://127.0.0.1:" + std::to_string(client_port);
        norm.peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
        proc.emplace(std::vector<std::string>{binary, "--enable-v2", "--name", "c", "--data-dir",
                         dir.path() + "/data", "--listen-client-urls", norm.client_url,
                         "--advertise-client-urls", norm.client_url, "--listen-peer-urls",
                         norm.peer_url, "--initial-advertise-peer-urls", norm.peer_url,
                         "--initial-cluster", "c=" + norm.peer_url, "--cors", cors_origin},
            dir.path() + "/server.log");
    }
};

// The store index now, or nullopt when /v2/keys does not answer 200.
std::optional<long long> store_index(const server& s) {
    const http_response r = exchange(s.client_port, http_request{"GET", "/v2/keys/", {}, {}});
    const std::string* x = find_header(r, "X-Etcd-Index");
    if (r.status != 200 || x == nullptr) {
        return std::nullopt;
    }
    return std::atoll(x->c_str());
}

// Serving, and done with its start-up writes (members, cluster version): the index holds
// still for 300 ms. A server without /v2/keys is taken as ready once /version answers.
bool wait_ready(server& s) {
    if (!testing::wait_until_serving(s.client_port, 15s)) {
        return false;
    }
    std::optional<long long> last;
    int stable = 0;
    const auto deadline = testing::clock::now() + 10s;
    while (testing::clock::now() < deadline && stable < 3) {
        const auto now = store_index(s);
        if (!now) {
            return true;
        }
        stable = last && *now == *last && *now > 0 ? stable + 1 : 0;
        last = now;
        std::this_thread::sleep_for(100ms);
    }
    return stable >= 3;
}

// $(VAR), $(VAR+K), $(VAR-K) from this server's variables.
std::string substitute(const std::string& text, const server& s) {
    std::string out;
    std::size_t pos = 0;
    for (auto open = text.find("$("); open != std::string::npos; open = text.find("$(", pos)) {
        const auto close = text.find(')', open);
        if (close == std::string::npos) {
            break;
        }
        out += text.substr(pos, open - pos);
        std::string expr = text.substr(open + 2, close - open - 2);
        long long offset = 0;
        if (const auto sign = expr.find_first_of("+-"); sign != std::string::npos) {
            offset = std::atoll(expr.c_str() + sign);
            expr.resize(sign);
        }
        const auto it = s.vars.find(expr);
        const std::string value = it == s.vars.end() ? "UNDEFINED-" + expr : it->second;
        out += offset == 0 ? value : std::to_string(std::atoll(value.c_str()) + offset);
        pos = close + 1;
    }
    return out + text.substr(pos);
}

// Keeps the last response's node values for $(mi), $(ci), $(key), $(xi).
void record_vars(server& s, const http_response& r) {
    if (const std::string* x = find_header(r, "X-Etcd-Index")) {
        s.vars["xi"] = *x;
    }
    const auto body = parse_json(r.body);
    const json_value* node = body ? member(*body, "node") : nullptr;
    if (node == nullptr) {
        return;
    }
    for (const auto& [field, var] : {std::pair{"modifiedIndex", "mi"}, {"createdIndex", "ci"},
             {"key", "key"}}) {
        if (const json_value* v = member(*node, field)) {
            s.vars[var] = v->text;  // keys used here carry no escapes
        }
    }
}

// One request to `s`, unless it stopped answering (a hung or dead candidate would otherwise
// cost a 5 s timeout per remaining step); every step then counts as failed.
http_response ask(server& s, const http_request& req) {
    if (s.given_up()) {
        http_response r;
        r.raw = "(not asked: the server stopped answering)";
        return r;
    }
    http_response r = exchange(s.client_port, req);
    s.unanswered_in_a_row = r.complete ? 0 : s.unanswered_in_a_row + 1;
    if (s.given_up()) {
        const std::string log = s.proc->log();
        std::cout << "GIVING UP on " << s.label << ": " << server::max_unanswered
                  << " requests in a row got no answer\n--- its log (tail) ---\n"
                  << log.substr(log.size() > 4000 ? log.size() - 4000 : 0) << "\n";
    }
    return r;
}

http_request instantiate(const http_request& templ, const server& s) {
    http_request r = templ;
    r.target = substitute(templ.target, s);
    r.body = substitute(templ.body, s);
    return r;
}

std::string clip(const std::string& raw) {
    constexpr std::size_t limit = 3000;
    return raw.size() <= limit ? raw : raw.substr(0, limit) + "\n...(" +
                                           std::to_string(raw.size() - limit) + " more bytes)";
}

struct tally {
    int passed = 0;
    int failed = 0;
    int reports_left = 0;
    bool verbose = false;  // print every step with the reference's answer
    std::set<std::string> failed_cases;
};

// An expectation written in the case that `r` does not meet, or "".
std::string unmet_expectation(const step& st, const http_response& r) {
    if (st.expect_status != 0 && r.status != st.expect_status) {
        return "status " + std::to_string(r.status) + ", expected " +
               std::to_string(st.expect_status);
    }
    if (st.kind == step_kind::await && r.status == 200 && r.body.empty()) {
        return "the watch did not fire";  // a case mistake, and it cost a 5 s timeout
    }
    if (st.expect_code != 0) {
        const auto body = parse_json(r.body);
        const json_value* code = body ? member(*body, "errorCode") : nullptr;
        if (code == nullptr || std::atoi(code->text.c_str()) != st.expect_code) {
            return "errorCode " + (code ? code->text : std::string("(none)")) + ", expected " +
                   std::to_string(st.expect_code);
        }
    }
    return {};
}

void judge(const test_case& c, const step& st, const http_response& a, const server& ref,
    const http_response& b, const server& cand, tally& t) {
    compare_options o;
    const std::string target = substitute(st.request.target, ref) + " " + st.request.body;
    o.sorted_request = target.find("sorted=true") != std::string::npos;
    o.prev_index_request = target.find("prevIndex=") != std::string::npos;
    o.struct_only = st.struct_only;
    o.ignore = st.ignore;
    std::vector<std::string> diffs = compare_responses(a, ref.norm, b, cand.norm, o);
    if (t.verbose) {
        std::cout << "STEP " << st.file << ":" << st.line << ": " << st.text << "\n  "
                  << a.status << " " << clip(a.body) << "\n";
    }
    if (const auto why = unmet_expectation(st, a); !why.empty()) {
        diffs.insert(diffs.begin(), "reference: " + why);
    }
    if (const auto why = unmet_expectation(st, b); !why.empty()) {
        diffs.insert(diffs.begin(), "candidate: " + why);
    }
    if (diffs.empty()) {
        ++t.passed;
        return;
    }
    ++t.failed;
    t.failed_cases.insert(c.name);
    std::cout << "MISMATCH case " << c.name << " step " << st.file << ":" << st.line << ": "
              << st.text << "\n";
    for (const auto& d : diffs) {
        std::cout << "  - " << d << "\n";
    }
    if (t.reports_left-- > 0) {
        std::cout << "  --- reference (" << ref.label << ") ---\n" << clip(a.raw)
                  << "\n  --- candidate (" << cand.label << ") ---\n" << clip(b.raw) << "\n";
    }
}

// Runs `repeat N ...` on each server; the answer compared is a summary of the statuses.
http_response run_repeat(const step& st, server& s) {
    std::map<int, int> statuses;
    http_response last;
    for (int i = 0; i < st.count; ++i) {
        last = ask(s, instantiate(st.request, s));
        ++statuses[last.status];
    }
    record_vars(s, last);
    http_response summary;
    summary.complete = true;
    summary.status = statuses.size() == 1 ? statuses.begin()->first : 0;
    for (const auto& [code, n] : statuses) {
        summary.body += std::to_string(code) + " x" + std::to_string(n) + "\n";
    }
    summary.raw = summary.body;
    return summary;
}

void run_step(const test_case& c, const step& st, server& ref, server& cand, tally& t) {
    server* both[] = {&ref, &cand};
    http_response answers[2];
    for (int i = 0; i < 2; ++i) {
        server& s = *both[i];
        switch (st.kind) {
        case step_kind::sleep: std::this_thread::sleep_for(std::chrono::milliseconds(st.count));
                               return;
        case step_kind::save:
            for (const char* v : {"mi", "ci", "key", "xi"}) {
                s.vars[st.name + "." + v] = s.vars[v];
            }
            continue;
        case step_kind::watch:
            s.watches[st.name] = std::make_unique<pending_exchange>(s.client_port,
                instantiate(st.request, s), 5000);
            if (!s.watches[st.name]->wait_for_head(2000)) {
                std::cout << "note: watch " << st.name << " on " << s.label
                          << " sent no response head within 2 s (" << st.file << ":"
                          << st.line << ")\n";
            }
            continue;
        case step_kind::await: {
            auto it = s.watches.find(st.name);
            answers[i] = it != s.watches.end() ? it->second->finish(st.count) : http_response{};
            if (it != s.watches.end()) {
                s.watches.erase(it);
            }
            break;
        }
        case step_kind::repeat: answers[i] = run_repeat(st, s); continue;
        case step_kind::request: answers[i] = ask(s, instantiate(st.request, s)); break;
        }
        record_vars(s, answers[i]);
    }
    if (st.kind == step_kind::request || st.kind == step_kind::await ||
        st.kind == step_kind::repeat) {
        judge(c, st, answers[0], ref, answers[1], cand, t);
    }
}

void run_case(const test_case& c, server& ref, server& cand, tally& t) {
    for (server* s : {&ref, &cand}) {
        // Indexes are compared relative to the case start, so one divergence does not spill
        // into every later case. Without /v2/keys the last base stays.
        if (const auto base = store_index(*s)) {
            s->norm.base_index = *base;
        }
        s->vars = {{"b", std::to_string(s->norm.base_index)}};
        s->watches.clear();
    }
    for (const auto& st : c.steps) {
        const auto start = testing::clock::now();
        run_step(c, st, ref, cand, t);
        const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            testing::clock::now() - start).count();
        if (took_ms > 1500 && st.kind != step_kind::sleep && st.kind != step_kind::repeat) {
            std::cout << "slow step (" << took_ms << " ms) " << st.file << ":" << st.line << ": "
                      << st.text << "\n";
        }
    }
}

struct options {
    std::string mode = "selfcheck";
    std::string cases_dir;
    std::string filter;
    std::string reference = "/usr/bin/etcd";
    std::string candidate;
    int reports = 1 << 30;  // every mismatch with both raw responses, unless limited
    bool verbose = false;
};

options parse_args(int argc, char** argv) {
    options o;
    o.candidate = testing::etcd_binary();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--mode") o.mode = v;
        else if (k == "--cases") o.cases_dir = v;
        else if (k == "--filter") o.filter = v;
        else if (k == "--reference") o.reference = v;
        else if (k == "--candidate") o.candidate = v;
        else if (k == "--reports") o.reports = std::atoi(v.c_str());
        else if (k == "--verbose") o.verbose = v == "1";
        else std::cerr << "unknown option " << k << "\n";
    }
    if (o.mode == "selfcheck") {
        o.candidate = o.reference;
    }
    return o;
}

int run(const options& o) {
    const auto cases = load_cases(o.cases_dir);
    server ref("reference " + o.reference, o.reference);
    server cand("candidate " + o.candidate, o.candidate);
    if (!wait_ready(ref) || !wait_ready(cand)) {
        std::cout << "a server did not start\n--- reference log ---\n" << ref.proc->log()
                  << "\n--- candidate log ---\n" << cand.proc->log() << "\n0 passed, 1 failed\n";
        return 1;
    }
    tally t;
    t.reports_left = o.reports;
    t.verbose = o.verbose;
    int ran = 0;
    for (const auto& c : cases) {
        if (o.filter.empty() || c.name.find(o.filter) != std::string::npos) {
            run_case(c, ref, cand, t);
            ++ran;
        }
    }
    std::cout << "cases: " << ran - static_cast<int>(t.failed_cases.size()) << " of " << ran
              << " fully matched (" << o.mode << " mode)\n";
    std::cout << t.passed << " passed, " << t.failed << " failed\n";
    return t.failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace uetcd::conformance

int main(int argc, char** argv) {
    const auto o = uetcd::conformance::parse_args(argc, argv);
    if (!std::filesystem::exists(o.reference)) {
        std::cout << "skipped: no reference etcd at " << o.reference << "\n";
        return 77;  // meson: skipped
    }
    try {
        return uetcd::conformance::run(o);
    } catch (const uetcd::conformance::case_error& e) {
        std::cout << "bad case file: " << e.message << "\n0 passed, 1 failed\n";
        return 1;
    }
}
