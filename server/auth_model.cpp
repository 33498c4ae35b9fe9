// The v2 auth data model; see auth_model.hpp.
#include "uetcd/server/auth_model.hpp"

#include <algorithm>
#include <set>

#include "uetcd/assert.hpp"
#include "uetcd/http/ascii.hpp"
#include "uetcd/http/json_writer.hpp"

namespace uetcd::server::auth {

namespace {

// Bounds a request body's nesting: Go's decoder allows 10000 levels; we refuse deeper than
// this, which no etcd client sends.
constexpr int json_depth_max = 64;

// A small JSON reader with Go's decoding rules for the two structs: one value, then stop.
class json_reader {
public:
    explicit json_reader(std::string_view text) : _text(text) {}

    bool failed() const noexcept { return _failed; }
    void fail() noexcept { _failed = true; }

    void skip_space() {
        while (_at < _text.size() && (_text[_at] == ' ' || _text[_at] == '\t' ||
                   _text[_at] == '\n' || _text[_at] == '\r')) {
            ++_at;
        }
    }
    char peek() {
        skip_space();
        return _at < _text.size() ? _text[_at] : '\0';
    }
    bool consume(char c) {
        if (peek() == c) {
            ++_at;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        skip_space();
        if (_text.substr(_at, word.size()) != word) {
            _failed = true;
            return false;
        }
        _at += word.size();
        return true;
    }
    // A JSON string (with escapes decoded, \u as UTF-8).
    bool read_string(std::string& out);
    void skip_value(int depth);
    // Iterates an object: calls on_member(key) for each member; on_member must consume the
    // value. Returns false on syntax errors.
    template <typename F>
    void read_object(F&& on_member) {
        if (!consume('{')) {
            _failed = true;
            return;
        }
        if (consume('}')) {
            return;
        }
        while (!_failed) {
            std::string key;
            skip_space();
            if (!read_string(key) || !consume(':')) {
                _failed = true;
                return;
            }
            on_member(key);
            if (consume(',')) {
                continue;
            }
            if (!consume('}')) {
                _failed = true;
            }
            return;
        }
    }
    // A string or null into `out` (null leaves it); other types are a type error.
    void read_string_field(std::string& out) {
        if (peek() == 'n') {
            literal("null");
            return;
        }
        if (peek() != '"') {
            type_error();
            return;
        }
        if (!read_string(out)) {
            _failed = true;
        }
    }
    // A []string: null gives nil, an array its items (null items stay "").
    void read_string_list(string_list& out);
    void type_error() {
        // Go keeps decoding after a type error but reports it; etcd refuses the body then.
        _type_error = true;
        skip_value(0);
    }
    bool type_errored() const noexcept { return _type_error; }

private:
    bool append_escape(std::string& out);

    std::string_view _text;
    std::size_t _at = 0;
    bool _failed = false;
    bool _type_error = false;
};

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

bool json_reader::append_escape(std::string& out) {
    if (_at >= _text.size()) {
        return false;
    }
    const char e = _text[_at++];
    switch (e) {
    case '"': out.push_back('"'); return true;
    case '\\': out.push_back('\\'); return true;
    case '/': out.push_back('/'); return true;
    case 'b': out.push_back('\b'); return true;
    case 'f': out.push_back('\f'); return true;
    case 'n': out.push_back('\n'); return true;
    case 'r': out.push_back('\r'); return true;
    case 't': out.push_back('\t'); return true;
    case 'u': break;
    default: return false;
    }
    if (_at + 4 > _text.size()) {
        return false;
    }
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
        const int d = http::hex_digit(_text[_at++]);
        if (d < 0) {
            return false;
        }
        cp = (cp << 4) | static_cast<std::uint32_t>(d);
    }
    append_utf8(out, cp >= 0xd800 && cp < 0xe000 ? 0xfffd : cp);
    return true;
}

bool json_reader::read_string(std::string& out) {
    if (_at >= _text.size() || _text[_at] != '"') {
        return false;
    }
    ++_at;
    while (_at < _text.size()) {
        const char c = _text[_at++];
        if (c == '"') {
            return true;
        }
        if (static_cast<unsigned char>(c) < 0x20) {
            return false;
        }
        if (c == '\\') {
            if (!append_escape(out)) {
                return false;
            }
            continue;
        }
        out.push_back(c);
    }
    return false;
}

void json_reader::skip_value(int depth) {
    if (depth > json_depth_max) {
        _failed = true;
        return;
    }
    const char c = peek();
    if (c == '{') {
        read_object([&](const std::string&) { skip_value(depth + 1); });
    } else if (c == '[') {
        ++_at;
        if (consume(']')) {
            return;
        }
        while (!_failed) {
            skip_value(depth + 1);
            if (consume(',')) {
                continue;
            }
            if (!consume(']')) {
                _failed = true;
            }
            return;
        }
    } else if (c == '"') {
        std::string ignored;
        if (!read_string(ignored)) {
            _failed = true;
        }
    } else if (c == 't') {
        literal("true");
    } else if (c == 'f') {
        literal("false");
    } else if (c == 'n') {
        literal("null");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        const std::size_t start = _at;
        while (_at < _text.size() && std::string_view("+-.eE0123456789").find(_text[_at]) !=
                   std::string_view::npos) {
            ++_at;
        }
        _failed = _at == start;
    } else {
        _failed = true;
    }
}

void json_reader::read_string_list(string_list& out) {
    const char c = peek();
    if (c == 'n') {
        literal("null");
        out.reset();
        return;
    }
    if (c != '[') {
        type_error();
        return;
    }
    ++_at;
    out.emplace();
    if (consume(']')) {
        return;
    }
    while (!_failed) {
        std::string item;
        read_string_field(item);
        out->push_back(std::move(item));
        if (consume(',')) {
            continue;
        }
        if (!consume(']')) {
            _failed = true;
        }
        return;
    }
}

bool key_is(std::string_view key, std::string_view field) {
    // Go matches struct fields case-insensitively (the field names are ASCII).
    return http::equals_ignore_case(key, field);
}

void read_rw(json_reader& in, rw_permission& out) {
    in.read_object([&](const std::string& key) {
        if (key_is(key, "read")) {
            in.read_string_list(out.read);
        } else if (key_is(key, "write")) {
            in.read_string_list(out.write);
        } else {
            in.skip_value(1);
        }
    });
}

// A Permissions struct value: {"kv":{...}} or null (no change).
void read_permissions(json_reader& in, rw_permission& out) {
    const char c = in.peek();
    if (c == 'n') {
        in.literal("null");
        return;
    }
    if (c != '{') {
        in.type_error();
        return;
    }
    in.read_object([&](const std::string& key) {
        if (!key_is(key, "kv")) {
            in.skip_value(1);
        } else if (in.peek() == 'n') {
            in.literal("null");
        } else if (in.peek() != '{') {
            in.type_error();
        } else {
            read_rw(in, out);
        }
    });
}

// A *Permissions: null leaves it nil, an object allocates it.
void read_permissions_pointer(json_reader& in, std::optional<rw_permission>& out) {
    if (in.peek() == 'n') {
        in.literal("null");
        out.reset();
        return;
    }
    if (in.peek() == '{' && !out) {
        out.emplace();
    }
    if (out) {
        read_permissions(in, *out);
    } else {
        in.type_error();
    }
}

template <typename T, typename F>
result<T, std::string> decode_struct(std::string_view body, F&& on_member) {
    json_reader in(body);
    T value;
    const char first = in.peek();
    if (first == '\0') {
        return failure{std::string("EOF")};
    }
    if (first == 'n') {
        in.literal("null");
    } else if (first != '{') {
        in.type_error();
    } else {
        in.read_object([&](const std::string& key) { on_member(in, key, value); });
    }
    if (in.failed() || in.type_errored()) {
        return failure{std::string("invalid JSON")};
    }
    return value;
}

void write_list(http::json_writer& w, const string_list& list) {
    if (!list) {
        w.null_value();
        return;
    }
    w.begin_array();
    for (const auto& item : *list) {
        w.value(item);
    }
    w.end_array();
}

void write_permissions(http::json_writer& w, const rw_permission& p) {
    w.begin_object().key("kv").begin_object().key("read");
    write_list(w, p.read);
    w.key("write");
    write_list(w, p.write);
    w.end_object().end_object();
}

// types.NewUnsafeSet(...).Values() then sort.Strings: never nil, sorted, no duplicates.
std::vector<std::string> sorted_set(const std::set<std::string>& s) {
    return std::vector<std::string>(s.begin(), s.end());
}

std::set<std::string> set_of(const string_list& list) {
    return list ? std::set<std::string>(list->begin(), list->end()) : std::set<std::string>{};
}

result<rw_permission, auth_error> grant_rw(const rw_permission& base, const rw_permission& add) {
    std::set<std::string> read = set_of(base.read);
    for (const auto& r : add.read.value_or(std::vector<std::string>{})) {
        if (!read.insert(r).second) {
            return failure{auth_error{409, "auth: Granting duplicate read permission " + r}};
        }
    }
    std::set<std::string> write = set_of(base.write);
    for (const auto& x : add.write.value_or(std::vector<std::string>{})) {
        if (!write.insert(x).second) {
            return failure{auth_error{409, "auth: Granting duplicate write permission " + x}};
        }
    }
    return rw_permission{sorted_set(read), sorted_set(write)};
}

rw_permission revoke_rw(const rw_permission& base, const rw_permission& remove) {
    std::set<std::string> read = set_of(base.read);
    for (const auto& r : remove.read.value_or(std::vector<std::string>{})) {
        read.erase(r);  // etcd logs "revoking ungranted read permission" and goes on
    }
    std::set<std::string> write = set_of(base.write);
    for (const auto& x : remove.write.value_or(std::vector<std::string>{})) {
        write.erase(x);
    }
    return rw_permission{sorted_set(read), sorted_set(write)};
}

// etcd simpleMatch / prefixMatch (an empty pattern never matches: etcd would index out of
// range on it; such a pattern cannot be granted through etcdctl).
bool simple_match(std::string_view pattern, std::string_view key) {
    if (pattern.empty()) {
        return false;
    }
    if (pattern.back() == '*') {
        return key.starts_with(pattern.substr(0, pattern.size() - 1));
    }
    return key == pattern;
}

bool prefix_match(std::string_view pattern, std::string_view key) {
    return !pattern.empty() && pattern.back() == '*' &&
        key.starts_with(pattern.substr(0, pattern.size() - 1));
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

// Go base64.StdEncoding.DecodeString: padded, strict; '\r' and '\n' are skipped.
std::optional<std::string> decode_base64(std::string_view text) {
    std::string clean;
    for (char c : text) {
        if (c != '\r' && c != '\n') {
            clean.push_back(c);
        }
    }
    if (clean.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    for (std::size_t i = 0; i < clean.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; ++j) {
            const char c = clean[i + static_cast<std::size_t>(j)];
            if (c == '=' && j >= 2 && i + 4 == clean.size()) {
                v[j] = 0;
                ++pad;
                continue;
            }
            v[j] = base64_value(c);
            if (v[j] < 0 || pad > 0) {
                return std::nullopt;
            }
        }
        const std::uint32_t bits = (static_cast<std::uint32_t>(v[0]) << 18) |
            (static_cast<std::uint32_t>(v[1]) << 12) | (static_cast<std::uint32_t>(v[2]) << 6) |
            static_cast<std::uint32_t>(v[3]);
        // Go refuses non-zero bits left over in a padded quantum.
        if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0)) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(bits >> 16));
        if (pad < 2) {
            out.push_back(static_cast<char>((bits >> 8) & 0xff));
        }
        if (pad < 1) {
            out.push_back(static_cast<char>(bits & 0xff));
        }
    }
    return out;
}

}  // namespace

