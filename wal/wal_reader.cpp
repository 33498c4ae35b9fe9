// WAL recovery and segment retention (see include/uetcd/wal/wal.hpp, docs/wal.md).
#include <algorithm>
#include <cerrno>

#include "uetcd/assert.hpp"
#include "uetcd/wal/wal.hpp"

namespace uetcd::wal {

namespace {

// A segment file larger than this is refused rather than read into memory: 4x the default
// segment size leaves room for a configured larger segment and for a huge last record.
constexpr std::uint64_t segment_read_bytes_max = 256ULL << 20;

struct named_segment {
    std::string name;
    segment_id id;
};

task<result<std::vector<named_segment>, wal_error>> list_segments(file_system& fs,
    const std::string& dir) {
    auto names = co_await fs.list_dir(dir);
    if (!names.ok()) {
        const wal_errc code = names.error() == -ENOENT ? wal_errc::missing : wal_errc::io;
        co_return failure{wal_error{code, names.error(), dir, 0, "list"}};
    }
    std::vector<named_segment> segments;
    for (const auto& name : *names) {
        if (auto id = parse_segment_name(name)) {
            segments.push_back(named_segment{name, *id});
        }
    }
    std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
        return a.id.sequence < b.id.sequence;
    });
    if (segments.empty()) {
        co_return failure{wal_error{wal_errc::missing, 0, dir, 0, "no segment"}};
    }
    for (std::size_t i = 1; i < segments.size(); ++i) {
        if (segments[i].id.sequence != segments[i - 1].id.sequence + 1) {
            co_return failure{wal_error{wal_errc::missing, 0, dir + "/" + segments[i].name, 0,
                "segment sequence gap"}};
        }
    }
    co_return segments;
}

// Applies one record of a segment to what recovery has gathered so far.
std::optional<wal_error> apply_record(const decoded_record& rec, std::uint64_t after_index,
    recovered_wal& out) {
    const record whole{rec.type, std::string(rec.payload)};
    switch (rec.type) {
        case record_type::metadata:
            if (out.segments.size() == 1 && out.metadata.empty()) {
                out.metadata = whole.payload;
            }
            return std::nullopt;
        case record_type::hard_state: {
            hard_state state;
            if (!parse_hard_state(rec.payload, state)) {
                return wal_error{wal_errc::corrupt, 0, {}, rec.offset, "hard state size"};
            }
            out.state = state;
            return std::nullopt;
        }
        case record_type::snapshot: {
            std::uint64_t index = 0;
            if (!record_index(whole, index)) {
                return wal_error{wal_errc::corrupt, 0, {}, rec.offset, "snapshot marker size"};
            }
            out.snapshot_index = index;
            return std::nullopt;
        }
        case record_type::entry: break;
        case record_type::segment_header:
            return wal_error{wal_errc::corrupt, 0, {}, rec.offset, "header inside a segment"};
    }
    std::uint64_t index = 0;
    if (!record_index(whole, index)) {
        return wal_error{wal_errc::corrupt, 0, {}, rec.offset, "entry without an index"};
    }
    if (out.last_index != 0 && index > out.last_index + 1) {
        return wal_error{wal_errc::index_gap, 0, {}, rec.offset,
            "entry " + std::to_string(index) + " after " + std::to_string(out.last_index)};
    }
    // A lower index overwrites the suffix from there on: raft replaced a conflicting tail
    // (etcd wal.ReadAll does the same).
    while (!out.entries.empty()) {
        std::uint64_t back = 0;
        record_index(out.entries.back(), back);
        if (back < index) {
            break;
        }
        out.entries.pop_back();
    }
    out.last_index = index;
    if (index > after_index) {
        out.entries.push_back(whole);
    }
    return std::nullopt;
}

wal_error scan_failure(const scan_error& error, const std::string& path) {
    const wal_errc code = error.code == scan_errc::bad_header ? wal_errc::bad_header
                                                              : wal_errc::corrupt;
    return wal_error{code, 0, path, error.cause.offset, to_string(error.cause.code)};
}

}  // namespace

task<result<recovered_wal, wal_error>> read_wal(file_system& fs, const std::string& dir,
    std::uint64_t after_index) {
    auto segments = co_await list_segments(fs, dir);
    if (!segments.ok()) {
        co_return failure{std::move(segments).error()};
    }
    recovered_wal out;
    const std::uint64_t first_index = segments->front().id.first_index;
    if (first_index > after_index + 1) {
        co_return failure{wal_error{wal_errc::index_gap, 0, dir + "/" + segments->front().name,
            0, "WAL starts after the snapshot point"}};
    }
    for (std::size_t i = 0; i < segments->size(); ++i) {
        const named_segment& seg = (*segments)[i];
        const std::string path = dir + "/" + seg.name;
        auto bytes = co_await fs.read_bytes(path, segment_read_bytes_max);
        if (!bytes.ok()) {
            co_return failure{wal_error{wal_errc::io, bytes.error(), path, 0, "read"}};
        }
        const bool last = i + 1 == segments->size();
        auto scan = scan_segment(bytes->view(), last);
        if (!scan.ok()) {
            co_return failure{scan_failure(scan.error(), path)};
        }
        if (scan->header.sequence != seg.id.sequence
            || scan->header.first_index != seg.id.first_index) {
            co_return failure{wal_error{wal_errc::bad_header, 0, path, 0, "name mismatch"}};
        }
        out.segments.push_back(segment_info{seg.name, seg.id.sequence, seg.id.first_index,
            scan->valid_end});
        for (const decoded_record& rec : scan->records) {
            if (auto error = apply_record(rec, after_index, out)) {
                error->file = path;
                co_return failure{std::move(*error)};
            }
        }
        if (scan->torn) {
            out.torn = true;
            out.torn_file = path;
            out.torn_offset = scan->valid_end;
            out.torn_end = scan->torn_end;
            out.torn_detail = to_string(scan->torn_cause.code);
        }
    }
    co_return out;
}

task<result<std::vector<std::string>, wal_error>> purge_segments(file_system& fs,
    const std::string& dir, std::uint64_t snapshot_index, std::uint64_t max_wals) {
    std::vector<std::string> removed;
    if (max_wals == 0) {
        co_return removed;
    }
    auto segments = co_await list_segments(fs, dir);
    if (!segments.ok()) {
        co_return failure{std::move(segments).error()};
    }
    std::size_t count = segments->size();
    // Oldest first, so that what remains is always a run of consecutive sequence numbers;
    // the directory is fsynced after each removal so a crash cannot leave a hole.
    for (std::size_t i = 0; i + 1 < segments->size() && count > max_wals; ++i) {
        if ((*segments)[i + 1].id.first_index > snapshot_index + 1) {
            break;  // segment i holds entries the snapshot does not cover
        }
        const std::string path = dir + "/" + (*segments)[i].name;
        int rc = co_await fs.remove(path);
        if (rc == 0) {
            rc = co_await fs.fsync_dir(dir);
        }
        if (rc != 0) {
            co_return failure{wal_error{wal_errc::io, rc, path, 0, "remove"}};
        }
        removed.push_back((*segments)[i].name);
        --count;
    }
    co_return removed;
}

}  // namespace uetcd::wal
