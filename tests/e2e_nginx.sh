#!/usr/bin/env bash
# e2e_nginx.sh DIGITD SERVER_PNGS MNIST_DIR: the real stack (nginx.conf.example + a digitd
# pool) answered over HTTP with curl: rendered MNIST digits predicted right through both
# API forms and the seed's /predict, every request of tests/corpus/requests with its status
# and JSON error (or prediction, for its 200s), health, metrics, and the static page with
# gzip and cache headers.
set -u
DIGITD=$1 PNGS=$2 MNIST=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# A missing prerequisite fails the test by name (never a silent pass or skip).
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=("nginx (package nginx-light)")
command -v curl >/dev/null 2>&1 || missing+=("curl")
if [ ${#missing[@]} -gt 0 ]; then
    echo "FAIL: e2e_nginx cannot run: missing ${missing[*]}."
    echo "      Install them with: scripts/install-deps.sh --test   (scripts/test.sh does it)"
    exit 1
fi
. "$ROOT/tests/lib/stack_lib.sh"
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); STACK_FAILED=1; }
ok() { echo "ok: $*"; }

pool_start --workers 2 --max-body 1000000 --max-width 1000 --max-height 1000
nginx_start
children_before=$(cat /proc/"$(cat "$STACK_DIR/digitd.pid")"/task/*/children)

# --- static page: gzip, cache and security headers
# The page's files keep their names across deploys: browsers revalidate every one
# (Cache-Control: no-cache + ETag -> 304), never use a stale copy; the screenshot may be a day old.
h=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$BASE/app.js")
echo "$h" | grep -qi '^Content-Encoding: gzip' || fail "app.js not gzipped: $h"
echo "$h" | grep -qi '^Vary: Accept-Encoding' || fail "app.js without Vary: $h"
echo "$h" | grep -qi '^X-Content-Type-Options: nosniff' || fail "no security headers: $h"
for u in / /index.html /app.js /style.css /theme.js; do
    h=$(curl -s -D - -o /dev/null "$BASE$u")
    echo "$h" | grep -q '^HTTP/1.1 200' || fail "$u: not 200: $h"
    echo "$h" | grep -qi '^Cache-Control: no-cache' || fail "$u: not Cache-Control: no-cache: $h"
    echo "$h" | grep -qi '^Cache-Control:.*max-age=[1-9]' && fail "$u: cacheable without revalidation: $h"
    echo "$h" | grep -qi '^Last-Modified: ' || fail "$u: no Last-Modified: $h"
    etag=$(echo "$h" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
    [ -n "$etag" ] || fail "$u: no ETag: $h"
    st=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE$u")
    [ "$st" = 304 ] || fail "$u: revalidation with its ETag gave $st, not 304"
    echo "$h" | grep -qi '^Content-Security-Policy: ' || fail "$u: no security headers: $h"
done
h=$(curl -s -D - -o /dev/null "$BASE/screenshot.png")
echo "$h" | grep -qi '^Cache-Control: max-age=86400' || fail "screenshot.png not cached a day: $h"
echo "$h" | grep -qi '^X-Frame-Options: DENY' || fail "screenshot.png: no security headers: $h"
h=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$BASE/")
echo "$h" | grep -qi '^Content-Encoding: gzip' || fail "index.html not gzipped: $h"
curl -s "$BASE/" | grep -q '<canvas id="canvas"' || fail "index.html not served"
ok "static page"

# --- predictions: rendered MNIST test digits (label in the file name)
mkdir -p "$STACK_DIR/png"
"$PNGS" "$MNIST" "$STACK_DIR/png" 40 >/dev/null || { fail "server_pngs"; exit 1; }
right=0 total=0 json_same=0
for f in "$STACK_DIR"/png/*.png; do
    label=$(basename "$f" .png | sed 's/.*_//')
    a=$(curl -s -H 'Content-Type: image/png' --data-binary @"$f" "$BASE/api/predict")
    p=$(echo "$a" | grep -o '"prediction":[0-9]' | cut -d: -f2)
    total=$((total + 1))
    [ "$p" = "$label" ] && right=$((right + 1))
    if [ $total -le 5 ]; then # the seed's JSON form and route give the same answer
        printf '{"imageData":"data:image/png;base64,%s"}' "$(base64 -w0 "$f")" >"$STACK_DIR/b.json"
        for uri in /api/predict /predict; do
            b=$(curl -s -H 'Content-Type: application/json' --data-binary @"$STACK_DIR/b.json" "$BASE$uri")
            q=$(echo "$b" | grep -o '"prediction":[0-9]' | cut -d: -f2)
            [ -n "$q" ] && [ "$q" = "$p" ] && json_same=$((json_same + 1))
        done
        echo "$a" | grep -q '"input":"data:image/png;base64,' || fail "no input preview: $a"
        echo "$a" | grep -q '"top3":\[{"digit":' || fail "no top3: $a"
    fi
done
echo "$right/$total rendered digits right through nginx"
[ $right -ge $((total - 2)) ] || fail "only $right of $total digits right"
[ $json_same -eq 10 ] || fail "JSON imageData / seed /predict disagreed ($json_same/10 same)"
ok "predictions"

# --- every bad request of the corpus, through nginx
n=0
for meta in "$ROOT"/tests/corpus/requests/*.req; do
    name=$(basename "$meta" .req)
    method= uri= type= status= zeros= length=
    . "$meta"
    [ "$length" = none ] && continue # curl always sends a length or chunks
    body="${meta%.req}.body"
    if [ -n "$zeros" ]; then head -c "$zeros" /dev/zero >"$STACK_DIR/z"; body=$STACK_DIR/z; fi
    args=(-s -o "$STACK_DIR/out" -w '%{http_code}' -X "$method")
    [ -n "$type" ] && args+=(-H "Content-Type: $type")
    [ -f "$body" ] && args+=(--data-binary @"$body")
    st=$(curl "${args[@]}" "$BASE$uri")
    [ "$st" = "$status" ] || fail "$name: status $st, expected $status: $(head -c 200 "$STACK_DIR/out")"
    if [ "$status" = 200 ]; then # PNGs that once crashed a worker: answered like any other
        grep -q '^{"prediction":[0-9]' "$STACK_DIR/out" || fail "$name: no prediction: $(head -c 200 "$STACK_DIR/out")"
    else
        grep -q '^{"error":"[^"]' "$STACK_DIR/out" || fail "$name: no JSON error: $(head -c 200 "$STACK_DIR/out")"
    fi
    n=$((n + 1))
done
# Over nginx's own client_max_body_size (2m): nginx answers 413 before the pool sees it.
head -c 3000000 /dev/zero >"$STACK_DIR/big"
st=$(curl -s -o "$STACK_DIR/out" -w '%{http_code}' -H 'Content-Type: image/png' --data-binary @"$STACK_DIR/big" "$BASE/api/predict")
[ "$st" = 413 ] || fail "3 MB body: status $st"
grep -q '^{"error": "' "$STACK_DIR/out" || fail "3 MB body: not a JSON error: $(head -c 100 "$STACK_DIR/out")"
[ $n -ge 15 ] || fail "corpus too small ($n)"
ok "$n corpus requests (bad ones and once-crashing PNGs) + one over client_max_body_size"

# --- the same children served everything so far
children_after=$(cat /proc/"$(cat "$STACK_DIR/digitd.pid")"/task/*/children)
[ "$children_before" = "$children_after" ] || fail "children changed: $children_before -> $children_after"

