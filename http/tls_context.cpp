// Server and client TLS contexts: loading and checking the files, and the server's reload of
// renewed files; see tls.hpp.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "uetcd/http/tls.hpp"
#include "uetcd/reactor/net.hpp"
#include "uetcd/reactor/reactor.hpp"

namespace uetcd::http {

namespace {

constexpr std::int64_t reload_check_interval_ns = 1'000'000'000;

// Go's default preference (AES-128-GCM first: as safe, cheaper), used when --cipher-suites
// does not say; TLS 1.3 likewise.
constexpr const char* default_cipher_list =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
    "ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA";
constexpr const char* default_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// One session ticket key for the whole process: a ticket issued by one core's context (or
// before a certificate reload) resumes on any other, as with Go's single tls.Config.
const unsigned char* process_ticket_keys() {
    static const auto keys = [] {
        std::array<unsigned char, 80> k{};
        if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
            throw std::runtime_error("tls: no random bytes for session ticket keys");
        }
        return k;
    }();
    return keys.data();
}

// The file must exist and be readable: Go's error text for os.ReadFile.
result<bool, std::string> check_readable(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return failure{"open " + path + ": " + reactor::os_error_text(errno)};
    }
    std::fclose(f);
    return true;
}

std::string asn1_time_text(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return "?";
    }
    char text[64];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

void check_validity(const std::string& path, X509* cert, std::vector<std::string>* warnings) {
    if (cert == nullptr || warnings == nullptr) {
        return;
    }
    const ASN1_TIME* not_after = X509_get0_notAfter(cert);
    const ASN1_TIME* not_before = X509_get0_notBefore(cert);
    if (X509_cmp_current_time(not_after) < 0) {
        warnings->push_back("certificate " + path + " has expired (not after " +
            asn1_time_text(not_after) + ")");
    } else if (X509_cmp_current_time(not_before) > 0) {
        warnings->push_back("certificate " + path + " is not valid yet (not before " +
            asn1_time_text(not_before) + ")");
    }
}

// A CA file must hold at least one certificate (etcd 3.4 silently accepts an empty pool,
// which then rejects every peer: an error at start-up is kinder).
result<bool, std::string> load_trusted_ca(SSL_CTX* ctx, const std::string& path) {
    if (auto ok = check_readable(path); !ok) {
        return ok;
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    int certificates = 0;
    if (f != nullptr) {
        while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
            ++certificates;
            X509_free(cert);
        }
        std::fclose(f);
    }
    ERR_clear_error();
    if (certificates == 0 || SSL_CTX_load_verify_locations(ctx, path.c_str(), nullptr) != 1) {
        ERR_clear_error();
        return failure{"tls: no certificate found in CA file " + path};
    }
    return true;
}

result<bool, std::string> load_key_pair(SSL_CTX* ctx, const tls_options& o,
    std::vector<std::string>* warnings) {
    for (const std::string* path : {&o.cert_file, &o.key_file}) {
        if (auto ok = check_readable(*path); !ok) {
            return ok;
        }
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
        ERR_clear_error();
        return failure{std::string("tls: failed to find any PEM data in certificate input")};
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) ==
            X509_R_KEY_VALUES_MISMATCH;
        ERR_clear_error();
        if (mismatch) {
            return failure{std::string("tls: private key does not match public key")};
        }
        return failure{std::string("tls: failed to find any PEM data in key input")};
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        return failure{std::string("tls: private key does not match public key")};
    }
    check_validity(o.cert_file, SSL_CTX_get0_certificate(ctx), warnings);
    return true;
}

result<bool, std::string> set_ciphers(SSL_CTX* ctx, const tls_options& o) {
    if (o.cipher_list.empty()) {
        SSL_CTX_set_cipher_list(ctx, default_cipher_list);
    }
    if (o.ciphersuites.empty()) {
        SSL_CTX_set_ciphersuites(ctx, default_ciphersuites);
    }
    if (!o.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx, o.cipher_list.c_str()) != 1) {
        ERR_clear_error();
        return failure{"tls: unsupported cipher suites \"" + o.cipher_list + "\""};
    }
    if (!o.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1) {
        ERR_clear_error();
        return failure{"tls: unsupported TLS 1.3 cipher suites \"" + o.ciphersuites + "\""};
    }
    return true;
}

// Go's server answers every failed client certificate check with a bad_certificate alert;
// OpenSSL would pick unknown_ca, certificate_expired, ... from the verify error.
int go_like_verify(int preverify_ok, X509_STORE_CTX* store) {
    if (preverify_ok != 1) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    }
    return preverify_ok;
}

