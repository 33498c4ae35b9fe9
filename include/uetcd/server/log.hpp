// A capnslog-style logger, as etcd 2.3.8 prints: one line per record,
//   2026-11-24 13:43:32.503384 I | etcdmain: etcd Version: 2.3.8
// written to stderr with one write(2) per line, so lines from several cores never mix.
// Levels and the per-package table are set at start-up, before other threads run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uetcd/result.hpp"

namespace uetcd::server {

// capnslog's levels, most severe first; the letter is what a log line shows.
enum class log_level : std::uint8_t { critical, error, warning, notice, info, debug, trace };

char log_level_letter(log_level level);

// Accepts capnslog's names: CRITICAL ERROR WARNING NOTICE INFO DEBUG TRACE, or a letter.
// Error: "couldn't parse log level X".
result<log_level, std::string> parse_log_level(std::string_view text);

// --log-package-levels "etcdmain=CRITICAL,etcdserver=DEBUG" (capnslog ParseLogLevelConfig).
using package_levels = std::vector<std::pair<std::string, log_level>>;
result<package_levels, std::string> parse_log_package_levels(std::string_view text);

// A record to log later, for code that runs before the logger is set up (flag parsing).
struct log_record {
    log_level level = log_level::info;
    std::string package;  // "etcdmain", "flags"
    std::string text;

    friend bool operator==(const log_record&, const log_record&) = default;
};

// Formats one line, ending in '\n', into `out` (cleared first). `local_time` is the broken
// down local time, `microseconds` the fraction of its second. Pure, for tests.
void format_log_line(std::string& out, const std::tm& local_time, std::uint32_t microseconds,
    log_level level, std::string_view package, std::string_view text);

// The process-wide logger. Default: level info for every package, output on fd 2.
class logger {
public:
    static logger& instance();

    // Setup; call before any other thread logs.
    void set_debug(bool debug);  // --debug: every package logs at debug.
    void set_level(log_level level);  // the level of packages not in the package table
    void set_package_levels(package_levels levels);
    void set_output_fd(int fd);  // tests point it at a pipe

    bool enabled(log_level level, std::string_view package) const;
    // Formats and writes one line (time read here); thread-safe.
    void log(log_level level, std::string_view package, std::string_view text) const;
    void log(const log_record& record) const { log(record.level, record.package, record.text); }

private:
    log_level _level = log_level::info;
    package_levels _package_levels;
    int _fd = 2;
};

// Shorthands: log_info("etcdmain", "text").
inline void log_critical(std::string_view package, std::string_view text) {
    logger::instance().log(log_level::critical, package, text);
}
inline void log_error(std::string_view package, std::string_view text) {
    logger::instance().log(log_level::error, package, text);
}
inline void log_warning(std::string_view package, std::string_view text) {
    logger::instance().log(log_level::warning, package, text);
}
inline void log_notice(std::string_view package, std::string_view text) {
    logger::instance().log(log_level::notice, package, text);
}
inline void log_info(std::string_view package, std::string_view text) {
    logger::instance().log(log_level::info, package, text);
}
inline void log_debug(std::string_view package, std::string_view text) {
    logger::instance().log(log_level::debug, package, text);
}

}  // namespace uetcd::server
