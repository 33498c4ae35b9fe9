// v2 auth: replicas, checks and the /v2/auth endpoints; see auth_api.hpp.
#include "uetcd/server/auth_api.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "uetcd/assert.hpp"
#include "uetcd/http/json_writer.hpp"
#include "uetcd/reactor/reactor.hpp"
#include "uetcd/reactor/smp.hpp"
#include "uetcd/server/auth_crypto.hpp"
#include "uetcd/server/cluster_api.hpp"
#include "uetcd/server/store_service.hpp"
#include "uetcd/store/errors.hpp"

namespace uetcd::server {

using auth::auth_state;

namespace {

constexpr unsigned store_core = 0;
// Two bcrypt threads: each compare at cost 10 takes ~50 ms of one CPU.
constexpr unsigned bcrypt_threads = 2;
// Verified passwords remembered per core; the whole cache is dropped when it is full.
constexpr std::size_t verified_cache_entries_max = 4096;

auth_service* g_current = nullptr;
enum class resource : unsigned char { enable, users, roles };

}  // namespace

// One answer of an auth endpoint.
struct auth_service::admin_answer {
    int status = 200;
    std::string body;
};

// What a request asks of the store side, parsed on the receiving core.
struct auth_service::admin_request {
    resource what = resource::enable;
    http::method method = http::method::get;
    std::string name;  // empty: the collection
    auth::user user;
    auth::role role;
    std::string password_hash;
};

using admin_answer = auth_service::admin_answer;
using admin_request = auth_service::admin_request;

namespace {

}  // namespace

// Lookups by string_view: a request's cache key is built on the stack, not allocated.
struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

// One core's view: touched only by its own reactor thread.
struct auth_service::core_slot {
    std::shared_ptr<const auth_state> state;  // null until the first install
    reactor::event loaded;
    // digest(16 bytes) + user name -> the hash the password was verified against.
    std::unordered_map<std::string, std::string, key_hash, std::equal_to<>> verified;
    // Checks waiting for one bcrypt compare of the same key (the first one runs it).
    std::unordered_map<std::string, std::vector<access_check*>> in_flight;
};

std::string_view client_certificate_user(const http::exchange& ex) {
    // etcd 3.4 userFromClientCertificate walks every verified chain; the CN the TLS layer
    // gives us is the leaf's, the one clients are issued for.
    return ex.tls_common_name;
}

void reply_keys_unauthorized(http::exchange& ex) {
    std::string body;
    store::write_error_json(body,
        store::error{store::error_code::unauthorized, "Insufficient credentials", 0});
    ex.response.add_header("Content-Type", "application/json");
    ex.response.add_header("X-Etcd-Index", std::uint64_t{0});
    ex.response.set_status(401);
    ex.response.body() = std::move(body);
}

void reply_no_auth(http::exchange& ex) {
    ex.response.reply(401, "application/json", "{\"message\":\"Insufficient credentials\"}");
}

auth_service::core_slot& auth_service::slot() {
    const unsigned core = reactor::reactor::current().core();
    UETCD_ASSERT(core < _slots.size());
    return *_slots[core];
}

namespace {

std::string cache_key(std::string_view user, std::string_view password) {
    std::string key = auth::password_digest(password);
    key.append(user);
    return key;
}

bool same_roles(const auth_state& a, const auth_state& b, const auth::user& u) {
    if (!u.roles) {
        return true;
    }
    for (const auto& name : *u.roles) {
        const auth::role* ra = a.find_role(name);
        const auth::role* rb = b.find_role(name);
        if ((ra == nullptr) != (rb == nullptr) || (ra != nullptr && !(*ra == *rb))) {
            return false;
        }
    }
    return true;
}

}  // namespace

void auth_service::install(std::shared_ptr<const auth_state> state) {
    core_slot& s = slot();
    const std::shared_ptr<const auth_state> old = std::move(s.state);
    s.state = std::move(state);
    // Forget verified passwords of every user whose password, roles or roles' permissions
    // changed, and all of them when the auth switch moved.
    if (!old || old->enabled != s.state->enabled) {
        s.verified.clear();
    } else {
        std::erase_if(s.verified, [&](const auto& entry) {
            const std::string_view name = std::string_view(entry.first).substr(16);
            const auth::user* before = old->find_user(name);
            const auth::user* after = s.state->find_user(name);
            return before == nullptr || after == nullptr || !(*before == *after) ||
                !same_roles(*old, *s.state, *after);
        });
    }
    if (!s.loaded.is_set()) {
        s.loaded.set();
    }
}

// ---- checks ---------------------------------------------------------------------------

void auth_service::finish(access_check& c, const auth_state& state, bool password_ok) {
    const auth::user* u = state.find_user(c._user);
    if (!password_ok || u == nullptr) {
        c.decide(false);
        return;
    }
    if (c._kind == access_check::kind::root) {
        c.decide(auth_state::user_has_root(*u));
    } else {
        c.decide(state.user_may_access(*u, c._key, c._recursive, c._write));
    }
}

void auth_service::start_check(access_check& c, const http::exchange& ex) {
    core_slot& s = slot();
    if (!s.state) {
        // Not loaded yet: the verdict waits (await_suspend) and is made from the header kept
        // in the check (in _user until then). The first replica comes within moments of
        // start-up, so a client certificate is not considered in this window.
        c._user = std::string(ex.request.header_value("Authorization"));
        return;
    }
    const auth_state& st = *s.state;
    if (!st.enabled) {
        c.decide(true);
        return;
    }
    const std::string_view header = ex.request.header_value("Authorization");
    if (header.empty()) {
        const std::string_view cn = _client_cert_auth ? client_certificate_user(ex)
                                                      : std::string_view{};
        const auth::user* by_cert = cn.empty() ? nullptr : st.find_user(cn);
        if (by_cert != nullptr) {
            c._user = std::string(cn);
            finish(c, st, true);
        } else if (c._kind == access_check::kind::root) {
            c.decide(false);
        } else {
            c.decide(st.guest_may_access(c._key, c._write));
        }
        return;
    }
    auto creds = auth::parse_basic_auth(header);
    if (!creds) {
        c.decide(false);
        return;
    }
    const auth::user* u = st.find_user(creds->user);
    if (u == nullptr) {
        c.decide(false);
        return;
    }
    // Short names (all but the odd one) build the key on the stack.
    constexpr std::size_t stack_key_bytes_max = 128;
    char stack_key[stack_key_bytes_max];
    std::string heap_key;
    std::string_view key;
    if (creds->user.size() + 16 <= stack_key_bytes_max) {
        auth::password_digest_to(creds->password, stack_key);
        std::memcpy(stack_key + 16, creds->user.data(), creds->user.size());
        key = std::string_view(stack_key, 16 + creds->user.size());
    } else {
        heap_key = cache_key(creds->user, creds->password);
        key = heap_key;
    }
    const auto hit = s.verified.find(key);
    if (hit != s.verified.end() && hit->second == u->password) {
        c._user = std::move(creds->user);
        finish(c, st, true);
        return;
    }
    c._user = std::move(creds->user);
    c._password = std::move(creds->password);
}

access_check auth_service::check_keys(const http::exchange& ex, std::string_view key,
    bool recursive) {
    access_check c;
    c._service = this;
    c._kind = access_check::kind::keys;
    c._write = ex.request.method != http::method::get && ex.request.method != http::method::head;
    c._recursive = recursive;
    c._key = key;
    start_check(c, ex);
    return c;
}

access_check auth_service::check_root(const http::exchange& ex, bool writes_only) {
    access_check c;
    c._service = this;
    c._kind = access_check::kind::root;
    if (writes_only &&
        (ex.request.method == http::method::get || ex.request.method == http::method::head)) {
        c.decide(true);
        return c;
    }
    start_check(c, ex);
    return c;
}

void access_check::await_suspend(std::coroutine_handle<> h) {
    _waiter = h;
    reactor::spawn(_service->verify_and_resume(*this));
}

namespace {

struct bcrypt_holder {
    std::unique_ptr<auth::bcrypt_pool> pool;
};

bcrypt_holder& pool_holder() {
    static bcrypt_holder holder;
    return holder;
}

}  // namespace

reactor::task<void> auth_service::verify_and_resume(access_check& c) {
    core_slot& s = slot();
    if (!s.state) {
        // The first replica has not arrived: wait for it, then decide from scratch with the
        // header kept in the check.
        co_await s.loaded.wait();
        const std::string header = std::move(c._user);
        c._user.clear();
        c._password.clear();
        auto creds = auth::parse_basic_auth(header);
        const auth_state& st = *s.state;
        if (!st.enabled) {
            c.decide(true);
        } else if (header.empty()) {
            c.decide(c._kind == access_check::kind::keys && st.guest_may_access(c._key,
                c._write));
        } else if (!creds || st.find_user(creds->user) == nullptr) {
            c.decide(false);
        } else {
            c._user = std::move(creds->user);
            c._password = std::move(creds->password);
        }
        if (c._decided) {
            reactor::reactor::current().schedule(c._waiter);
            co_return;
        }
    }
    const std::string key = cache_key(c._user, c._password);
    auto [it, first] = s.in_flight.try_emplace(key);
    it->second.push_back(&c);
    if (!first) {
        co_return;  // the first check of this key resumes us
    }
    std::string hash = s.state->find_user(c._user)->password;
    const std::string verified_hash = hash;
    bool ok = co_await pool_holder().pool->verify(c._password, std::move(hash));
    for (access_check* w : s.in_flight[key]) {
        std::fill(w->_password.begin(), w->_password.end(), '\0');
    }
    // The state may have changed while bcrypt ran: only a still-current hash counts.
    const auth_state& st = *s.state;
    const auth::user* now = st.find_user(c._user);
    ok = ok && now != nullptr && now->password == verified_hash;
    if (ok) {
        if (s.verified.size() >= verified_cache_entries_max) {
            s.verified.clear();
        }
        s.verified[key] = verified_hash;
    }
    std::vector<access_check*> waiting = std::move(s.in_flight[key]);
    s.in_flight.erase(key);
    for (access_check* w : waiting) {
        finish(*w, st, ok);
        reactor::reactor::current().schedule(w->_waiter);
    }
}

auth_service* auth_service::current() noexcept { return g_current; }

// ---- the store side (core 0) ----------------------------------------------------------

namespace {

admin_answer message_answer(int status, std::string_view message) {
    admin_answer a;
    a.status = status;
    http::json_writer(a.body).begin_object().key("message").value(message).end_object();
    return a;
}

admin_answer error_answer(const auth::auth_error& e) { return message_answer(e.status, e.message); }

// A store error etcd's auth store passes through (etcdhttp.WriteError of a v2 error).
admin_answer store_error_answer(const store::error& e) {
    admin_answer a;
    a.status = e.http_status();
    store::write_error_json(a.body, e);
    return a;
}

admin_answer internal_error() { return message_answer(500, "Internal Server Error"); }

using store_result = result<store::event_ptr, store::error>;

std::string_view last_segment(std::string_view key) {
    const auto slash = key.rfind('/');
    return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

}  // namespace

struct auth_service::admin {
    store_service& store;
    bool ensured_once = false;  // etcd store.ensuredOnce: per process

