// The pure parts of v2 auth: Go's JSON decoding rules for User and Role, etcd's merges and
// permission matches, Basic credentials as Go parses them, and bcrypt compatibility with the
// hashes Go's x/crypto/bcrypt wrote for etcd 3.4.
#include <catch2/catch.hpp>

#include "uetcd/server/auth_crypto.hpp"
#include "uetcd/server/auth_model.hpp"

using namespace uetcd::server::auth;

namespace {

std::vector<std::string> list(std::initializer_list<const char*> items) {
    return std::vector<std::string>(items.begin(), items.end());
}

}  // namespace

TEST_CASE("a hash Go's bcrypt wrote for etcd 3.4 verifies; ours has Go's form", "[auth]") {
    // The /2/users/root value of a real etcd 3.4.23 (password "rp").
    const std::string go_hash = "$2a$10$Bs49JO3LY5GYGj.w5U82tehAk5EIeFDy3qtRfhVOyqUyn6MLIfIDa";
    CHECK(bcrypt_verify("rp", go_hash));
    CHECK_FALSE(bcrypt_verify("p", go_hash));
    CHECK_FALSE(bcrypt_verify(std::string("rp\0x", 4), go_hash));
    const std::string ours = bcrypt_hash("secret");
    CHECK(ours.size() == 60);
    CHECK(ours.rfind("$2a$10$", 0) == 0);
    CHECK(bcrypt_verify("secret", ours));
    CHECK_FALSE(bcrypt_verify("Secret", ours));
    CHECK(bcrypt_hash("secret") != ours);  // a fresh salt each time
    CHECK_FALSE(bcrypt_verify("x", "not a hash"));
}

TEST_CASE("the password digest is keyed and stable within the process", "[auth]") {
    CHECK(password_digest("a").size() == password_digest_bytes);
    CHECK(password_digest("a") == password_digest("a"));
    CHECK(password_digest("a") != password_digest("b"));
}

TEST_CASE("User JSON decodes as Go's encoding/json into etcd's struct", "[auth]") {
    auto u = decode_user(R"({"User":"a","PASSWORD":"p","roles":["x","y"],"extra":{"k":[1,2]}})");
    REQUIRE(u);
    CHECK(u.value().name == "a");
    CHECK(u.value().password == "p");
    CHECK(u.value().roles == list({"x", "y"}));
    CHECK_FALSE(u.value().grant.has_value());
    // Only the first value counts (json.Decoder); what follows is not read.
    CHECK(decode_user(R"({"user":"a"} trailing)"));
    CHECK(decode_user("null"));
    CHECK_FALSE(decode_user(""));
    CHECK_FALSE(decode_user("[1]"));
    CHECK_FALSE(decode_user(R"({"user":1})"));
    CHECK_FALSE(decode_user(R"({"roles":"x"})"));
    CHECK_FALSE(decode_user(R"({"user":"a")"));
    auto nulls = decode_user(R"({"user":"a","roles":null,"grant":[]})");
    REQUIRE(nulls);
    CHECK_FALSE(nulls.value().roles.has_value());
    CHECK(nulls.value().grant == list({}));
    auto escaped = decode_user(R"({"user":"\u00e9\n\"<"})");
    REQUIRE(escaped);
    CHECK(escaped.value().name == "\xc3\xa9\n\"<");
}

TEST_CASE("Role JSON keeps nil and empty apart, as the answers show", "[auth]") {
    auto r = decode_role(R"({"role":"r","grant":{}})");
    REQUIRE(r);
    CHECK(r.value().grant.has_value());
    CHECK_FALSE(r.value().revoke.has_value());
    std::string out;
    write_role_json(out, r.value());
    CHECK(out == R"({"role":"r","permissions":{"kv":{"read":null,"write":null}},)"
                 R"("grant":{"kv":{"read":null,"write":null}}})");
    CHECK_FALSE(decode_role(R"({"role":"r","permissions":[]})"));
    std::string user_out;
    write_user_json(user_out, user{"u", "", std::nullopt, {}, {}});
    CHECK(user_out == R"({"user":"u","roles":null})");
}