result<user, std::string> decode_user(std::string_view body) {
    return decode_struct<user>(body, [](json_reader& in, const std::string& key, user& u) {
        if (key_is(key, "user")) {
            in.read_string_field(u.name);
        } else if (key_is(key, "password")) {
            in.read_string_field(u.password);
        } else if (key_is(key, "roles")) {
            in.read_string_list(u.roles);
        } else if (key_is(key, "grant")) {
            in.read_string_list(u.grant);
        } else if (key_is(key, "revoke")) {
            in.read_string_list(u.revoke);
        } else {
            in.skip_value(1);
        }
    });
}

result<role, std::string> decode_role(std::string_view body) {
    return decode_struct<role>(body, [](json_reader& in, const std::string& key, role& r) {
        if (key_is(key, "role")) {
            in.read_string_field(r.name);
        } else if (key_is(key, "permissions")) {
            read_permissions(in, r.permissions);
        } else if (key_is(key, "grant")) {
            read_permissions_pointer(in, r.grant);
        } else if (key_is(key, "revoke")) {
            read_permissions_pointer(in, r.revoke);
        } else {
            in.skip_value(1);
        }
    });
}

void write_user_json(std::string& out, const user& u) {
    http::json_writer w(out);
    w.begin_object().key("user").value(u.name);
    if (!u.password.empty()) {
        w.key("password").value(u.password);
    }
    w.key("roles");
    write_list(w, u.roles);
    if (u.grant && !u.grant->empty()) {
        w.key("grant");
        write_list(w, u.grant);
    }
    if (u.revoke && !u.revoke->empty()) {
        w.key("revoke");
        write_list(w, u.revoke);
    }
    w.end_object();
}

