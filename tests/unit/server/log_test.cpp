// The capnslog-style logger: line format, level names, package levels, whole lines.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "uetcd/server/log.hpp"

using namespace uetcd::server;

TEST_CASE("log: a line looks like capnslog's", "[server][log]") {
    std::tm t{};
    t.tm_year = 2026 - 1900;
    t.tm_mon = 10;
    t.tm_mday = 24;
    t.tm_hour = 13;
    t.tm_min = 43;
    t.tm_sec = 2;
    std::string line;
    format_log_line(line, t, 503384, log_level::info, "etcdmain", "etcd Version: 2.3.8");
    CHECK(line == "2026-11-24 13:43:02.503384 I | etcdmain: etcd Version: 2.3.8\n");
    format_log_line(line, t, 7, log_level::warning, "flags", "already ends\n");
    CHECK(line == "2026-11-24 13:43:02.000007 W | flags: already ends\n");
}

TEST_CASE("log: level letters and names", "[server][log]") {
    const std::pair<const char*, char> rows[] = {{"CRITICAL", 'C'}, {"ERROR", 'E'},
        {"WARNING", 'W'}, {"NOTICE", 'N'}, {"INFO", 'I'}, {"DEBUG", 'D'}, {"TRACE", 'T'},
        {"C", 'C'}, {"0", 'E'}, {"4", 'D'}};
    for (const auto& [name, letter] : rows) {
        INFO(name);
        auto level = parse_log_level(name);
        REQUIRE(level.ok());
        CHECK(log_level_letter(level.value()) == letter);
    }
    CHECK(parse_log_level("info").error() == "couldn't parse log level info");
    CHECK(parse_log_level("").error() == "couldn't parse log level ");
}

TEST_CASE("log: package levels parse as capnslog's ParseLogLevelConfig", "[server][log]") {
    auto levels = parse_log_package_levels("etcdmain=CRITICAL,etcdserver=DEBUG");
    REQUIRE(levels.ok());
    REQUIRE(levels->size() == 2);
    CHECK((*levels)[0] == std::pair<std::string, log_level>{"etcdmain", log_level::critical});
    CHECK((*levels)[1] == std::pair<std::string, log_level>{"etcdserver", log_level::debug});
    CHECK(parse_log_package_levels("etcdmain").error() ==
          "oddly structured `pkg=level` option: etcdmain");
    CHECK(parse_log_package_levels("a=b=c").error() ==
          "oddly structured `pkg=level` option: a=b=c");
    CHECK(parse_log_package_levels("a=LOUD").error() == "couldn't parse log level LOUD");
}

TEST_CASE("log: the logger filters by level and writes whole lines", "[server][log]") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    logger& log = logger::instance();
    log.set_output_fd(fds[1]);
    log.set_debug(false);
    log.set_package_levels({{"quiet", log_level::error}});
    log_debug("etcdmain", "hidden");
    log_info("quiet", "hidden");
    log_error("quiet", "shown error");
    log_info("etcdmain", "shown info");
    log.set_debug(true);
    log_debug("etcdmain", "shown debug");
    log.set_output_fd(2);
    log.set_debug(false);
    log.set_package_levels({});
    close(fds[1]);
    std::string out;
    char buffer[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        out.append(buffer, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    CHECK(out.find("hidden") == std::string::npos);
    CHECK(out.find(" E | quiet: shown error\n") != std::string::npos);
    CHECK(out.find(" I | etcdmain: shown info\n") != std::string::npos);
    CHECK(out.find(" D | etcdmain: shown debug\n") != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 3);
}
