#!/usr/bin/env bash
# End-to-end load benchmark: uetcd (once per I/O engine: uetcd-uring, uetcd-epoll) against the
# real etcd 3.4 and against nginx, in one run on one machine. It starts the servers on loopback
# (free ports, temporary data dirs), loads them one at a time with wrk (the others sit idle so
# they do not compete for the cores), and prints per test a table at CONNECTIONS connections and
# one at a single connection, with req/s, p50, p99 and the ratios of each uetcd engine over etcd
# and nginx, and of uring over epoll. nginx answers every path with a fixed body of the size and
# content type of etcd's /version answer: the "how fast can this machine serve a tiny HTTP
# response" ceiling.
#
# Usage: bash bench/load/run.sh BUILD_DIR [TESTS...]     (`make bench` runs it after installing
# wrk and nginx-light). Tests: see TEST_TABLE below. Environment: DURATION (10s), CONNECTIONS
# (64), WRK_THREADS (2), NGINX_WORKERS (1), UETCD_CORES (unset: uetcd's default), UETCD_ENGINES
# ("uring epoll"), ONE_CONN (1: also measure one connection). See README.md.
#
# It installs nothing. It writes only into a mktemp -d directory (removed on exit) and the
# results file bench/load/results/<timestamp>.tsv (gitignored).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly DURATION=${DURATION:-10s}
readonly CONNECTIONS=${CONNECTIONS:-64}
readonly WRK_THREADS=${WRK_THREADS:-2}
readonly NGINX_WORKERS=${NGINX_WORKERS:-1}
readonly UETCD_CORES=${UETCD_CORES:-}
readonly UETCD_ENGINES=${UETCD_ENGINES-uring epoll}
readonly ONE_CONN=${ONE_CONN:-1}
readonly ETCD_BIN=/usr/bin/etcd
readonly WARMUP=1s
readonly READY_TRIES=75          # x 0.2 s: a server gets 15 s to answer /version
readonly STOP_TRIES=50           # x 0.1 s: then SIGKILL
readonly CURL_TIMEOUT_S=5
# The 64-byte value of the get/qget/put tests; put.lua sends the same bytes.
readonly BENCH_VALUE=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
# Used for nginx only if the real etcd did not start (normally measured at run time).
readonly FALLBACK_VERSION_BODY='{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}'

# The test table. One line per test: name|method|path|wrk lua script or -|setup function or -.
# The setup function runs against each server (base URL as $1) before the endpoint check.
# To add a test: add a line here (and a lua script or setup function if it needs one).
readonly TEST_TABLE=(
    "version|GET|/version|-|-"
    "health|GET|/health|-|-"
    "get|GET|/v2/keys/bench/k|-|setup_key"
    "put|PUT|/v2/keys/bench/k|put.lua|-"
    "qget|GET|/v2/keys/bench/k?quorum=true|-|setup_key"
)
readonly DEFAULT_TESTS=(version health get put qget)
SERVERS=()            # uetcd-<engine> for each of UETCD_ENGINES, then etcd and nginx (see main)
MODES=(many)          # many: CONNECTIONS connections; one: a single connection (ONE_CONN=1)

TMP_DIR=""
declare -A PID=()     # server -> pid of the process we started
declare -A BASE=()    # server -> http://127.0.0.1:port, only for servers that answer
declare -A DOWN=()    # server -> why it is not running
declare -A RESULT=()  # mode/test/server -> "status rps p50_ms p99_ms non2xx socket_errors"
declare -A NOTE=()    # mode/test/server -> why it was not measured, or what went wrong
USED_PORTS=" "

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

usage() {
    say "usage: bash bench/load/run.sh BUILD_DIR [TESTS...]"
    say "tests: ${DEFAULT_TESTS[*]} (default: all)"
    say "env: DURATION=10s CONNECTIONS=64 WRK_THREADS=2 NGINX_WORKERS=1 UETCD_CORES="
    say "     UETCD_ENGINES=\"uring epoll\" ONE_CONN=1"
}

