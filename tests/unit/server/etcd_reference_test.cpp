// Our error lines next to the real etcd 3.4's (/usr/bin/etcd) for flags both accept. Every
// case fails in etcd's flag checks before it opens a port; `timeout` bounds it anyway, and
// flag syntax cases carry a trailing positional so that even an accepted flag exits at once.
// Skipped when /usr/bin/etcd is absent. etcd 3.4 spells flags "--x" in its own messages
// where 2.3.8 (and we) say "-x"; that is the only difference allowed.
#include <catch2/catch.hpp>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "uetcd/server/config.hpp"

using namespace uetcd::server;

namespace {

struct etcd_run {
    int exit_code = -1;
    std::string output;
};

etcd_run run_etcd(const std::string& arguments, const std::string& env) {
    // An empty temporary data dir, so a wrong guess could never touch real data.
    std::string command = "d=$(mktemp -d) && " + env + " ETCD_DATA_DIR=$d timeout 10 " +
                          "/usr/bin/etcd " + arguments + " 2>&1; rc=$?; rm -rf \"$d\"; exit $rc";
    etcd_run run;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    // etcd prints a few lines; 64 reads are far more than it can take.
    for (int i = 0; i < 64; i++) {
        std::size_t n = fread(buffer, 1, sizeof buffer, pipe);
        if (n == 0) {
            break;
        }
        run.output.append(buffer, n);
    }
    int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

// The message etcd printed: the first line for flag syntax errors, the text of the
// "error verifying flags, ..." record otherwise.
std::string etcd_message(const std::string& output, int exit_code) {
    if (exit_code == 2) {
        return output.substr(0, output.find('\n'));
    }
    const std::string marker = "E | etcdmain: ";
    std::size_t at = output.find(marker);
    if (at == std::string::npos) {
        return output;
    }
    std::size_t end = output.find('\n', at);
    return output.substr(at + marker.size(), end - at - marker.size());
}

std::string single_dashes(std::string text) {
    for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at)) {
        text.erase(at, 1);
    }
    return text;
}

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t space = text.find(' ', start);
        if (space == std::string::npos) {
            space = text.size();
        }
        if (space > start) {
            words.push_back(text.substr(start, space - start));
        }
        start = space + 1;
    }
    return words;
}

}  // namespace

TEST_CASE("etcd reference: error lines match etcd 3.4", "[server][config][etcd34]") {
    if (access("/usr/bin/etcd", X_OK) != 0) {
        WARN("/usr/bin/etcd not installed; comparison skipped");
        return;
    }
    struct row {
        std::string arguments;
        std::string env;
    };
    const std::vector<row> rows = {
        {"--bogus zzz", ""},
        {"-snapshot-count=abc zzz", ""},
        {"--debug=maybe zzz", ""},
        {"---x zzz", ""},
        {"--proxy=bad zzz", ""},
        {"--initial-cluster-state=bad zzz", ""},
        {"--listen-peer-urls=ftp://x:1 zzz", ""},  // 3.4 also names unix, unixs: see docs
        {"--listen-peer-urls=http://127.0.0.1 zzz", ""},
        {"--listen-peer-urls=http://127.0.0.1:1/p zzz", ""},
        {"--cors=:bad zzz", ""},
        {"positional", ""},
        {"--listen-client-urls=http://127.0.0.1:1", ""},
        {"--election-timeout=100", ""},
        {"--election-timeout=60000 --heartbeat-interval=1000", ""},
        {"--heartbeat-interval=0", ""},
        {"--discovery=http://127.0.0.1:1/x --initial-cluster=a=http://127.0.0.1:1", ""},
        {"--listen-peer-urls=http://foo:1", ""},
        {"", "ETCD_SNAPSHOT_COUNT=abc"},
        {"", "ETCD_SNAPSHOT_COUNT=x ETCD_DEBUG=y ETCD_MAX_WALS=z"},
        {"", "ETCD_VERSION=3.4.23"},
        {"--initial-advertise-peer-urls=http://127.0.0.1:1,http://:2", ""},
        {"--listen-client-urls=http://127.0.0.1:1 --advertise-client-urls=http://:1", ""},
    };
    int compared = 0;
    for (const row& r : rows) {
        INFO(r.arguments << " " << r.env);
        etcd_run etcd = run_etcd(r.arguments, r.env);
        std::vector<std::string> words = split_words(r.arguments);
        std::vector<std::string> env_entries = split_words(r.env);
        std::vector<const char*> argv;
        for (const std::string& word : words) {
            argv.push_back(word.c_str());
        }
        auto ours = parse_config(argv, environment(env_entries));
        REQUIRE_FALSE(ours.ok());
        CHECK(ours.error().exit_code == etcd.exit_code);
        std::string theirs = single_dashes(etcd_message(etcd.output, etcd.exit_code));
        if (r.arguments.find("ftp://") != std::string::npos) {
            CHECK(theirs.find("URL scheme must be http, https, unix, or unixs: ftp://x:1") !=
                  std::string::npos);
            continue;
        }
        CHECK(theirs == single_dashes(ours.error().line()));
        compared++;
    }
    CHECK(compared == static_cast<int>(rows.size()) - 1);
}
