// Sockets: addresses, listening sockets (one per core with SO_REUSEPORT), and an owning fd.
// Setting a socket up is a few non-blocking syscalls done at start-up; data moves through
// the backend (ops.hpp).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "uetcd/result.hpp"

namespace uetcd::reactor {

// Owns a file descriptor; closes it synchronously on destruction unless released.
class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : _fd(fd) {}
    unique_fd(unique_fd&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other._fd, -1));
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return _fd; }
    bool valid() const noexcept { return _fd >= 0; }
    int release() noexcept { return std::exchange(_fd, -1); }
    void reset(int fd = -1) noexcept;

private:
    int _fd = -1;
};

struct socket_address {
    sockaddr_storage storage{};
    socklen_t length = 0;

    const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
    int family() const noexcept { return storage.ss_family; }
    std::uint16_t port() const noexcept;
    std::string to_string() const;  // "127.0.0.1:2379" or "[::1]:2379"
};

// Parses a literal "host:port" where host is an IPv4 or bracketed IPv6 address,
// "localhost" (127.0.0.1) or empty (all IPv4 addresses). No DNS lookups.
result<socket_address, std::string> parse_socket_address(std::string_view host_port);
result<socket_address, std::string> make_socket_address(std::string_view host, std::uint16_t port);

struct listen_options {
    bool reuse_port = true;  // one listening socket per core, the kernel spreads connections
    // With reuse_port, first check that no other socket holds the port: SO_REUSEPORT
    // would otherwise let a second server share it silently instead of failing.
    bool check_exclusive = false;
    int backlog = 4096;
};

// Creates, binds and listens; the error names the address and the reason
// (e.g. "listen tcp 127.0.0.1:2379: bind: address already in use").
result<unique_fd, std::string> listen_tcp(const socket_address& address,
    const listen_options& options = {});

// A TCP socket for connect().
result<unique_fd, std::string> tcp_socket(int family);

// strerror in Go's spelling ("address already in use"): error lines read like etcd's.
std::string os_error_text(int error_number);

// TCP_NODELAY: replies go out as soon as they are written.
void set_no_delay(int fd) noexcept;
socket_address local_address(int fd) noexcept;

}  // namespace uetcd::reactor
