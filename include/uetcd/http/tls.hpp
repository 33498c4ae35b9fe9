// TLS 1.2/1.3 on the reactor with OpenSSL 3: the SSL object reads and writes connection-owned
// buffers through a small custom BIO, and the reactor's own recv/send move the ciphertext, so
// nothing blocks and no OpenSSL call touches the socket. Server contexts (one per core) pick
// up renewed certificate files without a restart; client contexts serve our HTTP client.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/result.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace uetcd::http {

struct tls_options {
    std::string cert_file;
    std::string key_file;
    std::string trusted_ca_file;  // verifies the other side's certificate
    bool client_cert_auth = false;  // server: require and verify a client certificate
    std::string cipher_list;        // OpenSSL TLS 1.2 names joined by ':'; "" = defaults
    std::string ciphersuites;       // OpenSSL TLS 1.3 names joined by ':'; "" = defaults
};

// One core's server-side TLS settings. Not shared between threads: each core loads its own,
// so a reload needs no lock.
class tls_server_context {
public:
    ~tls_server_context();
    tls_server_context(const tls_server_context&) = delete;
    tls_server_context& operator=(const tls_server_context&) = delete;

    // Loads and checks the files. The error is one line ("open x: no such file or
    // directory", "tls: private key does not match public key"); an expired or not yet
    // valid certificate is a line in `warnings`, not an error.
    static result<std::unique_ptr<tls_server_context>, std::string> load(tls_options options,
        std::vector<std::string>* warnings);

    // The context for a new handshake. At most once a second it compares the files' mtimes
    // and sizes with the loaded ones and reloads them when they changed; a reload that
    // fails (a half-written file) keeps the old certificate and is retried later.
    ssl_ctx_st* for_handshake(std::int64_t now_ns);

    const tls_options& options() const noexcept { return _options; }
    std::uint64_t reloads() const noexcept { return _reloads; }
    const std::string& last_reload_error() const noexcept { return _last_reload_error; }

private:
    tls_server_context() = default;
    std::string files_signature() const;

    tls_options _options;
    ssl_ctx_st* _ctx = nullptr;
    std::string _signature;  // mtimes, sizes and inodes of the loaded files
    std::int64_t _next_check_ns = 0;
    std::uint64_t _reloads = 0;
    std::string _last_reload_error;
};

// Client-side settings for our HTTP client and etcdctl: verify the server with
// trusted_ca_file (the system's roots when empty), present cert/key when given.
class tls_client_context {
public:
    ~tls_client_context();
    tls_client_context(const tls_client_context&) = delete;
    tls_client_context& operator=(const tls_client_context&) = delete;

    static result<std::shared_ptr<tls_client_context>, std::string> load(
        const tls_options& options);
    ssl_ctx_st* get() const noexcept { return _ctx; }

private:
    tls_client_context() = default;
    ssl_ctx_st* _ctx = nullptr;
};

// One TLS connection. Its ciphertext buffers exist only while bytes are in flight:
// release_buffers() gives them back when the connection idles (with OpenSSL's
// SSL_MODE_RELEASE_BUFFERS the SSL object then holds no record buffers either).
class tls_session {
public:
    ~tls_session();
    tls_session(const tls_session&) = delete;
    tls_session& operator=(const tls_session&) = delete;

    static std::unique_ptr<tls_session> make_server(ssl_ctx_st* ctx);
    // `host` is checked against the certificate (an IP address or a DNS name).
    static std::unique_ptr<tls_session> make_client(ssl_ctx_st* ctx, std::string_view host);

    // The server handshake, finished by `deadline_ns` (reactor clock) or failed. Plain
    // HTTP gets Go's "400 Client sent an HTTP request to an HTTPS server" first. Returns 0
    // or -errno (-ETIMEDOUT, -EPROTO, -ECANCELED when `cancel` fires: a server stopping).
    reactor::task<std::int32_t> accept(int fd, std::int64_t deadline_ns,
        reactor::cancel_slot* cancel = nullptr);
    // The client handshake; the error is Go-like ("x509: certificate signed by unknown
    // authority", "remote error: tls: bad certificate").
    reactor::task<result<bool, std::string>> connect(int fd, std::int64_t deadline_ns);

    // Like reactor::recv: > 0 plaintext bytes, 0 at the peer's close, or -errno. A negative
    // timeout waits forever; `cancel` may be null.
    reactor::task<std::int32_t> recv(int fd, char* buffer, std::size_t size_bytes,
        std::int64_t timeout_ns, reactor::cancel_slot* cancel);
    // Why the last handshake or recv failed, Go-like ("remote error: tls: bad certificate").
    const std::string& last_error() const noexcept { return _error; }
    // Encrypts and sends all of `data`; false when the peer is gone or too slow.
    reactor::task<bool> send_all(int fd, std::string_view data, std::int64_t timeout_ns);
    // For a handler that reads nothing while it waits (a watch): 0 when the peer closed
    // (TCP FIN or TLS close_notify), > 0 when request bytes arrived (kept for the next
    // recv), -errno on errors or cancel.
    reactor::task<std::int32_t> wait_for_close(int fd, reactor::cancel_slot& cancel);
    // Sends close_notify (as Go's tls.Conn.Close) after a finished handshake, briefly.
    reactor::task<void> close_notify(int fd);

    // Decrypted or undecrypted bytes wait in memory: recv() returns without the socket.
    bool has_buffered_input() const noexcept;
    void release_buffers() noexcept;
    // The verified client certificate's subject CN; "" without one.
    std::string_view peer_common_name() const noexcept { return _peer_common_name; }
    std::string_view version() const noexcept;
    std::string_view cipher() const noexcept;

    // For the BIO callbacks.
    int bio_read(char* out, int size_bytes) noexcept;
    void bio_write(const char* data, int size_bytes);

private:
    explicit tls_session(ssl_st* ssl);
    reactor::task<std::int32_t> fill(int fd, std::int64_t deadline_ns,
        reactor::cancel_slot* cancel);
    reactor::task<bool> flush(int fd, std::int64_t deadline_ns);
    reactor::task<std::int32_t> drive_handshake(int fd, std::int64_t deadline_ns,
        reactor::cancel_slot* cancel);
    void remember_peer();
    std::string describe_failure(int ssl_error) const;

    ssl_st* _ssl = nullptr;
    std::unique_ptr<char[]> _in;  // ciphertext received, not yet read by OpenSSL
    std::size_t _in_begin = 0;
    std::size_t _in_end = 0;
    std::string _out;  // ciphertext written by OpenSSL, not yet sent
    std::string _peer_common_name;
    std::string _host;   // client: the name or address checked against the certificate
    std::string _error;  // why the last handshake or recv failed
    bool _established = false;
};

// The deadline for a relative timeout on the reactor clock; -1 (none) stays -1.
std::int64_t tls_deadline_ns(std::int64_t timeout_ns);

}  // namespace uetcd::http
