// What the kernel's io_uring offers (private to reactor/): why it may be refused, whether
// every opcode we submit exists, and which optional features could be switched on.
#pragma once

#include <liburing.h>

#include <string>

namespace uetcd::reactor {

// Optional io_uring features. The engine runs without any of them; each flag says the
// kernel offers it (probed) or, for the setup flags, that the ring was made with it.
struct uring_features {
    bool single_issuer = false;     // ring made with IORING_SETUP_SINGLE_ISSUER (6.0)
    bool coop_taskrun = false;      // ring made with IORING_SETUP_COOP_TASKRUN (5.19)
    bool defer_taskrun = false;     // IORING_SETUP_DEFER_TASKRUN accepted (6.1); not used yet
    bool fast_poll = false;         // IORING_FEAT_FAST_POLL (5.7): no worker thread per recv
    bool ext_arg = false;           // IORING_FEAT_EXT_ARG (5.11): required for timed waits
    bool multishot_accept = false;  // IORING_ACCEPT_MULTISHOT (5.19); not used yet
    bool buffer_rings = false;      // io_uring_register_buf_ring (5.19); not used yet
    bool registered_files = false;  // sparse registered file tables (5.19); not used yet
    bool plain = false;             // UETCD_URING_PLAIN=1: no optional feature was tried
};

// True when UETCD_URING_PLAIN is set to anything but "" or "0".
bool uring_plain_requested() noexcept;

// One line for the start-up log, e.g. "io_uring features: +single_issuer +coop_taskrun
// -defer_taskrun +fast_poll ...", ending in " (plain: UETCD_URING_PLAIN=1)" when forced.
std::string describe_uring_features(const uring_features& features);

// Why io_uring_setup failed with `error_number`, in words an operator can act on, using
// /proc/sys/kernel/io_uring_disabled when it exists.
std::string explain_uring_setup_error(int error_number);

// The value of /proc/sys/kernel/io_uring_disabled, or -1 when the file does not exist.
int read_io_uring_disabled() noexcept;

// "" when the ring supports every opcode the engine submits, else
// "io_uring lacks opcodes: ACCEPT, CONNECT (kernel older than 5.6?)".
std::string check_uring_opcodes(io_uring& ring);

// Fills the probed (not-yet-used) features: defer_taskrun, multishot_accept, buffer_rings
// and registered_files. Uses scratch rings, so `ring` sees no extra completions.
void probe_optional_uring_features(uring_features& features);

}  // namespace uetcd::reactor