TEST_CASE("merges: duplicates refused, ungranted roles refused, ungranted paths ignored",
    "[auth]") {
    const user old_user{"u", "h", list({"b"}), {}, {}};
    auto granted = merge_user(old_user, user{"u", "", {}, list({"a"}), {}}, "");
    REQUIRE(granted);
    CHECK(granted.value().roles == list({"a", "b"}));
    CHECK(granted.value().password == "h");
    auto dup = merge_user(old_user, user{"u", "", {}, list({"b"}), {}}, "");
    REQUIRE_FALSE(dup);
    CHECK(dup.error().status == 409);
    CHECK(dup.error().message == "auth: Granting duplicate role b for user u");
    auto ungranted = merge_user(old_user, user{"u", "", {}, {}, list({"z"})}, "");
    REQUIRE_FALSE(ungranted);
    CHECK(ungranted.error().message == "auth: Revoking ungranted role z for user u");
    // Roles nil before and [] after are different to reflect.DeepEqual: an update.
    auto same = merge_user(user{"u", "h", std::nullopt, {}, {}}, user{"u", "", {}, {}, {}}, "");
    REQUIRE(same);
    CHECK(same.value().roles == list({}));
    const user before{"u", "h", std::nullopt, {}, {}};
    CHECK_FALSE(same.value() == before);

    const role old_role{"r", rw_permission{list({"/b"}), std::nullopt}, {}, {}};
    auto g = merge_role(old_role, role{"r", {}, rw_permission{list({"/a"}), list({"/w"})}, {}});
    REQUIRE(g);
    CHECK(g.value().permissions.read == list({"/a", "/b"}));
    CHECK(g.value().permissions.write == list({"/w"}));
    auto d = merge_role(old_role, role{"r", {}, rw_permission{list({"/b"}), {}}, {}});
    REQUIRE_FALSE(d);
    CHECK(d.error().message == "auth: Granting duplicate read permission /b");
    auto v = merge_role(old_role, role{"r", {}, {}, rw_permission{list({"/none"}), {}}});
    REQUIRE(v);
    CHECK(v.value().permissions.read == list({"/b"}));
    CHECK(v.value().permissions.write == list({}));
}

TEST_CASE("permission match: /app/* does not cover /app; recursive needs a *", "[auth]") {
    const role r{"r", rw_permission{list({"/app/*", "/exact"}), list({"/w*"})}, {}, {}};
    CHECK(r.has_key_access("/app/x", false));
    CHECK(r.has_key_access("/app/", false));
    CHECK_FALSE(r.has_key_access("/app", false));
    CHECK(r.has_key_access("/exact", false));
    CHECK_FALSE(r.has_key_access("/exact/x", false));
    CHECK_FALSE(r.has_key_access("/app/x", true));
    CHECK(r.has_key_access("/wx", true));
    CHECK(r.has_recursive_access("/app/x", false));
    CHECK_FALSE(r.has_recursive_access("/exact", false));
    CHECK(builtin_root_role().has_recursive_access("", true));

    auth_state st;
    st.enabled = true;
    st.roles.emplace("r", r);
    user u{"u", "h", list({"missing", "r"}), {}, {}};
    CHECK(st.user_may_access(u, "/app/x", false, false));
    CHECK_FALSE(st.user_may_access(u, "/app/x", false, true));
    CHECK_FALSE(st.guest_may_access("/app/x", false));  // no guest role: refused
    user root_user{"root", "h", list({}), {}, {}};
    attach_root_role(root_user);
    CHECK(auth_state::user_has_root(root_user));
    CHECK(st.user_may_access(root_user, "/anything", true, true));
}

TEST_CASE("Basic credentials parse as Go's Request.BasicAuth", "[auth]") {
    auto c = parse_basic_auth("Basic cm9vdDpycA==");
    REQUIRE(c);
    CHECK(c->user == "root");
    CHECK(c->password == "rp");
    CHECK(parse_basic_auth("bAsIc cm9vdDpycA=="));
    auto colon = parse_basic_auth("Basic YTpiOmM=");  // a:b:c splits at the first colon
    REQUIRE(colon);
    CHECK(colon->password == "b:c");
    CHECK_FALSE(parse_basic_auth("Basic cm9vdDpycA"));   // unpadded
    CHECK_FALSE(parse_basic_auth("Basic cm9vdA=="));     // no colon
    CHECK_FALSE(parse_basic_auth("Bearer cm9vdDpycA=="));
    CHECK_FALSE(parse_basic_auth("Basic !!!"));
    CHECK_FALSE(parse_basic_auth("Basic"));
    CHECK_FALSE(parse_basic_auth("Basic "));  // "" decodes to "": no colon
}
