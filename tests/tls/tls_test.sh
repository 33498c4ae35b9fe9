#!/bin/bash
# TLS end to end: uetcd's etcd and etcdctl with certificates made here by the openssl command
# (CA, server with SAN 127.0.0.1, client, wrong CA, expired), against curl, Go etcdctl
# (ETCDCTL_API=2 /usr/bin/etcdctl) and etcd 3.4 (/usr/bin/etcd --enable-v2) where the
# answer is observable. Usage: tls_test.sh <uetcd etcd> <uetcd etcdctl> <case>.
# Every process started here is stopped on exit; every wait is bounded.
set -u
UETCD=$1
UCTL=$2
CASE=$3
GO_CTL=/usr/bin/etcdctl
ETCD34=/usr/bin/etcd
for tool in openssl curl python3 "$GO_CTL" "$ETCD34"; do
    command -v "$tool" > /dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
WORK=$(mktemp -d /tmp/uetcd-tls-XXXXXX)
PIDS=()
FAILS=0
CHECKS=0

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

check() {  # check <description> <expected> <actual>
    CHECKS=$((CHECKS + 1))
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        FAILS=$((FAILS + 1))
        echo "FAIL $1"
        echo "     expected: $(printf '%q' "$2")"
        echo "     actual:   $(printf '%q' "$3")"
    fi
}

