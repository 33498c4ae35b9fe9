#!/usr/bin/env bash
# Restart to serving after kill -9: loads KEYS distinct keys (64-byte values, wrk + load_keys.lua)
# into a fresh server, kills it with SIGKILL, starts it again on the same data dir and measures
# the time from exec until a GET of a loaded key answers 200 (curl every ~5 ms). uetcd
# (BUILD_DIR/etcd) at each of KEY_COUNTS; etcd 3.4 (--enable-v2) at ETCD_KEY_COUNTS. Prints the
# seconds, and uetcd's own "store ready" log line (snapshot load + WAL replay).
# Usage: bash bench/load/restart.sh BUILD_DIR   (env: KEY_COUNTS="160000 1000000",
# ETCD_KEY_COUNTS="160000", CONNECTIONS=64). Every server it starts is stopped.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly BUILD_DIR=${1:?usage: restart.sh BUILD_DIR}
readonly KEY_COUNTS=${KEY_COUNTS:-160000 1000000}
readonly ETCD_KEY_COUNTS=${ETCD_KEY_COUNTS:-160000}
readonly CONNECTIONS=${CONNECTIONS:-64}
readonly READY_TRIES=150  # x 0.2 s
readonly LOAD_TIMEOUT=${LOAD_TIMEOUT:-900}
TMP_DIR=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# args NAME DIR CP PP: the command line of one server.
server_cmd() {
    local name=$1 dir=$2 cp=$3 pp=$4
    if [[ $name == uetcd ]]; then echo -n "$BUILD_DIR/etcd"; else echo -n "/usr/bin/etcd --enable-v2"; fi
    echo " --name b --data-dir $dir --listen-client-urls http://127.0.0.1:$cp" \
        "--advertise-client-urls http://127.0.0.1:$cp --listen-peer-urls http://127.0.0.1:$pp" \
        "--initial-advertise-peer-urls http://127.0.0.1:$pp --initial-cluster b=http://127.0.0.1:$pp"
}

# measure NAME KEYS: prints "NAME KEYS restart_s".
measure() {
    local name=$1 keys=$2 dir="$TMP_DIR/$1-$2" cp pp cmd pid
    cp=$(free_port); pp=$(free_port)
    cmd=$(server_cmd "$name" "$dir" "$cp" "$pp")
    $cmd >"$dir.log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    for ((i = 0; i < READY_TRIES; i++)); do
        curl -fs -m 2 "http://127.0.0.1:$cp/version" >/dev/null 2>&1 && break
        sleep 0.2
    done
    local load_start=$SECONDS created=0 run=0
    # Short wrk runs of distinct new keys until the store holds KEYS of them.
    while (( created < keys && SECONDS - load_start < LOAD_TIMEOUT )); do
        run=$(( run + 1 ))
        RUN=$run wrk -t2 -c"$CONNECTIONS" -d2s -s "$SCRIPT_DIR/load_keys.lua" \
            "http://127.0.0.1:$cp" >/dev/null
        created=$(curl -fs -m 10 "http://127.0.0.1:$cp/v2/keys/load/r1t1_100" -o /dev/null -D - |
            awk 'tolower($1) == "x-etcd-index:" {print $2 + 0}' || true)
    done
    local load_s=$(( SECONDS - load_start ))
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    # Restart and time exec -> first 200 on a loaded key (curl polled every ~5 ms).
    local restart_s start_ns end_ns
    start_ns=$(date +%s%N)
    $cmd >"$dir.restart.log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    restart_s=timeout
    for ((i = 0; i < 12000; i++)); do
        if curl -fs -m 1 -o /dev/null "http://127.0.0.1:$cp/v2/keys/load/r1t1_100"; then
            end_ns=$(date +%s%N)
            restart_s=$(awk -v n=$(( end_ns - start_ns )) 'BEGIN { printf "%.3f", n / 1e9 }')
            break
        fi
        sleep 0.005
    done
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    local ready=""
    [[ $name == uetcd ]] && ready=$(grep -o 'store ready.*' "$dir.restart.log" | head -1)
    printf '%-6s %8s keys (X-Etcd-Index %s after %ss)  restart to serving: %s s  %s\n' \
        "$name" "$keys" "$created" "$load_s" "$restart_s" "$ready"
    grep -o 'captured in [0-9]* ms ([0-9,]* nodes' "$dir.log" | tail -1 | sed 's/^/       last snapshot /' || true
    rm -rf "$dir"
}

for keys in $ETCD_KEY_COUNTS; do measure etcd "$keys"; done
for keys in $KEY_COUNTS; do measure uetcd "$keys"; done