void write_role_json(std::string& out, const role& r) {
    http::json_writer w(out);
    w.begin_object().key("role").value(r.name).key("permissions");
    write_permissions(w, r.permissions);
    if (r.grant) {
        w.key("grant");
        write_permissions(w, *r.grant);
    }
    if (r.revoke) {
        w.key("revoke");
        write_permissions(w, *r.revoke);
    }
    w.end_object();
}

role builtin_root_role() {
    return role{std::string(root_role_name),
        rw_permission{std::vector<std::string>{"/*"}, std::vector<std::string>{"/*"}}, {}, {}};
}

role default_guest_role() {
    return role{std::string(guest_role_name),
        rw_permission{std::vector<std::string>{"/*"}, std::vector<std::string>{"/*"}}, {}, {}};
}

void attach_root_role(user& u) {
    if (u.name != root_role_name) {
        return;
    }
    if (!u.roles) {
        u.roles.emplace();
    }
    if (std::find(u.roles->begin(), u.roles->end(), root_role_name) == u.roles->end()) {
        u.roles->emplace_back(root_role_name);
    }
}

result<user, auth_error> merge_user(const user& old_user, const user& change,
    std::string new_password_hash) {
    user out;
    out.name = old_user.name;
    out.password = new_password_hash.empty() ? old_user.password : std::move(new_password_hash);
    std::set<std::string> current = set_of(old_user.roles);
    for (const auto& g : change.grant.value_or(std::vector<std::string>{})) {
        if (!current.insert(g).second) {
            return failure{auth_error{409,
                "auth: Granting duplicate role " + g + " for user " + change.name}};
        }
    }
    for (const auto& r : change.revoke.value_or(std::vector<std::string>{})) {
        if (current.erase(r) == 0) {
            return failure{auth_error{409,
                "auth: Revoking ungranted role " + r + " for user " + change.name}};
        }
    }
    out.roles = sorted_set(current);
    return out;
}