# --- health and metrics
hl=$(curl -s "$BASE/api/health")
echo "$hl" | grep -q '"params":[1-9]' || fail "health: $hl"
echo "$hl" | grep -q '"sha256":"[0-9a-f]\{64\}"' || fail "health sha256: $hl"
m=$(curl -s "$BASE/api/metrics")
req_total=$(echo "$m" | grep '^digitd_requests_total' | awk '{s += $2} END {print s + 0}')
[ "$req_total" -ge "$total" ] || fail "metrics count $req_total requests, sent at least $total"
echo "$m" | grep -q '^digitd_request_duration_seconds_bucket' || fail "no latency histogram"
ok "health and metrics ($req_total requests counted)"

# --- nginx's own errors are JSON too: a bad Host (400, before any location), a URI too
# long (414), a body over client_max_body_size (413), a client over the per-address rate
# (429; from 127.0.0.2, since the host itself is not limited); health shows no pids unasked
json_error() { # STATUS CURL-ARGS...: the status and an {"error": ...} body
    local out st
    out=$(curl -s -w '\n%{http_code}' "${@:2}")
    st=${out##*$'\n'}
    [ "$st" = "$1" ] || { fail "curl ${*:2}: status $st, expected $1"; return; }
    echo "${out%$'\n'*}" | grep -q '^{"error": *"[^"]' || fail "status $1 not JSON: ${out%$'\n'*}"
}
json_error 400 -H 'Host: bad host' "$BASE/api/health"
json_error 414 "$BASE/api/health?$(head -c 9000 /dev/zero | tr '\0' a)"
head -c 2200000 /dev/zero >"$STACK_DIR/big"
json_error 413 -H 'Content-Type: image/png' --data-binary @"$STACK_DIR/big" "$BASE/api/predict"
# 100 at once from 127.0.0.2: beyond the burst, JSON 429s (each body in its own file)
mkdir -p "$STACK_DIR/burst"
seq 100 | sed "s|.*|url = \"$BASE/api/health\"\noutput = \"$STACK_DIR/burst/&\"|" |
    curl -s --parallel --parallel-max 50 --interface 127.0.0.2 -w '%{http_code} %{filename_effective}\n' \
        -K - >"$STACK_DIR/burst.txt"
limited=$(awk '$1 == 429 {print $2; exit}' "$STACK_DIR/burst.txt")
if [ -z "$limited" ]; then
    fail "100 requests at once from 127.0.0.2 never limited: $(cut -d' ' -f1 "$STACK_DIR/burst.txt" | sort | uniq -c | tr '\n' ' ')"
else
    grep -q '^{"error": *"[^"]' "$limited" || fail "429 not JSON: $(cat "$limited")"
fi
curl -s "$BASE/api/health" | grep -q '"pid"' && fail "health shows pids without ?pids=1"
[ $FAILS = 0 ] && ok "nginx's own 400/413/414/429 are JSON; rate limited per address"

# --- the pool down: nginx answers a JSON 503, and serves again once the pool is back
pool_stop
st=$(curl -s -o "$STACK_DIR/out" -w '%{http_code}' -H 'Content-Type: image/png' --data-binary @"$f" "$BASE/api/predict")
[ "$st" = 503 ] && grep -q '"error"' "$STACK_DIR/out" || fail "pool down: status $st $(head -c 100 "$STACK_DIR/out")"
pool_start --workers 2
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: image/png' --data-binary @"$f" "$BASE/api/predict")
[ "$st" = 200 ] || fail "pool back: status $st"
ok "pool down -> 503 JSON, back -> 200"
[ $FAILS -eq 0 ] && echo "e2e: all passed" || exit 1
