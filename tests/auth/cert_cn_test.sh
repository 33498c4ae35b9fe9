#!/bin/bash
# --client-cert-auth and v2 auth (etcd 3.4 client_auth.go userFromClientCertificate): with no
# Authorization header the verified client certificate's CN names the user; a header wins;
# an unknown CN falls back to guest for keys and is refused for root-only endpoints. The same
# requests go to etcd 3.4 and to uetcd over https (certificates made here with openssl) and the
# transcripts must be equal. Usage: cert_cn_test.sh <uetcd etcd>. Every process is stopped.
set -u
UETCD=$(realpath "$1")
WORK=$(mktemp -d /tmp/uetcd-auth-cn-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -x /usr/bin/etcd ] || { echo "no etcd 3.4: skipped"; exit 77; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cd "$WORK" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj "/CN=auth test CA" 2>/dev/null
issue() {  # issue <file> <cn> <extension line>
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    printf '%s\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
        -days 30 -extfile "$1.ext" 2>/dev/null
}
issue server server "subjectAltName=IP:127.0.0.1"
for who in root alice nobody; do issue "$who" "$who" "extendedKeyUsage=clientAuth"; done

# serve <name> <binary> [flags]: sets BASE to the https URL once it answers. Runs in this
# shell (not in $(...)), so the server's pid reaches PIDS and the cleanup stops it.
serve() {
    local name=$1 bin=$2 c p i
    shift 2
    c=$(port); p=$(port)
    "$bin" --name "$name" --data-dir "$WORK/$name" --listen-client-urls "https://127.0.0.1:$c" \
        --advertise-client-urls "https://127.0.0.1:$c" --listen-peer-urls "http://127.0.0.1:$p" \
        --initial-advertise-peer-urls "http://127.0.0.1:$p" \
        --initial-cluster "$name=http://127.0.0.1:$p" --cert-file server.pem --key-file server.key \
        --trusted-ca-file ca.pem --client-cert-auth "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        curl -s --cacert ca.pem --cert root.pem --key root.key "https://127.0.0.1:$c/version" \
            >/dev/null 2>&1 && { BASE="https://127.0.0.1:$c"; return 0; }
        sleep 0.1
    done
    echo "server $name did not start" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

# req <base> <cert> <method> <path> [curl args]: "status body", indexes normalised.
req() {
    local base=$1 cert=$2 method=$3 path=$4
    shift 4
    curl -s --max-time 10 --cacert ca.pem --cert "$cert.pem" --key "$cert.key" -X "$method" \
        -w ' %{http_code}' "$@" "$base$path" | sed -E 's/"(modifiedIndex|createdIndex|index)":[0-9]+/"\1":N/g'
    echo
}

session() {
    local b=$1
    req "$b" root PUT /v2/auth/users/root -d '{"user":"root","password":"rp"}'
    req "$b" root PUT /v2/auth/users/alice -d '{"user":"alice","password":"ap","roles":["app"]}'
    req "$b" root PUT /v2/auth/roles/app -d '{"role":"app","permissions":{"kv":{"read":["/app/*"],"write":[]}}}'
    req "$b" root PUT /v2/keys/app/x -d value=1
    req "$b" root PUT /v2/keys/other -d value=2
    req "$b" nobody PUT /v2/auth/enable
    req "$b" root PUT /v2/auth/enable
    req "$b" alice GET /v2/keys/app/x
    req "$b" alice GET /v2/keys/other
    req "$b" alice PUT /v2/keys/app/x -d value=3
    req "$b" nobody GET /v2/keys/other
    req "$b" root GET /v2/auth/users
    req "$b" alice GET /v2/auth/users
    req "$b" nobody GET /v2/auth/users
    req "$b" alice GET /v2/auth/users -u root:rp
    req "$b" root GET /v2/keys/app/x -u alice:wrong
    req "$b" root GET /v2/keys/other -u alice:ap
    req "$b" root PUT /v2/auth/roles/guest -d '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}'
    req "$b" nobody GET /v2/keys/other
    req "$b" alice GET /v2/keys/app/x?recursive=true
    req "$b" alice GET /v2/keys/app?recursive=true
    req "$b" root DELETE /v2/members/ffff
    req "$b" alice DELETE /v2/members/ffff
    req "$b" root DELETE /v2/auth/enable
}

serve ref /usr/bin/etcd --enable-v2
REF=$BASE
serve ours "$UETCD"
OURS=$BASE
expected=$(session "$REF")
actual=$(session "$OURS")
echo "$actual"
if [ "$expected" != "$actual" ]; then
    echo "MISMATCH (etcd 3.4 vs uetcd):"
    diff <(echo "$expected") <(echo "$actual")
    exit 1
fi
# The session is not vacuous: the CN alice reads, is refused elsewhere, root administers.
grep -q '"value":"1"' <<<"$actual" && grep -q 'Insufficient credentials' <<<"$actual" \
    || { echo "session did not exercise both outcomes"; exit 1; }
echo "ok: $(wc -l <<<"$actual") requests answered alike"
