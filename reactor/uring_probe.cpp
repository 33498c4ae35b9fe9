// Probing io_uring: reasons for a refusal, the opcodes we need, and optional features.
// Optional features are probed on throw-away rings so the engine's own ring never sees a
// probe's completion.
#include "reactor/uring_probe.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace uetcd::reactor {

namespace {

struct opcode_need {
    int opcode;
    const char* name;
};

// Every opcode uring_backend submits (ASYNC_CANCEL for cancel(), NOP for nop ops).
constexpr opcode_need needed_opcodes[] = {
    {IORING_OP_ACCEPT, "ACCEPT"}, {IORING_OP_CONNECT, "CONNECT"}, {IORING_OP_RECV, "RECV"},
    {IORING_OP_SEND, "SEND"}, {IORING_OP_READ, "READ"}, {IORING_OP_WRITE, "WRITE"},
    {IORING_OP_FSYNC, "FSYNC"}, {IORING_OP_FALLOCATE, "FALLOCATE"},
    {IORING_OP_OPENAT, "OPENAT"}, {IORING_OP_CLOSE, "CLOSE"},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"}, {IORING_OP_NOP, "NOP"},
};

// A small ring that exists only for one probe.
class scratch_ring {
public:
    explicit scratch_ring(unsigned flags = 0) {
        io_uring_params params{};
        params.flags = flags;
        _ready = io_uring_queue_init_params(4, &ring, &params) == 0;
    }
    ~scratch_ring() {
        if (_ready) {
            io_uring_queue_exit(&ring);
        }
    }
    scratch_ring(const scratch_ring&) = delete;
    scratch_ring& operator=(const scratch_ring&) = delete;
    bool ready() const noexcept { return _ready; }

    io_uring ring{};

private:
    bool _ready = false;
};

// Kernels before 5.19 reject any accept flag in sqe->ioprio with EINVAL; newer ones take
// IORING_ACCEPT_MULTISHOT and then fail on the bad descriptor with EBADF.
bool probe_multishot_accept() {
    scratch_ring scratch;
    if (!scratch.ready()) {
        return false;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(&scratch.ring);
    io_uring_prep_multishot_accept(sqe, -1, nullptr, nullptr, 0);
    if (io_uring_submit(&scratch.ring) != 1) {
        return false;
    }
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&scratch.ring, &cqe) != 0) {
        return false;
    }
    const bool supported = cqe->res == -EBADF;
    io_uring_cqe_seen(&scratch.ring, cqe);
    return supported;
}

bool probe_buffer_rings() {
    scratch_ring scratch;
    if (!scratch.ready()) {
        return false;
    }
    // The ring of provided buffers must be page aligned; one page holds 256 entries.
    const long page_bytes = ::sysconf(_SC_PAGESIZE);
    void* memory = ::mmap(nullptr, static_cast<std::size_t>(page_bytes),
        PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (memory == MAP_FAILED) {
        return false;
    }
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uint64_t>(memory);
    registration.ring_entries = 1;
    registration.bgid = 0;
    const int rc = io_uring_register_buf_ring(&scratch.ring, &registration, 0);
    if (rc == 0) {
        io_uring_unregister_buf_ring(&scratch.ring, 0);
    }
    ::munmap(memory, static_cast<std::size_t>(page_bytes));
    return rc == 0;
}

bool probe_registered_files() {
    scratch_ring scratch;
    return scratch.ready() && io_uring_register_files_sparse(&scratch.ring, 1) == 0;
}

bool probe_defer_taskrun() {
    scratch_ring scratch(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    return scratch.ready();
}

void append_flag(std::string& out, bool on, const char* name) {
    out += on ? " +" : " -";
    out += name;
}

}  // namespace

bool uring_plain_requested() noexcept {
    const char* value = std::getenv("UETCD_URING_PLAIN");
    return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

std::string describe_uring_features(const uring_features& features) {
    std::string out = "io_uring features:";
    append_flag(out, features.single_issuer, "single_issuer");
    append_flag(out, features.coop_taskrun, "coop_taskrun");
    append_flag(out, features.defer_taskrun, "defer_taskrun");
    append_flag(out, features.fast_poll, "fast_poll");
    append_flag(out, features.ext_arg, "ext_arg");
    append_flag(out, features.multishot_accept, "multishot_accept");
    append_flag(out, features.buffer_rings, "buffer_rings");
    append_flag(out, features.registered_files, "registered_files");
    if (features.plain) {
        out += " (plain: UETCD_URING_PLAIN=1)";
    }
    return out;
}

int read_io_uring_disabled() noexcept {
    std::FILE* file = std::fopen("/proc/sys/kernel/io_uring_disabled", "re");
    if (file == nullptr) {
        return -1;
    }
    int value = -1;
    if (std::fscanf(file, "%d", &value) != 1) {
        value = -1;
    }
    std::fclose(file);
    return value;
}

std::string explain_uring_setup_error(int error_number) {
    std::string text = std::strerror(error_number);
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
        text[0] = static_cast<char>(text[0] - 'A' + 'a');
    }
    text = "io_uring_queue_init: " + text;
    const int disabled = read_io_uring_disabled();
    if (error_number == EPERM && disabled == 2) {
        return text + ": kernel.io_uring_disabled=2 turns io_uring off for every process";
    }
    if (error_number == EPERM && disabled == 1) {
        return text + ": kernel.io_uring_disabled=1 allows io_uring only to members of "
                      "kernel.io_uring_group";
    }
    if (error_number == EPERM) {
        return text + ": blocked by a seccomp filter or kernel.io_uring_disabled";
    }
    if (error_number == ENOSYS) {
        return text + ": the kernel or sandbox (e.g. gVisor) has no io_uring";
    }
    if (error_number == ENOMEM) {
        return text + ": RLIMIT_MEMLOCK too small for the ring (kernels before 5.12); "
                      "raise ulimit -l";
    }
    return text;
}

std::string check_uring_opcodes(io_uring& ring) {
    std::unique_ptr<io_uring_probe, void (*)(io_uring_probe*)> probe(
        io_uring_get_probe_ring(&ring), io_uring_free_probe);
    if (!probe) {
        return "io_uring_get_probe: the kernel cannot list its opcodes (older than 5.6)";
    }
    std::string missing;
    for (const auto& need : needed_opcodes) {
        if (!io_uring_opcode_supported(probe.get(), need.opcode)) {
            missing += missing.empty() ? "" : ", ";
            missing += need.name;
        }
    }
    if (missing.empty()) {
        return {};
    }
    return "io_uring lacks opcodes " + missing + " (kernel older than 5.6?)";
}

void probe_optional_uring_features(uring_features& features) {
    features.defer_taskrun = probe_defer_taskrun();
    features.multishot_accept = probe_multishot_accept();
    features.buffer_rings = probe_buffer_rings();
    features.registered_files = probe_registered_files();
}

}  // namespace uetcd::reactor