# Stops every server we started (TERM, then KILL after a bounded wait) and removes the temp dir.
cleanup() {
    local name pid i
    for name in "${!PID[@]}"; do
        kill -TERM "${PID[$name]}" 2>/dev/null || true
    done
    for name in "${!PID[@]}"; do
        pid=${PID[$name]}
        for ((i = 0; i < STOP_TRIES; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PID=()
    if [[ -n $TMP_DIR && -d $TMP_DIR ]]; then
        rm -rf -- "$TMP_DIR"
    fi
}

find_nginx() {
    if command -v nginx >/dev/null 2>&1; then
        command -v nginx
    elif [[ -x /usr/sbin/nginx ]]; then
        printf '/usr/sbin/nginx\n'
    fi
}

# Says clearly which tools are missing; exits if any is.
check_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=("wrk (Debian package wrk)")
    [[ -n $(find_nginx) ]] || missing+=("nginx (Debian package nginx-light)")
    [[ -x $ETCD_BIN ]] || missing+=("$ETCD_BIN (Debian package etcd-server)")
    command -v curl >/dev/null 2>&1 || missing+=("curl (Debian package curl)")
    command -v awk >/dev/null 2>&1 || missing+=("awk")
    if ((${#missing[@]} > 0)); then
        printf 'run.sh: missing: %s\n' "${missing[@]}" >&2
        printf "run.sh: \"make bench\" installs them (as root), or apt-get install them\n" >&2
        exit 2
    fi
}

# Prints a loopback port that nothing listens on and that we have not handed out yet.
# Ports 10000-29999 stay below Linux's ephemeral range, which wrk's client sockets use.
pick_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((10000 + RANDOM % 20000))
        [[ $USED_PORTS == *" $port "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            USED_PORTS+="$port "
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "no free loopback port found"
}

# duration_s "10s" -> 10 (wrk's units: s, m, h; a bare number is seconds).
duration_s() {
    local d=$1
    case $d in
        *s) printf '%s\n' "${d%s}" ;;
        *m) printf '%s\n' "$((${d%m} * 60))" ;;
        *h) printf '%s\n' "$((${d%h} * 3600))" ;;
        *) printf '%s\n' "$d" ;;
    esac
}

version_of() {
    case $1 in
        wrk) { wrk -v 2>&1 || true; } | awk 'NR == 1 { print $2 }' ;;
        etcd) "$ETCD_BIN" --version 2>/dev/null | awk 'NR == 1 { print $3 }' ;;
        nginx) "$(find_nginx)" -v 2>&1 | awk -F/ 'NR == 1 { print $2 }' ;;
    esac
}

machine_line() {
    local cpu commit
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    commit=$(git -C "$SCRIPT_DIR" rev-parse --short HEAD 2>/dev/null || printf 'unknown')
    printf 'machine: nproc=%s kernel=%s cpu="%s" wrk=%s etcd=%s nginx=%s commit=%s\n' \
        "$(nproc)" "$(uname -r)" "${cpu:-unknown}" "$(version_of wrk)" "$(version_of etcd)" \
        "$(version_of nginx)" "$commit"
    engine_lines
    printf 'load: wrk -t %s -c %s -d %s --latency, %s warm-up, one server under load at a time\n' \
        "$WRK_THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP"
    if ((ONE_CONN)); then
        printf 'load: then wrk -t 1 -c 1 -d %s --latency on the same URL (1 connection)\n' \
            "$DURATION"
    fi
}

