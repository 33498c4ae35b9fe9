// Binary codec for raft values. Layout per value is a fixed field order of varints and
// length-prefixed byte strings; see codec.hpp. The reader checks every length against the
// remaining input before touching it, so decoding arbitrary bytes is safe.
#include "uetcd/raft/codec.hpp"

namespace uetcd::raft {

const char* to_string(decode_error e) noexcept {
    switch (e) {
    case decode_error::truncated: return "truncated input";
    case decode_error::bad_varint: return "malformed varint";
    case decode_error::bad_enum: return "enum value out of range";
    case decode_error::too_large: return "length exceeds input";
    case decode_error::trailing_bytes: return "trailing bytes";
    }
    return "unknown decode error";
}

namespace {

void put_varint(std::uint64_t v, bytes& out) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_bytes(const bytes& b, bytes& out) {
    put_varint(b.size(), out);
    out.append(b);
}

// A cursor over untrusted input. The first error sticks; later reads return zero values.
class reader {
public:
    explicit reader(std::string_view in) : _in(in) {}

    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (_pos >= _in.size()) {
                fail(decode_error::truncated);
                return 0;
            }
            const auto b = static_cast<std::uint8_t>(_in[_pos++]);
            if (shift == 63 && b > 1) {
                fail(decode_error::bad_varint);
                return 0;
            }
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        fail(decode_error::bad_varint);
        return 0;
    }

    std::uint8_t enum_byte(std::uint8_t limit) {
        const std::uint64_t v = varint();
        if (v >= limit) {
            fail(decode_error::bad_enum);
            return 0;
        }
        return static_cast<std::uint8_t>(v);
    }

    bytes string() {
        const std::uint64_t n = varint();
        if (n > remaining()) {
            fail(decode_error::too_large);
            return {};
        }
        bytes s(_in.substr(_pos, n));
        _pos += n;
        return s;
    }

    // A count of items each taking at least one byte cannot exceed the remaining input.
    std::uint64_t count() {
        const std::uint64_t n = varint();
        if (n > remaining()) {
            fail(decode_error::too_large);
            return 0;
        }
        return n;
    }

    void fail(decode_error e) {
        if (!_failed) {
            _failed = true;
            _error = e;
            _pos = _in.size();
        }
    }
    std::size_t remaining() const { return _in.size() - _pos; }
    bool failed() const { return _failed; }
    decode_error error() const { return _error; }
    void finish() {
        if (_pos != _in.size()) {
            fail(decode_error::trailing_bytes);
        }
    }

private:
    std::string_view _in;
    std::size_t _pos = 0;
    bool _failed = false;
    decode_error _error = decode_error::truncated;
};

entry read_entry(reader& r) {
    entry e;
    e.term = r.varint();
    e.index = r.varint();
    e.type = static_cast<entry_type>(r.enum_byte(2));
    e.data = r.string();
    return e;
}

snapshot read_snapshot(reader& r) {
    snapshot s;
    s.meta.index = r.varint();
    s.meta.term = r.varint();
    const std::uint64_t n = r.count();
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        s.meta.conf.voters.push_back(r.varint());
    }
    s.data = r.string();
    return s;
}

template <typename T, typename F>
result<T, decode_error> decode_with(std::string_view in, F&& read_fn) {
    reader r(in);
    T value = read_fn(r);
    r.finish();
    if (r.failed()) {
        return failure{r.error()};
    }
    return value;
}

}  // namespace

void encode_entry(const entry& e, bytes& out) {
    put_varint(e.term, out);
    put_varint(e.index, out);
    put_varint(static_cast<std::uint8_t>(e.type), out);
    put_bytes(e.data, out);
}

void encode_snapshot(const snapshot& s, bytes& out) {
    put_varint(s.meta.index, out);
    put_varint(s.meta.term, out);
    put_varint(s.meta.conf.voters.size(), out);
    for (node_id v : s.meta.conf.voters) {
        put_varint(v, out);
    }
    put_bytes(s.data, out);
}

void encode_message(const message& m, bytes& out) {
    put_varint(static_cast<std::uint8_t>(m.type), out);
    put_varint(m.to, out);
    put_varint(m.from, out);
    put_varint(m.term, out);
    put_varint(m.log_term, out);
    put_varint(m.index, out);
    put_varint(m.commit, out);
    put_varint(m.reject_hint, out);
    // Flags: bit 0 reject, bit 1 snapshot present.
    put_varint((m.reject ? 1U : 0U) | (m.snap ? 2U : 0U), out);
    put_bytes(m.context, out);
    put_varint(m.entries.size(), out);
    for (const entry& e : m.entries) {
        encode_entry(e, out);
    }
    if (m.snap) {
        encode_snapshot(*m.snap, out);
    }
}

void encode_hard_state(const hard_state& hs, bytes& out) {
    put_varint(hs.term, out);
    put_varint(hs.vote, out);
    put_varint(hs.commit, out);
}

void encode_conf_change(const conf_change& cc, bytes& out) {
    put_varint(cc.id, out);
    put_varint(static_cast<std::uint8_t>(cc.type), out);
    put_varint(cc.node, out);
    put_bytes(cc.context, out);
}

result<entry, decode_error> decode_entry(std::string_view in) {
    return decode_with<entry>(in, [](reader& r) { return read_entry(r); });
}

result<snapshot, decode_error> decode_snapshot(std::string_view in) {
    return decode_with<snapshot>(in, [](reader& r) { return read_snapshot(r); });
}

result<message, decode_error> decode_message(std::string_view in) {
    return decode_with<message>(in, [](reader& r) {
        message m;
        m.type = static_cast<message_type>(r.enum_byte(message_type_count));
        m.to = r.varint();
        m.from = r.varint();
        m.term = r.varint();
        m.log_term = r.varint();
        m.index = r.varint();
        m.commit = r.varint();
        m.reject_hint = r.varint();
        const std::uint8_t flags = r.enum_byte(4);
        m.reject = (flags & 1U) != 0;
        m.context = r.string();
        const std::uint64_t n = r.count();
        for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
            m.entries.push_back(read_entry(r));
        }
        if ((flags & 2U) != 0 && !r.failed()) {
            m.snap = read_snapshot(r);
        }
        return m;
    });
}

result<hard_state, decode_error> decode_hard_state(std::string_view in) {
    return decode_with<hard_state>(in, [](reader& r) {
        hard_state hs;
        hs.term = r.varint();
        hs.vote = r.varint();
        hs.commit = r.varint();
        return hs;
    });
}

result<conf_change, decode_error> decode_conf_change(std::string_view in) {
    return decode_with<conf_change>(in, [](reader& r) {
        conf_change cc;
        cc.id = r.varint();
        cc.type = static_cast<conf_change_type>(r.enum_byte(3));
        cc.node = r.varint();
        cc.context = r.string();
        return cc;
    });
}

}  // namespace uetcd::raft
