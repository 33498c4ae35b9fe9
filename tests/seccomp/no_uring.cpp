// no-uring: runs a command with io_uring refused, as a container's seccomp profile or
// kernel.io_uring_disabled would refuse it. A raw BPF filter (no libseccomp) makes
// io_uring_setup, io_uring_enter and io_uring_register fail with EPERM (or the errno given
// by --errno=ENOSYS, which is what gVisor answers); every other syscall is allowed.
//   usage: no-uring [--errno=EPERM|ENOSYS] command [args...]
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace {

#if defined(__x86_64__)
constexpr unsigned native_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned native_arch = AUDIT_ARCH_AARCH64;
#else
#error "no-uring: add this architecture's AUDIT_ARCH_* constant"
#endif

constexpr unsigned data_offset(std::size_t offset) { return static_cast<unsigned>(offset); }

int install_filter(unsigned error_number) {
    const unsigned deny = SECCOMP_RET_ERRNO | (error_number & SECCOMP_RET_DATA);
    sock_filter program[] = {
        // Another ABI (e.g. 32-bit) has other numbers: leave it alone.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, data_offset(offsetof(seccomp_data, arch))),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, data_offset(offsetof(seccomp_data, nr))),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, deny),
    };
    sock_fprog filter{};
    filter.len = static_cast<unsigned short>(sizeof(program) / sizeof(program[0]));
    filter.filter = program;
    // Lets an unprivileged process install a filter; exec'd programs cannot gain privileges.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        std::fprintf(stderr, "no-uring: prctl(PR_SET_NO_NEW_PRIVS): %s\n", std::strerror(errno));
        return -1;
    }
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0) {
        std::fprintf(stderr, "no-uring: seccomp: %s\n", std::strerror(errno));
        return -1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int first = 1;
    unsigned error_number = EPERM;
    if (argc > 1 && std::strncmp(argv[1], "--errno=", 8) == 0) {
        const char* name = argv[1] + 8;
        if (std::strcmp(name, "EPERM") == 0) {
            error_number = EPERM;
        } else if (std::strcmp(name, "ENOSYS") == 0) {
            error_number = ENOSYS;
        } else {
            std::fprintf(stderr, "no-uring: --errno takes EPERM or ENOSYS, not %s\n", name);
            return 2;
        }
        first = 2;
    }
    if (first >= argc) {
        std::fprintf(stderr, "usage: no-uring [--errno=EPERM|ENOSYS] command [args...]\n");
        return 2;
    }
    if (install_filter(error_number) != 0) {
        return 125;
    }
    ::execvp(argv[first], argv + first);
    std::fprintf(stderr, "no-uring: cannot run %s: %s\n", argv[first], std::strerror(errno));
    return 127;
}
