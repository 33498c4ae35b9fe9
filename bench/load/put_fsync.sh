#!/usr/bin/env bash
# PUT with fsync: uetcd (BUILD_DIR/etcd, durable WAL with group commit) against etcd 3.4
# (/usr/bin/etcd --enable-v2), both on a temporary data dir on the same disk ($TMPDIR), on
# loopback, one server loaded at a time, in the same run. wrk + put.lua (64-byte values) at each
# of CONNECTION_LEVELS. Prints requests/s, p50, p99 and the ratio uetcd/etcd; for uetcd the WAL's
# records per fdatasync and fdatasyncs/s (from its shutdown log line); and the disk's own
# fdatasync rate (one 64-byte write + fdatasync in a loop, measured in the same run).
# Usage: bash bench/load/put_fsync.sh BUILD_DIR   (env: DURATION=10s, CONNECTION_LEVELS="64 256",
# WRK_THREADS=2). Every server it starts is stopped; the temp dir is removed.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly BUILD_DIR=${1:?usage: put_fsync.sh BUILD_DIR}
readonly DURATION=${DURATION:-10s}
readonly CONNECTION_LEVELS=${CONNECTION_LEVELS:-64 256}
readonly WRK_THREADS=${WRK_THREADS:-2}
readonly READY_TRIES=75   # x 0.2 s
readonly STOP_TRIES=100   # x 0.1 s, then SIGKILL
TMP_DIR=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The disk's own rate: 64-byte pwrite + fdatasync, one at a time, for 3 s.
disk_fdatasync_rate() {
    python3 - "$TMP_DIR/fsync-probe" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
os.posix_fallocate(fd, 0, 1 << 20)
os.fsync(fd)
n, off, start = 0, 0, time.monotonic()
while time.monotonic() - start < 3.0:
    os.pwrite(fd, b"x" * 64, off)
    os.fdatasync(fd)
    n += 1
    off = (off + 64) % (1 << 20)
print(f"{n / (time.monotonic() - start):.0f}")
os.close(fd)
PY
}

# start NAME DIR: starts the server on free ports; sets URL and SERVER_PID.
start() {
    local name=$1 dir=$2 bin extra cp pp
    if [[ $name == uetcd ]]; then bin=$BUILD_DIR/etcd; extra=""; else bin=/usr/bin/etcd; extra=--enable-v2; fi
    cp=$(free_port); pp=$(free_port)
    "$bin" --name b --data-dir "$dir" --listen-client-urls "http://127.0.0.1:$cp" \
        --advertise-client-urls "http://127.0.0.1:$cp" --listen-peer-urls "http://127.0.0.1:$pp" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
        --initial-cluster "b=http://127.0.0.1:$pp" $extra >"$dir.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    URL="http://127.0.0.1:$cp"
    for ((i = 0; i < READY_TRIES; i++)); do
        curl -fs -m 2 "$URL/version" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "put_fsync: $name did not start; log: $(tail -3 "$dir.log")" >&2
    return 1
}

stop() {
    kill "$1" 2>/dev/null || true
    for ((i = 0; i < STOP_TRIES; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# wrk's latency lines are like "50%  1.23ms"; print them in ms.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }

# measure NAME CONNS: fresh server and data dir, warm-up, one wrk run; sets RPS P50 P99 BATCH.
measure() {
    local name=$1 conns=$2 dir="$TMP_DIR/$1-$2" out
    start "$name" "$dir"
    curl -fs -m 5 -XPUT "$URL/v2/keys/bench/k" -d value=warm >/dev/null
    wrk -t"$WRK_THREADS" -c"$conns" -d2s -s "$SCRIPT_DIR/put.lua" "$URL/v2/keys/bench/k" >/dev/null
    out=$(wrk -t"$WRK_THREADS" -c"$conns" -d"$DURATION" --latency -s "$SCRIPT_DIR/put.lua" \
        "$URL/v2/keys/bench/k")
    RPS=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
    P50=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)
    P99=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)
    NON2XX=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    local started_s=$SECONDS
    stop "$SERVER_PID"
    BATCH=""
    if [[ $name == uetcd ]]; then
        # "wal: N records in M fdatasyncs (X records per fdatasync, max Y), ..."
        BATCH=$(grep -o 'wal: [0-9,]* records in [0-9,]* fdatasyncs ([0-9.]* records per fdatasync, max [0-9]*)' "$dir.log" | tail -1)
    fi
    : "$started_s"
}

main() {
    local disk_rate
    disk_rate=$(disk_fdatasync_rate)
    echo "disk: $disk_rate fdatasyncs/s (64-byte pwrite + fdatasync, one at a time, $TMP_DIR)"
    printf '%-6s %-6s %10s %9s %9s  %s\n' conns server "req/s" "p50 ms" "p99 ms" "notes"
    for conns in $CONNECTION_LEVELS; do
        declare -A R=()
        for name in etcd uetcd; do
            measure "$name" "$conns"
            R[$name]=$RPS
            local note=""
            [[ -n ${NON2XX:-} ]] && note="non-2xx: $NON2XX "
            if [[ -n $BATCH ]]; then
                # records and fdatasyncs cover the whole life (warm-up included): ~DURATION + 2 s.
                local syncs secs
                syncs=$(sed -E 's/.* records in ([0-9,]*) fdatasyncs.*/\1/; s/,//g' <<<"$BATCH")
                secs=$(( ${DURATION%s} + 2 ))
                note+="${BATCH#wal: }; ~$(( syncs / secs )) fdatasyncs/s"
            fi
            printf '%-6s %-6s %10s %9s %9s  %s\n' "$conns" "$name" "$RPS" "$P50" "$P99" "$note"
        done
        awk -v u="${R[uetcd]}" -v e="${R[etcd]}" -v c="$conns" \
            'BEGIN { if (e > 0) printf "%-6s ratio uetcd/etcd: %.2fx\n", c, u / e }'
        unset R
    done
}
main