check_contains() {  # check_contains <description> <needle> <haystack>
    CHECKS=$((CHECKS + 1))
    if [[ "$3" == *"$2"* ]]; then
        echo "ok   $1"
    else
        FAILS=$((FAILS + 1))
        echo "FAIL $1: $(printf '%q' "$2") not in $(printf '%q' "$3")"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

make_certs() {
    local d=$WORK/certs
    mkdir -p "$d" && cd "$d" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
        -subj "/CN=uetcd test CA" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout wrongca.key -out wrongca.pem \
        -days 3650 -subj "/CN=wrong CA" 2>/dev/null
    sign() {  # sign <name> <cn> <extensions> <ca> <days>
        openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" \
            2>/dev/null
        printf "$3" > "$1.ext"
        openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial \
            -out "$1.pem" -days "$5" -extfile "$1.ext" 2>/dev/null
    }
    local server_ext="subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    server_ext+="extendedKeyUsage=serverAuth,clientAuth\n"
    sign server localhost "$server_ext" ca 365
    sign server2 localhost "$server_ext" ca 365
    sign expired localhost "$server_ext" ca -1
    sign client alice "extendedKeyUsage=clientAuth\n" ca 365
    sign wrongclient mallory "extendedKeyUsage=clientAuth\n" wrongca 365
    : > empty.pem
    cd - > /dev/null || exit 1
}

C=$WORK/certs

# start <name> <binary> <client url scheme> [flags...]: sets PORT_<name>, PID_<name>
start_server() {
    local name=$1 bin=$2 scheme=$3
    shift 3
    local cport pport
    cport=$(free_port)
    pport=$(free_port)
    local extra=()
    [ "$bin" == "$ETCD34" ] && extra=(--enable-v2)
    "$bin" "${extra[@]}" --name "$name" --data-dir "$WORK/$name.data" \
        --listen-client-urls "$scheme://127.0.0.1:$cport" \
        --advertise-client-urls "$scheme://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$name=http://127.0.0.1:$pport" "$@" > "$WORK/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    eval "PORT_$name=$cport PID_$name=$pid"
    for _ in $(seq 1 100); do
        if curl -sk --max-time 1 -o /dev/null "$scheme://127.0.0.1:$cport/version" \
            --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" 2>/dev/null; then
            # etcd 3.4 answers /version before its member is ready for writes
            for _ in $(seq 1 50); do
                curl -sk --max-time 1 "$scheme://127.0.0.1:$cport/health" --cert "$C/client.pem" \
                    --key "$C/client.key" 2>/dev/null | grep -q true && return 0
                sleep 0.1
            done
            return 0
        fi
        sleep 0.1
    done
    echo "server $name did not start:"
    cat "$WORK/$name.log"
    exit 1
}

TLS_FLAGS=(--cert-file "$C/server.pem" --key-file "$C/server.key")
CCA_FLAGS=(--cert-file "$C/server.pem" --key-file "$C/server.key"
    --trusted-ca-file "$C/ca.pem" --client-cert-auth)

curl_code() {  # curl's exit code for a GET of $1 with more curl args
    local url=$1
    shift
    curl -s -o /dev/null --max-time 5 "$@" "$url"
    echo $?
}

case_curl() {
    start_server u "$UETCD" https "${TLS_FLAGS[@]}"
    start_server e "$ETCD34" https "${TLS_FLAGS[@]}"
    local U="https://127.0.0.1:$PORT_u" E="https://127.0.0.1:$PORT_e"
    local node='"node":{"key":"/a","value":"1","modifiedIndex":4,"createdIndex":4}'
    check "PUT over https" "{\"action\":\"set\",$node}" \
        "$(curl -sS --cacert "$C/ca.pem" -XPUT "$U/v2/keys/a" -d value=1)"
    check "GET over https" "{\"action\":\"get\",$node}" \
        "$(curl -sS --cacert "$C/ca.pem" "$U/v2/keys/a")"
    for target in U E; do
        local url=${!target}
        check "$target: unknown CA is curl 60" 60 "$(curl_code "$url/version")"
        check "$target: wrong CA is curl 60" 60 \
            "$(curl_code "$url/version" --cacert "$C/wrongca.pem")"
        check "$target: TLS 1.1 refused (curl 35)" 35 \
            "$(curl_code "$url/version" --cacert "$C/ca.pem" --tlsv1.1 --tls-max 1.1)"
        check "$target: TLS 1.2 ok" 0 \
            "$(curl_code "$url/version" --cacert "$C/ca.pem" --tls-max 1.2)"
        check "$target: TLS 1.3 ok" 0 "$(curl_code "$url/version" --cacert "$C/ca.pem" --tlsv1.3)"
        # Session resumption on every core (one ticket key per process, as Go's one config).
        check "$target: TLS 1.2 session resumed on 5 of 5 reconnects" 5 \
            "$(echo | timeout 10 openssl s_client -connect "${url#https://}" -CAfile "$C/ca.pem" \
                -tls1_2 -reconnect 2>/dev/null | grep -c '^Reused, ')"
        check "$target: no client cert needed" 200 \
            "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.pem" "$url/v2/keys/")"
    done
    # Go's net/http answer to plain HTTP on a TLS port (etcd 3.4 itself closes: its cmux
    # listener hides the tls.Conn from net/http; see docs/tls.md).
    check "plain HTTP to the TLS port gets Go's 400" \
        "$(printf 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n')" \
        "$(curl -s -i "http://127.0.0.1:$PORT_u/version")"
    check "etcd 3.4: plain HTTP to its TLS port is closed (curl 52)" 52 \
        "$(curl_code "http://127.0.0.1:$PORT_e/version")"
    check "keep-alive: 3 requests, 1 connection" "2001 2000 2000 " \
        "$(curl -s -w '%{http_code}%{num_connects} ' --cacert "$C/ca.pem" -o /dev/null "$U/version" \
            -o /dev/null "$U/version" -o /dev/null "$U/version")"
}

