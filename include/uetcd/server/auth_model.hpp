// The v2 auth data model as etcd 3.4 keeps it (etcdserver/api/v2auth/auth.go): users, roles,
// their JSON as Go's encoding/json reads and writes it, grant/revoke merges and the
// permission match. Pure: no I/O, no store, no clock. The store layout (/2/...) and the
// requests live in auth_api.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uetcd/result.hpp"

namespace uetcd::server::auth {

inline constexpr std::string_view root_role_name = "root";
inline constexpr std::string_view guest_role_name = "guest";

// A Go []string: nullopt is nil (encoded "null"), which etcd keeps apart from [] (reflect
// DeepEqual and the JSON both see the difference).
using string_list = std::optional<std::vector<std::string>>;

struct rw_permission {
    string_list read;
    string_list write;
    friend bool operator==(const rw_permission&, const rw_permission&) = default;
};

struct role {
    std::string name;
    rw_permission permissions;
    std::optional<rw_permission> grant;   // a nil *Permissions is nullopt
    std::optional<rw_permission> revoke;
    friend bool operator==(const role&, const role&) = default;

    bool is_root() const noexcept { return name == root_role_name; }
    // etcd Role.HasKeyAccess / HasRecursiveAccess.
    bool has_key_access(std::string_view key, bool write) const;
    bool has_recursive_access(std::string_view key, bool write) const;
};

struct user {
    std::string name;
    std::string password;  // bcrypt hash when stored; clear text only in a request
    string_list roles;
    string_list grant;
    string_list revoke;
    friend bool operator==(const user&, const user&) = default;
};

// etcd's authErr: an HTTP status and the message ("auth: ..." for store errors).
struct auth_error {
    int status = 500;
    std::string message;
};

// Go json.Decoder.Decode into etcd's User / Role: the first JSON value of `body`, keys
// matched case-insensitively, unknown keys ignored, any syntax or type error is an error.
result<user, std::string> decode_user(std::string_view body);
result<role, std::string> decode_role(std::string_view body);

// json.Marshal of User / Role (password, grant and revoke omitted when empty / nil).
void write_user_json(std::string& out, const user& u);
void write_role_json(std::string& out, const role& r);

// The built-in roles of etcd: root (never stored) and the guest role made on enable.
role builtin_root_role();
role default_guest_role();
// etcd attachRootRole: user root always holds role root.
void attach_root_role(user& u);

// etcd User.merge without the password (the caller hashes it before): grant then revoke.
result<user, auth_error> merge_user(const user& old_user, const user& change,
    std::string new_password_hash);
// etcd Role.merge: grant (duplicates refused) then revoke (ungranted ignored).
result<role, auth_error> merge_role(const role& old_role, const role& change);

// The read-only view one core keeps for its checks: a snapshot of /2.
struct auth_state {
    bool enabled = false;
    std::map<std::string, user, std::less<>> users;   // passwords are hashes
    std::map<std::string, role, std::less<>> roles;   // stored roles (root is built in)

    const user* find_user(std::string_view name) const;
    // root is built in; stored roles otherwise.
    const role* find_role(std::string_view name) const;
    // etcd hasKeyPrefixAccess after the user is known: any role of the user allows it.
    bool user_may_access(const user& u, std::string_view key, bool recursive, bool write) const;
    // etcd hasGuestAccess: the guest role's non-recursive match.
    bool guest_may_access(std::string_view key, bool write) const;
    static bool user_has_root(const user& u);
};

// Parses Basic credentials as Go's Request.BasicAuth: "Basic " (case-insensitive), standard
// base64, "user:password" split at the first colon. nullopt when malformed.
struct basic_credentials {
    std::string user;
    std::string password;
};
std::optional<basic_credentials> parse_basic_auth(std::string_view header);

}  // namespace uetcd::server::auth
