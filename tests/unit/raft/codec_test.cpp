// Codec: round trips and total decoding of malformed input.
#include <catch2/catch.hpp>

#include "uetcd/prng.hpp"
#include "uetcd/raft/codec.hpp"

using namespace uetcd::raft;

namespace {
std::vector<message> sample_messages() {
    std::vector<message> out;
    message m;
    out.push_back(m);
    m.type = message_type::msg_app;
    m.to = 2;
    m.from = 1;
    m.term = 7;
    m.log_term = 6;
    m.index = UINT64_MAX;
    m.commit = 1ULL << 40;
    m.entries = {entry{7, 10, entry_type::normal, "put /a 1"},
        entry{7, 11, entry_type::conf_change, std::string("\0\xff\x80", 3)}};
    out.push_back(m);
    m.type = message_type::msg_snap;
    m.entries.clear();
    m.snap = snapshot{std::string(1000, 's'), snapshot_meta{conf_state{{1, 2, 3}}, 99, 5}};
    out.push_back(m);
    message r;
    r.type = message_type::msg_pre_vote_resp;
    r.reject = true;
    r.reject_hint = 12345;
    r.context = "campaign_transfer";
    out.push_back(r);
    return out;
}
}  // namespace

TEST_CASE("codec: messages round-trip", "[raft][codec]") {
    for (const message& m : sample_messages()) {
        const bytes wire = encode(m);
        auto back = decode_message(wire);
        REQUIRE(back.ok());
        CHECK(*back == m);
    }
}

TEST_CASE("codec: entries, hard state, conf changes and snapshots round-trip",
    "[raft][codec]") {
    const entry e{3, 4, entry_type::conf_change, "x"};
    bytes w;
    encode_entry(e, w);
    CHECK(*decode_entry(w) == e);
    const hard_state hs{UINT64_MAX, 3, 17};
    w.clear();
    encode_hard_state(hs, w);
    CHECK(*decode_hard_state(w) == hs);
    const conf_change cc{9, conf_change_type::remove_node, 3, "ctx"};
    CHECK(*decode_conf_change(encode(cc)) == cc);
    const snapshot s{"data", snapshot_meta{conf_state{{4, 5}}, 8, 2}};
    w.clear();
    encode_snapshot(s, w);
    CHECK(*decode_snapshot(w) == s);
}

TEST_CASE("codec: every truncation and extension of a valid message is an error",
    "[raft][codec]") {
    for (const message& m : sample_messages()) {
        const bytes wire = encode(m);
        for (std::size_t n = 0; n < wire.size(); ++n) {
            auto r = decode_message(std::string_view(wire).substr(0, n));
            REQUIRE_FALSE(r.ok());
        }
        CHECK(decode_message(wire + "x").error() == decode_error::trailing_bytes);
    }
}

TEST_CASE("codec: malformed input yields an error value", "[raft][codec]") {
    struct row {
        std::string input;
        decode_error want;
    };
    const std::vector<row> rows = {
        {"", decode_error::truncated},
        {std::string(1, char(message_type_count)), decode_error::bad_enum},
        {std::string(11, '\xff'), decode_error::bad_varint},
        {std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10), decode_error::bad_varint},
        // msg_app with nine zero fields, flags 0, a 100-byte context that is not there.
        {std::string("\x03\0\0\0\0\0\0\0\0\x64", 10), decode_error::too_large},
        // An entry count far larger than the input.
        {std::string("\x03\0\0\0\0\0\0\0\0\0\xff\xff\x03", 13), decode_error::too_large},
        {std::string("\x03\0\0\0\0\0\0\0\x04", 9), decode_error::bad_enum},  // flags
    };
    for (const row& r : rows) {
        auto got = decode_message(r.input);
        CAPTURE(r.input.size());
        REQUIRE_FALSE(got.ok());
        CHECK(got.error() == r.want);
    }
}

TEST_CASE("codec: random bytes never crash the decoder", "[raft][codec]") {
    uetcd::prng rng(7);
    const bytes valid = encode(sample_messages()[2]);
    for (int i = 0; i < 20000; ++i) {
        bytes in = valid;
        const std::size_t flips = 1 + rng.below(4);
        for (std::size_t f = 0; f < flips; ++f) {
            in[rng.below(in.size())] = static_cast<char>(rng.below(256));
        }
        in.resize(rng.below(in.size() + 1));
        (void)decode_message(in);  // must return, error or not
        bytes junk(rng.below(64), '\0');
        for (char& c : junk) {
            c = static_cast<char>(rng.below(256));
        }
        (void)decode_message(junk);
        (void)decode_conf_change(junk);
        (void)decode_snapshot(junk);
    }
    SUCCEED();
}