case_cipher_suites() {
    local suites=(--cipher-suites TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
    start_server u "$UETCD" https "${TLS_FLAGS[@]}" "${suites[@]}"
    start_server e "$ETCD34" https "${TLS_FLAGS[@]}" "${suites[@]}"
    for target in u e; do
        local port_var="PORT_$target"
        local url="https://127.0.0.1:${!port_var}/version"
        check "$target: listed TLS 1.2 suite accepted" 0 \
            "$(curl_code "$url" --cacert "$C/ca.pem" --tls-max 1.2 \
                --ciphers ECDHE-RSA-AES128-GCM-SHA256)"
        check "$target: unlisted TLS 1.2 suite refused" 35 \
            "$(curl_code "$url" --cacert "$C/ca.pem" --tls-max 1.2 \
                --ciphers ECDHE-RSA-AES256-GCM-SHA384)"
        check "$target: TLS 1.3 unaffected (as Go)" 0 \
            "$(curl_code "$url" --cacert "$C/ca.pem" --tlsv1.3)"
    done
}

case_client_cert() {
    start_server u "$UETCD" https "${CCA_FLAGS[@]}"
    start_server e "$ETCD34" https "${CCA_FLAGS[@]}"
    # The deprecated --ca-file means trusted CA + client-cert-auth (etcd 2.3/3.4).
    start_server d "$UETCD" https --cert-file "$C/server.pem" --key-file "$C/server.key" \
        --ca-file "$C/ca.pem"
    for target in u e d; do
        local port_var="PORT_$target"
        local url="https://127.0.0.1:${!port_var}/v2/keys/"
        check "$target: client cert from the CA accepted" 0 \
            "$(curl_code "$url" --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")"
        local no_cert wrong
        no_cert=$(curl_code "$url" --cacert "$C/ca.pem")
        wrong=$(curl_code "$url" --cacert "$C/ca.pem" --cert "$C/wrongclient.pem" \
            --key "$C/wrongclient.key")
        check "$target: no client cert refused" true "$([ "$no_cert" != 0 ] && echo true)"
        # curl 56 (alert read) or, from Go's server at times, 55 (its close won the race)
        check "$target: client cert of the wrong CA refused (curl 55/56)" true \
            "$([[ "$wrong" == 55 || "$wrong" == 56 ]] && echo true)"
        check "$target: no client cert over TLS 1.2 refused (curl 35)" 35 \
            "$(curl_code "$url" --cacert "$C/ca.pem" --tls-max 1.2)"
    done
    local U="https://127.0.0.1:$PORT_u" E="https://127.0.0.1:$PORT_e"
    for ctl in "$UCTL" "$GO_CTL"; do
        local name
        name=$(basename "$(dirname "$ctl")")
        for target in U E; do
            check "$name -> $target: wrong-CA client cert error text" \
                "Error:  client: etcd cluster is unavailable or misconfigured; error #0: remote error: tls: bad certificate" \
                "$(ETCDCTL_API=2 "$ctl" --endpoints "${!target}" --ca-file "$C/ca.pem" \
                    --cert-file "$C/wrongclient.pem" --key-file "$C/wrongclient.key" get k 2>&1 |
                    head -1 | sed 's/readLoopPeekFailLocked: //')"  # Go's transport, at times
        done
    done
}

ctl_session() {  # ctl_session <etcdctl> <url>: set, get, ls, mk, rm over https with a client cert
    local ctl=$1 url=$2
    local f=(--endpoints "$url" --ca-file "$C/ca.pem" --cert-file "$C/client.pem"
        --key-file "$C/client.key")
    ETCDCTL_API=2 "$ctl" "${f[@]}" set /dir/k v1 2>&1
    ETCDCTL_API=2 "$ctl" "${f[@]}" get /dir/k 2>&1
    ETCDCTL_API=2 "$ctl" "${f[@]}" mk /dir/k2 v2 2>&1
    ETCDCTL_API=2 "$ctl" "${f[@]}" ls --sort --recursive / 2>&1
    ETCDCTL_API=2 "$ctl" "${f[@]}" rm /dir/k 2>&1
    ETCDCTL_API=2 "$ctl" "${f[@]}" get /dir/k 2>&1 | sed "s/\[[0-9]*\]$/[N]/"
    echo "exit ${PIPESTATUS[0]}"
    ETCDCTL_API=2 "$ctl" "${f[@]}" cluster-health 2>&1 |
        sed 's/member [0-9a-f]* /member X /; s/:[0-9]*$//'
}