// A complete server SSL_CTX for `o`, or the first problem found.
result<SSL_CTX*, std::string> make_server_ctx(const tls_options& o,
    std::vector<std::string>* warnings) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) {
        return failure{std::string("tls: cannot create an OpenSSL context")};
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    // A peer that closes TCP without close_notify is a plain EOF, as in Go.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
        SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    // One TLS 1.3 ticket per connection as Go sends (OpenSSL's default is two), and no
    // server-side session cache: tickets carry resumption, as with Go.
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_tlsext_ticket_keys(ctx, const_cast<unsigned char*>(process_ticket_keys()), 80);
    static constexpr unsigned char session_context[] = "uetcd";
    SSL_CTX_set_session_id_context(ctx, session_context, sizeof(session_context) - 1);
    auto ok = load_key_pair(ctx, o, warnings);
    if (ok && !o.trusted_ca_file.empty()) {
        ok = load_trusted_ca(ctx, o.trusted_ca_file);
    }
    if (ok) {
        ok = set_ciphers(ctx, o);
    }
    if (!ok) {
        SSL_CTX_free(ctx);
        return failure{ok.error()};
    }
    if (o.client_cert_auth && o.trusted_ca_file.empty()) {
        SSL_CTX_set_default_verify_paths(ctx);  // Go: nil ClientCAs means the system roots
    }
    if (o.client_cert_auth) {
        // Go's tls.RequireAndVerifyClientCert.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
            go_like_verify);
    }
    return ctx;
}

void append_stat(std::string& out, const std::string& path) {
    struct stat st{};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) {
        out += "-;";
        return;
    }
    out += std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "/" +
        std::to_string(st.st_size) + "/" + std::to_string(st.st_ino) + ";";
}

}  // namespace

tls_server_context::~tls_server_context() { SSL_CTX_free(_ctx); }

result<std::unique_ptr<tls_server_context>, std::string> tls_server_context::load(
    tls_options options, std::vector<std::string>* warnings) {
    std::unique_ptr<tls_server_context> self(new tls_server_context());
    self->_options = std::move(options);
    self->_signature = self->files_signature();
    auto ctx = make_server_ctx(self->_options, warnings);
    if (!ctx) {
        return failure{ctx.error()};
    }
    self->_ctx = *ctx;
    return self;
}

std::string tls_server_context::files_signature() const {
    std::string s;
    append_stat(s, _options.cert_file);
    append_stat(s, _options.key_file);
    append_stat(s, _options.trusted_ca_file);
    return s;
}

ssl_ctx_st* tls_server_context::for_handshake(std::int64_t now_ns) {
    if (now_ns < _next_check_ns) {
        return _ctx;
    }
    _next_check_ns = now_ns + reload_check_interval_ns;
    std::string signature = files_signature();
    if (signature == _signature) {
        return _ctx;
    }
    auto ctx = make_server_ctx(_options, nullptr);
    if (!ctx) {
        _last_reload_error = ctx.error();  // e.g. the key is not written yet: retry later
        return _ctx;
    }
    SSL_CTX_free(_ctx);  // sessions made from it keep their own reference
    _ctx = *ctx;
    _signature = std::move(signature);
    _last_reload_error.clear();
    ++_reloads;
    return _ctx;
}

tls_client_context::~tls_client_context() { SSL_CTX_free(_ctx); }

result<std::shared_ptr<tls_client_context>, std::string> tls_client_context::load(
    const tls_options& options) {
    std::shared_ptr<tls_client_context> self(new tls_client_context());
    self->_ctx = SSL_CTX_new(TLS_client_method());
    if (self->_ctx == nullptr) {
        return failure{std::string("tls: cannot create an OpenSSL context")};
    }
    SSL_CTX* ctx = self->_ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);  // a close-delimited body, as Go
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!options.cert_file.empty() || !options.key_file.empty()) {
        if (auto ok = load_key_pair(ctx, options, nullptr); !ok) {
            return failure{ok.error()};
        }
    }
    if (!options.trusted_ca_file.empty()) {
        if (auto ok = load_trusted_ca(ctx, options.trusted_ca_file); !ok) {
            return failure{ok.error()};
        }
    } else {
        SSL_CTX_set_default_verify_paths(ctx);
    }
    if (auto ok = set_ciphers(ctx, options); !ok) {
        return failure{ok.error()};
    }
    return self;
}

std::int64_t tls_deadline_ns(std::int64_t timeout_ns) {
    return timeout_ns < 0 ? -1 : reactor::reactor::current().now_ns() + timeout_ns;
}

}  // namespace uetcd::http