    std::int64_t now_ns() const { return reactor::reactor::current().wall_ns(); }

    // A plain GET of /2/<res> (counts in the store's stats, as etcd's do).
    result<std::string, store::error> get_value(std::string_view res) {
        auto r = store.tree().get("/2/" + std::string(res), false, false, now_ns());
        if (!r) {
            return failure{r.error()};
        }
        return r.value().node.value.value_or(std::string{});
    }
    // A QGET of /2/<res>: a raft entry, as etcd's quorum reads of users and roles.
    reactor::task<result<std::string, store::error>> qget_value(std::string res) {
        store::command c;
        c.method = store::command_method::qget;
        c.path = "/2/" + res;
        applied_command done = co_await store.propose(std::move(c));
        if (!done.result) {
            co_return failure{done.result.error()};
        }
        co_return done.result.value()->node.value.value_or(std::string{});
    }
    reactor::task<store_result> put(std::string path, std::string value, bool prev_exist,
        bool dir) {
        store::command c;
        c.method = store::command_method::put;
        c.path = std::move(path);
        c.value = std::move(value);
        c.prev_exist = prev_exist;
        c.dir = dir;
        applied_command done = co_await store.propose(std::move(c));
        co_return std::move(done.result);
    }
    reactor::task<store_result> remove(std::string path) {
        store::command c;
        c.method = store::command_method::del;
        c.path = std::move(path);
        c.prev_exist = true;
        applied_command done = co_await store.propose(std::move(c));
        co_return std::move(done.result);
    }

