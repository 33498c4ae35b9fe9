// The WAL writer: segment creation and cuts, group commit (see include/uetcd/wal/wal.hpp).
#include "uetcd/wal/wal.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include "uetcd/assert.hpp"

namespace uetcd::wal {

std::string wal_error::message() const {
    static constexpr const char* names[] = {"i/o error", "corrupt record", "bad segment header",
        "missing WAL segment", "index gap", "WAL exists", "WAL closed", "too large",
        "bad options"};
    std::string text = "wal: ";
    text += names[static_cast<int>(code)];
    if (!file.empty()) {
        text += " in " + file + " at offset " + std::to_string(offset);
    }
    if (os_error != 0) {
        text += ": ";
        text += std::strerror(-os_error);
    }
    if (!detail.empty()) {
        text += ": " + detail;
    }
    return text;
}

void wal::wait_list::notify_all() {
    std::vector<std::coroutine_handle<>> waiters;
    waiters.swap(_waiters);
    for (auto h : waiters) {
        reactor::reactor::current().schedule(h);
    }
}

namespace {

wal_error io_error(int rc, const std::string& file, const char* what) {
    return wal_error{wal_errc::io, rc, file, 0, what};
}

bool options_valid(const wal_options& options) {
    // A record with its header must fit in a batch and in an empty segment after the
    // segment's own head (header, metadata, hard state): checked here once.
    const std::uint64_t record_max = framed_bytes(options.record_bytes_max);
    return options.batch_bytes_max >= record_max && options.queued_bytes_max >= record_max
        && options.segment_bytes >= 2 * record_max + 4096;
}

struct segment_head {
    std::uint64_t sequence;
    std::uint64_t first_index;
    const std::string* metadata;
    std::optional<hard_state> state;
};

// Writes a complete segment head into a .tmp, makes it durable, renames it into place and
// fsyncs the directory: after this returns the segment exists across a crash. Returns the fd
// (open for writing) and sets head_bytes to where records go next.
task<result<int, wal_error>> create_segment(file_system& fs, const std::string& dir,
    const segment_head& head, std::uint64_t segment_bytes, std::uint64_t& head_bytes) {
    const std::string path = dir + "/" + segment_name(head.sequence, head.first_index);
    const std::string tmp = path + ".tmp";
    std::string bytes;
    const segment_header header{segment_magic, segment_version, head.sequence, head.first_index};
    encode_record(record_type::segment_header, encode_segment_header(header), bytes);
    encode_record(record_type::metadata, *head.metadata, bytes);
    if (head.state.has_value()) {
        encode_record(record_type::hard_state, encode_hard_state(*head.state), bytes);
    }
    const int fd = co_await fs.open(tmp, open_mode::create_new);
    if (fd < 0) {
        co_return failure{io_error(fd, tmp, "create segment")};
    }
    int rc = co_await fs.fallocate(fd, segment_bytes);
    if (rc == 0) {
        rc = co_await write_all(fs, fd, bytes, 0);
    }
    if (rc == 0) {
        rc = co_await fs.fdatasync(fd);
    }
    if (rc == 0) {
        rc = co_await fs.rename(tmp, path);
    }
    if (rc == 0) {
        rc = co_await fs.fsync_dir(dir);
    }
    if (rc != 0) {
        co_await fs.close(fd);
        co_return failure{io_error(rc, path, "create segment")};
    }
    head_bytes = bytes.size();
    co_return fd;
}

}  // namespace

wal::wal(file_system& fs, std::string dir, std::string metadata, const wal_options& options)
    : _fs(fs), _dir(std::move(dir)), _metadata(std::move(metadata)), _options(options) {}

wal::~wal() {
    // close() must have run: the flusher coroutine refers to this object.
    UETCD_ASSERT(!_running);
}

void wal::start() {
    UETCD_ASSERT(!_running);
    UETCD_ASSERT(_fd >= 0);
    _running = true;
    _gate.enter();
    reactor::spawn(flush_loop());
}

task<result<std::unique_ptr<wal>, wal_error>> wal::create(file_system& fs,
    const std::string& dir, const std::string& metadata, const wal_options& options) {
    if (!options_valid(options)) {
        co_return failure{wal_error{wal_errc::bad_options, 0, dir, 0, "record/batch/segment"}};
    }
    int rc = co_await fs.make_dirs(dir);
    if (rc != 0) {
        co_return failure{io_error(rc, dir, "mkdir")};
    }
    auto names = co_await fs.list_dir(dir);
    if (!names.ok()) {
        co_return failure{io_error(names.error(), dir, "list")};
    }
    for (const auto& name : *names) {
        if (parse_segment_name(name).has_value()) {
            co_return failure{wal_error{wal_errc::exists, 0, dir + "/" + name, 0, {}}};
        }
    }
    std::unique_ptr<wal> log(new wal(fs, dir, metadata, options));
    const segment_head head{0, 0, &log->_metadata, std::nullopt};
    auto fd = co_await create_segment(fs, dir, head, options.segment_bytes, log->_segment_offset);
    if (!fd.ok()) {
        co_return failure{std::move(fd).error()};
    }
    // The WAL directory itself must survive: fsync its parent and grandparent (member/ and
    // the data dir, which make_dirs may just have created; etcd fsyncs the parent too).
    std::string ancestor = dir;
    for (int level = 0; level < 2; ++level) {
        const auto slash = ancestor.rfind('/');
        if (slash == std::string::npos || slash == 0) {
            break;
        }
        ancestor.resize(slash);
        rc = co_await fs.fsync_dir(ancestor);
        if (rc != 0) {
            co_await fs.close(*fd);
            co_return failure{io_error(rc, ancestor, "fsync dir")};
        }
    }
    log->_fd = *fd;
    log->start();
    co_return log;
}

task<result<std::unique_ptr<wal>, wal_error>> wal::open(file_system& fs,
    const std::string& dir, const recovered_wal& recovered, const wal_options& options) {
    if (!options_valid(options) || recovered.segments.empty()) {
        co_return failure{wal_error{wal_errc::bad_options, 0, dir, 0, "options or no segment"}};
    }
    const segment_info& last = recovered.segments.back();
    const std::string path = dir + "/" + last.name;
    const int fd = co_await fs.open(path, open_mode::write_existing);
    if (fd < 0) {
        co_return failure{io_error(fd, path, "open")};
    }
    std::unique_ptr<wal> log(new wal(fs, dir, recovered.metadata, options));
    log->_fd = fd;
    log->_sequence = last.sequence;
    log->_segment_offset = last.valid_end;
    log->_last_index = recovered.last_index;
    log->_last_state = recovered.state;
    if (recovered.torn) {
        // Zero the cut tail so that it can never be mistaken for records later.
        UETCD_ASSERT(recovered.torn_end >= last.valid_end);
        const std::string zeros(recovered.torn_end - last.valid_end, '\0');
        int rc = co_await write_all(fs, fd, zeros, last.valid_end);
        if (rc == 0) {
            rc = co_await fs.fdatasync(fd);
        }
        if (rc != 0) {
            co_await fs.close(fd);
            co_return failure{io_error(rc, path, "zero torn tail")};
        }
    }
    log->start();
    co_return log;
}

std::optional<wal_error> wal::check_append(std::span<const record> records,
    std::uint64_t& framed_total) const {
    if (_failure.has_value()) {
        return _failure;
    }
    if (_closing) {
        return wal_error{wal_errc::closed, 0, _dir, 0, {}};
    }
    framed_total = 0;
    for (const record& rec : records) {
        if (rec.payload.size() > _options.record_bytes_max
            || rec.type == record_type::segment_header) {
            return wal_error{wal_errc::too_large, 0, _dir, 0, "record type or size"};
        }
        std::uint64_t index = 0;
        const bool indexed = rec.type == record_type::entry || rec.type == record_type::snapshot;
        if (indexed && !record_index(rec, index)) {
            return wal_error{wal_errc::too_large, 0, _dir, 0, "entry without an index"};
        }
        hard_state state;
        if (rec.type == record_type::hard_state && !parse_hard_state(rec.payload, state)) {
            return wal_error{wal_errc::too_large, 0, _dir, 0, "hard state of the wrong size"};
        }
        framed_total += framed_bytes(rec.payload.size());
    }
    return std::nullopt;
}

task<result<std::uint64_t, wal_error>> wal::append(std::span<const record> records) {
    std::uint64_t framed_total = 0;
    if (auto error = check_append(records, framed_total)) {
        co_return failure{std::move(*error)};
    }
    ++_stats.appends;
    // Tickets keep records in the order append() was called even when some wait for room:
    // raft's entries must reach the log in index order.
    const std::uint64_t ticket = _tickets_issued++;
    // An append larger than the whole bound waits for an empty queue and then goes alone.
    auto must_wait = [&] {
        return ticket != _tickets_served
            || (!_queue.empty() && _queue.size() + framed_total > _options.queued_bytes_max);
    };
    if (must_wait()) {
        ++_stats.queue_waits;
    }
    while (must_wait() && !_failure) {
        co_await _space.wait();
    }
    if (_failure.has_value()) {
        co_return failure{*_failure};
    }
    ++_tickets_served;
    _space.notify_all();
    for (const record& rec : records) {
        queued_record entry{framed_bytes(rec.payload.size()), rec.type, 0, {}};
        if (rec.type == record_type::entry) {
            record_index(rec, entry.index);
        } else if (rec.type == record_type::hard_state) {
            const bool parsed = parse_hard_state(rec.payload, entry.state);
            UETCD_ASSERT(parsed);
        }
        encode_record(rec.type, rec.payload, _queue);
        _queued.push_back(entry);
    }
    _queued_total += framed_total;
    const std::uint64_t end = _queued_total;
    _work.notify_all();
    while (_durable_total < end && !_failure) {
        co_await _durable_changed.wait();
    }
    if (_durable_total < end) {
        co_return failure{*_failure};
    }
    co_return end;
}

void wal::fail(wal_error error) {
    if (!_failure.has_value()) {
        _failure = std::move(error);
    }
    _durable_changed.notify_all();
    _space.notify_all();
}

task<void> wal::flush_loop() {
    while (true) {
        // When closing, appends that took a ticket but still wait for room are served first.
        while (_queued.empty() && !_failure
            && (!_closing || _tickets_served != _tickets_issued)) {
            co_await _work.wait();
        }
        if (_failure.has_value() || _queued.empty()) {
            break;  // failed, or closing with nothing left to write
        }
        const bool ok = co_await flush_batch();
        if (!ok) {
            break;
        }
    }
    _gate.leave();
}

// Takes the longest run of queued records that fits both the batch bound and the current
// segment (cutting a new segment when not even one fits), writes it with one write and makes
// it durable with one fdatasync. False after a failure.
task<bool> wal::flush_batch() {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    const std::uint64_t room = _options.segment_bytes > _segment_offset
        ? _options.segment_bytes - _segment_offset : 0;
    const std::uint64_t limit = std::min(room, _options.batch_bytes_max);
    while (count < _queued.size() && bytes + _queued[count].framed_bytes <= limit) {
        bytes += _queued[count].framed_bytes;
        ++count;
    }
    if (count == 0) {
        const bool cut = co_await cut_segment();
        co_return cut;  // the next round fills the new segment
    }
    if (bytes == _queue.size()) {
        _batch.swap(_queue);  // the common case: everything queued goes, no copy
        _queue.clear();
    } else {
        _batch.assign(_queue, 0, bytes);
        _queue.erase(0, bytes);
    }
    _space.notify_all();
    int rc = co_await write_all(_fs, _fd, _batch, _segment_offset);
    if (rc == 0) {
        rc = co_await _fs.fdatasync(_fd);
    }
    if (rc != 0) {
        fail(io_error(rc, _dir, "write batch"));
        co_return false;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
        const queued_record& done = _queued.front();
        if (done.type == record_type::entry) {
            _last_index = done.index;
        } else if (done.type == record_type::hard_state) {
            _last_state = done.state;
        }
        _queued.pop_front();
    }
    _segment_offset += bytes;
    _durable_total += bytes;
    UETCD_ASSERT(_durable_total <= _queued_total);
    UETCD_ASSERT(_segment_offset <= std::max(_options.segment_bytes, _segment_offset));
    ++_stats.fdatasyncs;
    _stats.records += count;
    _stats.bytes += bytes;
    _stats.batch_records_max = std::max(_stats.batch_records_max, count);
    _stats.last_batch_records = count;
    _durable_changed.notify_all();
    co_return true;
}

task<bool> wal::cut_segment() {
    const segment_head head{_sequence + 1, _last_index + 1, &_metadata, _last_state};
    std::uint64_t head_bytes = 0;
    auto fd = co_await create_segment(_fs, _dir, head, _options.segment_bytes, head_bytes);
    if (!fd.ok()) {
        fail(std::move(fd).error());
        co_return false;
    }
    co_await _fs.close(_fd);
    _fd = *fd;
    _sequence = head.sequence;
    _segment_offset = head_bytes;
    ++_stats.segments_cut;
    UETCD_ASSERT(_segment_offset < _options.segment_bytes);
    co_return true;
}

task<void> wal::close() {
    if (!_running) {
        co_return;
    }
    _closing = true;
    _work.notify_all();
    co_await _gate.close();
    _running = false;
    if (!_queued.empty()) {
        // The flusher stopped on a failure: the appends still waiting were told so.
        UETCD_ASSERT(_failure.has_value());
    }
    co_await _fs.close(_fd);
    _fd = -1;
}

}  // namespace uetcd::wal
