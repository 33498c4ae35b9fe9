// Compact binary codec for raft messages, entries, hard state and conf changes, so a
// transport or the WAL can carry them. Integers are LEB128 varints. Decoding is total:
// malformed or truncated input yields a decode_error, never undefined behaviour.
#pragma once

#include <string_view>

#include "uetcd/raft/message.hpp"

namespace uetcd::raft {

enum class decode_error : std::uint8_t {
    truncated,      // input ended inside a field
    bad_varint,     // a varint longer than 10 bytes or overflowing 64 bits
    bad_enum,       // a type/flag byte out of range
    too_large,      // a length or count larger than the remaining input allows
    trailing_bytes, // bytes left after a complete value
};
const char* to_string(decode_error e) noexcept;

void encode_entry(const entry& e, bytes& out);
void encode_message(const message& m, bytes& out);
void encode_hard_state(const hard_state& hs, bytes& out);
void encode_conf_change(const conf_change& cc, bytes& out);
void encode_snapshot(const snapshot& s, bytes& out);

result<entry, decode_error> decode_entry(std::string_view in);
result<message, decode_error> decode_message(std::string_view in);
result<hard_state, decode_error> decode_hard_state(std::string_view in);
result<conf_change, decode_error> decode_conf_change(std::string_view in);
result<snapshot, decode_error> decode_snapshot(std::string_view in);

inline bytes encode(const message& m) {
    bytes out;
    encode_message(m, out);
    return out;
}
inline bytes encode(const conf_change& cc) {
    bytes out;
    encode_conf_change(cc, out);
    return out;
}

}  // namespace uetcd::raft
