// Command codec and dispatch (etcd v3.4 etcdserver/apply_v2.go). Layout (little-endian):
//   "UC1" | u8 method | u8 flags | str path | str value | str prev_value | u64 prev_index
//   | i64 expiration | i64 sync_time      flags: dir 1, recursive 2, sorted 4, refresh 8,
//                                               prev_exist set 16, prev_exist value 32
#include "uetcd/store/command.hpp"

#include "binary_codec.hpp"

namespace uetcd::store {

namespace {

constexpr std::string_view command_magic = "UC1";

enum flag : std::uint8_t {
    flag_dir = 1,
    flag_recursive = 2,
    flag_sorted = 4,
    flag_refresh = 8,
    flag_prev_exist_set = 16,
    flag_prev_exist = 32,
};

std::uint8_t flags_of(const command& c) {
    std::uint8_t flags = 0;
    flags |= c.dir ? flag_dir : 0;
    flags |= c.recursive ? flag_recursive : 0;
    flags |= c.sorted ? flag_sorted : 0;
    flags |= c.refresh ? flag_refresh : 0;
    if (c.prev_exist.has_value()) {
        flags |= flag_prev_exist_set;
        flags |= *c.prev_exist ? flag_prev_exist : 0;
    }
    return flags;
}

// etcd applierV2store.Put: prevExist picks update/CAS or create; otherwise a compare field
// means CAS; otherwise set.
result<event_ptr, error> apply_put(tree& t, const command& c, time_ns now_ns) {
    const ttl_options ttl{c.expiration_ns, c.refresh};
    const bool compare = c.prev_index > 0 || !c.prev_value.empty();
    if (c.prev_exist.has_value()) {
        if (!*c.prev_exist) {
            return t.create(c.path, c.dir, c.value, false, ttl, now_ns);
        }
        if (!compare) {
            return t.update(c.path, c.value, ttl, now_ns);
        }
        return t.compare_and_swap(c.path, c.prev_value, c.prev_index, c.value, ttl, now_ns);
    }
    if (compare) {
        return t.compare_and_swap(c.path, c.prev_value, c.prev_index, c.value, ttl, now_ns);
    }
    return t.set(c.path, c.dir, c.value, ttl, now_ns);
}

}  // namespace

std::string encode_command(const command& c) {
    binary_writer w;
    w.out.append(command_magic);
    w.u8(static_cast<std::uint8_t>(c.method));
    w.u8(flags_of(c));
    w.str(c.path);
    w.str(c.value);
    w.str(c.prev_value);
    w.u64(c.prev_index);
    w.i64(c.expiration_ns);
    w.i64(c.sync_time_ns);
    return std::move(w.out);
}

result<command, std::string> decode_command(std::string_view bytes) {
    if (!bytes.starts_with(command_magic)) {
        return failure(std::string("command: bad magic"));
    }
    binary_reader r(bytes.substr(command_magic.size()));
    command c;
    const std::uint8_t method = r.u8();
    const std::uint8_t flags = r.u8();
    c.path = std::string(r.str());
    c.value = std::string(r.str());
    c.prev_value = std::string(r.str());
    c.prev_index = r.u64();
    c.expiration_ns = r.i64();
    c.sync_time_ns = r.i64();
    if (r.failed() || !r.at_end()) {
        return failure(std::string("command: truncated or trailing bytes"));
    }
    if (method > static_cast<std::uint8_t>(command_method::sync) || flags >= 64 ||
        ((flags & flag_prev_exist) != 0 && (flags & flag_prev_exist_set) == 0)) {
        return failure(std::string("command: bad method or flags"));
    }
    c.method = static_cast<command_method>(method);
    if (c.method != command_method::sync && (c.path.empty() || c.path[0] != '/')) {
        return failure(std::string("command: path must be absolute"));
    }
    c.dir = (flags & flag_dir) != 0;
    c.recursive = (flags & flag_recursive) != 0;
    c.sorted = (flags & flag_sorted) != 0;
    c.refresh = (flags & flag_refresh) != 0;
    if ((flags & flag_prev_exist_set) != 0) {
        c.prev_exist = (flags & flag_prev_exist) != 0;
    }
    return c;
}

result<event_ptr, error> apply_command(tree& t, const command& c, time_ns now_ns) {
    switch (c.method) {
    case command_method::put:
        return apply_put(t, c, now_ns);
    case command_method::post:
        return t.create(c.path, c.dir, c.value, true, ttl_options{c.expiration_ns, c.refresh},
            now_ns);
    case command_method::del:
        if (c.prev_index > 0 || !c.prev_value.empty()) {
            return t.compare_and_delete(c.path, c.prev_value, c.prev_index, now_ns);
        }
        return t.remove(c.path, c.dir, c.recursive, now_ns);
    case command_method::qget: {
        auto got = t.get(c.path, c.recursive, c.sorted, now_ns);
        if (!got) {
            return failure(std::move(got).error());
        }
        return event_ptr(std::make_shared<event>(std::move(got).value()));
    }
    case command_method::sync:
        t.expire(c.sync_time_ns);
        return event_ptr{};
    }
    UETCD_UNREACHABLE();
}

}  // namespace uetcd::store
