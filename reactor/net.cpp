// Socket set-up helpers: address parsing and formatting, listening sockets.
#include "uetcd/reactor/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace uetcd::reactor {

// Go prints syscall errors in lower case ("bind: address already in use"); so do we.
std::string os_error_text(int error_number) {
    std::string text = std::strerror(error_number);
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z' && (text.size() < 2 ||
        !(text[1] >= 'A' && text[1] <= 'Z'))) {
        text[0] = static_cast<char>(text[0] - 'A' + 'a');
    }
    return text;
}

void unique_fd::reset(int fd) noexcept {
    if (_fd >= 0) {
        ::close(_fd);
    }
    _fd = fd;
}

std::uint16_t socket_address::port() const noexcept {
    if (storage.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string socket_address::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (storage.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
        return "[" + std::string(text) + "]:" + std::to_string(port());
    }
    const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(port());
}

result<socket_address, std::string> make_socket_address(std::string_view host,
    std::uint16_t port) {
    socket_address out;
    std::string h(host);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
        h = h.substr(1, h.size() - 2);
    }
    if (h.empty() || h == "0.0.0.0") {
        h = "0.0.0.0";
    } else if (h == "localhost") {
        h = "127.0.0.1";
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.length = sizeof(sockaddr_in);
        return out;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.length = sizeof(sockaddr_in6);
        return out;
    }
    return failure{"address " + std::string(host) + ": not an IP address"};
}

result<socket_address, std::string> parse_socket_address(std::string_view host_port) {
    const auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
        return failure{"address " + std::string(host_port) + ": missing port in address"};
    }
    const auto port_text = host_port.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(),
        port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
        return failure{"address " + std::string(host_port) + ": invalid port"};
    }
    return make_socket_address(host_port.substr(0, colon), static_cast<std::uint16_t>(port));
}

result<unique_fd, std::string> tcp_socket(int family) {
    // Blocking mode: io_uring's connect on a non-blocking socket can complete with EISCONN
    // instead of 0. Backends that need non-blocking fds set the flag themselves.
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        return failure{std::string("socket: ") + os_error_text(errno)};
    }
    return unique_fd{fd};
}

result<unique_fd, std::string> listen_tcp(const socket_address& address,
    const listen_options& options) {
    const std::string where = "listen tcp " + address.to_string() + ": ";
    if (options.reuse_port && options.check_exclusive) {
        listen_options plain = options;
        plain.reuse_port = false;
        auto probe = listen_tcp(address, plain);
        if (!probe) {
            return probe;
        }
    }
    unique_fd fd{::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (!fd.valid()) {
        return failure{where + "socket: " + os_error_text(errno)};
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (options.reuse_port) {
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
    if (::bind(fd.get(), address.get(), address.length) != 0) {
        return failure{where + "bind: " + os_error_text(errno)};
    }
    if (::listen(fd.get(), options.backlog) != 0) {
        return failure{where + "listen: " + os_error_text(errno)};
    }
    return fd;
}

void set_no_delay(int fd) noexcept {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

socket_address local_address(int fd) noexcept {
    socket_address out;
    out.length = sizeof(out.storage);
    ::getsockname(fd, out.get(), &out.length);
    return out;
}

}  // namespace uetcd::reactor
