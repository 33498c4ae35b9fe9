// `etcd`: flags and ETCD_* variables -> config -> the server. No logic a test would want.
#include <unistd.h>

#include <cstdio>
#include <span>

#include "uetcd/server/config.hpp"
#include "uetcd/server/etcd_server.hpp"
#include "uetcd/server/log.hpp"

extern char** environ;

int main(int argc, char** argv) {
    using namespace uetcd::server;
    const auto env = environment::from_envp(environ);
    auto parsed = parse_config(std::span<const char* const>(argv + 1,
        static_cast<std::size_t>(argc - 1)), env);
    if (!parsed) {
        const config_error& e = parsed.error();
        if (e.exit_code == 2) {
            std::fprintf(stderr, "%s\n%s", e.line().c_str(), usage_text().c_str());
        } else {
            log_error("etcdmain", e.line());
            if (!e.hint.empty()) {
                log_error("etcdmain", e.hint);
            }
        }
        return e.exit_code;
    }
    const config& cfg = parsed.value();
    if (cfg.action == config_action::print_help) {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    if (cfg.action == config_action::print_version) {
        std::fputs(version_text().c_str(), stdout);
        return 0;
    }
    logger::instance().set_level(cfg.base_log_level);
    if (!cfg.parsed_log_package_levels.empty()) {
        logger::instance().set_package_levels(cfg.parsed_log_package_levels);
    }
    return run_etcd_server(cfg);
}
