#!/bin/bash
# bench_nginx.sh DIGITD BENCH MNIST_DIR: digitd-bench's HTTP mode against the real stack
# (nginx running nginx.conf.example in front of two pools, as two hosts would be):
#   1. every request answered with a valid answer, no mismatch against the answers at rest,
#      both pools serving;
#   2. one pool killed outright (SIGKILL, master and children: a host gone) while the load
#      runs: nginx retries on the other (fastcgi_next_upstream ... non_idempotent), so no
#      request fails and the answers stay right.
DIGITD=$1 BENCH=$2 MNIST=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/lib/stack_lib.sh"
. "$ROOT/tests/lib/bench_lib.sh"
trap 'STACK_FAILED=$FAILS; kill_b; stack_stop' EXIT

pool_start --workers 2
nginx_start
second_pool_start
kill_b() { # SIGKILL the second pool, master and children
    [ -s "$B/pid" ] || return 0
    local m; m=$(cat "$B/pid")
    kill -KILL "$m" $(pgrep -P "$m") 2>/dev/null
    rm -f "$B/pid"
}
# predictions a pool has answered, from its own /api/metrics (pool-wide: the children share them)
predictions() {
    SCRIPT_NAME=/api/metrics REQUEST_URI=/api/metrics REQUEST_METHOD=GET timeout 10 \
        cgi-fcgi -bind -connect "$1" </dev/null |
        awk '/^digitd_requests_total\{route="predict",code="200"\}/ {n += $NF} END {print n + 0}'
}

# 1. both pools, every answer valid and equal to the answer at rest
T1=$STACK_DIR/both.json
"$BENCH" "$BASE/api/predict" --requests 400 --count 200 --connections 8 --fail-on-error \
    --json --mnist "$MNIST" >"$T1" || fail "through nginx: exit status $?"
cat "$T1"
jcheck "$T1" "j['answered'] == 400 and j['failed'] == 0" "not every request answered"
jcheck "$T1" "j['mismatches'] == 0 and j['compared'] == 400" "answers differ from those at rest"
jcheck "$T1" 'isnum(j["accuracy"]) and j["accuracy"] >= 95' "accuracy under load < 95 %"
a=$(predictions "$STACK_DIR/digitd.sock") b=$(predictions "$B/digitd.sock")
echo "pool A answered $a predictions, pool B $b"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a + b)) -eq 400 ] ||
    fail "the 400 predictions were not shared by both pools (A $a, B $b)"
ok "through nginx to two pools"

# 2. pool B dies mid-run: nginx fails over, nothing fails
T2=$STACK_DIR/failover.json
"$BENCH" "$BASE/api/predict" --duration 6 --connections 8 --count 200 --fail-on-error \
    --json --mnist "$MNIST" >"$T2" &
bench=$!
sleep 2
kill_b
wait "$bench" || fail "failover: exit status $?"
cat "$T2"
jcheck "$T2" "j['answered'] > 0 and j['failed'] == 0" "requests failed when a pool died"
jcheck "$T2" "j['mismatches'] == 0" "answers differ from those at rest after failover"
curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: image/png' \
    --data-binary @"$ROOT/tests/server_digit.png" "$BASE/api/predict" | grep -q 200 ||
    fail "no answer from the surviving pool"
ok "failover when one pool dies"
[ "$FAILS" = 0 ] || exit 1
