// v2 auth as etcd 3.4 serves it (etcdserver/api/v2http/client_auth.go, api/v2auth): the
// /v2/auth/* endpoints, and the access checks the keys and members handlers make between
// parsing a request and touching the store.
//
// Auth data lives in the store under /2 (etcd's layout) and is written only through
// store_service::propose() on core 0. Every core keeps a read-only replica of it (a
// shared_ptr<const auth_state>, replaced after every auth write by a message to the core)
// and a cache of verified passwords keyed by user and a keyed digest of the password, so an
// authenticated request costs no bcrypt after the first. bcrypt runs on a worker pool.
#pragma once

#include <coroutine>
#include <memory>
#include <string>
#include <string_view>

#include "uetcd/http/router.hpp"
#include "uetcd/reactor/task.hpp"
#include "uetcd/server/auth_model.hpp"

namespace uetcd::server {

struct cluster_info;
class store_service;
class auth_service;

// The verdict of one access check, as an awaitable: `co_await check` yields true when the
// request may go on. Ready at once unless a password must go through bcrypt (or the core has
// not received the auth state yet). Keep it in a named variable (g++ 12 and temporaries in
// co_await do not mix).
class access_check {
public:
    bool await_ready() const noexcept { return _decided; }
    void await_suspend(std::coroutine_handle<> h);
    bool await_resume() const noexcept { return _allowed; }

private:
    friend class auth_service;
    enum class kind : unsigned char { keys, root };

    void decide(bool allowed) noexcept {
        _decided = true;
        _allowed = allowed;
    }

    auth_service* _service = nullptr;
    kind _kind = kind::keys;
    bool _decided = false;
    bool _allowed = false;
    bool _write = false;
    bool _recursive = false;
    std::string_view _key;  // into the request's path, which outlives the check
    std::string _user;
    std::string _password;
    std::coroutine_handle<> _waiter;
};

class auth_service {
public:
    // `client_cert_auth`: --client-cert-auth, so a verified client certificate's CN names the
    // user when a request has no Authorization header (etcd 3.4).
    auth_service(const cluster_info& cluster, store_service& store, unsigned cores,
        bool client_cert_auth);
    ~auth_service();
    auth_service(const auth_service&) = delete;
    auth_service& operator=(const auth_service&) = delete;

    // The process's service, or null (then every check allows: no auth configured).
    static auth_service* current() noexcept;

    // /v2/auth/enable, /v2/auth/users[/name], /v2/auth/roles[/name].
    void add_routes(http::router& routes);

    // On core 0, once the store is loaded or recovered (and after any change of /2 made
    // behind this service's back): reads /2 and installs the replica on every core. Until a
    // core has its first replica, its checks wait for it.
    reactor::task<void> load_from_store();

    // etcd hasKeyPrefixAccess: `key` is the raw path after /v2/keys.
    access_check check_keys(const http::exchange& ex, std::string_view key, bool recursive);
    // etcd hasRootAccess; with `writes_only`, hasWriteRootAccess (GET and HEAD pass).
    access_check check_root(const http::exchange& ex, bool writes_only);

    struct core_slot;
    struct admin;
    struct admin_request;
    struct admin_answer;

private:
    friend class access_check;
    reactor::task<void> verify_and_resume(access_check& check);
    void finish(access_check& check, const auth::auth_state& state, bool password_ok);
    void install(std::shared_ptr<const auth::auth_state> state);
    core_slot& slot();
    void start_check(access_check& c, const http::exchange& ex);
    reactor::task<void> serve(http::exchange& ex);
    reactor::task<admin_answer> run_on_store(admin_request req);

    const cluster_info& _cluster;
    store_service& _store;
    bool _client_cert_auth;
    std::vector<std::unique_ptr<core_slot>> _slots;
    std::unique_ptr<admin> _admin;
};

// etcd writeKeyNoAuth: 401, errorCode 110 "Insufficient credentials", index 0.
void reply_keys_unauthorized(http::exchange& ex);
// etcd writeNoAuth: 401 {"message":"Insufficient credentials"}.
void reply_no_auth(http::exchange& ex);

// The user named by the connection's verified client certificate (TLS hook): its CN.
std::string_view client_certificate_user(const http::exchange& ex);

}  // namespace uetcd::server
