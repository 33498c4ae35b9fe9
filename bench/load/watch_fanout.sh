#!/usr/bin/env bash
# Watch fan-out (issue #3) on uetcd (BUILD_DIR/etcd) and the real etcd 3.4, one after the
# other: each server is started fresh on free loopback ports with a temporary data dir, measured
# with BUILD_DIR/bench/watch-fanout (N long-poll watchers on one key, one write, time from the
# write's send to each notification), then stopped. Usage:
#   bash bench/load/watch_fanout.sh BUILD_DIR [WATCHERS=10000]
set -euo pipefail
readonly BUILD_DIR=${1:?usage: watch_fanout.sh BUILD_DIR [WATCHERS]}
readonly WATCHERS=${2:-10000}
readonly READY_TRIES=75   # x 0.2 s
TMP_DIR=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_one NAME BINARY EXTRA_FLAG
run_one() {
    local name=$1 bin=$2 extra=$3 cp pp
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
    echo "== $name ($WATCHERS watchers)"
    ulimit -n $((WATCHERS + 1000)) 2>/dev/null || true
    "$BUILD_DIR/bench/watch-fanout" "http://127.0.0.1:$cp" "$WATCHERS" || echo "$name: FAILED"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "== floor: the same number of loopback notifications with no server (fanout-floor)"
"$BUILD_DIR/bench/fanout-floor" "$WATCHERS" 2 || echo "floor: FAILED"
run_one uetcd "$BUILD_DIR/etcd" ""
run_one etcd /usr/bin/etcd --enable-v2
