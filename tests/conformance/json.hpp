// A small JSON reader for the conformance harness. It keeps what a byte-level comparison needs:
// object members in wire order, numbers as their text, strings as their raw escaped text (so
// that "<" and "\u003c" differ, as they do for a client that compares bytes).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uetcd::conformance {

struct json_value {
    enum class kind { null, boolean, number, string, array, object };
    kind type = kind::null;
    std::string text;                // number text, raw string text, "true"/"false"
    std::vector<std::string> keys;   // object member names (raw), in wire order
    std::vector<json_value> items;   // array items, or object member values
};

inline const char* kind_name(json_value::kind k) {
    switch (k) {
    case json_value::kind::null: return "null";
    case json_value::kind::boolean: return "bool";
    case json_value::kind::number: return "number";
    case json_value::kind::string: return "string";
    case json_value::kind::array: return "array";
    case json_value::kind::object: return "object";
    }
    return "?";
}

// The member `name` of an object, or nullptr.
inline const json_value* member(const json_value& v, std::string_view name) {
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
        if (v.keys[i] == name) {
            return &v.items[i];
        }
    }
    return nullptr;
}

class json_reader {
public:
    explicit json_reader(std::string_view text) : _s(text) {}

    // The whole text as one value (surrounding whitespace allowed), or nullopt.
    std::optional<json_value> parse_document() {
        json_value v;
        skip_ws();
        if (!parse_value(v, 0)) {
            return std::nullopt;
        }
        skip_ws();
        return _pos == _s.size() ? std::optional<json_value>(std::move(v)) : std::nullopt;
    }

private:
    static constexpr int max_depth = 64;

    void skip_ws() {
        while (_pos < _s.size() &&
               (_s[_pos] == ' ' || _s[_pos] == '\n' || _s[_pos] == '\r' || _s[_pos] == '\t')) {
            ++_pos;
        }
    }
    bool eat(char c) {
        skip_ws();
        if (_pos < _s.size() && _s[_pos] == c) {
            ++_pos;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        if (_s.substr(_pos, word.size()) != word) {
            return false;
        }
        _pos += word.size();
        return true;
    }
    bool parse_value(json_value& v, int depth) {
        skip_ws();
        if (_pos >= _s.size() || depth > max_depth) {
            return false;
        }
        const char c = _s[_pos];
        if (c == '{') {
            return parse_object(v, depth);
        }
        if (c == '[') {
            return parse_array(v, depth);
        }
        if (c == '"') {
            v.type = json_value::kind::string;
            return parse_string(v.text);
        }
        if (c == 't' || c == 'f') {
            v.type = json_value::kind::boolean;
            v.text = c == 't' ? "true" : "false";
            return literal(v.text);
        }
        if (c == 'n') {
            v.type = json_value::kind::null;
            return literal("null");
        }
        return parse_number(v);
    }
    bool parse_number(json_value& v) {
        const std::size_t start = _pos;
        while (_pos < _s.size() && std::string_view("+-0123456789.eE").find(_s[_pos]) !=
                                       std::string_view::npos) {
            ++_pos;
        }
        v.type = json_value::kind::number;
        v.text = std::string(_s.substr(start, _pos - start));
        return _pos > start;
    }
    // Keeps the escaped text between the quotes; only checks that escapes are complete.
    bool parse_string(std::string& out) {
        const std::size_t start = ++_pos;
        while (_pos < _s.size() && _s[_pos] != '"') {
            if (static_cast<unsigned char>(_s[_pos]) < 0x20) {
                return false;
            }
            _pos += _s[_pos] == '\\' ? 2 : 1;
        }
        if (_pos >= _s.size()) {
            return false;
        }
        out = std::string(_s.substr(start, _pos - start));
        ++_pos;
        return true;
    }
    bool parse_array(json_value& v, int depth) {
        v.type = json_value::kind::array;
        ++_pos;
        if (eat(']')) {
            return true;
        }
        do {
            json_value item;
            if (!parse_value(item, depth + 1)) {
                return false;
            }
            v.items.push_back(std::move(item));
        } while (eat(','));
        return eat(']');
    }
    bool parse_object(json_value& v, int depth) {
        v.type = json_value::kind::object;
        ++_pos;
        if (eat('}')) {
            return true;
        }
        do {
            std::string key;
            json_value item;
            skip_ws();
            if (_pos >= _s.size() || _s[_pos] != '"' || !parse_string(key) || !eat(':') ||
                !parse_value(item, depth + 1)) {
                return false;
            }
            v.keys.push_back(std::move(key));
            v.items.push_back(std::move(item));
        } while (eat(','));
        return eat('}');
    }

    std::string_view _s;
    std::size_t _pos = 0;
};

inline std::optional<json_value> parse_json(std::string_view text) {
    return json_reader(text).parse_document();
}

}  // namespace uetcd::conformance
