#!/usr/bin/env bash
# TLS load benchmark (issue #9), one run on one machine, servers loaded one at a time with the
# same certificates (RSA 2048, made here by openssl):
#   get-keepalive  GET of one key over TLS at CONNECTIONS keep-alive connections (wrk)
#   new-conns      "Connection: close" GETs at HANDSHAKE_CONNECTIONS: every request is a new
#                  TCP connection and TLS handshake (wrk reconnects; it resumes its TLS
#                  session, as most clients do), i.e. new TLS connections per second
#   full-handshakes  `openssl s_time -new`: one client, sequential full handshakes (no
#                  resumption: the server's RSA signature every time)
# each on uetcd and on etcd 3.4 (--enable-v2). Prints req/s, p50/p99 and the uetcd/etcd
# ratios (issue target: GET over TLS >= 2x etcd 3.4 over TLS).
# Usage: bash bench/load/tls.sh BUILD_DIR. Environment: DURATION (10s), CONNECTIONS (64),
# HANDSHAKE_CONNECTIONS (16), WRK_THREADS (2). Writes only into a mktemp directory, removed
# on exit; every server it starts is stopped.
set -euo pipefail

readonly BUILD_DIR=${1:?usage: bash bench/load/tls.sh BUILD_DIR}
readonly DURATION=${DURATION:-10s}
readonly CONNECTIONS=${CONNECTIONS:-64}
readonly HANDSHAKE_CONNECTIONS=${HANDSHAKE_CONNECTIONS:-16}
readonly WRK_THREADS=${WRK_THREADS:-2}
readonly ETCD_BIN=/usr/bin/etcd
readonly READY_TRIES=100  # x 0.1 s

TMP_DIR=$(mktemp -d)
PIDS=()
cleanup() {
    local pid i
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf -- "$TMP_DIR"
}
trap cleanup EXIT

for tool in wrk curl openssl "$ETCD_BIN" "$BUILD_DIR/etcd"; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x $tool ]] || { echo "tls.sh: missing $tool" >&2; exit 2; }
done

make_certs() {
    local d=$TMP_DIR/certs
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 \
        -subj "/CN=bench CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/server.pem" -days 30 -extfile "$d/server.ext" 2>/dev/null
}

# start NAME BINARY CLIENT_PORT PEER_PORT [extra flags...]
start() {
    local name=$1 bin=$2 cport=$3 pport=$4 i
    shift 4
    local c=https://127.0.0.1:$cport p=http://127.0.0.1:$pport
    "$bin" --name "$name" --data-dir "$TMP_DIR/$name" --listen-client-urls "$c" \
        --advertise-client-urls "$c" --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
        --initial-cluster "$name=$p" --cert-file "$TMP_DIR/certs/server.pem" \
        --key-file "$TMP_DIR/certs/server.key" "$@" >"$TMP_DIR/$name.log" 2>&1 &
    PIDS+=($!)
    for ((i = 0; i < READY_TRIES; i++)); do
        curl -fs --cacert "$TMP_DIR/certs/ca.pem" -XPUT "$c/v2/keys/bench/k" \
            -d value=0123456789abcdef >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "tls.sh: $name did not start; log:" >&2
    cat "$TMP_DIR/$name.log" >&2
    exit 2
}

