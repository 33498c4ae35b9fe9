// One TLS connection driven by the reactor; see tls.hpp. OpenSSL reads ciphertext from _in
// and writes it to _out through a custom BIO; the coroutines here move those bytes with
// reactor::recv/send.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "uetcd/http/tls.hpp"
#include "uetcd/reactor/reactor.hpp"

namespace uetcd::http {

namespace {

// Ciphertext waiting for OpenSSL. It need not hold a whole record (OpenSSL keeps a partial
// record in its own buffer, released when empty), so it stays small: idle connections are
// cheap, and a large upload costs a few more recv calls.
constexpr std::size_t input_capacity_bytes = 4096;
// Plaintext encrypted per SSL_write before the ciphertext is sent: bounds _out.
constexpr std::size_t write_piece_bytes = 64 * 1024;
constexpr std::int64_t close_notify_timeout_ns = 1'000'000'000;

int bio_write_cb(BIO* bio, const char* data, int size_bytes) {
    BIO_clear_retry_flags(bio);
    static_cast<tls_session*>(BIO_get_data(bio))->bio_write(data, size_bytes);
    return size_bytes;
}

int bio_read_cb(BIO* bio, char* out, int size_bytes) {
    BIO_clear_retry_flags(bio);
    const int n = static_cast<tls_session*>(BIO_get_data(bio))->bio_read(out, size_bytes);
    if (n == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    return n;
}

long bio_ctrl_cb(BIO*, int command, long, void*) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create_cb(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD* session_bio_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "uetcd");
        BIO_meth_set_write(m, bio_write_cb);
        BIO_meth_set_read(m, bio_read_cb);
        BIO_meth_set_ctrl(m, bio_ctrl_cb);
        BIO_meth_set_create(m, bio_create_cb);
        return m;
    }();
    return method;
}

// Go's net/http: a first TLS record header that reads like one of these is plain HTTP.
bool looks_like_http(std::string_view head) {
    return head == "GET /" || head == "HEAD " || head == "POST " || head == "PUT /" ||
        head == "OPTIO";
}

constexpr std::string_view http_to_https_answer =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

// Go's crypto/tls alert texts, by alert number.
std::string_view go_alert_text(int alert) {
    switch (alert) {
    case 10: return "unexpected message";
    case 20: return "bad record MAC";
    case 40: return "handshake failure";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "revoked certificate";
    case 45: return "expired certificate";
    case 46: return "unknown certificate";
    case 47: return "illegal parameter";
    case 48: return "unknown certificate authority";
    case 49: return "access denied";
    case 50: return "error decoding message";
    case 51: return "error decrypting message";
    case 70: return "protocol version not supported";
    case 71: return "insufficient security level";
    case 80: return "internal error";
    case 112: return "unrecognized name";
    case 116: return "certificate required";
    default: return "alert";
    }
}

std::string go_verify_text(long verify, const std::string& host) {
    switch (verify) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return "x509: certificate signed by unknown authority";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "x509: certificate has expired or is not yet valid";
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_HOSTNAME_MISMATCH:
        return "x509: certificate is not valid for " + host;
    default:
        return std::string("x509: ") + X509_verify_cert_error_string(verify);
    }
}

}  // namespace

tls_session::tls_session(ssl_st* ssl) : _ssl(ssl) {
    BIO* bio = BIO_new(session_bio_method());
    BIO_set_data(bio, this);
    SSL_set_bio(_ssl, bio, bio);  // one reference, used for both directions
}

tls_session::~tls_session() { SSL_free(_ssl); }

std::unique_ptr<tls_session> tls_session::make_server(ssl_ctx_st* ctx) {
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr) {
        return nullptr;
    }
    SSL_set_accept_state(ssl);
    return std::unique_ptr<tls_session>(new tls_session(ssl));
}

std::unique_ptr<tls_session> tls_session::make_client(ssl_ctx_st* ctx, std::string_view host) {
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr) {
        return nullptr;
    }
    SSL_set_connect_state(ssl);
    std::string name(host);
    in6_addr probe{};
    const bool is_ip = ::inet_pton(AF_INET, name.c_str(), &probe) == 1 ||
        ::inet_pton(AF_INET6, name.c_str(), &probe) == 1;
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl, name.c_str());
        SSL_set1_host(ssl, name.c_str());
    }
    std::unique_ptr<tls_session> session(new tls_session(ssl));
    session->_host = std::move(name);
    return session;
}