ctl_errors() {  # the TLS failure texts and exit codes of one etcdctl against one URL
    local ctl=$1 url=$2
    ETCDCTL_API=2 "$ctl" --endpoints "$url" get k 2>&1; echo "exit $?"
    ETCDCTL_API=2 "$ctl" --endpoints "$url" --ca-file "$C/wrongca.pem" get k 2>&1; echo "exit $?"
    ETCDCTL_API=2 "$ctl" --endpoints "$url" --ca-file "$C/nope.pem" get k 2>&1; echo "exit $?"
    ETCDCTL_API=2 "$ctl" --endpoints "$url" --cert-file "$C/client.pem" get k 2>&1; echo "exit $?"
    ETCDCTL_API=2 "$ctl" --endpoints "$url" --cert-file "$C/client.pem" --key-file "$C/server.key" \
        get k 2>&1; echo "exit $?"
    ETCDCTL_ENDPOINTS=$url ETCDCTL_CA_FILE=$C/ca.pem ETCDCTL_CERT_FILE=$C/client.pem \
        ETCDCTL_KEY_FILE=$C/client.key ETCDCTL_API=2 "$ctl" get /dir/k2 2>&1; echo "exit $?"
}

case_etcdctl() {
    start_server u "$UETCD" https "${CCA_FLAGS[@]}"
    start_server e "$ETCD34" https "${CCA_FLAGS[@]}"
    local U="https://127.0.0.1:$PORT_u" E="https://127.0.0.1:$PORT_e"
    local reference ours go_on_ours
    reference=$(ctl_session "$GO_CTL" "$E")
    ETCDCTL_API=2 "$GO_CTL" --endpoints "$E" --ca-file "$C/ca.pem" --cert-file "$C/client.pem" \
        --key-file "$C/client.key" rm --recursive /dir > /dev/null 2>&1
    go_on_ours=$(ctl_session "$GO_CTL" "$U")
    ETCDCTL_API=2 "$GO_CTL" --endpoints "$U" --ca-file "$C/ca.pem" --cert-file "$C/client.pem" \
        --key-file "$C/client.key" rm --recursive /dir > /dev/null 2>&1
    ours=$(ctl_session "$UCTL" "$U")
    check "Go etcdctl session over https: uetcd as etcd 3.4" "$reference" "$go_on_ours"
    check "our etcdctl session over https: as Go etcdctl on etcd 3.4" "$reference" "$ours"
    # Error texts: the server side needs no client cert for these.
    start_server v "$UETCD" https "${TLS_FLAGS[@]}"
    start_server f "$ETCD34" https "${TLS_FLAGS[@]}"
    local V="https://127.0.0.1:$PORT_v" F="https://127.0.0.1:$PORT_f"
    ETCDCTL_API=2 "$GO_CTL" --endpoints "$F" --ca-file "$C/ca.pem" set /dir/k2 v2 > /dev/null 2>&1
    ETCDCTL_API=2 "$GO_CTL" --endpoints "$V" --ca-file "$C/ca.pem" set /dir/k2 v2 > /dev/null 2>&1
    reference=$(ctl_errors "$GO_CTL" "$F")
    check "Go etcdctl TLS errors: uetcd as etcd 3.4" "$reference" "$(ctl_errors "$GO_CTL" "$V")"
    check "our etcdctl TLS errors: as Go etcdctl" "$reference" "$(ctl_errors "$UCTL" "$V")"
}

