// Test support for the durability suite: a one-member uetcd whose data dir and ports outlive
// its process, so that it can be kill -9ed and restarted; plain HTTP helpers; a tiny reader of
// the v2 JSON nodes (key, value, modifiedIndex). Tests only.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace uetcd::testing {

class durable_node {
public:
    explicit durable_node(std::string data_dir, std::vector<std::string> extra_flags = {},
        std::vector<std::string> extra_env = {})
        : _data_dir(std::move(data_dir)), _flags(std::move(extra_flags)),
          _env(std::move(extra_env)) {
        client_port = free_port();
        peer_port = free_port();
    }
    // Starts the binary on the same data dir and ports; each life logs to its own file.
    void start() {
        _proc.reset();
        const std::string client = "http://127.0.0.1:" + std::to_string(client_port);
        const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
        std::vector<std::string> argv = {etcd_binary(), "--name", "d", "--data-dir", _data_dir,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "d=" + peer};
        if (const char* engine = std::getenv("UETCD_TEST_IO_ENGINE"); engine != nullptr) {
            argv.insert(argv.end(), {"--io-engine", engine});
        }
        argv.insert(argv.end(), _flags.begin(), _flags.end());
        _log = _data_dir + ".life" + std::to_string(++_lives) + ".log";
        _proc.emplace(argv, _log, _env);
    }
    bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        const auto deadline = clock::now() + timeout;
        int port_retries = 0;
        while (clock::now() < deadline) {
            if (status_of(http_get(client_port, "/version")) == 200) {
                return true;
            }
            if (_proc->wait_exit(std::chrono::milliseconds(1)).has_value()) {
                // While the server was down, another process on the machine may have taken
                // one of its ports (as an ephemeral source port, say): wait and start again.
                if (_proc->log().find("address already in use") == std::string::npos
                    || ++port_retries > 50) {
                    return false;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                start();
                continue;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    }
    void kill9() { _proc->kill_now(); }
    // SIGTERM and wait; the exit status.
    std::optional<int> stop() {
        _proc->signal(SIGTERM);
        return _proc->wait_exit(std::chrono::seconds(10));
    }
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        return _proc->wait_exit(timeout);
    }
    std::string log() const { return _proc ? _proc->log() : std::string(); }
    const std::string& data_dir() const { return _data_dir; }

    int client_port = 0;
    int peer_port = 0;

private:
    std::string _data_dir;
    std::vector<std::string> _flags;
    std::vector<std::string> _env;
    std::string _log;
    int _lives = 0;
    std::optional<process> _proc;
};

// A header value of a raw response ("" if absent).
inline std::string header_value(const std::string& response, const std::string& name) {
    const std::string needle = "\r\n" + name + ": ";
    const auto at = response.find(needle);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = at + needle.size();
    return response.substr(start, response.find("\r\n", start) - start);
}

// A keep-alive client for one server.
class http_client {
public:
    explicit http_client(int port, int timeout_ms = 5000) : _conn(port, timeout_ms) {}
    bool connected() const { return _conn.connected(); }
    // "" when the connection failed or closed.
    std::string request(const std::string& method, const std::string& target,
        const std::string& form = {}) {
        std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (!form.empty() || method == "PUT" || method == "POST") {
            req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                std::to_string(form.size()) + "\r\n";
        }
        req += "\r\n" + form;
        if (!_conn.send_all(req)) {
            return {};
        }
        return _conn.read_response();
    }

private:
    connection _conn;
};

struct node_value {
    std::string value;
    std::uint64_t modified_index = 0;
};

// The leaf nodes of a v2 JSON answer: key -> value, modifiedIndex. Enough for the values the
// tests write (no escapes).
inline std::map<std::string, node_value> parse_nodes(const std::string& body) {
    std::map<std::string, node_value> out;
    std::size_t at = 0;
    while ((at = body.find("{\"key\":\"", at)) != std::string::npos) {
        at += 8;
        const auto key_end = body.find('"', at);
        const std::string key = body.substr(at, key_end - at);
        const auto next = body.find("{\"key\":\"", key_end);
        const std::string node = body.substr(key_end, next == std::string::npos
            ? std::string::npos : next - key_end);
        const auto value_at = node.find("\"value\":\"");
        const auto index_at = node.find("\"modifiedIndex\":");
        if (value_at == std::string::npos || index_at == std::string::npos) {
            continue;  // a directory
        }
        const auto value_start = value_at + 9;
        node_value v;
        v.value = node.substr(value_start, node.find('"', value_start) - value_start);
        v.modified_index = std::strtoull(node.c_str() + index_at + 16, nullptr, 10);
        out.emplace(key, v);  // the node before its prevNode
    }
    return out;
}

inline std::vector<std::string> files_in(const std::string& dir, const std::string& suffix) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() >= suffix.size()
            && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace uetcd::testing
