// The case files (tests/conformance/cases/*.txt), one directive per line:
//   # comment                         blank lines and comments are skipped
//   case NAME                         starts a case; it keeps its keys under /NAME/
//   header NAME: VALUE                an extra header for the next request only
//                                     ("Content-Type: none" sends a body without one)
//   METHOD TARGET [BODY] [=> EXPECT]  one request; BODY (the rest of the line) is sent as
//                                     application/x-www-form-urlencoded unless a header says
//   repeat N METHOD TARGET [BODY] [=> EXPECT]   N requests, only their statuses compared
//   watch W METHOD TARGET             sends a request and leaves it waiting (long poll), once
//                                     its response head arrived (the watcher is registered)
//   await W [MS] [=> EXPECT]          reads the answer to watch W and compares it; with MS,
//                                     what arrived within MS ms (stream=true never ends)
//   sleep MS                          waits (TTL expiry), at most 5000 ms
//   save NAME                         keeps the last node's values as NAME.mi, NAME.ci, ...
// EXPECT: [STATUS [ERRORCODE]] [~struct] [~ignore=field,field]; the status and errorCode must
// hold on both servers (a wrong expectation is a bad case, caught by the self-check).
// In TARGET and BODY, $(VAR) or $(VAR+K) / $(VAR-K) is replaced per server by the value of
// VAR: mi/ci/key = modifiedIndex/createdIndex/key of the last response's node, xi = its
// X-Etcd-Index, b = the X-Etcd-Index at the start of the case, NAME.mi etc. as saved.
#pragma once

#include "conformance/http_exchange.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace uetcd::conformance {

enum class step_kind { request, repeat, watch, await, sleep, save };

struct step {
    step_kind kind = step_kind::request;
    std::string file;
    int line = 0;
    std::string text;     // the line as written, for reports
    http_request request;  // before $(...) substitution
    std::string name;      // watch/await/save name
    int count = 1;         // repeat count, sleep or await milliseconds
    int expect_status = 0;
    int expect_code = 0;
    bool struct_only = false;
    std::vector<std::string> ignore;
};

struct test_case {
    std::string name;
    std::vector<step> steps;
};

struct case_error {
    std::string message;
};

inline std::vector<std::string> split_words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) {
        out.push_back(w);
    }
    return out;
}

inline bool parse_expect(const std::string& text, step& st) {
    int numbers = 0;
    for (const auto& w : split_words(text)) {
        if (w == "~struct") {
            st.struct_only = true;
        } else if (w.rfind("~ignore=", 0) == 0) {
            std::istringstream in(w.substr(8));
            for (std::string f; std::getline(in, f, ',');) {
                st.ignore.push_back(f);
            }
        } else if (!w.empty() && w.find_first_not_of("0123456789") == std::string::npos &&
                   numbers < 2) {
            (numbers++ == 0 ? st.expect_status : st.expect_code) = std::stoi(w);
        } else {
            return false;
        }
    }
    return true;
}

// "METHOD TARGET [BODY]" into st.request.
inline bool parse_request(const std::string& text, step& st) {
    std::istringstream in(text);
    in >> st.request.method >> st.request.target;
    std::string body;
    std::getline(in, body);
    const auto first = body.find_first_not_of(' ');
    st.request.body = first == std::string::npos ? "" : body.substr(first);
    return !st.request.method.empty() && !st.request.target.empty();
}

inline bool parse_step(std::string text, step& st,
    std::vector<std::pair<std::string, std::string>>& headers) {
    std::string expect;
    if (const auto arrow = text.find(" => "); arrow != std::string::npos) {
        expect = text.substr(arrow + 4);
        text.resize(arrow);
    }
    if (!parse_expect(expect, st)) {
        return false;
    }
    const auto words = split_words(text);
    const std::string& w0 = words[0];
    if (w0 == "sleep" || w0 == "save" || w0 == "await") {
        st.kind = w0 == "sleep" ? step_kind::sleep : w0 == "save" ? step_kind::save
                                                                  : step_kind::await;
        if (words.size() != 2 && !(st.kind == step_kind::await && words.size() == 3)) {
            return false;
        }
        st.name = words[1];
        st.count = st.kind == step_kind::sleep ? std::min(std::atoi(words[1].c_str()), 5000) : 0;
        if (words.size() == 3) {
            st.count = std::clamp(std::atoi(words[2].c_str()), 1, 5000);
        }
        return true;
    }
    std::string rest = text;
    if (w0 == "repeat" || w0 == "watch") {
        if (words.size() < 4) {
            return false;
        }
        st.kind = w0 == "repeat" ? step_kind::repeat : step_kind::watch;
        st.name = words[1];
        st.count = std::clamp(std::atoi(words[1].c_str()), 1, 5000);
        rest = text.substr(text.find(words[1], w0.size()) + words[1].size());
    }
    st.request.headers = std::exchange(headers, {});
    return parse_request(rest, st);
}

inline void parse_case_line(const std::string& file, int line_no, const std::string& line,
    std::vector<test_case>& cases, std::vector<std::pair<std::string, std::string>>& headers) {
    const std::string where = file + ":" + std::to_string(line_no);
    if (line.rfind("case ", 0) == 0) {
        cases.push_back(test_case{line.substr(5), {}});
        return;
    }
    if (cases.empty()) {
        throw case_error{where + ": a step before the first 'case'"};
    }
    if (line.rfind("header ", 0) == 0) {
        const auto colon = line.find(':', 7);
        if (colon == std::string::npos) {
            throw case_error{where + ": header needs NAME: VALUE"};
        }
        headers.emplace_back(line.substr(7, colon - 7), line.substr(line.find_first_not_of(' ',
                                                                        colon + 1)));
        return;
    }
    step st;
    st.file = file;
    st.line = line_no;
    st.text = line;
    if (!parse_step(line, st, headers)) {
        throw case_error{where + ": cannot parse '" + line + "'"};
    }
    cases.back().steps.push_back(std::move(st));
}

// Every case of every *.txt under `dir`, files in name order.
inline std::vector<test_case> load_cases(const std::string& dir) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() == ".txt") {
            files.push_back(e.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<test_case> cases;
    for (const auto& path : files) {
        std::ifstream in(path);
        const std::string file = std::filesystem::path(path).filename().string();
        std::vector<std::pair<std::string, std::string>> headers;
        int line_no = 0;
        for (std::string line; std::getline(in, line);) {
            ++line_no;
            while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
                line.pop_back();
            }
            if (!line.empty() && line[0] != '#') {
                parse_case_line(file, line_no, line, cases, headers);
            }
        }
    }
    return cases;
}

}  // namespace uetcd::conformance