    // etcd ensureAuthDirectories: /2, /2/users, /2/roles and /2/enabled=false, once.
    reactor::task<std::optional<store::error>> ensure_dirs() {
        if (ensured_once) {
            co_return std::nullopt;
        }
        for (const char* dir : {"/2", "/2/users", "/2/roles"}) {
            store_result r = co_await put(dir, "", false, true);
            if (!r && r.error().code != store::error_code::node_exist) {
                co_return r.error();
            }
        }
        store_result r = co_await put("/2/enabled", "false", false, false);
        if (!r && r.error().code != store::error_code::node_exist) {
            co_return r.error();
        }
        ensured_once = true;
        co_return std::nullopt;
    }
    // etcd setResource: ensure, then PUT with prevExist.
    reactor::task<store_result> set_resource(std::string res, std::string value,
        bool prev_exist) {
        if (auto bad = co_await ensure_dirs()) {
            co_return failure{*bad};
        }
        store_result r = co_await put("/2/" + res, std::move(value), prev_exist, false);
        co_return r;
    }
    reactor::task<store_result> delete_resource(std::string res) {
        if (auto bad = co_await ensure_dirs()) {
            co_return failure{*bad};
        }
        store_result r = co_await remove("/2/" + res);
        co_return r;
    }

    // etcd detectAuth.
    bool auth_enabled() {
        auto v = get_value("enabled");
        return v && v.value() == "true";
    }