case_rotation() {
    mkdir -p "$WORK/live"
    cp "$C/server.pem" "$C/server.key" "$WORK/live/"
    start_server u "$UETCD" https --cert-file "$WORK/live/server.pem" \
        --key-file "$WORK/live/server.key"
    local url="127.0.0.1:$PORT_u" before after expected
    serial() {
        echo | openssl s_client -connect "$url" -CAfile "$C/ca.pem" 2>/dev/null |
            openssl x509 -noout -serial 2>/dev/null
    }
    before=$(serial)
    check "serves the first certificate" "$(openssl x509 -in "$C/server.pem" -noout -serial)" \
        "$before"
    sleep 1.1  # a different mtime second, past the once-a-second check
    cp "$C/server2.key" "$WORK/live/server.key.new"
    cp "$C/server2.pem" "$WORK/live/server.pem.new"
    mv "$WORK/live/server.key.new" "$WORK/live/server.key"
    mv "$WORK/live/server.pem.new" "$WORK/live/server.pem"
    expected=$(openssl x509 -in "$C/server2.pem" -noout -serial)
    after=""
    for _ in $(seq 1 30); do
        after=$(serial)
        [ "$after" == "$expected" ] && break
        sleep 0.2
    done
    check "a new handshake sees the renewed certificate" "$expected" "$after"
    check "no restart" true "$(kill -0 "$PID_u" 2>/dev/null && echo true)"
    check "requests still work" 0 "$(curl_code "https://$url/version" --cacert "$C/ca.pem")"
    # A half-written renewal (key not matching) keeps a loaded certificate (each core keeps
    # its own: the renewed one, or the first on a core that had no handshake since).
    cp "$C/server.key" "$WORK/live/server.key"
    sleep 1.2
    local kept
    kept=$(serial)
    check "a mismatched key file keeps a loaded certificate" true \
        "$([[ "$kept" == "$expected" || "$kept" == "$before" ]] && echo true)"
}

startup_line() {  # runs uetcd with bad TLS flags; prints the exit code and the critical line
    local cport pport
    cport=$(free_port)
    pport=$(free_port)
    timeout 10 "$UETCD" --data-dir "$WORK/bad.data" --listen-peer-urls "$1://127.0.0.1:$pport" \
        --listen-client-urls "https://127.0.0.1:$cport" \
        --advertise-client-urls "https://127.0.0.1:$cport" "${@:2}" > "$WORK/bad.log" 2>&1
    echo "exit $? $(grep ' C | ' "$WORK/bad.log" | sed 's/^.* C | //')"
}

case_startup_errors() {
    check "missing cert file" "exit 1 etcdmain: open $C/nope.pem: no such file or directory" \
        "$(startup_line http --cert-file "$C/nope.pem" --key-file "$C/server.key")"
    chmod 000 "$C/client.key"
    if [ "$(id -u)" != 0 ]; then
        check "unreadable key file" "exit 1 etcdmain: open $C/client.key: permission denied" \
            "$(startup_line http --cert-file "$C/client.pem" --key-file "$C/client.key")"
    fi
    chmod 600 "$C/client.key"
    check "key not matching the cert" \
        "exit 1 etcdmain: tls: private key does not match public key" \
        "$(startup_line http --cert-file "$C/server.pem" --key-file "$C/client.key")"
    check "cert file without PEM" \
        "exit 1 etcdmain: tls: failed to find any PEM data in certificate input" \
        "$(startup_line http --cert-file "$C/empty.pem" --key-file "$C/server.key")"
    check "CA file without a certificate" \
        "exit 1 etcdmain: tls: no certificate found in CA file $C/server.key" \
        "$(startup_line http "${TLS_FLAGS[@]}" --trusted-ca-file "$C/server.key")"
    check "https URL without cert (etcd 3.4's text)" \
        "exit 1 etcdmain: TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1" \
        "$(startup_line http | sed 's/:[0-9]* with HTTPS scheme$//')"
    check "https peer URL without peer cert" \
        "exit 1 etcdmain: TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:" \
        "$(startup_line https "${TLS_FLAGS[@]}" | sed 's/[0-9]* with HTTPS scheme$//')"
    # etcd 3.4 itself, for the texts we share.
    local cport pport
    cport=$(free_port)
    pport=$(free_port)
    timeout 10 "$ETCD34" --enable-v2 --data-dir "$WORK/e.data" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --listen-client-urls "https://127.0.0.1:$cport" \
        --advertise-client-urls "https://127.0.0.1:$cport" \
        --cert-file "$C/server.pem" --key-file "$C/client.key" > "$WORK/e.log" 2>&1
    check "etcd 3.4 says the same for a mismatched key" \
        "etcdmain: tls: private key does not match public key" \
        "$(grep ' C | ' "$WORK/e.log" | sed 's/^.* C | //')"
    # An expired certificate is a warning: the server starts.
    start_server x "$UETCD" https --cert-file "$C/expired.pem" --key-file "$C/expired.key"
    check_contains "expired certificate warned" \
        "W | etcdmain: certificate $C/expired.pem has expired" \
        "$(cat "$WORK/x.log")"
    check "expired certificate refused by curl (60)" 60 \
        "$(curl_code "https://127.0.0.1:$PORT_x/version" --cacert "$C/ca.pem")"
}