int tls_session::bio_read(char* out, int size_bytes) noexcept {
    const std::size_t n = std::min(_in_end - _in_begin, static_cast<std::size_t>(size_bytes));
    if (n > 0) {
        std::memcpy(out, _in.get() + _in_begin, n);
        _in_begin += n;
    }
    return static_cast<int>(n);
}

void tls_session::bio_write(const char* data, int size_bytes) {
    _out.append(data, static_cast<std::size_t>(size_bytes));
}

bool tls_session::has_buffered_input() const noexcept {
    return _in_end > _in_begin || SSL_has_pending(_ssl) == 1;
}

void tls_session::release_buffers() noexcept {
    if (_in_begin == _in_end) {
        _in.reset();
        _in_begin = _in_end = 0;
    }
    if (_out.empty()) {
        std::string().swap(_out);
    }
}

std::string_view tls_session::version() const noexcept { return SSL_get_version(_ssl); }

std::string_view tls_session::cipher() const noexcept {
    const char* name = SSL_get_cipher_name(_ssl);
    return name == nullptr ? "" : name;
}

void tls_session::remember_peer() {
    _established = true;
    X509* cert = SSL_get0_peer_certificate(_ssl);
    if (cert == nullptr || SSL_get_verify_result(_ssl) != X509_V_OK) {
        return;
    }
    char cn[256];
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
        sizeof(cn));
    if (n > 0) {
        _peer_common_name.assign(cn, static_cast<std::size_t>(n));
    }
}

std::string tls_session::describe_failure(int ssl_error) const {
    if (!_host.empty()) {
        const long verify = SSL_get_verify_result(_ssl);
        if (verify != X509_V_OK) {
            return go_verify_text(verify, _host);
        }
    }
    const unsigned long e = ERR_peek_last_error();
    const int reason = ERR_GET_REASON(e);
    if (e != 0 && reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        return "remote error: tls: " + std::string(go_alert_text(reason - SSL_AD_REASON_OFFSET));
    }
    if (e != 0) {
        const char* text = ERR_reason_error_string(e);
        return "tls: " + std::string(text == nullptr ? "handshake failure" : text);
    }
    return ssl_error == SSL_ERROR_SYSCALL ? "EOF" : "tls: handshake failure";
}

reactor::task<std::int32_t> tls_session::fill(int fd, std::int64_t deadline_ns,
    reactor::cancel_slot* cancel) {
    if (!_in) {
        _in = std::make_unique_for_overwrite<char[]>(input_capacity_bytes);
    }
    if (_in_begin == _in_end) {
        _in_begin = _in_end = 0;
    } else if (_in_end == input_capacity_bytes && _in_begin > 0) {
        std::memmove(_in.get(), _in.get() + _in_begin, _in_end - _in_begin);
        _in_end -= _in_begin;
        _in_begin = 0;
    }
    if (_in_end == input_capacity_bytes) {
        co_return -ENOBUFS;
    }
    std::int64_t timeout_ns = reactor::no_timeout;
    if (deadline_ns >= 0) {
        timeout_ns = deadline_ns - reactor::reactor::current().now_ns();
        if (timeout_ns <= 0) {
            co_return -ETIMEDOUT;
        }
    }
    char* space = _in.get() + _in_end;
    const std::size_t free_bytes = input_capacity_bytes - _in_end;
    std::int32_t n = 0;
    if (cancel != nullptr) {
        n = co_await reactor::recv(fd, space, free_bytes).with_timeout(timeout_ns)
                .with_cancel(*cancel);
    } else {
        n = co_await reactor::recv(fd, space, free_bytes).with_timeout(timeout_ns);
    }
    if (n > 0) {
        _in_end += static_cast<std::size_t>(n);
    }
    co_return n;
}

