// JSON string escaping must be byte-identical to etcd 3.4.23 (Go 1.19 encoding/json); the
// expected bytes below were read back from a real etcd 3.4.23.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "uetcd/http/json_writer.hpp"

using namespace uetcd::http;

namespace {

std::string escaped(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

}  // namespace

TEST_CASE("json: escaping matches the bytes a real etcd 3.4.23 returned", "[http]") {
    // PUT /v2/keys/esc with this value (urlencoded), then GET: the "value" field, verbatim.
    const std::string input = std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
                                          "\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
                                          "\x1a\x1b\x1c\x1d\x1e\x1f",
                                  32) +
        "<>&\"\\\x7f"
        "\xe2\x80\xa8\xe2\x80\xa9\xef\xbf\xbd\xc3\xa9"
        "|\x80|\xc3|\xe2\x82|\xf0\x9f\x98|\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\xff|\xf5";
    const std::string etcd_output =
        "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\u0008\\t\\n\\u000b\\u000c\\r"
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
        "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\u003c\\u003e\\u0026\\\"\\\\\x7f\\u2028"
        "\\u2029\xef\xbf\xbd\xc3\xa9|\\ufffd|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
        "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd|\\ufffd";
    CHECK(escaped(input) == "\"" + etcd_output + "\"");
}

TEST_CASE("json: every byte below 0x20 has Go 1.19's escape", "[http]") {
    const char* hex = "0123456789abcdef";
    for (int b = 0; b < 0x20; ++b) {
        std::string expected;
        if (b == '\n') {
            expected = "\\n";
        } else if (b == '\r') {
            expected = "\\r";
        } else if (b == '\t') {
            expected = "\\t";
        } else {
            expected = std::string("\\u00") + hex[b >> 4] + hex[b & 0xf];
        }
        INFO("byte " << b);
        CHECK(escaped(std::string(1, static_cast<char>(b))) == "\"" + expected + "\"");
    }
}

TEST_CASE("json: escaping table", "[http]") {
    struct row {
        const char* name;
        std::string input;
        std::string output;  // without the quotes
    };
    const row rows[] = {
        {"empty", "", ""},
        {"plain ASCII passes in one run", "/v2/keys/foo bar~!", "/v2/keys/foo bar~!"},
        {"long safe run crosses words", std::string(67, 'x'), std::string(67, 'x')},
        {"quote and backslash", "a\"b\\c", "a\\\"b\\\\c"},
        {"HTML-safe <>&", "<a href='x'>&", "\\u003ca href='x'\\u003e\\u0026"},
        {"DEL is not escaped", "\x7f", "\x7f"},
        {"backspace and form feed are \\u escapes in Go 1.19", "\b\f", "\\u0008\\u000c"},
        {"U+2028 and U+2029", "\xe2\x80\xa8x\xe2\x80\xa9", "\\u2028x\\u2029"},
        {"U+2027 and U+202A pass", "\xe2\x80\xa7\xe2\x80\xaa", "\xe2\x80\xa7\xe2\x80\xaa"},
        {"valid 2, 3 and 4-byte runes pass", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
        {"largest code point U+10FFFF passes", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
        {"lone continuation byte", "\x80", "\\ufffd"},
        {"truncated 2-byte at the end", "a\xc3", "a\\ufffd"},
        {"truncated 3-byte", "\xe2\x82z", "\\ufffd\\ufffdz"},
        {"truncated 4-byte at the end", "\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd"},
        {"overlong 2-byte", "\xc0\xaf", "\\ufffd\\ufffd"},
        {"overlong 3-byte", "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"},
        {"overlong 4-byte", "\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd"},
        {"surrogate U+D800 in UTF-8", "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},
        {"surrogate U+DFFF in UTF-8", "\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd"},
        {"above U+10FFFF", "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
        {"bytes F5..FF", "\xf5\xfe\xff", "\\ufffd\\ufffd\\ufffd"},
        {"encoded U+FFFD passes", "\xef\xbf\xbd", "\xef\xbf\xbd"},
        {"escape after a full word", "12345678<", "12345678\\u003c"},
    };
    for (const row& r : rows) {
        INFO(r.name);
        CHECK(escaped(r.input) == "\"" + r.output + "\"");
    }
}

TEST_CASE("json: a special byte at each position of a word is found", "[http]") {
    for (char special : {'"', '\\', '<', '>', '&', '\x01', '\x1f'}) {
        for (std::size_t position = 0; position < 16; ++position) {
            std::string input(16, 'a');
            input[position] = special;
            std::string out = escaped(input);
            INFO("byte " << int(special) << " at " << position);
            CHECK(out.size() > input.size() + 2);
        }
    }
    std::string high(16, 'a');
    high[11] = '\xc3';
    high[12] = '\xa9';
    CHECK(escaped(high) == "\"" + high + "\"");
}

TEST_CASE("json: integers print as Go prints them", "[http]") {
    std::string out;
    append_uint(out, 0);
    out += ' ';
    append_uint(out, std::numeric_limits<std::uint64_t>::max());
    out += ' ';
    append_int(out, -1);
    out += ' ';
    append_int(out, std::numeric_limits<std::int64_t>::min());
    CHECK(out == "0 18446744073709551615 -1 -9223372036854775808");
}

TEST_CASE("json: the builder places commas and colons", "[http]") {
    std::string out;
    json_writer w(out);
    w.begin_object()
        .key("action").value("get")
        .key("node").begin_object()
        .key("key").value("/a<b")
        .key("dir").value(true)
        .key("nodes").begin_array().begin_object().end_object().value(-3).null_value().end_array()
        .key("modifiedIndex").value(std::uint64_t{7})
        .end_object()
        .key("raw").raw_value("[1]")
        .end_object();
    CHECK(out == "{\"action\":\"get\",\"node\":{\"key\":\"/a\\u003cb\",\"dir\":true,"
                 "\"nodes\":[{},-3,null],\"modifiedIndex\":7},\"raw\":[1]}");
    CHECK(w.depth() == 0);
}
