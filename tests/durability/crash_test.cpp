// The crash test: writers send acknowledged writes while the server is kill -9ed and
// restarted, cycle after cycle; after each restart every acknowledged write must be there with
// its value and modifiedIndex. UETCD_CRASH_CYCLES sets the number of cycles (20 here; `make
// soak` runs 500). Small WAL segments and a low --snapshot-count make every restart go through
// snapshots, segment cuts and retention too.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>

#include "durability/durable_node.hpp"

using namespace uetcd::testing;

namespace {

constexpr int writers = 8;
constexpr int keys_per_writer = 250;  // writers overwrite: the key space stays bounded

struct acked_write {
    std::string value;
    std::uint64_t modified_index = 0;
};

// One writer's view: what the server acknowledged per key, and the write in flight (it may
// or may not have reached the log when the server died).
struct writer_state {
    int id = 0;
    std::uint64_t next = 0;
    std::map<std::string, acked_write> acked;
    // Per key, the values sent since its last acknowledgement and never answered (the
    // server died first): each may or may not have reached the log.
    std::map<std::string, std::vector<std::string>> unanswered;
    std::uint64_t writes = 0;
    std::string error;
};

std::string key_of(int writer, std::uint64_t n) {
    return "/crash/w" + std::to_string(writer) + "k" + std::to_string(n % keys_per_writer);
}

void run_writer(int port, int cycle, writer_state& w, const std::atomic<bool>& stop) {
    http_client client(port, 3000);
    while (!stop.load() && client.connected()) {
        const std::string key = key_of(w.id, w.next);
        const std::string value = "c" + std::to_string(cycle) + "n" + std::to_string(w.next);
        w.unanswered[key].push_back(value);
        const std::string response = client.request("PUT", "/v2/keys" + key, "value=" + value);
        const int status = status_of(response);
        if (status != 200 && status != 201) {
            return;  // the server died under us: this write stays "in flight"
        }
        // Catch2 assertions are not thread-safe: a bad answer is recorded and checked later.
        const auto nodes = parse_nodes(body_of(response));
        const auto it = nodes.find(key);
        if (it == nodes.end() || it->second.value != value) {
            w.error = "bad answer to PUT " + key + ": " + response;
            return;
        }
        w.acked[key] = acked_write{value, it->second.modified_index};
        w.unanswered.erase(key);
        ++w.next;
        ++w.writes;
    }
}

// Every acknowledged write is present: with its own value and index, or overwritten by a
// later write of its writer that was in flight at some kill and never answered.
void check_all_present(int port, const std::vector<writer_state>& states, int cycle) {
    // Large answers are chunked: read on a connection the server closes.
    const std::string response = http_get(port, "/v2/keys/crash?recursive=true");
    REQUIRE(status_of(response) == 200);
    const auto nodes = parse_nodes(body_of(response));
    const std::uint64_t etcd_index = std::stoull(header_value(response, "X-Etcd-Index"));
    std::uint64_t checked = 0;
    for (const writer_state& w : states) {
        for (const auto& [key, acked] : w.acked) {
            INFO("cycle " << cycle << " key " << key << " acked " << acked.value << "@"
                          << acked.modified_index);
            const auto it = nodes.find(key);
            REQUIRE(it != nodes.end());
            REQUIRE(etcd_index >= acked.modified_index);
            if (it->second.modified_index == acked.modified_index) {
                REQUIRE(it->second.value == acked.value);
            } else {
                // Overwritten by a later write of this writer that was never answered.
                REQUIRE(it->second.modified_index > acked.modified_index);
                const auto maybe = w.unanswered.find(key);
                REQUIRE(maybe != w.unanswered.end());
                REQUIRE(std::find(maybe->second.begin(), maybe->second.end(),
                    it->second.value) != maybe->second.end());
            }
            ++checked;
        }
    }
    REQUIRE(checked > 0);
}

int cycles_wanted() {
    const char* env = std::getenv("UETCD_CRASH_CYCLES");
    return env != nullptr ? std::max(1, std::atoi(env)) : 20;
}

}  // namespace

TEST_CASE("every acknowledged write survives kill -9 and restart, cycle after cycle",
    "[crash]") {
    temp_dir dir;
    durable_node node(dir.path() + "/data", {"--snapshot-count", "1000"},
        {"UETCD_WAL_SEGMENT_BYTES=1048576"});
    std::vector<writer_state> states(writers);
    for (int i = 0; i < writers; ++i) {
        states[static_cast<std::size_t>(i)].id = i;
    }
    std::mt19937 rng(20261129);
    std::uniform_int_distribution<int> run_ms(20, 250);
    const int cycles = cycles_wanted();
    std::uint64_t total_writes = 0;
    for (int cycle = 0; cycle < cycles; ++cycle) {
        const auto started = clock::now();
        node.start();
        INFO("cycle " << cycle);
        if (!node.wait_ready()) {
            // Keep the evidence: the data dir outlives the test's temp dir.
            const std::string kept = "/tmp/uetcd-crash-failed-" + std::to_string(::getpid());
            std::filesystem::copy(dir.path(), kept, std::filesystem::copy_options::recursive);
            FAIL("not serving after restart (data dir copied to " << kept << "):\n"
                 << node.log());
        }
        if (std::getenv("UETCD_CRASH_VERBOSE") != nullptr) {
            std::fprintf(stderr, "cycle %d: serving after %lld ms\n", cycle,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                    clock::now() - started).count()));
        }
        if (cycle > 0) {
            const auto check_from = clock::now();
            check_all_present(node.client_port, states, cycle);
            if (std::getenv("UETCD_CRASH_VERBOSE") != nullptr) {
                std::fprintf(stderr, "cycle %d: check took %lld ms\n", cycle,
                    static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                        clock::now() - check_from).count()));
            }
        }
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (auto& w : states) {
            threads.emplace_back([&, port = node.client_port] {
                run_writer(port, cycle, w, stop);
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
        const auto kill_at = clock::now();
        node.kill9();
        const auto killed_at = clock::now();
        stop = true;
        for (auto& t : threads) {
            t.join();
        }
        if (std::getenv("UETCD_CRASH_VERBOSE") != nullptr) {
            using std::chrono::duration_cast;
            using std::chrono::milliseconds;
            std::fprintf(stderr, "cycle %d: kill took %lld ms, writers %lld ms\n", cycle,
                static_cast<long long>(duration_cast<milliseconds>(killed_at - kill_at).count()),
                static_cast<long long>(duration_cast<milliseconds>(clock::now() - killed_at)
                    .count()));
        }
        for (const auto& w : states) {
            INFO(w.error);
            REQUIRE(w.error.empty());
        }
    }
    node.start();
    REQUIRE(node.wait_ready());
    check_all_present(node.client_port, states, cycles);
    for (const auto& w : states) {
        total_writes += w.writes;
    }
    REQUIRE(node.stop() == 0);
    const std::string log = node.log();
    WARN(cycles << " kill -9 cycles, " << total_writes << " acknowledged writes, 0 lost");
    CHECK(log.find("wal:") != std::string::npos);
}