    // etcd getUser / getRole (not found -> 404 with etcd's text).
    static result<auth::user, auth::auth_error> parse_user(
        const result<std::string, store::error>& v, std::string_view name) {
        if (!v) {
            if (v.error().code == store::error_code::key_not_found) {
                return failure{auth::auth_error{404,
                    "auth: User " + std::string(name) + " does not exist."}};
            }
            return failure{auth::auth_error{500, "Internal Server Error"}};
        }
        auto u = auth::decode_user(v.value());
        if (!u) {
            return failure{auth::auth_error{500, "Internal Server Error"}};
        }
        auth::attach_root_role(u.value());
        return std::move(u).value();
    }
    static result<auth::role, auth::auth_error> parse_role(
        const result<std::string, store::error>& v, std::string_view name) {
        if (!v) {
            if (v.error().code == store::error_code::key_not_found) {
                return failure{auth::auth_error{404,
                    "auth: Role " + std::string(name) + " does not exist."}};
            }
            return failure{auth::auth_error{500, "Internal Server Error"}};
        }
        auto r = auth::decode_role(v.value());
        if (!r) {
            return failure{auth::auth_error{500, "Internal Server Error"}};
        }
        return std::move(r).value();
    }
    result<auth::user, auth::auth_error> get_user(std::string_view name) {
        return parse_user(get_value("users/" + std::string(name)), name);
    }
    result<auth::role, auth::auth_error> get_role(std::string_view name) {
        if (name == auth::root_role_name) {
            return auth::builtin_root_role();
        }
        return parse_role(get_value("roles/" + std::string(name)), name);
    }
    reactor::task<result<auth::user, auth::auth_error>> qget_user(std::string name) {
        auto v = co_await qget_value("users/" + name);
        co_return parse_user(v, name);
    }
    reactor::task<result<auth::role, auth::auth_error>> qget_role(std::string name) {
        if (name == auth::root_role_name) {
            co_return auth::builtin_root_role();
        }
        auto v = co_await qget_value("roles/" + name);
        co_return parse_role(v, name);
    }