case_stalled_handshake() {
    start_server u "$UETCD" https "${TLS_FLAGS[@]}"
    # A client that connects and sends a partial ClientHello, then nothing.
    local took
    took=$(python3 - "$PORT_u" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01\x02\x00\x01")
start = time.monotonic()
s.settimeout(30)
try:
    while s.recv(4096):
        pass
except (socket.timeout, ConnectionResetError):
    pass
print(round(time.monotonic() - start))
EOF
)
    check "stalled handshake dropped after the 10 s header timeout" true \
        "$([ "$took" -ge 9 ] && [ "$took" -le 15 ] && echo true)"
    check "the server still serves" 0 \
        "$(curl_code "https://127.0.0.1:$PORT_u/version" --cacert "$C/ca.pem")"
    # A TLS handshake sent to a plain port is answered 400 by the HTTP parser.
    start_server p "$UETCD" http
    check "TLS to a plain port: curl 35 (an HTTP 400 instead of a ServerHello)" 35 \
        "$(curl_code "https://127.0.0.1:$PORT_p/version" --cacert "$C/ca.pem")"
}

case_watch() {
    start_server u "$UETCD" https "${CCA_FLAGS[@]}"
    local U="https://127.0.0.1:$PORT_u"
    local certs=(--cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")
    curl -sS "${certs[@]}" "$U/v2/keys/w?wait=true" > "$WORK/long.txt" &
    local long=$!
    PIDS+=("$long")
    curl -sS -N "${certs[@]}" "$U/v2/keys/s?wait=true&stream=true" > "$WORK/stream.txt" &
    local stream=$!
    PIDS+=("$stream")
    sleep 0.5
    curl -sS "${certs[@]}" -XPUT "$U/v2/keys/w" -d value=x > /dev/null
    curl -sS "${certs[@]}" -XPUT "$U/v2/keys/s" -d value=y > /dev/null
    curl -sS "${certs[@]}" -XPUT "$U/v2/keys/s" -d value=z > /dev/null
    for _ in $(seq 1 50); do
        [ "$(wc -l < "$WORK/stream.txt")" -ge 2 ] && break
        sleep 0.1
    done
    wait "$long"
    check "long-poll watch over TLS gets its event" \
        '{"action":"set","node":{"key":"/w","value":"x","modifiedIndex":4,"createdIndex":4}}' \
        "$(cat "$WORK/long.txt")"
    check "stream watch over TLS gets both events" 2 \
        "$(grep -c '"action":"set"' "$WORK/stream.txt")"
    kill "$stream"
    # The stream's close is noticed: the watcher count goes back to 0.
    local watchers=""
    for _ in $(seq 1 50); do
        watchers=$(curl -s "${certs[@]}" "$U/v2/stats/store" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["watchers"])')
        [ "$watchers" == 0 ] && break
        sleep 0.1
    done
    check "a closed TLS stream watch is dropped" 0 "$watchers"
    # Go etcdctl watch over https.
    (sleep 0.5; curl -sS "${certs[@]}" -XPUT "$U/v2/keys/g" -d value=go > /dev/null) &
    check "Go etcdctl watch over https" go "$(ETCDCTL_API=2 timeout 10 "$GO_CTL" --endpoints "$U" \
        --ca-file "$C/ca.pem" --cert-file "$C/client.pem" --key-file "$C/client.key" watch /g 2>&1)"
    (sleep 0.5; curl -sS "${certs[@]}" -XPUT "$U/v2/keys/o" -d value=ours > /dev/null) &
    check "our etcdctl watch over https" ours "$(ETCDCTL_API=2 timeout 10 "$UCTL" --endpoints "$U" \
        --ca-file "$C/ca.pem" --cert-file "$C/client.pem" --key-file "$C/client.key" watch /o 2>&1)"
}

case_peer() {
    local cport pport
    cport=$(free_port)
    pport=$(free_port)
    "$UETCD" --data-dir "$WORK/peer.data" --name p \
        --listen-client-urls "http://127.0.0.1:$cport" \
        --advertise-client-urls "http://127.0.0.1:$cport" \
        --listen-peer-urls "https://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "https://127.0.0.1:$pport" \
        --initial-cluster "p=https://127.0.0.1:$pport" \
        --peer-cert-file "$C/server.pem" --peer-key-file "$C/server.key" \
        --peer-trusted-ca-file "$C/ca.pem" --peer-client-cert-auth > "$WORK/peer.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 50); do
        curl -s -o /dev/null "http://127.0.0.1:$cport/version" && break
        sleep 0.1
    done
    check "peer port over https with a peer cert" 200 "$(curl -s -o /dev/null \
        -w '%{http_code}' --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" \
        "https://127.0.0.1:$pport/version")"
    check "peer port refuses a client without cert" true \
        "$([ "$(curl_code "https://127.0.0.1:$pport/version" --cacert "$C/ca.pem")" != 0 ] &&
            echo true)"
    check "client port stays plain" 200 \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cport/version")"
    check_contains "PeerTLS logged" "PeerTLS: cert = $C/server.pem" "$(cat "$WORK/peer.log")"
}