result<role, auth_error> merge_role(const role& old_role, const role& change) {
    role out;
    out.name = old_role.name;
    out.permissions = old_role.permissions;
    if (change.grant) {
        auto granted = grant_rw(old_role.permissions, *change.grant);
        if (!granted) {
            return failure{granted.error()};
        }
        out.permissions = std::move(granted).value();
    }
    if (change.revoke) {
        out.permissions = revoke_rw(out.permissions, *change.revoke);
    }
    return out;
}

bool role::has_key_access(std::string_view key, bool write) const {
    if (is_root()) {
        return true;
    }
    const string_list& list = write ? permissions.write : permissions.read;
    return list && std::any_of(list->begin(), list->end(),
        [&](const std::string& p) { return simple_match(p, key); });
}

bool role::has_recursive_access(std::string_view key, bool write) const {
    if (is_root()) {
        return true;
    }
    const string_list& list = write ? permissions.write : permissions.read;
    return list && std::any_of(list->begin(), list->end(),
        [&](const std::string& p) { return prefix_match(p, key); });
}

const user* auth_state::find_user(std::string_view name) const {
    const auto it = users.find(name);
    return it == users.end() ? nullptr : &it->second;
}

const role* auth_state::find_role(std::string_view name) const {
    static const role root = builtin_root_role();
    if (name == root_role_name) {
        return &root;
    }
    const auto it = roles.find(name);
    return it == roles.end() ? nullptr : &it->second;
}

bool auth_state::user_may_access(const user& u, std::string_view key, bool recursive,
    bool write) const {
    if (!u.roles) {
        return false;
    }
    for (const auto& name : *u.roles) {
        const role* r = find_role(name);
        if (r == nullptr) {
            continue;
        }
        if (recursive ? r->has_recursive_access(key, write) : r->has_key_access(key, write)) {
            return true;
        }
    }
    return false;
}

bool auth_state::guest_may_access(std::string_view key, bool write) const {
    const role* guest = find_role(guest_role_name);
    return guest != nullptr && guest->has_key_access(key, write);
}

bool auth_state::user_has_root(const user& u) {
    return u.roles && std::find(u.roles->begin(), u.roles->end(), root_role_name) !=
        u.roles->end();
}

std::optional<basic_credentials> parse_basic_auth(std::string_view header) {
    constexpr std::string_view prefix = "Basic ";
    if (header.size() < prefix.size() ||
        !http::equals_ignore_case(header.substr(0, prefix.size()), prefix)) {
        return std::nullopt;
    }
    auto decoded = decode_base64(header.substr(prefix.size()));
    if (!decoded) {
        return std::nullopt;
    }
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    return basic_credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace uetcd::server::auth