# engine_lines: what each started uetcd logged about its I/O engine (for io_uring: the kernel
# features it found), so a run says which engine and features it measured.
engine_lines() {
    local server log line want
    for server in "${SERVERS[@]}"; do
        [[ $server == uetcd-* ]] || continue
        log="$TMP_DIR/$server.log"
        want="using ${server#uetcd-}"
        [[ $server == uetcd-uring ]] && want="using io_uring"
        [[ $server == uetcd-auto ]] && want="using "
        line=$(grep -m 1 -F -- "$want" "$log" 2>/dev/null || true)
        if [[ -n $line ]]; then
            printf '%s: %s\n' "$server" "${line#*etcdmain: }"
        else
            printf '%s: no "%s" line in its log\n' "$server" "$want"
        fi
    done
}

# wait_ready NAME URL: polls URL/version until it answers 200 or the process dies (bounded).
wait_ready() {
    local name=$1 url=$2 i code
    for ((i = 0; i < READY_TRIES; i++)); do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            return 1
        fi
        code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url/version" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.2
    done
    return 1
}

# launch NAME PORT LOG CMD...: starts CMD in the background and waits until it answers on PORT.
launch() {
    local name=$1 port=$2 log=$3
    shift 3
    "$@" >"$log" 2>&1 &
    PID[$name]=$!
    if wait_ready "$name" "http://127.0.0.1:$port"; then
        BASE[$name]="http://127.0.0.1:$port"
        say "started: $name on 127.0.0.1:$port (pid ${PID[$name]})"
    else
        if kill -0 "${PID[$name]}" 2>/dev/null; then
            DOWN[$name]="failed to start: no answer on /version"
        else
            DOWN[$name]="failed to start: exited"
        fi
        say "NOT STARTED: $name (${DOWN[$name]}) on 127.0.0.1:$port; last lines of its log:"
        tail -n 5 "$log" | sed 's/^/    /'
    fi
}

# etcd_flags NAME DATA_DIR CLIENT_PORT PEER_PORT: the one-member cluster flags (uetcd takes
# etcd's flags).
etcd_flags() {
    local c="http://127.0.0.1:$3" p="http://127.0.0.1:$4"
    printf '%s\n' --name "$1" --data-dir "$2" --listen-client-urls "$c" \
        --advertise-client-urls "$c" --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
        --initial-cluster "$1=$p"
}

# start_uetcd BUILD_DIR ENGINE: one uetcd (server name uetcd-ENGINE) with its own data dir.
start_uetcd() {
    local bin="$1/etcd" name="uetcd-$2" port flags=()
    if [[ ! -x $bin ]]; then
        DOWN[$name]="no binary at $bin"
        say "NOT STARTED: $name: no executable at $bin (build it first); going on without it"
        return 0
    fi
    port=$(pick_port)
    mapfile -t flags < <(etcd_flags bench "$TMP_DIR/$name" "$port" "$(pick_port)")
    flags+=(--io-engine "$2")
    if [[ -n $UETCD_CORES ]]; then
        flags+=(--cores "$UETCD_CORES")
    fi
    launch "$name" "$port" "$TMP_DIR/$name.log" "$bin" "${flags[@]}"
}

start_etcd() {
    local port flags=()
    port=$(pick_port)
    mapfile -t flags < <(etcd_flags bench "$TMP_DIR/etcd" "$port" "$(pick_port)")
    launch etcd "$port" "$TMP_DIR/etcd.log" "$ETCD_BIN" --enable-v2 "${flags[@]}"
}

# write_nginx_conf PORT BODY CONTENT_TYPE: a minimal server answering every path with BODY.
write_nginx_conf() {
    local port=$1 body=$2 ctype=$3 t=$TMP_DIR conns=$((CONNECTIONS + 256))
    ((conns < 1024)) && conns=1024
    cat >"$t/nginx.conf" <<CONF
# Generated by bench/load/run.sh: a fixed answer as large as etcd's /version answer.
worker_processes $NGINX_WORKERS;
pid $t/nginx.pid;
error_log $t/nginx-error.log warn;
events { worker_connections $conns; }
http {
    access_log off;
    server_tokens off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $t/nginx-body;
    proxy_temp_path $t/nginx-proxy;
    fastcgi_temp_path $t/nginx-fastcgi;
    uwsgi_temp_path $t/nginx-uwsgi;
    scgi_temp_path $t/nginx-scgi;
    server {
        listen 127.0.0.1:$port;
        location / {
            default_type $ctype;
            return 200 '$body';
        }
    }
}
CONF
}

