#!/bin/sh
# With io_uring refused by seccomp: `auto` must fall back to epoll and work, `uring` must
# fail with a clear reason, and (when given) the reactor unit tests must pass under the
# filter. Without the filter, `auto` must pick io_uring when this host allows it.
#   usage: no_uring_test.sh NO_URING ENGINE_PROBE [UNIT_REACTOR]
set -u
no_uring=$1
probe=$2
unit_reactor=${3:-}
failures=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

check() {  # check DESCRIPTION COMMAND...: the command must succeed
    description=$1
    shift
    if "$@"; then
        echo "ok: $description"
    else
        echo "FAILED: $description"
        echo "  stdout: $(cat "$out")"
        echo "  stderr: $(cat "$err")"
        failures=$((failures + 1))
    fi
}

# 1. auto under the filter: epoll, with the fallback notice naming the reason.
"$no_uring" "$probe" auto >"$out" 2>"$err"
status=$?
check "auto under no-uring exits 0" [ "$status" -eq 0 ]
check "auto under no-uring runs epoll" grep -qx 'engine: epoll' "$out"
check "auto under no-uring explains the fallback" grep -q \
    '^notice: io_uring refused (io_uring_queue_init: operation not permitted: .*); using epoll$' \
    "$out"

# 2. uring under the filter: a non-zero exit and the reason.
"$no_uring" "$probe" uring >"$out" 2>"$err"
status=$?
check "uring under no-uring exits non-zero" [ "$status" -ne 0 ]
check "uring under no-uring says why" grep -q \
    'io_uring is not available: io_uring_queue_init: operation not permitted' "$err"

# 3. gVisor answers ENOSYS instead: auto still falls back, and says so.
"$no_uring" --errno=ENOSYS "$probe" auto >"$out" 2>"$err"
status=$?
check "auto under ENOSYS exits 0" [ "$status" -eq 0 ]
check "auto under ENOSYS names the missing syscall" grep -q \
    '^notice: io_uring refused (io_uring_queue_init: function not implemented: ' "$out"

# 4. epoll asked for explicitly works under the filter too.
"$no_uring" "$probe" epoll >"$out" 2>"$err"
status=$?
check "epoll under no-uring exits 0" [ "$status" -eq 0 ]

# 5. Without the filter, auto takes io_uring wherever the host allows it.
"$probe" uring >"$out" 2>"$err"
if [ $? -eq 0 ]; then
    "$probe" auto >"$out" 2>"$err"
    check "auto without the filter runs io_uring" grep -qx 'engine: io_uring' "$out"
else
    echo "skip: io_uring is refused on this host even without the filter: $(cat "$err")"
fi

# 6. The whole reactor unit suite, engine auto, under the filter (so on epoll).
if [ -n "$unit_reactor" ]; then
    UETCD_IO_ENGINE=auto "$no_uring" "$unit_reactor" >"$out" 2>"$err"
    status=$?
    check "reactor unit tests pass under no-uring" [ "$status" -eq 0 ]
fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