idle_rss_per_connection() {  # idle_rss_per_connection <port> <pid> <count>: bytes
    python3 - "$@" "$C/ca.pem" <<'EOF'
import socket, ssl, sys, time
port, pid, count, ca = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
ctx = ssl.create_default_context(cafile=ca)
before = rss_kib()
conns = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                         server_hostname="127.0.0.1") for _ in range(count)]
for c in conns:
    c.sendall(b"GET /version HTTP/1.1\r\nHost: a\r\n\r\n")
for c in conns:
    c.recv(4096)
time.sleep(0.5)
print((rss_kib() - before) * 1024 // count)
EOF
}

case_idle_memory() {
    ulimit -n 8192 2>/dev/null
    start_server u "$UETCD" https "${TLS_FLAGS[@]}"
    start_server e "$ETCD34" https "${TLS_FLAGS[@]}"
    local ours theirs
    ours=$(idle_rss_per_connection "$PORT_u" "$PID_u" 2000)
    theirs=$(idle_rss_per_connection "$PORT_e" "$PID_e" 2000)
    echo "idle TLS connection after one request: uetcd $ours bytes, etcd 3.4 $theirs bytes"
    check "an idle TLS connection costs uetcd under 40 KiB" true \
        "$([ "$ours" -lt 40960 ] && echo true)"
    check "and no more than etcd 3.4's" true "$([ "$ours" -le "$theirs" ] && echo true)"
}

make_certs
case "$CASE" in
curl) case_curl ;;
cipher-suites) case_cipher_suites ;;
client-cert) case_client_cert ;;
etcdctl) case_etcdctl ;;
rotation) case_rotation ;;
startup-errors) case_startup_errors ;;
stalled-handshake) case_stalled_handshake ;;
watch) case_watch ;;
peer) case_peer ;;
idle-memory) case_idle_memory ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "$((CHECKS - FAILS))/$CHECKS checks passed"
[ "$FAILS" == 0 ]
