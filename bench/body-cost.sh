#!/usr/bin/env bash
# body-cost.sh: what one request costs each process, by body kind, through the real stack
# (tests/lib/stack_lib.sh: a digitd pool of nproc children + nginx running nginx.conf.example),
# as bench/run-benchmarks.sh measures it: /proc utime + stime of nginx, the pool and the
# client before and after DURATION s of steady load at 8 connections, divided by the
# predictions the pool counted; then digitd-bench's own run (throughput, latency, accuracy
# under load and at rest) for the same body.
#   bench/body-cost.sh [--build-dir build] [--duration 10] [BODY...]   (BODY: png json strokes)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
build=$ROOT/build duration=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "body-cost.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -gt 0 ]; then bodies=("$@"); else bodies=(png strokes); fi
mnist=${MNIST_DIR:-$ROOT/../shared/mnist}
bench=$build/digitd-bench
DIGITD=$build/digitd
source "$ROOT/tests/lib/stack_lib.sh"
pool_start --workers "$(nproc)"
nginx_start
url=$BASE/api/predict
pool=$(cat "$STACK_DIR/digitd.pid")

cpu_s() { # CPU seconds (user + system) of a process and its live children
  local t=0 p
  for p in "$1" $(pgrep -P "$1"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t $(getconf CLK_TCK)" | awk '{printf "%.3f", $1 / $2}'
}
predictions() {
  curl -s "$BASE/api/metrics" |
    awk '/^digitd_requests_total\{route="predict",code="200"\}/ {n += $NF} END {print n + 0}'
}
for body in "${bodies[@]}"; do
  style=(--style pen --no-noise)
  echo "== --body $body (pen-style MNIST test digits), 8 connections through nginx"
  "$bench" "$url" --mnist "$mnist" --connections 8 --no-progress --no-at-rest --body "$body" \
      "${style[@]}" --duration $((duration + 30)) > /dev/null &
  bp=$!
  r0=$(predictions)
  for _ in $(seq 300); do [ "$(predictions)" -gt $((r0 + 200)) ] && break; sleep 0.2; done
  n0=$(cpu_s "$NGINX_PID") p0=$(cpu_s "$pool") b0=$(cpu_s "$bp") r0=$(predictions)
  sleep "$duration"
  n1=$(cpu_s "$NGINX_PID") p1=$(cpu_s "$pool") b1=$(cpu_s "$bp") r1=$(predictions)
  kill "$bp" 2>/dev/null; wait "$bp" 2>/dev/null || true
  awk -v n="$((r1 - r0))" -v ng="$n0 $n1" -v po="$p0 $p1" -v be="$b0 $b1" -v d="$duration" 'BEGIN {
    split(ng, a, " "); ng = a[2] - a[1]; split(po, a, " "); po = a[2] - a[1]; split(be, a, " "); be = a[2] - a[1]
    printf "CPU per answered request over %d answers in %s s:\n", n, d
    printf "  nginx (master + workers)    %7.1f us\n", 1e6 * ng / n
    printf "  digitd (master + children)  %7.1f us\n", 1e6 * po / n
    printf "  digitd-bench (the client)   %7.1f us\n", 1e6 * be / n
  }'
  "$bench" "$url" --mnist "$mnist" --connections 8 --no-progress --body "$body" "${style[@]}" \
      --duration "$duration"
done
