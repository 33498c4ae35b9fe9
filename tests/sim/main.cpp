// uetcd-raft-sim: runs the deterministic raft simulator for one seed or a range of seeds.
// A failing seed prints exactly one command line that replays it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "simulator.hpp"

namespace {

struct cli {
    std::uint64_t seed_lo = 1;
    std::uint64_t seed_hi = 1;
    std::size_t nodes = 0;  // 0: cycle 1, 3, 5 by seed
    std::uint64_t steps = 1200;
    bool break_commit_rule = false;
    bool verbose = false;
};

// The replay line of the run in progress, for the SIGABRT handler (a UETCD_ASSERT).
char g_replay[512];
const char* g_program = "uetcd-raft-sim";

void on_abort(int) {
    const char prefix[] = "assertion failed; replay: ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, g_replay, std::strlen(g_replay));
    (void)!write(2, "\n", 1);
    _exit(3);
}

std::size_t nodes_for(const cli& c, std::uint64_t seed) {
    static constexpr std::size_t cycle[] = {1, 3, 5, 3, 5};
    return c.nodes != 0 ? c.nodes : cycle[seed % 5];
}

void format_replay(const cli& c, std::uint64_t seed) {
    std::snprintf(g_replay, sizeof g_replay,
        "%s --seed=%llu --nodes=%zu --steps=%llu%s", g_program,
        static_cast<unsigned long long>(seed), nodes_for(c, seed),
        static_cast<unsigned long long>(c.steps),
        c.break_commit_rule ? " --break-commit-rule" : "");
}

bool parse(int argc, char** argv, cli& c) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--seed=", 0) == 0) {
            c.seed_lo = c.seed_hi = std::strtoull(a.c_str() + 7, nullptr, 10);
        } else if (a.rfind("--seeds=", 0) == 0) {
            const auto dots = a.find("..");
            if (dots == std::string::npos) {
                return false;
            }
            c.seed_lo = std::strtoull(a.c_str() + 8, nullptr, 10);
            c.seed_hi = std::strtoull(a.c_str() + dots + 2, nullptr, 10);
        } else if (a.rfind("--nodes=", 0) == 0) {
            c.nodes = std::strtoull(a.c_str() + 8, nullptr, 10);
            if (c.nodes != 1 && c.nodes != 3 && c.nodes != 5) {
                return false;
            }
        } else if (a.rfind("--steps=", 0) == 0) {
            c.steps = std::strtoull(a.c_str() + 8, nullptr, 10);
        } else if (a == "--break-commit-rule") {
            c.break_commit_rule = true;
        } else if (a == "--verbose") {
            c.verbose = true;
        } else {
            return false;
        }
    }
    return c.seed_lo <= c.seed_hi && c.steps > 0;
}

}  // namespace

int main(int argc, char** argv) {
    cli c;
    if (!parse(argc, argv, c)) {
        std::fprintf(stderr, "usage: uetcd-raft-sim [--seed=N | --seeds=A..B] [--nodes=1|3|5] "
                             "[--steps=N] [--break-commit-rule] [--verbose]\n");
        return 2;
    }
    g_program = argv[0];
    std::signal(SIGABRT, on_abort);
    std::uint64_t committed = 0;
    std::uint64_t budget_hits = 0;
    uetcd::sim::sim_outcome total;
    for (std::uint64_t seed = c.seed_lo; seed <= c.seed_hi; ++seed) {
        format_replay(c, seed);
        uetcd::sim::sim_options opt;
        opt.seed = seed;
        opt.nodes = nodes_for(c, seed);
        opt.steps = c.steps;
        opt.break_commit_rule = c.break_commit_rule;
        opt.verbose = c.verbose;
        const uetcd::sim::sim_outcome out = uetcd::sim::run_simulation(opt);
        if (!out.ok) {
            std::fprintf(stderr, "seed %llu failed: %s\nreplay: %s\n",
                static_cast<unsigned long long>(seed), out.failure.c_str(), g_replay);
            return 1;
        }
        committed += out.committed;
        total.ops_completed += out.ops_completed;
        total.reads_served += out.reads_served;
        total.snapshots_installed += out.snapshots_installed;
        total.leaders_elected += out.leaders_elected;
        total.crashes += out.crashes;
        total.conf_changes += out.conf_changes;
        budget_hits += out.lin_budget_exceeded ? 1 : 0;
    }
    std::printf("ok: seeds %llu..%llu, %llu entries committed, %llu histories over budget\n",
        static_cast<unsigned long long>(c.seed_lo), static_cast<unsigned long long>(c.seed_hi),
        static_cast<unsigned long long>(committed), static_cast<unsigned long long>(budget_hits));
    std::printf("coverage: %llu client ops completed (%llu read-index gets), %llu snapshots "
                "installed, %llu leaders elected, %llu crashes, %llu conf changes\n",
        static_cast<unsigned long long>(total.ops_completed),
        static_cast<unsigned long long>(total.reads_served),
        static_cast<unsigned long long>(total.snapshots_installed),
        static_cast<unsigned long long>(total.leaders_elected),
        static_cast<unsigned long long>(total.crashes),
        static_cast<unsigned long long>(total.conf_changes));
    return 0;
}