# Starts nginx with etcd's /version body (measured now, from the running etcd).
start_nginx() {
    local port body ctype size
    body=$FALLBACK_VERSION_BODY
    ctype=application/json
    if [[ -n ${BASE[etcd]:-} ]]; then
        body=$(curl -s -m "$CURL_TIMEOUT_S" "${BASE[etcd]}/version" || true)
        ctype=$(curl -s -o /dev/null -m "$CURL_TIMEOUT_S" -w '%{content_type}' \
            "${BASE[etcd]}/version" || true)
    else
        say "note: etcd is not running; nginx serves the stock etcd 3.4.23 /version body"
    fi
    # The body goes inside '...' in nginx.conf, where ' \ and $ would need escaping.
    if [[ -z $body || $body == *[\'\\\$]* || -z $ctype ]]; then
        say "note: etcd's /version answer is not usable in nginx.conf; using the stock body"
        body=$FALLBACK_VERSION_BODY
        ctype=application/json
    fi
    port=$(pick_port)
    write_nginx_conf "$port" "$body" "$ctype"
    launch nginx "$port" "$TMP_DIR/nginx.log" "$(find_nginx)" -c "$TMP_DIR/nginx.conf" \
        -p "$TMP_DIR" -e "$TMP_DIR/nginx-error.log" -g 'daemon off;'
    [[ -n ${BASE[nginx]:-} ]] || return 0
    size=$(curl -s -o /dev/null -m "$CURL_TIMEOUT_S" -w '%{size_download}' \
        "${BASE[nginx]}/version" || true)
    say "nginx answers ${#body} bytes of $ctype (etcd /version body); got $size bytes"
}

# test_field TEST INDEX: a column of the test's TEST_TABLE line (1 method, 2 path, 3 lua,
# 4 setup); empty if the test does not exist.
test_field() {
    local line fields
    for line in "${TEST_TABLE[@]}"; do
        IFS='|' read -r -a fields <<<"$line"
        if [[ ${fields[0]} == "$1" ]]; then
            printf '%s\n' "${fields[$2]}"
            return 0
        fi
    done
}

# setup_key BASE: the key the get and qget tests read.
setup_key() {
    curl -s -o /dev/null -m "$CURL_TIMEOUT_S" -X PUT -d "value=$BENCH_VALUE" \
        "$1/v2/keys/bench/k" || true
}

# http_status METHOD URL: the status code one request gets (000 if none).
http_status() {
    local out
    if [[ $1 == PUT ]]; then
        out=$(curl -s -o /dev/null -m "$CURL_TIMEOUT_S" -w '%{http_code}' -X PUT \
            -d "value=$BENCH_VALUE" "$2" || true)
    else
        out=$(curl -s -o /dev/null -m "$CURL_TIMEOUT_S" -w '%{http_code}' "$2" || true)
    fi
    printf '%s\n' "${out:-000}"
}

# parse_wrk: wrk --latency output on stdin -> "rps p50_ms p99_ms non2xx socket_errors".
parse_wrk() {
    awk '
        function to_ms(v,   n) {
            n = v + 0
            if (v ~ /us$/) return n / 1000
            if (v ~ /ms$/) return n
            if (v ~ /s$/) return n * 1000
            if (v ~ /m$/) return n * 60000
            if (v ~ /h$/) return n * 3600000
            return n
        }
        /Latency Distribution/ { dist = 1; next }
        dist && $1 == "50%" { p50 = to_ms($2) }
        dist && $1 == "99%" { p99 = to_ms($2) }
        /^Requests\/sec:/ { rps = $2 + 0 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF + 0 }
        /Socket errors:/ { gsub(",", ""); sock = $4 + $6 + $8 + $10 }
        END { printf "%.1f %.3f %.3f %d %d\n", rps, p50, p99, non2xx, sock }
    '
}

# not_measured TEST SERVER STATUS NOTE: the same verdict for every mode.
not_measured() {
    local mode
    for mode in "${MODES[@]}"; do
        RESULT[$mode/$1/$2]="$3 - - - - -"
        NOTE[$mode/$1/$2]=$4
    done
}

# run_wrk MODE TEST SERVER URL LUA THREADS CONNS: one measured wrk run, parsed and stored.
run_wrk() {
    local key="$1/$2/$3" url=$4 lua=$5 out rc=0 secs rps p50 p99 non2xx sock status=ok
    local args=(-t "$6" -c "$7" --latency -d "$DURATION")
    [[ $lua == - ]] || args+=(-s "$SCRIPT_DIR/$lua")
    secs=$(duration_s "$DURATION")
    out=$(timeout -k 5 "$((secs + 30))" wrk "${args[@]}" "$url" 2>&1) || rc=$?
    read -r rps p50 p99 non2xx sock < <(parse_wrk <<<"$out")
    if ((non2xx + sock > 0)); then
        status=ERRORS
        NOTE[$key]="non-2xx=$non2xx socket-errors=$sock"
    fi
    if ((rc != 0)) || [[ $rps == 0.0 ]]; then
        status=FAILED
        NOTE[$key]="wrk exit $rc: $(tail -n 1 <<<"$out")"
    fi
    RESULT[$key]="$status $rps $p50 $p99 $non2xx $sock"
}

# measure TEST SERVER: checks the endpoint, warms up, then runs wrk at CONNECTIONS connections
# and (ONE_CONN=1) at one connection; stores the parsed results.
measure() {
    local test=$1 server=$2 method path lua setup url code
    method=$(test_field "$test" 1)
    path=$(test_field "$test" 2)
    lua=$(test_field "$test" 3)
    setup=$(test_field "$test" 4)
    if [[ -z ${BASE[$server]:-} ]]; then
        not_measured "$test" "$server" down "${DOWN[$server]:-not running}"
        return 0
    fi
    url="${BASE[$server]}$path"
    [[ $setup == - ]] || "$setup" "${BASE[$server]}"
    code=$(http_status "$method" "$url")
    if [[ $code != 2?? ]]; then
        not_measured "$test" "$server" n/a "$method $path answers HTTP $code"
        return 0
    fi
    local warm=(-t "$WRK_THREADS" -c "$CONNECTIONS" -d "$WARMUP")
    [[ $lua == - ]] || warm+=(-s "$SCRIPT_DIR/$lua")
    wrk "${warm[@]}" "$url" >/dev/null 2>&1 || true
    run_wrk many "$test" "$server" "$url" "$lua" "$WRK_THREADS" "$CONNECTIONS"
    if ((ONE_CONN)); then
        run_wrk one "$test" "$server" "$url" "$lua" 1 1
    fi
}

# ratio A B: A/B with two decimals, or - when either is not a number.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

# times_str R: "1.23x", or - for no ratio.
times_str() {
    if [[ $1 == - ]]; then printf -- "-\n"; else printf "%sx\n" "$1"; fi
}

# ratio_fields KEY_PREFIX A B: "rps_ratio p50_ratio p99_ratio" of server A over server B, from
# RESULT[KEY_PREFIX/A] and RESULT[KEY_PREFIX/B] (measured runs only, with or without errors).
ratio_fields() {
    local sa ra pa qa sb rb pb qb rest
    read -r sa ra pa qa rest <<<"${RESULT[$1/$2]}"
    read -r sb rb pb qb rest <<<"${RESULT[$1/$3]}"
    if [[ $sa != ok && $sa != ERRORS ]] || [[ $sb != ok && $sb != ERRORS ]]; then
        printf -- '- - -\n'
        return 0
    fi
    printf '%s %s %s\n' "$(ratio "$ra" "$rb")" "$(ratio "$pa" "$pb")" "$(ratio "$qa" "$qb")"
}

# ratio_pairs: "A/B" server pairs to compare: each uetcd engine over etcd and over nginx, then
# uring over epoll when both run.
ratio_pairs() {
    local server pairs=()
    for server in "${SERVERS[@]}"; do
        [[ $server == uetcd-* ]] && pairs+=("$server/etcd" "$server/nginx")
    done
    if [[ " ${SERVERS[*]} " == *" uetcd-uring "* && " ${SERVERS[*]} " == *" uetcd-epoll "* ]]; then
        pairs+=(uetcd-uring/uetcd-epoll)
    fi
    ((${#pairs[@]} > 0)) || return 0
    printf '%s\n' "${pairs[@]}"
}

# pair_label A/B: the ratio row's label, "uetcd-" dropped: uring/etcd, uring/epoll, ...
pair_label() {
    local a=${1%/*} b=${1#*/}
    printf '%s/%s\n' "${a#uetcd-}" "${b#uetcd-}"
}

# report MODE TEST TSV: prints the test's table for MODE and appends its rows to the TSV file.
report() {
    local mode=$1 test=$2 tsv=$3 server status rps p50 p99 non2xx sock note pair r1 r2 r3 conns
    conns=$CONNECTIONS
    [[ $mode == one ]] && conns=1
    say ""
    if [[ $mode == many ]]; then
        say "== $test: $(test_field "$test" 1) $(test_field "$test" 2)  ($conns connections)"
    else
        say "-- $test: 1 connection"
    fi
    printf '%-12s %11s %10s %10s  %s\n' server req/s "p50 ms" "p99 ms" status
    for server in "${SERVERS[@]}"; do
        read -r status rps p50 p99 non2xx sock <<<"${RESULT[$mode/$test/$server]}"
        note=${NOTE[$mode/$test/$server]:-}
        printf '%-12s %11s %10s %10s  %s\n' "$server" "$rps" "$p50" "$p99" \
            "$status${note:+ ($note)}"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$test" "$conns" "$server" \
            "$status" "$rps" "$p50" "$p99" "$non2xx" "$sock" "$note" >>"$tsv"
    done
    while IFS= read -r pair; do
        read -r r1 r2 r3 < <(ratio_fields "$mode/$test" "${pair%/*}" "${pair#*/}")
        printf "%-12s %11s %10s %10s  %s\n" "$(pair_label "$pair")" "$(times_str "$r1")" \
            "$(times_str "$r2")" "$(times_str "$r3")" ratio
        printf '%s\t%s\t%s\tratio\t%s\t%s\t%s\t-\t-\t\n' "$test" "$conns" \
            "$(pair_label "$pair")" "$r1" "$r2" "$r3" >>"$tsv"
    done < <(ratio_pairs)
}

# cell MODE/TEST/SERVER FIELD: one figure of a result (FIELD 1 req/s, 2 p50, 3 p99) for the
# summary: the figure if measured ("!" appended if the run had errors), else its status.
cell() {
    local fields
    read -r -a fields <<<"${RESULT[$1]}"
    case ${fields[0]} in
        ok) printf '%s\n' "${fields[$2]}" ;;
        ERRORS) printf '%s!\n' "${fields[$2]}" ;;
        *) printf '%s\n' "${fields[0]}" ;;
    esac
}

# summary TESTS...: every server side by side, one line per test and figure: req/s at
# CONNECTIONS connections and (ONE_CONN=1) p50 at one connection.
summary() {
    local test server row
    say ""
    say "== summary (! = run had errors, do not quote)"
    row=$(printf '%-8s %-12s' test figure)
    for server in "${SERVERS[@]}"; do row+=$(printf ' %12s' "$server"); done
    say "$row"
    for test in "$@"; do
        row=$(printf '%-8s %-12s' "$test" "req/s @$CONNECTIONS")
        for server in "${SERVERS[@]}"; do
            row+=$(printf ' %12s' "$(cell "many/$test/$server" 1)")
        done
        say "$row"
        ((ONE_CONN)) || continue
        row=$(printf '%-8s %-12s' "$test" "p50 ms @1")
        for server in "${SERVERS[@]}"; do
            row+=$(printf ' %12s' "$(cell "one/$test/$server" 2)")
        done
        say "$row"
    done
}

check_env() {
    [[ $CONNECTIONS =~ ^[0-9]+$ ]] || die "CONNECTIONS must be a number, not '$CONNECTIONS'"
    [[ $WRK_THREADS =~ ^[0-9]+$ ]] || die "WRK_THREADS must be a number, not '$WRK_THREADS'"
    [[ $NGINX_WORKERS =~ ^([0-9]+|auto)$ ]] || die "NGINX_WORKERS must be a number or auto"
    [[ -z $UETCD_CORES || $UETCD_CORES =~ ^[0-9]+$ ]] || die "UETCD_CORES must be a number"
    [[ $DURATION =~ ^[0-9]+[smh]?$ ]] || die "DURATION must look like 10s, 2m or 10"
    ((CONNECTIONS >= WRK_THREADS && WRK_THREADS > 0)) || die "need CONNECTIONS >= WRK_THREADS > 0"
    [[ $ONE_CONN == [01] ]] || die "ONE_CONN must be 0 or 1, not '$ONE_CONN'"
    local engine seen=" "
    for engine in $UETCD_ENGINES; do
        [[ $engine =~ ^(uring|epoll|auto)$ ]] || die "UETCD_ENGINES: unknown engine '$engine'"
        [[ $seen == *" $engine "* ]] && die "UETCD_ENGINES: '$engine' given twice"
        seen+="$engine "
    done
}

main() {
    local build_dir test server line tests=() stamp tsv header engine mode
    if (($# < 1)); then
        usage >&2
        exit 2
    fi
    [[ $1 == -h || $1 == --help ]] && { usage; exit 0; }
    build_dir=$1
    shift
    tests=("$@")
    ((${#tests[@]} > 0)) || tests=("${DEFAULT_TESTS[@]}")
    for test in "${tests[@]}"; do
        [[ -n $(test_field "$test" 1) ]] || die "unknown test '$test' (known: ${DEFAULT_TESTS[*]})"
    done
    check_env
    check_tools
    for engine in $UETCD_ENGINES; do
        SERVERS+=("uetcd-$engine")
    done
    SERVERS+=(etcd nginx)
    ((ONE_CONN)) && MODES+=(one)
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP_DIR=$(mktemp -d -t uetcd-bench.XXXXXX)
    for engine in $UETCD_ENGINES; do
        start_uetcd "$build_dir" "$engine"
    done
    start_etcd
    start_nginx
    ((${#BASE[@]} > 0)) || die "no server started; nothing to measure"
    header=$(machine_line)
    say ""
    say "$header"
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p "$SCRIPT_DIR/results"
    tsv="$SCRIPT_DIR/results/$stamp.tsv"
    {
        while IFS= read -r line; do printf "# %s\n" "$line"; done <<<"$header"
        printf 'test\tconnections\tserver\tstatus\treq_per_s\tp50_ms\tp99_ms\tnon2xx\t'
        printf 'socket_errors\tnote\n'
    } >"$tsv"
    for test in "${tests[@]}"; do
        for server in "${SERVERS[@]}"; do
            measure "$test" "$server"
        done
        for mode in "${MODES[@]}"; do
            report "$mode" "$test" "$tsv"
        done
    done
    summary "${tests[@]}"
    say ""
    say "results: $tsv"
}

# Sourcing the file (to try a function by hand) defines everything and runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
