// JSON for events, nodes, errors and stats, byte-identical to etcd 3.4's encoding/json output.
// String escaping is the HTTP layer's header-only Go-exact writer (uetcd/http/json_writer.hpp).
#include <array>

#include "uetcd/assert.hpp"
#include "uetcd/http/json_writer.hpp"
#include "uetcd/store/errors.hpp"
#include "uetcd/store/event.hpp"
#include "uetcd/store/stats.hpp"

namespace uetcd::store {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm, proleptic Gregorian).
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d) {
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

void append_padded(std::string& out, std::uint64_t value, int width) {
    std::array<char, 20> digits{};
    for (int i = width - 1; i >= 0; --i) {
        digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    out.append(digits.data(), static_cast<std::size_t>(width));
}

class field_writer {
public:
    explicit field_writer(std::string& out) : _out(out) { _out += '{'; }
    ~field_writer() { _out += '}'; }
    field_writer(const field_writer&) = delete;
    field_writer& operator=(const field_writer&) = delete;

    std::string& name(std::string_view field) {
        if (!_first) {
            _out += ',';
        }
        _first = false;
        _out += '"';
        _out += field;
        _out += "\":";
        return _out;
    }

private:
    std::string& _out;
    bool _first = true;
};

}  // namespace

std::string_view action_name(action a) noexcept {
    switch (a) {
    case action::get: return "get";
    case action::create: return "create";
    case action::set: return "set";
    case action::update: return "update";
    case action::del: return "delete";
    case action::compare_and_swap: return "compareAndSwap";
    case action::compare_and_delete: return "compareAndDelete";
    case action::expire: return "expire";
    }
    UETCD_UNREACHABLE();
}

std::int64_t ttl_seconds(time_ns expire_time_ns, time_ns now_ns) noexcept {
    if (expire_time_ns == permanent) {
        return 0;
    }
    // Go's Time.Sub saturates instead of overflowing.
    std::int64_t left_ns = 0;
    if (__builtin_sub_overflow(expire_time_ns, now_ns, &left_ns)) {
        left_ns = expire_time_ns > now_ns ? INT64_MAX : INT64_MIN;
    }
    std::int64_t ttl = left_ns / ns_per_s;
    if (left_ns % ns_per_s > 0) {
        ttl++;
    }
    return ttl;
}

void append_rfc3339_nano(std::string& out, time_ns t) {
    std::int64_t seconds = t / ns_per_s;
    std::int64_t nanos = t % ns_per_s;
    if (nanos < 0) {
        nanos += ns_per_s;
        seconds -= 1;
    }
    std::int64_t days = seconds / 86400;
    std::int64_t second_of_day = seconds % 86400;
    if (second_of_day < 0) {
        second_of_day += 86400;
        days -= 1;
    }
    std::int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    civil_from_days(days, year, month, day);
    UETCD_ASSERT(year >= 0 && year <= 9999);
    append_padded(out, static_cast<std::uint64_t>(year), 4);
    out += '-';
    append_padded(out, month, 2);
    out += '-';
    append_padded(out, day, 2);
    out += 'T';
    append_padded(out, static_cast<std::uint64_t>(second_of_day / 3600), 2);
    out += ':';
    append_padded(out, static_cast<std::uint64_t>(second_of_day / 60 % 60), 2);
    out += ':';
    append_padded(out, static_cast<std::uint64_t>(second_of_day % 60), 2);
    if (nanos != 0) {
        // RFC3339Nano's ".999999999": trailing zeros trimmed, none at all for whole seconds.
        int width = 9;
        while (nanos % 10 == 0) {
            nanos /= 10;
            width--;
        }
        out += '.';
        append_padded(out, static_cast<std::uint64_t>(nanos), width);
    }
    out += 'Z';
}

void write_node_json(std::string& out, const node_view& n, std::string_view key_prefix) {
    field_writer fields(out);
    std::string_view key = n.key;
    if (!key_prefix.empty() && key.starts_with(key_prefix)) {
        key.remove_prefix(key_prefix.size());
    }
    if (!key.empty()) {
        http::append_json_string(fields.name("key"), key);
    }
    if (n.value.has_value()) {
        http::append_json_string(fields.name("value"), *n.value);
    }
    if (n.dir) {
        fields.name("dir") += "true";
    }
    if (n.expire_time_ns != permanent) {
        std::string& o = fields.name("expiration");
        o += '"';
        append_rfc3339_nano(o, n.expire_time_ns);
        o += '"';
    }
    if (n.ttl_s != 0) {
        http::append_int(fields.name("ttl"), n.ttl_s);
    }
    if (!n.nodes.empty()) {
        std::string& o = fields.name("nodes");
        o += '[';
        for (std::size_t i = 0; i < n.nodes.size(); ++i) {
            if (i != 0) {
                o += ',';
            }
            write_node_json(o, n.nodes[i], key_prefix);
        }
        o += ']';
    }
    if (n.modified_index != 0) {
        http::append_uint(fields.name("modifiedIndex"), n.modified_index);
    }
    if (n.created_index != 0) {
        http::append_uint(fields.name("createdIndex"), n.created_index);
    }
}

void write_event_json(std::string& out, const event& e, const json_options& options) {
    const bool drop_nodes = options.no_value_on_success &&
                            (e.act == action::set || e.act == action::compare_and_swap ||
                                e.act == action::create || e.act == action::update);
    {
        field_writer fields(out);
        http::append_json_string(fields.name("action"), action_name(e.act));
        if (!drop_nodes) {
            write_node_json(fields.name("node"), e.node, options.key_prefix);
            if (e.prev_node.has_value()) {
                write_node_json(fields.name("prevNode"), *e.prev_node, options.key_prefix);
            }
        }
    }
    out += '\n';
}

void write_error_json(std::string& out, const error& e, std::string_view cause_prefix) {
    {
        field_writer fields(out);
        http::append_int(fields.name("errorCode"), static_cast<int>(e.code));
        http::append_json_string(fields.name("message"), e.message());
        std::string_view cause = e.cause;
        if (!cause_prefix.empty() && cause.starts_with(cause_prefix)) {
            cause.remove_prefix(cause_prefix.size());
        }
        if (!cause.empty()) {
            http::append_json_string(fields.name("cause"), cause);
        }
        http::append_uint(fields.name("index"), e.index);
    }
    out += '\n';
}

void write_stats_json(std::string& out, const stats& s) {
    field_writer fields(out);
    const std::pair<std::string_view, std::uint64_t> counters[] = {
        {"getsSuccess", s.gets_success},
        {"getsFail", s.gets_fail},
        {"setsSuccess", s.sets_success},
        {"setsFail", s.sets_fail},
        {"deleteSuccess", s.delete_success},
        {"deleteFail", s.delete_fail},
        {"updateSuccess", s.update_success},
        {"updateFail", s.update_fail},
        {"createSuccess", s.create_success},
        {"createFail", s.create_fail},
        {"compareAndSwapSuccess", s.compare_and_swap_success},
        {"compareAndSwapFail", s.compare_and_swap_fail},
        {"compareAndDeleteSuccess", s.compare_and_delete_success},
        {"compareAndDeleteFail", s.compare_and_delete_fail},
        {"expireCount", s.expire_count},
        {"watchers", s.watchers},
    };
    for (const auto& [field, count] : counters) {
        http::append_uint(fields.name(field), count);
    }
}

}  // namespace uetcd::store