declare -A RPS=() P50=() P99=() CPU_US=()
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure LABEL SERVER_PID URL CONNECTIONS [header]: also the server's CPU per request, the
# figure the shared 2-core box cannot blur (wrk's own TLS work competes for the same cores).
measure() {
    local label=$1 pid=$2 url=$3 connections=$4 out ticks_before ticks_after
    shift 4
    local args=(-t"$WRK_THREADS" -c"$connections" -d"$DURATION" --latency)
    [[ $# -gt 0 ]] && args+=(-H "$1")
    ticks_before=$(cpu_ticks "$pid")
    out=$(wrk "${args[@]}" "$url")
    ticks_after=$(cpu_ticks "$pid")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "tls.sh: $label got non-2xx answers:" >&2
        echo "$out" >&2
    fi
    RPS[$label]=$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out")
    P50[$label]=$(awk '$1 == "50%" {print $2}' <<<"$out")
    P99[$label]=$(awk '$1 == "99%" {print $2}' <<<"$out")
    CPU_US[$label]=$(awk -v t=$((ticks_after - ticks_before)) -v r="${RPS[$label]}" \
        -v d="${DURATION%s}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%.1f", (r > 0 ? t / hz * 1e6 / (r * d) : 0)}')
    printf '%-22s %10s req/s   p50 %-9s p99 %-9s server CPU %s us/req\n' "$label" \
        "${RPS[$label]}" "${P50[$label]}" "${P99[$label]}" "${CPU_US[$label]}"
}

pick_port() { echo $((20000 + RANDOM % 9000)); }
U_C=$(pick_port); U_P=$((U_C + 1)); E_C=$((U_C + 2)); E_P=$((U_C + 3))

make_certs
echo "tls bench: $CONNECTIONS keep-alive / $HANDSHAKE_CONNECTIONS new-connection clients," \
    "$WRK_THREADS wrk threads, $DURATION each, $(nproc) cores, RSA 2048 certificates"
start uetcd "$BUILD_DIR/etcd" "$U_C" "$U_P"
start etcd "$ETCD_BIN" "$E_C" "$E_P" --enable-v2
U=https://127.0.0.1:$U_C/v2/keys/bench/k
E=https://127.0.0.1:$E_C/v2/keys/bench/k
readonly U_PID=${PIDS[0]} E_PID=${PIDS[1]}
measure uetcd-get-keepalive "$U_PID" "$U" "$CONNECTIONS"
measure etcd-get-keepalive "$E_PID" "$E" "$CONNECTIONS"
measure uetcd-new-conns "$U_PID" "$U" "$HANDSHAKE_CONNECTIONS" "Connection: close"
measure etcd-new-conns "$E_PID" "$E" "$HANDSHAKE_CONNECTIONS" "Connection: close"
# full_handshakes LABEL HOST:PORT: sequential full handshakes per second (openssl s_time).
full_handshakes() {
    local label=$1 seconds=${DURATION%s} out count real
    out=$(openssl s_time -connect "$2" -new -time "$seconds" -CAfile "$TMP_DIR/certs/ca.pem" \
        2>/dev/null | grep 'connections in .* real seconds')
    count=$(awk '{print $1}' <<<"$out")
    real=$(awk '{print $4}' <<<"$out")
    RPS[$label]=$(awk -v c="$count" -v r="$real" 'BEGIN {printf "%d", (r > 0 ? c / r : 0)}')
    printf '%-22s %10s handshakes/s (1 client)\n' "$label" "${RPS[$label]}"
}
full_handshakes uetcd-full-handshakes "127.0.0.1:$U_C"
full_handshakes etcd-full-handshakes "127.0.0.1:$E_C"
awk -v ug="${RPS[uetcd-get-keepalive]}" -v eg="${RPS[etcd-get-keepalive]}" \
    -v un="${RPS[uetcd-new-conns]}" -v en="${RPS[etcd-new-conns]}" \
    -v uf="${RPS[uetcd-full-handshakes]}" -v ef="${RPS[etcd-full-handshakes]}" \
    -v uc="${CPU_US[uetcd-get-keepalive]}" -v ec="${CPU_US[etcd-get-keepalive]}" 'BEGIN {
    printf "GET over TLS, uetcd / etcd 3.4:    %.2fx (target >= 2)\n", (eg > 0 ? ug / eg : 0)
    printf "server CPU per TLS GET, etcd / uetcd: %.2fx\n", (uc > 0 ? ec / uc : 0)
    printf "new TLS connections, uetcd / etcd: %.2fx\n", (en > 0 ? un / en : 0)
    printf "full handshakes, uetcd / etcd:     %.2fx\n", (ef > 0 ? uf / ef : 0)
}'
