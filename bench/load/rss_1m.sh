#!/usr/bin/env bash
# Memory per key: loads KEYS (default 1,000,000) distinct keys with 64-byte values into uetcd
# (BUILD_DIR/etcd) and into etcd 3.4 (--enable-v2), one server at a time, each fresh on free
# loopback ports with a temporary data dir, with wrk (rss_put.lua: PUT /v2/keys/rss/k<t>_<n>,
# CONNECTIONS keep-alive connections), and prints each server's VmRSS before and after and the
# ratio uetcd/etcd of the after figures and of the growth. Every server it starts is stopped.
# Usage: bash bench/load/rss_1m.sh BUILD_DIR [KEYS]   (env: CONNECTIONS=64, SERVERS="uetcd etcd",
# LOAD_TIMEOUT=900 seconds per server)
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly BUILD_DIR=${1:?usage: rss_1m.sh BUILD_DIR [KEYS]}
readonly KEYS=${2:-1000000}
readonly CONNECTIONS=${CONNECTIONS:-64}
readonly WRK_THREADS=2
readonly LOAD_TIMEOUT=${LOAD_TIMEOUT:-900}
readonly READY_TRIES=75   # x 0.2 s
SERVERS=(${SERVERS:-uetcd etcd})
TMP_DIR=$(mktemp -d)
PIDS=()
declare -A BEFORE=() AFTER=() SECS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# measure NAME: start the server, load KEYS keys, record VmRSS before/after, stop it.
measure() {
    local name=$1 bin extra cp pp
    if [[ $name == uetcd ]]; then bin=$BUILD_DIR/etcd; extra=""; else bin=/usr/bin/etcd; extra=--enable-v2; fi
    cp=$(free_port); pp=$(free_port)
    "$bin" --name b --data-dir "$TMP_DIR/$name" --listen-client-urls "http://127.0.0.1:$cp" \
        --advertise-client-urls "http://127.0.0.1:$cp" --listen-peer-urls "http://127.0.0.1:$pp" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
        --initial-cluster "b=http://127.0.0.1:$pp" $extra >"$TMP_DIR/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < READY_TRIES; i++)); do
        curl -sf "http://127.0.0.1:$cp/version" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -sf -XPUT "http://127.0.0.1:$cp/v2/keys/rss/warm" -d value=x >/dev/null
    sleep 1
    BEFORE[$name]=$(rss_kib "$pid")
    local start=$SECONDS
    # wrk waits out its whole -d even after every thread stopped: watch the server's
    # setsSuccess count instead and end wrk when all keys are in (bounded by LOAD_TIMEOUT).
    QUOTA=$((KEYS / WRK_THREADS)) wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${LOAD_TIMEOUT}s" \
        -s "$SCRIPT_DIR/rss_put.lua" "http://127.0.0.1:$cp" >"$TMP_DIR/$name.wrk" 2>&1 &
    local wrk_pid=$! created=0
    PIDS+=("$wrk_pid")
    while ((SECONDS - start < LOAD_TIMEOUT)) && kill -0 "$wrk_pid" 2>/dev/null; do
        created=$(curl -s "http://127.0.0.1:$cp/v2/stats/store" | sed 's/.*"setsSuccess":\([0-9]*\).*/\1/')
        ((created > KEYS)) && break
        sleep 0.5
    done
    kill "$wrk_pid" 2>/dev/null || true; wait "$wrk_pid" 2>/dev/null || true
    echo "  $name: setsSuccess=$created (1 warm-up key + KEYS)"
    SECS[$name]=$((SECONDS - start))
    sleep 2
    AFTER[$name]=$(rss_kib "$pid")
    printf '%s: %d keys in %d s, VmRSS %d KiB -> %d KiB (+%d KiB, %.0f bytes/key)\n' "$name" \
        "$KEYS" "${SECS[$name]}" "${BEFORE[$name]}" "${AFTER[$name]}" \
        $((AFTER[$name] - BEFORE[$name])) \
        "$(echo "(${AFTER[$name]} - ${BEFORE[$name]}) * 1024 / $KEYS" | bc -l)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

for s in "${SERVERS[@]}"; do measure "$s"; done
if [[ -n ${AFTER[uetcd]:-} && -n ${AFTER[etcd]:-} ]]; then
    printf 'ratio uetcd/etcd: VmRSS after %.3f, growth %.3f\n' \
        "$(echo "${AFTER[uetcd]} / ${AFTER[etcd]}" | bc -l)" \
        "$(echo "(${AFTER[uetcd]} - ${BEFORE[uetcd]}) / (${AFTER[etcd]} - ${BEFORE[etcd]})" | bc -l)"
fi
