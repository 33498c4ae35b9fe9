// The capnslog-style logger: level parsing (capnslog logmap.go names), line formatting, and
// the one write(2) per line that keeps concurrent lines whole.
#include "uetcd/server/log.hpp"

#include "uetcd/server/url.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace uetcd::server {

char log_level_letter(log_level level) {
    switch (level) {
    case log_level::critical: return 'C';
    case log_level::error: return 'E';
    case log_level::warning: return 'W';
    case log_level::notice: return 'N';
    case log_level::info: return 'I';
    case log_level::debug: return 'D';
    case log_level::trace: return 'T';
    }
    UETCD_UNREACHABLE();
}

result<log_level, std::string> parse_log_level(std::string_view text) {
    struct level_name {
        std::string_view word, letter, digit;
        log_level level;
    };
    // capnslog ParseLevel: the name, the letter, and (except CRITICAL) a digit from 0.
    static constexpr level_name names[] = {
        {"CRITICAL", "C", "", log_level::critical}, {"ERROR", "E", "0", log_level::error},
        {"WARNING", "W", "1", log_level::warning}, {"NOTICE", "N", "2", log_level::notice},
        {"INFO", "I", "3", log_level::info}, {"DEBUG", "D", "4", log_level::debug},
        {"TRACE", "T", "5", log_level::trace},
    };
    for (const level_name& name : names) {
        if (text == name.word || text == name.letter || (!text.empty() && text == name.digit)) {
            return name.level;
        }
    }
    return failure{"couldn't parse log level " + std::string(text)};
}

result<package_levels, std::string> parse_log_package_levels(std::string_view text) {
    package_levels levels;
    for (std::string_view setting : split_on(text, ',')) {
        std::size_t equals = setting.find('=');
        if (equals == std::string_view::npos ||
            setting.find('=', equals + 1) != std::string_view::npos) {
            return failure{"oddly structured `pkg=level` option: " + std::string(setting)};
        }
        auto level = parse_log_level(setting.substr(equals + 1));
        if (!level) {
            return failure{level.error()};
        }
        levels.emplace_back(std::string(setting.substr(0, equals)), level.value());
    }
    return levels;
}

void format_log_line(std::string& out, const std::tm& local_time, std::uint32_t microseconds,
    log_level level, std::string_view package, std::string_view text) {
    UETCD_ASSERT(microseconds < 1000000);
    char stamp[64];
    int length = std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02d %02d:%02d:%02d.%06u %c | ",
        local_time.tm_year + 1900, local_time.tm_mon + 1, local_time.tm_mday,
        local_time.tm_hour, local_time.tm_min, local_time.tm_sec, microseconds,
        log_level_letter(level));
    UETCD_ASSERT(length > 0 && static_cast<std::size_t>(length) < sizeof stamp);
    out.clear();
    out.reserve(static_cast<std::size_t>(length) + package.size() + text.size() + 3);
    out.append(stamp, static_cast<std::size_t>(length));
    out.append(package);
    out.append(": ");
    out.append(text);
    // capnslog adds a newline only when the text lacks one.
    if (out.back() != '\n') {
        out.push_back('\n');
    }
}

logger& logger::instance() {
    static logger the_logger;
    return the_logger;
}

void logger::set_debug(bool debug) { _level = debug ? log_level::debug : log_level::info; }

void logger::set_level(log_level level) { _level = level; }

void logger::set_package_levels(package_levels levels) { _package_levels = std::move(levels); }

void logger::set_output_fd(int fd) { _fd = fd; }

bool logger::enabled(log_level level, std::string_view package) const {
    log_level limit = _level;
    // capnslog: "*" applies to every package first, then the named package wins.
    for (const auto& [name, package_level] : _package_levels) {
        if (name == "*") {
            limit = package_level;
        }
    }
    for (const auto& [name, package_level] : _package_levels) {
        if (name == package) {
            limit = package_level;
        }
    }
    return level <= limit;
}

void logger::log(log_level level, std::string_view package, std::string_view text) const {
    if (!enabled(level, package)) {
        return;
    }
    timeval now{};
    gettimeofday(&now, nullptr);
    std::tm local_time{};
    time_t seconds = now.tv_sec;
    localtime_r(&seconds, &local_time);
    std::string line;
    format_log_line(line, local_time, static_cast<std::uint32_t>(now.tv_usec), level, package,
        text);
    // One write per line: concurrent writers to a pipe or tty never interleave within a
    // line (up to PIPE_BUF for pipes). A short write is retried for the rest.
    std::size_t written = 0;
    for (int attempt = 0; attempt < 16 && written < line.size(); attempt++) {
        ssize_t n = ::write(_fd, line.data() + written, line.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;  // stderr is gone; nothing better to do with a log line.
        }
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace uetcd::server
