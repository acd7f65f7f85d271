#!/usr/bin/env bash
# The measurements behind bench/RESULTS.md, one after the other on this machine (run it on
# an otherwise idle machine; the peers run in the same session, so ratios are fair):
#   1. the engine and the input path in-process (digitd-bench --engine), and XNNPACK beside
#      it when libxnnpack-dev is installed (../shared/peers/xnnpack);
#   2. the real stack (tests/stack_lib.sh: a digitd pool + nginx running nginx.conf.example):
#      digitd-bench through nginx, straight to the pool over FastCGI, wrk on the same
#      endpoint with the same PNG, and nginx with FastCGI keep-alive for comparison;
#   3. the pool's start-up time and per-child memory (RSS, PSS);
#   4. the seed stand-in (../shared/peers/seed-standin/measure.sh) when its packages are there.
# Every figure lands in OUT (default bench/results) as the tool printed it.
#   bench/run-benchmarks.sh [--build-dir build] [--duration 10] [--out DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
build=$ROOT/build duration=10 out=$ROOT/bench/results
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run-benchmarks.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
mnist=${MNIST_DIR:-$ROOT/../shared/mnist}
peers=${PEERS_DIR:-$ROOT/../shared/peers}
bench=$build/digitd-bench
DIGITD=$build/digitd
for f in "$bench" "$DIGITD"; do [ -x "$f" ] || { echo "missing $f: build first" >&2; exit 1; }; done
mkdir -p "$out"
out=$(cd "$out" && pwd)
chrome=$ROOT/bench/payloads # one real Chromium canvas PNG (a 7), for wrk and the bench alike
say() { printf '\n== %s\n' "$*"; }

# The machine, for the record.
{ echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"; echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)";
  echo "cores: $(nproc)"; echo "isa: $(grep -o -m1 -w 'avx512f\|avx2' /proc/cpuinfo | head -1)";
  echo "kernel: $(uname -r)"; echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2)"; } | tee "$out/machine.txt"

say "1. engine and input path in-process"
"$bench" --engine --mnist "$mnist" --rounds 20 --no-noise --json > "$out/engine.json"
"$bench" --engine --mnist "$mnist" --rounds 20 --no-noise | tee "$out/engine.txt"
"$bench" --engine --mnist "$mnist" --rounds 20 | tee "$out/engine-noise-mix.txt"
"$bench" --engine --dir "$chrome" --rounds 20 | tee "$out/engine-chromium-png.txt"
if [ -f /usr/include/xnnpack.h ] && [ -f "$peers/xnnpack/xnnpack_peer.c" ]; then
  gcc -O3 -march=native -I"$peers/xnnpack" "$peers/xnnpack/xnnpack_peer.c" -o "$out/xnnpack_peer" \
      -lXNNPACK -l:libpthreadpool.so.0 -lm
  for i in 1 2; do # alternate, so that neither gets the quieter moment
    "$out/xnnpack_peer" | tail -3 | tee -a "$out/xnnpack.txt"
    "$bench" --engine --mnist "$mnist" --rounds 20 --no-noise | grep inference | tee -a "$out/xnnpack.txt"
  done
else
  echo "XNNPACK peer skipped: apt-get install libxnnpack-dev" | tee "$out/xnnpack.txt"
fi

say "2. the stack: nginx (nginx.conf.example) + a pool of $(nproc) children"
source "$ROOT/tests/stack_lib.sh"
pool_start --workers "$(nproc)"
nginx_start
url=$BASE/api/predict
load=(--duration "$duration" --connections 8 --mnist "$mnist" --no-progress)
"$bench" "$url" "${load[@]}" --no-noise | tee "$out/nginx.txt"
"$bench" "$url" "${load[@]}" --no-noise --json > "$out/nginx.json"
"$bench" "$url" "${load[@]}" | tee "$out/nginx-noise-mix.txt"
"$bench" "$url" "${load[@]}" --no-noise --body json | tee "$out/nginx-json-body.txt"
"$bench" "$url" "${load[@]}" --connections 64 --no-noise | tee "$out/nginx-64conn.txt"
"$bench" --fcgi "unix:$STACK_DIR/digitd.sock" "${load[@]}" --no-noise | tee "$out/fcgi.txt"
"$bench" --fcgi "unix:$STACK_DIR/digitd.sock" "${load[@]}" --no-noise --json > "$out/fcgi.json"

say "wrk and digitd-bench, the same Chromium PNG, the same endpoint"
cat > "$STACK_DIR/post.lua" <<LUA
wrk.method = "POST"; wrk.headers["Content-Type"] = "image/png"
local f = io.open("$chrome/7_chromium-canvas.png", "rb"); wrk.body = f:read("*a"); f:close()
LUA
if command -v wrk >/dev/null; then
  wrk -t1 -c8 -d"${duration}s" -s "$STACK_DIR/post.lua" --latency "$url" | tee "$out/wrk.txt"
else
  echo "wrk skipped: apt-get install wrk" | tee "$out/wrk.txt"
fi
"$bench" "$url" --duration "$duration" --connections 8 --dir "$chrome" --no-progress | tee "$out/bench-same-png.txt"

say "nginx with FastCGI keep-alive (keepalive 16 + fastcgi_keep_conn on), for comparison"
cp "$STACK_DIR/nginx.conf" "$STACK_DIR/nginx.conf.orig"
sed -e 's|^\(\s*least_conn;.*\)|\1\n        keepalive 16;|' \
    -e 's|^\(\s*fastcgi_pass digitd;.*\)|\1\n            fastcgi_keep_conn on;|' \
    "$STACK_DIR/nginx.conf.orig" > "$STACK_DIR/nginx.conf"
grep -q 'fastcgi_keep_conn on' "$STACK_DIR/nginx.conf" && grep -q 'keepalive 16' "$STACK_DIR/nginx.conf"
kill -HUP "$NGINX_PID"; sleep 1 # reload: new workers with the new upstream
"$bench" "$url" "${load[@]}" --no-noise --timeout 2 | tee "$out/nginx-keepalive.txt" || true
cp "$STACK_DIR/nginx.conf.orig" "$STACK_DIR/nginx.conf"; kill -HUP "$NGINX_PID"; sleep 1

say "3. start-up time and memory per process"
grep -h 'ready' "$STACK_DIR/digitd.log" | tail -1 | tee "$out/startup.txt"
master=$(cat "$STACK_DIR/digitd.pid")
{ printf '%-8s %-7s %8s %8s %8s\n' pid role rss_kib pss_kib shared_clean_kib
  for pid in "$master" $(pgrep -P "$master"); do
    role=child; [ "$pid" = "$master" ] && role=master
    awk -v pid="$pid" -v role="$role" '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Shared_Clean:/{s=$2}
        END{printf "%-8s %-7s %8d %8d %8d\n", pid, role, r, p, s}' "/proc/$pid/smaps_rollup"
  done; } | tee "$out/memory.txt"
size "$DIGITD" | tee -a "$out/memory.txt"
pool_stop

say "4. the seed stand-in (gunicorn 2 workers + Flask + PIL + PyTorch), wrk 8 connections"
if python3 -c 'import flask, torch, PIL' 2>/dev/null && command -v gunicorn >/dev/null && command -v wrk >/dev/null; then
  bash "$peers/seed-standin/measure.sh" 2>&1 | tee "$out/seed-standin.txt"
else
  echo "seed stand-in skipped: apt-get install python3-flask gunicorn python3-pil python3-torch wrk" |
    tee "$out/seed-standin.txt"
fi
echo; echo "results in $out"