reactor::task<bool> tls_session::flush(int fd, std::int64_t deadline_ns) {
    std::size_t sent = 0;
    while (sent < _out.size()) {
        std::int64_t timeout_ns = reactor::no_timeout;
        if (deadline_ns >= 0) {
            timeout_ns = deadline_ns - reactor::reactor::current().now_ns();
            if (timeout_ns <= 0) {
                _out.clear();
                co_return false;
            }
        }
        const auto n = co_await reactor::send(fd, _out.data() + sent, _out.size() - sent)
                           .with_timeout(timeout_ns);
        if (n <= 0) {
            _out.clear();
            co_return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    _out.clear();
    co_return true;
}

reactor::task<std::int32_t> tls_session::drive_handshake(int fd, std::int64_t deadline_ns,
    reactor::cancel_slot* cancel) {
    for (;;) {
        ERR_clear_error();
        const int r = SSL_do_handshake(_ssl);
        if (r == 1) {
            remember_peer();
            co_return co_await flush(fd, deadline_ns) ? 0 : -EPIPE;
        }
        const int e = SSL_get_error(_ssl, r);
        if (e != SSL_ERROR_WANT_READ) {
            _error = describe_failure(e);
            co_await flush(fd, deadline_ns);  // the alert, if any
            co_return -EPROTO;
        }
        if (!co_await flush(fd, deadline_ns)) {
            _error = "write: broken pipe";
            co_return -EPIPE;
        }
        const auto n = co_await fill(fd, deadline_ns, cancel);
        if (n <= 0) {
            _error = n == 0 ? "EOF" : n == -ETIMEDOUT ? "net/http: TLS handshake timeout"
                                                      : "read: connection reset by peer";
            co_return n == 0 ? -ECONNRESET : n;
        }
    }
}

reactor::task<std::int32_t> tls_session::accept(int fd, std::int64_t deadline_ns,
    reactor::cancel_slot* cancel) {
    while (_in_end - _in_begin < 5) {
        const auto n = co_await fill(fd, deadline_ns, cancel);
        if (n <= 0) {
            co_return n == 0 ? -ECONNRESET : n;
        }
    }
    const std::string_view head(_in.get() + _in_begin, 5);
    if (looks_like_http(head)) {
        _out.assign(http_to_https_answer);
        co_await flush(fd, tls_deadline_ns(close_notify_timeout_ns));
        co_return -EPROTO;
    }
    co_return co_await drive_handshake(fd, deadline_ns, cancel);
}

reactor::task<result<bool, std::string>> tls_session::connect(int fd, std::int64_t deadline_ns) {
    const auto rc = co_await drive_handshake(fd, deadline_ns, nullptr);
    if (rc != 0) {
        co_return failure{_error};
    }
    co_return true;
}

reactor::task<std::int32_t> tls_session::recv(int fd, char* buffer, std::size_t size_bytes,
    std::int64_t timeout_ns, reactor::cancel_slot* cancel) {
    const std::int64_t deadline_ns = tls_deadline_ns(timeout_ns);
    const int size = static_cast<int>(std::min<std::size_t>(size_bytes, INT_MAX));
    for (;;) {
        ERR_clear_error();
        const int r = SSL_read(_ssl, buffer, size);
        if (r > 0) {
            co_return r;
        }
        const int e = SSL_get_error(_ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN) {
            co_return 0;
        }
        if (e != SSL_ERROR_WANT_READ) {
            _error = describe_failure(e);
            co_return -EPROTO;
        }
        if (!_out.empty() && !co_await flush(fd, deadline_ns)) {
            co_return -EPIPE;  // a TLS 1.3 key update answer or a session ticket
        }
        const auto n = co_await fill(fd, deadline_ns, cancel);
        if (n <= 0) {
            if (n == 0 && !_host.empty()) {
                _error = "unexpected EOF";
            }
            co_return n;
        }
    }
}

reactor::task<bool> tls_session::send_all(int fd, std::string_view data,
    std::int64_t timeout_ns) {
    const std::int64_t deadline_ns = tls_deadline_ns(timeout_ns);
    while (!data.empty()) {
        const std::size_t piece = std::min(data.size(), write_piece_bytes);
        ERR_clear_error();
        const int r = SSL_write(_ssl, data.data(), static_cast<int>(piece));
        if (r <= 0) {
            _out.clear();
            co_return false;
        }
        data.remove_prefix(static_cast<std::size_t>(r));
        if (!co_await flush(fd, deadline_ns)) {
            co_return false;
        }
    }
    co_return true;
}

reactor::task<std::int32_t> tls_session::wait_for_close(int fd, reactor::cancel_slot& cancel) {
    // No OpenSSL call here: the handler may be sending at the same time. Bytes read stay in
    // _in for the next recv(); only the TCP close is a verdict (a close_notify comes with it).
    for (;;) {
        const auto n = co_await fill(fd, reactor::no_timeout, &cancel);
        if (n <= 0) {
            co_return n;
        }
        if (_in_end == input_capacity_bytes) {
            co_return 1;
        }
    }
}

reactor::task<void> tls_session::close_notify(int fd) {
    if (!_established) {
        co_return;
    }
    _established = false;
    ERR_clear_error();
    SSL_shutdown(_ssl);
    co_await flush(fd, tls_deadline_ns(close_notify_timeout_ns));
}

}  // namespace uetcd::http