    // The names under /2/<dir>, sorted (etcd AllUsers / AllRoles).
    std::vector<std::string> list_names(std::string_view dir) {
        std::vector<std::string> names;
        auto r = store.tree().get("/2/" + std::string(dir), false, false, now_ns());
        if (r) {
            for (const auto& n : r.value().node.nodes) {
                names.emplace_back(last_segment(n.key));
            }
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    // The replica: all of /2, read without touching the store's stats.
    std::shared_ptr<const auth_state> snapshot() {
        auto state = std::make_shared<auth_state>();
        const store::stats saved = store.tree().mutable_stats();
        auto all = store.tree().get("/2", true, false, now_ns());
        store.tree().mutable_stats() = saved;
        if (!all) {
            return state;
        }
        for (const auto& child : all.value().node.nodes) {
            const std::string_view name = last_segment(child.key);
            if (name == "enabled") {
                state->enabled = child.value.value_or("") == "true";
                continue;
            }
            const bool users = name == "users";
            if (!users && name != "roles") {
                continue;
            }
            for (const auto& n : child.nodes) {
                const std::string key(last_segment(n.key));
                const std::string value = n.value.value_or("");
                if (users) {
                    if (auto u = auth::decode_user(value)) {
                        auth::attach_root_role(u.value());
                        state->users.emplace(key, std::move(u).value());
                    }
                } else if (auto ro = auth::decode_role(value)) {
                    state->roles.emplace(key, std::move(ro).value());
                }
            }
        }
        return state;
    }
};

namespace {

void write_user_with_roles(http::json_writer& w, std::string& out, const auth::user& u,
    const std::vector<auth::role>& roles) {
    w.begin_object().key("user").value(u.name);
    if (!roles.empty()) {
        w.key("roles").begin_array();
        for (const auto& r : roles) {
            w.raw_value("");
            auth::write_role_json(out, r);
        }
        w.end_array();
    }
    w.end_object();
}

admin_answer json_answer(int status, std::string body) {
    body.push_back('\n');  // json.Encoder
    return admin_answer{status, std::move(body)};
}

}  // namespace

// The operations of etcd's v2auth store, in its order of reads and writes.
struct auth_ops {
    auth_service::admin& a;

    admin_answer enable_get() {
        return json_answer(200, a.auth_enabled() ? "{\"enabled\":true}" : "{\"enabled\":false}");
    }

    reactor::task<admin_answer> enable_put() {
        (void)a.auth_enabled();  // enableDisable reads the switch before the method switch
        if (a.auth_enabled()) {
            co_return message_answer(409, "auth: already enabled");
        }
        auto root = co_await a.qget_user("root");
        if (!root) {
            co_return message_answer(409, "auth: No root user available, please create one");
        }
        auto guest = co_await a.qget_role(std::string(auth::guest_role_name));
        if (!guest) {
            std::string value;
            auth::write_role_json(value, auth::default_guest_role());
            store_result r = co_await a.set_resource("roles/guest", std::move(value), false);
            if (!r) {
                co_return r.error().code == store::error_code::node_exist
                    ? message_answer(409, "auth: Role guest already exists.")
                    : store_error_answer(r.error());
            }
        }
        store_result r = co_await a.set_resource("enabled", "true", true);
        co_return r ? admin_answer{200, {}} : store_error_answer(r.error());
    }

    reactor::task<admin_answer> enable_delete() {
        (void)a.auth_enabled();
        if (!a.auth_enabled()) {
            co_return message_answer(409, "auth: already disabled");
        }
        store_result r = co_await a.set_resource("enabled", "false", true);
        co_return r ? admin_answer{200, {}} : store_error_answer(r.error());
    }

    admin_answer users_list() {
        std::string body;
        http::json_writer w(body);
        w.begin_object().key("users");
        const std::vector<std::string> names = a.list_names("users");
        if (names.empty()) {
            w.null_value();
        } else {
            w.begin_array();
        }
        for (const auto& name : names) {
            auto u = a.get_user(name);
            if (!u) {
                return error_answer(u.error());
            }
            std::vector<auth::role> roles;
            for (const auto& rn : u.value().roles.value_or(std::vector<std::string>{})) {
                if (auto r = a.get_role(rn)) {
                    roles.push_back(std::move(r).value());
                }
            }
            write_user_with_roles(w, body, u.value(), roles);
        }
        if (!names.empty()) {
            w.end_array();
        }
        w.end_object();
        return json_answer(200, std::move(body));
    }

    admin_answer user_get(std::string_view name) {
        auto u = a.get_user(name);
        if (!u) {
            return error_answer(u.error());
        }
        std::vector<auth::role> roles;
        for (const auto& rn : u.value().roles.value_or(std::vector<std::string>{})) {
            auto r = a.get_role(rn);
            if (!r) {
                return error_answer(r.error());
            }
            roles.push_back(std::move(r).value());
        }
        std::string body;
        http::json_writer w(body);
        write_user_with_roles(w, body, u.value(), roles);
        return json_answer(200, std::move(body));
    }

    static admin_answer user_out(int status, auth::user u) {
        u.password.clear();
        std::string body;
        auth::write_user_json(body, u);
        return json_answer(status, std::move(body));
    }

    // etcd CreateUser (createUserInternal); `hash` is the bcrypt of u.password.
    reactor::task<admin_answer> create_user(auth::user u, std::string hash, int status) {
        auth::attach_root_role(u);
        if (u.password.empty()) {
            co_return message_answer(400,
                "auth: Cannot create user " + u.name + " with an empty password");
        }
        if (hash.empty()) {
            co_return internal_error();
        }
        u.password = std::move(hash);
        std::string value;
        auth::write_user_json(value, u);
        store_result r = co_await a.set_resource("users/" + u.name, std::move(value), false);
        if (!r) {
            co_return r.error().code == store::error_code::node_exist
                ? message_answer(409, "auth: User " + u.name + " already exists.")
                : store_error_answer(r.error());
        }
        co_return user_out(status, std::move(u));
    }

    // etcd UpdateUser.
    reactor::task<admin_answer> update_user(auth::user change, std::string hash) {
        auto old = co_await a.qget_user(change.name);
        if (!old) {
            // etcd tests the error for a v2 "key not found" to say "doesn't exist", but the
            // quorum read already turned it into "does not exist": that text goes out.
            co_return error_answer(old.error());
        }
        auto merged = auth::merge_user(old.value(), change, std::move(hash));
        if (!merged) {
            co_return error_answer(merged.error());
        }
        if (merged.value() == old.value()) {
            co_return message_answer(400,
                "auth: User not updated. Use grant/revoke/password to update the user.");
        }
        std::string value;
        auth::write_user_json(value, merged.value());
        store_result r = co_await a.set_resource("users/" + change.name, std::move(value), true);
        if (!r) {
            co_return store_error_answer(r.error());
        }
        co_return user_out(200, std::move(merged).value());
    }

    reactor::task<admin_answer> user_put(auth::user u, std::string hash) {
        const bool no_changes = (!u.grant || u.grant->empty()) &&
            (!u.revoke || u.revoke->empty());
        if (!no_changes) {
            admin_answer out = co_await update_user(std::move(u), std::move(hash));
            co_return out;
        }
        if (u.roles && !u.roles->empty()) {
            admin_answer out = co_await create_user(std::move(u), std::move(hash), 200);
            co_return out;
        }
        // etcd CreateOrUpdateUser: a quorum read decides.
        auto existing = co_await a.qget_user(u.name);
        if (existing) {
            admin_answer out = co_await update_user(std::move(u), std::move(hash));
            co_return out;
        }
        admin_answer out = co_await create_user(std::move(u), std::move(hash), 201);
        co_return out;
    }

    reactor::task<admin_answer> user_delete(std::string name) {
        if (a.auth_enabled() && name == "root") {
            co_return message_answer(403, "auth: Cannot delete root user while auth is enabled.");
        }
        store_result r = co_await a.delete_resource("users/" + name);
        if (!r) {
            co_return r.error().code == store::error_code::key_not_found
                ? message_answer(404, "auth: User " + name + " does not exist")
                : store_error_answer(r.error());
        }
        co_return admin_answer{200, {}};
    }

    admin_answer roles_list() {
        std::vector<std::string> names = a.list_names("roles");
        names.emplace_back(auth::root_role_name);
        std::sort(names.begin(), names.end());
        std::string body;
        http::json_writer w(body);
        w.begin_object().key("roles").begin_array();
        for (const auto& name : names) {
            auto r = a.get_role(name);
            if (!r) {
                return error_answer(r.error());
            }
            w.raw_value("");
            auth::write_role_json(body, r.value());
        }
        w.end_array().end_object();
        return json_answer(200, std::move(body));
    }

    admin_answer role_get(std::string_view name) {
        auto r = a.get_role(name);
        if (!r) {
            return error_answer(r.error());
        }
        std::string body;
        auth::write_role_json(body, r.value());
        return json_answer(200, std::move(body));
    }

    static admin_answer root_refused(std::string_view name) {
        return message_answer(403, "auth: Cannot modify role " + std::string(name) +
            ": is root role.");
    }

    reactor::task<admin_answer> role_create(auth::role in) {
        if (in.is_root()) {
            co_return root_refused(in.name);
        }
        std::string value;
        auth::write_role_json(value, in);
        store_result r = co_await a.set_resource("roles/" + in.name, value, false);
        if (!r) {
            co_return r.error().code == store::error_code::node_exist
                ? message_answer(409, "auth: Role " + in.name + " already exists.")
                : store_error_answer(r.error());
        }
        co_return json_answer(201, std::move(value));
    }

    reactor::task<admin_answer> role_update(auth::role in) {
        if (in.is_root()) {
            co_return root_refused(in.name);
        }
        auto old = co_await a.qget_role(in.name);
        if (!old) {
            co_return error_answer(old.error());  // "does not exist.", as in update_user
        }
        auto merged = auth::merge_role(old.value(), in);
        if (!merged) {
            co_return error_answer(merged.error());
        }
        if (merged.value() == old.value()) {
            co_return message_answer(400,
                "auth: Role not updated. Use grant/revoke to update the role.");
        }
        std::string value;
        auth::write_role_json(value, merged.value());
        store_result r = co_await a.set_resource("roles/" + in.name, value, true);
        if (!r) {
            co_return store_error_answer(r.error());
        }
        co_return json_answer(200, std::move(value));
    }

    reactor::task<admin_answer> role_delete(std::string name) {
        if (name == auth::root_role_name) {
            co_return root_refused(name);
        }
        store_result r = co_await a.delete_resource("roles/" + name);
        if (!r) {
            co_return r.error().code == store::error_code::key_not_found
                ? message_answer(404, "auth: Role " + name + " doesn't exist.")
                : store_error_answer(r.error());
        }
        co_return admin_answer{200, {}};
    }
};

auth_service::auth_service(const cluster_info& cluster, store_service& store, unsigned cores,
    bool client_cert_auth)
    : _cluster(cluster), _store(store), _client_cert_auth(client_cert_auth),
      _admin(std::make_unique<admin>(admin{store, false})) {
    for (unsigned c = 0; c < cores; ++c) {
        _slots.push_back(std::make_unique<core_slot>());
    }
    if (!pool_holder().pool) {
        pool_holder().pool = std::make_unique<auth::bcrypt_pool>(bcrypt_threads, cores);
    }
    g_current = this;
}

auth_service::~auth_service() {
    if (g_current == this) {
        g_current = nullptr;
    }
}

reactor::task<void> auth_service::load_from_store() {
    UETCD_ASSERT(reactor::reactor::current().core() == store_core);
    std::shared_ptr<const auth_state> state = _admin->snapshot();
    auto& smp = reactor::smp::current();
    for (unsigned core = 0; core < _slots.size(); ++core) {
        if (core == store_core) {
            install(state);
            continue;
        }
        auto call = smp.submit_to(core, [this, state] { install(state); });
        co_await call;
    }
}

namespace {

// The path after /v2/auth, cleaned as etcd's path.Clean, split at '/'.
std::vector<std::string_view> path_pieces(std::string_view path) {
    std::string_view sub = path.substr(std::min<std::size_t>(path.size(), 8));
    while (sub.size() > 1 && sub.back() == '/') {
        sub.remove_suffix(1);
    }
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    for (;;) {
        const auto slash = sub.find('/', start);
        pieces.push_back(sub.substr(start, slash - start));
        if (slash == std::string_view::npos) {
            return pieces;
        }
        start = slash + 1;
    }
}

bool allow(http::exchange& ex, bool base) {
    const http::method m = ex.request.method;
    if (m == http::method::get || (!base && (m == http::method::put ||
                                                m == http::method::delete_))) {
        return true;
    }
    ex.response.add_header("Allow", base ? "GET" : "GET,PUT,DELETE");
    ex.response.reply_text_error(405, "Method Not Allowed");
    return false;
}


bool permissions_empty(const auth::rw_permission& p) {
    return (!p.read || p.read->empty()) && (!p.write || p.write->empty());
}

reactor::task<admin_answer> run_admin(auth_service::admin& a, admin_request req) {
    auth_ops ops{a};
    const bool get = req.method == http::method::get;
    const bool put = req.method == http::method::put;
    if (req.what == resource::enable) {
        if (get) {
            co_return ops.enable_get();
        }
        if (put) {
            admin_answer out = co_await ops.enable_put();
            co_return out;
        }
        admin_answer out = co_await ops.enable_delete();
        co_return out;
    }
    if (req.what == resource::users) {
        if (req.name.empty()) {
            co_return ops.users_list();
        }
        if (get) {
            co_return ops.user_get(req.name);
        }
        if (put) {
            admin_answer out = co_await ops.user_put(std::move(req.user),
                std::move(req.password_hash));
            co_return out;
        }
        admin_answer out = co_await ops.user_delete(std::move(req.name));
        co_return out;
    }
    if (req.name.empty()) {
        co_return ops.roles_list();
    }
    if (get) {
        co_return ops.role_get(req.name);
    }
    if (put) {
        const bool create = (!req.role.grant || permissions_empty(*req.role.grant)) &&
            (!req.role.revoke || permissions_empty(*req.role.revoke));
        if (create) {
            admin_answer out = co_await ops.role_create(std::move(req.role));
            co_return out;
        }
        admin_answer out = co_await ops.role_update(std::move(req.role));
        co_return out;
    }
    admin_answer out = co_await ops.role_delete(std::move(req.name));
    co_return out;
}

// The handler-level checks of etcd forUser / forRole PUT; false when answered.
bool decode_put(http::exchange& ex, admin_request& req) {
    if (req.what == resource::users) {
        auto u = auth::decode_user(ex.request.body);
        if (!u) {
            ex.response.set_status(400);
            ex.response.body() = message_answer(400, "Invalid JSON in request body.").body;
            return false;
        }
        req.user = std::move(u).value();
        std::string_view problem;
        if (req.user.name != req.name) {
            problem = "User JSON name does not match the name in the URL";
        } else if (((req.user.grant && !req.user.grant->empty()) ||
                       (req.user.revoke && !req.user.revoke->empty())) &&
            req.user.roles && !req.user.roles->empty()) {
            problem = "User JSON contains both roles and grant/revoke";
        }
        if (!problem.empty()) {
            ex.response.set_status(400);
            ex.response.body() = message_answer(400, problem).body;
            return false;
        }
        return true;
    }
    auto r = auth::decode_role(ex.request.body);
    std::string_view problem;
    if (!r) {
        problem = "Invalid JSON in request body.";
    } else if (r.value().name != req.name) {
        problem = "Role JSON name does not match the name in the URL";
    } else {
        const auth::role& in = r.value();
        const bool changes = (in.grant && !permissions_empty(*in.grant)) ||
            (in.revoke && !permissions_empty(*in.revoke));
        if (changes && !permissions_empty(in.permissions)) {
            problem = "Role JSON contains both permissions and grant/revoke";
        }
    }
    if (!problem.empty()) {
        ex.response.set_status(400);
        ex.response.body() = message_answer(400, problem).body;
        return false;
    }
    req.role = std::move(r).value();
    return true;
}

}  // namespace

reactor::task<void> auth_service::serve(http::exchange& ex) {
    add_cors_headers(ex, _cluster.cors);
    if (answer_options(ex)) {
        co_return;
    }
    const auto pieces = path_pieces(ex.path);
    admin_request req;
    req.method = ex.request.method;
    req.what = pieces.size() > 1 && pieces[1] == "users" ? resource::users
        : pieces.size() > 1 && pieces[1] == "roles"      ? resource::roles
                                                         : resource::enable;
    if (req.what != resource::enable && pieces.size() > 3) {
        ex.response.reply(400, "application/json", message_answer(400, "Invalid path").body);
        co_return;
    }
    if (req.what != resource::enable && pieces.size() == 3) {
        req.name = std::string(pieces[2]);
    }
    const bool base = req.what != resource::enable && req.name.empty();
    if (!allow(ex, base)) {
        co_return;
    }
    access_check check = check_root(ex, req.what == resource::enable);
    const bool allowed = co_await check;
    if (!allowed) {
        reply_no_auth(ex);
        co_return;
    }
    ex.response.add_header("X-Etcd-Cluster-Id", _cluster.cluster_id_hex);
    ex.response.add_header("Content-Type", "application/json");
    if (req.method == http::method::put && !base && req.what != resource::enable) {
        if (!decode_put(ex, req)) {
            co_return;
        }
        if (req.what == resource::users && !req.user.password.empty()) {
            // The hash is made here, before anything is proposed: the clear password
            // never reaches the store, the WAL or a log line.
            std::string hashed = co_await pool_holder().pool->hash(req.user.password);
            req.password_hash = std::move(hashed);
        }
    }
    auth_service* self = this;
    auto call = reactor::smp::current().submit_to(store_core,
        [self, r = std::move(req)]() mutable { return self->run_on_store(std::move(r)); });
    admin_answer answer = co_await call;
    ex.response.set_status(answer.status);
    ex.response.body() = std::move(answer.body);
}

// On core 0: the operation, then (after a write) the new replica on every core, so the
// next request anywhere sees the change.
reactor::task<admin_answer> auth_service::run_on_store(admin_request req) {
    const bool writes = req.method != http::method::get;
    admin_answer out = co_await run_admin(*_admin, std::move(req));
    if (writes) {
        co_await load_from_store();
    }
    co_return out;
}

void auth_service::add_routes(http::router& routes) {
    auto handler = [this](http::exchange& ex) -> reactor::task<void> { return serve(ex); };
    routes.exact_async("/v2/auth/enable", handler);
    routes.exact_async("/v2/auth/users", handler);
    routes.subtree_async("/v2/auth/users/", handler);
    routes.exact_async("/v2/auth/roles", handler);
    routes.subtree_async("/v2/auth/roles/", handler);
}

}  // namespace uetcd::server
