// Test support: start a real program (our etcd, the reference etcd 3.4), talk raw HTTP to
// it over loopback with blocking sockets, and always stop it. Header-only, tests only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace uetcd::testing {

using clock = std::chrono::steady_clock;

// A free loopback TCP port (bound and released; good enough for tests).
inline int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Reads from `fd` until a whole request head ("\r\n\r\n") arrived or the peer stopped;
// what was read. For scripted servers.
inline std::string read_request_head(int fd) {
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
        const auto n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

// A listening loopback socket (port 0: the kernel picks one) that nobody accepts on unless
// the test does; closed on destruction. For scripted servers and ports held on purpose.
class loopback_listener {
public:
    explicit loopback_listener(int wanted_port = 0) {
        _fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(wanted_port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        _bound = ::bind(_fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
            ::listen(_fd, 16) == 0;
        socklen_t len = sizeof(a);
        ::getsockname(_fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~loopback_listener() { ::close(_fd); }
    loopback_listener(const loopback_listener&) = delete;
    loopback_listener& operator=(const loopback_listener&) = delete;

    int fd() const { return _fd; }
    bool bound() const { return _bound; }
    int port = 0;

private:
    int _fd = -1;
    bool _bound = false;
};

// A fresh directory under /tmp, removed with its contents on destruction.
class temp_dir {
public:
    temp_dir() {
        char pattern[] = "/tmp/uetcd-test-XXXXXX";
        _path = ::mkdtemp(pattern);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

// A child process with its stderr+stdout captured to a file; killed on destruction.
class process {
public:
    process(const std::vector<std::string>& argv, const std::string& log_path,
        const std::vector<std::string>& extra_env = {})
        : _log_path(log_path) {
        _pid = ::fork();
        if (_pid == 0) {
            // Die with the test, even when it aborts before its destructors run.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(log, 1);
            ::dup2(log, 2);
            for (const auto& e : extra_env) {
                ::putenv(const_cast<char*>(e.c_str()));
            }
            std::vector<char*> args;
            for (const auto& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            std::perror("execv");
            ::_exit(127);
        }
    }
    ~process() { kill_now(); }
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return _pid; }
    void kill_now() {
        if (_pid > 0 && !_exited) {
            ::kill(_pid, SIGKILL);
            wait_exit(std::chrono::seconds(5));
        }
    }
    void signal(int sig) const { ::kill(_pid, sig); }
    // The exit status once the child ended within `timeout`, else nullopt.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        if (_exited) {
            return _status;
        }
        const auto deadline = clock::now() + timeout;
        while (clock::now() < deadline) {
            int status = 0;
            if (::waitpid(_pid, &status, WNOHANG) == _pid) {
                _exited = true;
                _status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return _status;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return std::nullopt;
    }
    std::string log() const {
        std::ifstream in(_log_path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // Resident memory in KiB (VmRSS), 0 if unknown.
    long rss_kib() const {
        std::ifstream in("/proc/" + std::to_string(_pid) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("VmRSS:", 0) == 0) {
                return std::strtol(line.c_str() + 6, nullptr, 10);
            }
        }
        return 0;
    }

private:
    pid_t _pid = -1;
    bool _exited = false;
    int _status = -1;
    std::string _log_path;
};

// A blocking loopback connection with timeouts on every call.
class connection {
public:
    explicit connection(int port, int timeout_ms = 5000) {
        _fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ::setsockopt(_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        _connected = ::connect(_fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    }
    ~connection() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    connection(connection&& o) noexcept : _fd(std::exchange(o._fd, -1)), _connected(o._connected) {}

    bool connected() const { return _connected; }
    int fd() const { return _fd; }
    bool send_all(std::string_view data) {
        while (!data.empty()) {
            const auto n = ::send(_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // Reads until the peer closes or the timeout passes; returns what arrived.
    std::string read_until_close() {
        std::string out;
        char buf[16384];
        for (;;) {
            const auto n = ::recv(_fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                _peer_closed = n == 0;
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    // Reads one response (head + Content-Length body, or until close without one).
    std::string read_response() {
        std::string out;
        char buf[16384];
        for (;;) {
            const auto head_end = out.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                const auto cl = find_content_length(out.substr(0, head_end));
                if (cl && out.size() >= head_end + 4 + *cl) {
                    _pending = out.substr(head_end + 4 + *cl);
                    return out.substr(0, head_end + 4 + *cl);
                }
            }
            if (!_pending.empty()) {
                out += std::exchange(_pending, {});
                continue;
            }
            const auto n = ::recv(_fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                _peer_closed = n == 0;
                return out;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    bool peer_closed() const { return _peer_closed; }

private:
    static std::optional<std::size_t> find_content_length(const std::string& head) {
        std::istringstream in(head);
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("Content-Length:", 0) == 0) {
                return std::strtoul(line.c_str() + 15, nullptr, 10);
            }
        }
        if (head.rfind("HTTP/1.1 1", 0) == 0 || head.find(" 204 ") != std::string::npos) {
            return 0;
        }
        return std::nullopt;
    }
    int _fd = -1;
    bool _connected = false;
    bool _peer_closed = false;
    std::string _pending;
};

inline int status_of(const std::string& response) {
    if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0) {
        return 0;
    }
    return std::atoi(response.c_str() + 9);
}

inline std::string body_of(const std::string& response) {
    const auto p = response.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : response.substr(p + 4);
}

// One GET on a fresh connection; "" when the server does not answer.
inline std::string http_get(int port, const std::string& path) {
    connection c(port);
    if (!c.connected()) {
        return {};
    }
    c.send_all("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    return c.read_response();
}

// Polls until GET /version answers, at most `timeout`.
inline bool wait_until_serving(int port, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        if (status_of(http_get(port, "/version")) == 200) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// The uetcd binary under test: build/etcd next to the test binaries' build root.
inline std::string etcd_binary() {
    const char* env = std::getenv("UETCD_ETCD_BINARY");
    return env != nullptr ? env : std::string(UETCD_BUILD_ROOT) + "/etcd";
}

// A one-member uetcd on free loopback ports with its own data dir; stopped on destruction.
class etcd_server {
public:
    // `launcher` runs in front of the binary (e.g. the no-uring seccomp wrapper).
    explicit etcd_server(std::vector<std::string> extra_flags = {},
        std::vector<std::string> extra_env = {}, std::vector<std::string> launcher = {}) {
        client_port = free_port();
        peer_port = free_port();
        const std::string client = "http://127.0.0.1:" + std::to_string(client_port);
        const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
        std::vector<std::string> argv = launcher;
        const std::vector<std::string> flags = {etcd_binary(), "--name", "test", "--data-dir",
            dir.path() + "/data", "--listen-client-urls", client, "--advertise-client-urls",
            client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "test=" + peer};
        argv.insert(argv.end(), flags.begin(), flags.end());
        // The same tests run on each I/O engine: meson sets UETCD_TEST_IO_ENGINE.
        if (const char* engine = std::getenv("UETCD_TEST_IO_ENGINE"); engine != nullptr) {
            argv.insert(argv.end(), {"--io-engine", engine});
        }
        argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
        proc.emplace(argv, dir.path() + "/etcd.log", extra_env);
    }
    bool wait_ready() { return wait_until_serving(client_port, std::chrono::seconds(10)); }

    temp_dir dir;
    int client_port = 0;
    int peer_port = 0;
    std::optional<process> proc;
};

}  // namespace uetcd::testing
