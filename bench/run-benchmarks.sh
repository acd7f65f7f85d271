#!/usr/bin/env bash
# The measurements behind bench/RESULTS.md, one after the other on this machine (run it on
# an otherwise idle machine; the peers run in the same session, so ratios are fair):
#   1. the engine and the input path in-process (digitd-bench --engine), and XNNPACK beside
#      it when libxnnpack-dev is installed (../shared/peers/xnnpack);
#   2. digitd-train against PyTorch (bench/torch_train_peer.py), same epochs, same cores;
#   3. the real stack (tests/lib/stack_lib.sh: a digitd pool + nginx running nginx.conf.example):
#      digitd-bench through nginx, straight to the pool over FastCGI, wrk on the same
#      endpoint with the same PNG, the seed stand-in's own request against our /predict, the
#      CPU each process spent per request, and nginx with FastCGI keep-alive for comparison;
#   4. the pool's start-up time and per-child memory (RSS, PSS);
#   5. the seed stand-in (../shared/peers/seed-standin/measure.sh) when its packages are there.
# Every figure lands in OUT (default bench/results) as the tool printed it.
#   bench/run-benchmarks.sh [--build-dir build] [--duration 10] [--out DIR] [--skip-train]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
build=$ROOT/build duration=10 out=$ROOT/bench/results train=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --skip-train) train=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run-benchmarks.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
mnist=${MNIST_DIR:-$ROOT/../shared/mnist}
peers=${PEERS_DIR:-$ROOT/../shared/peers}
bench=$build/digitd-bench
DIGITD=$build/digitd
for f in "$bench" "$DIGITD" "$build/digitd-train"; do
  [ -x "$f" ] || { echo "missing $f: build first" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
chrome=$ROOT/bench/payloads # one real Chromium canvas PNG (a 7), for wrk and the bench alike
say() { printf '\n== %s\n' "$*"; }
have_py() { /usr/bin/python3 -c "import $1" 2>/dev/null; }

# The machine, for the record.
isa=generic
grep -qw avx2 /proc/cpuinfo && isa=avx2
grep -qw avx512f /proc/cpuinfo && isa=avx512
{ echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"; echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)";
  echo "cores: $(nproc)"; echo "isa: $isa"; echo "memory: $(free -g | awk '/^Mem:/{print $2}') GiB";
  echo "kernel: $(uname -r)"; echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2)";
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$out/machine.txt"

say "1. engine and input path in-process"
"$bench" --engine --mnist "$mnist" --rounds 20 --no-noise --json > "$out/engine.json"
"$bench" --engine --mnist "$mnist" --rounds 20 --no-noise | tee "$out/engine.txt"
"$bench" --engine --mnist "$mnist" --rounds 20 | tee "$out/engine-noise-mix.txt"
"$bench" --engine --mnist "$mnist" --rounds 20 --no-noise --style pen | tee "$out/engine-pen.txt"
"$bench" --engine --dir "$chrome" --rounds 20 | tee "$out/engine-chromium-png.txt"
if [ -f /usr/include/xnnpack.h ] && [ -f "$peers/xnnpack/xnnpack_peer.c" ]; then
  gcc -O3 -march=native -I"$peers/xnnpack" "$peers/xnnpack/xnnpack_peer.c" -o "$out/xnnpack_peer" \
      -lXNNPACK -l:libpthreadpool.so.0 -lm
  : > "$out/xnnpack.txt"
  for i in 1 2 3; do # alternate, so that neither gets the quieter moment
    "$out/xnnpack_peer" | tail -3 | tee -a "$out/xnnpack.txt"
    "$bench" --engine --mnist "$mnist" --rounds 20 --no-noise | grep inference | tee -a "$out/xnnpack.txt"
  done
  rm -f "$out/xnnpack_peer"
else
  echo "XNNPACK peer skipped: apt-get install libxnnpack-dev" | tee "$out/xnnpack.txt"
fi

if [ "$train" = 1 ]; then
  say "2. digitd-train and PyTorch, no augmentation, batch 128, 2 epochs of 60,000 images"
  : > "$out/train-speed.txt"
  tmp=$(mktemp -d)
  for threads in 1 2; do
    if have_py torch; then
      /usr/bin/python3 "$ROOT/bench/torch_train_peer.py" --data "$mnist" --epochs 2 \
          --threads "$threads" 2>&1 | tail -1 | tee -a "$out/train-speed.txt"
    else
      echo "PyTorch peer skipped: apt-get install python3-torch python3-numpy" | tee -a "$out/train-speed.txt"
    fi
    "$build/digitd-train" --data "$mnist" --epochs 2 --threads "$threads" --no-augment \
        --val-split 0 --out "$tmp/speed.h5" --quiet 2>&1 | grep -E 's/epoch' |
        sed "s/^/digitd-train threads $threads: /" | tee -a "$out/train-speed.txt"
  done
  rm -rf "$tmp"
fi

say "3. the stack: nginx (nginx.conf.example) + a pool of $(nproc) children"
source "$ROOT/tests/lib/stack_lib.sh"
pool_start --workers "$(nproc)"
nginx_start
url=$BASE/api/predict
load=(--duration "$duration" --connections 8 --mnist "$mnist" --no-progress)

# CPU seconds (user + system) spent so far by a process and its live children.
cpu_s() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t $(getconf CLK_TCK)" | awk '{printf "%.3f", $1 / $2}'
}
# CPU per request by process, over $duration s of steady load (the bench's start-up, which
# renders its payloads, left out): /proc utime + stime before and after, and the
# predictions the pool counted in between.
predictions() {
  curl -s "$BASE/api/metrics" |
    awk '/^digitd_requests_total\{route="predict",code="200"\}/ {n += $NF} END {print n + 0}'
}
pool=$(cat "$STACK_DIR/digitd.pid")
"$bench" "$url" "${load[@]}" --duration $((duration + 30)) --no-noise --no-at-rest > /dev/null &
bp=$!
r0=$(predictions)
for _ in $(seq 300); do [ "$(predictions)" -gt $((r0 + 200)) ] && break; sleep 0.2; done
n0=$(cpu_s "$NGINX_PID") p0=$(cpu_s "$pool") b0=$(cpu_s "$bp") r0=$(predictions)
sleep "$duration"
n1=$(cpu_s "$NGINX_PID") p1=$(cpu_s "$pool") b1=$(cpu_s "$bp") r1=$(predictions)
kill "$bp" 2>/dev/null; wait "$bp" 2>/dev/null || true
awk -v n="$((r1 - r0))" -v ng="$n0 $n1" -v po="$p0 $p1" -v be="$b0 $b1" -v d="$duration" \
    -v cores="$(nproc)" 'BEGIN {
  split(ng, a, " "); ng = a[2] - a[1]; split(po, a, " "); po = a[2] - a[1]; split(be, a, " "); be = a[2] - a[1]
  printf "CPU per answered request over %d answers in %s s (%d cores = %d CPU-s available):\n", n, d, cores, cores * d
  printf "  nginx (master + workers)    %7.1f us  (%.2f CPU-s)\n", 1e6 * ng / n, ng
  printf "  digitd (master + children)  %7.1f us  (%.2f CPU-s)\n", 1e6 * po / n, po
  printf "  digitd-bench (the client)   %7.1f us  (%.2f CPU-s)\n", 1e6 * be / n, be
}' | tee "$out/cpu.txt"
"$bench" "$url" "${load[@]}" --no-noise --json > "$out/nginx.json"
"$bench" "$url" "${load[@]}" --no-noise | tee "$out/nginx.txt"
"$bench" "$url" "${load[@]}" | tee "$out/nginx-noise-mix.txt"
"$bench" "$url" "${load[@]}" --no-noise --style pen | tee "$out/nginx-pen.txt"
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

say "the seed stand-in's own request (measure.sh: PIL-drawn 280x280 PNG as a JSON data URL, wrk -t2 -c8) against our /predict"
if command -v wrk >/dev/null && have_py PIL; then
  /usr/bin/python3 - "$STACK_DIR/body.json" <<'PY'
import sys, io, json, base64
from PIL import Image, ImageDraw
im = Image.new('RGB', (280, 280), 'white'); d = ImageDraw.Draw(im)
d.line([(60, 60), (220, 60), (120, 240)], fill='black', width=18)
b = io.BytesIO(); im.save(b, 'PNG')
json.dump({'imageData': 'data:image/png;base64,' + base64.b64encode(b.getvalue()).decode()}, open(sys.argv[1], 'w'))
PY
  cat > "$STACK_DIR/post-json.lua" <<LUA
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
local f = io.open("$STACK_DIR/body.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA
  curl -s -H 'Content-Type: application/json' --data @"$STACK_DIR/body.json" "$BASE/predict" |
      cut -c1-60 | tee "$out/wrk-seed-request.txt"; echo | tee -a "$out/wrk-seed-request.txt"
  wrk -t2 -c8 -d"${duration}s" -s "$STACK_DIR/post-json.lua" --latency "$BASE/predict" |
      tee -a "$out/wrk-seed-request.txt"
else
  echo "skipped: apt-get install wrk python3-pil" | tee "$out/wrk-seed-request.txt"
fi

say "nginx with FastCGI keep-alive (fastcgi_keep_conn on), for comparison"
# keepalive_nginx N: reloads nginx with `keepalive N` in the upstream and keep_conn on.
cp "$STACK_DIR/nginx.conf" "$STACK_DIR/nginx.conf.orig"
keepalive_nginx() {
  sed -e "s|^\(\s*least_conn;.*\)|\1\n        keepalive $1;|" \
      -e 's|^\(\s*fastcgi_pass digitd;.*\)|\1\n            fastcgi_keep_conn on;|' \
      "$STACK_DIR/nginx.conf.orig" > "$STACK_DIR/nginx.conf"
  grep -q 'fastcgi_keep_conn on' "$STACK_DIR/nginx.conf" && grep -q "keepalive $1;" "$STACK_DIR/nginx.conf"
  kill -HUP "$NGINX_PID"; sleep 1 # reload: new workers with the new upstream
}
workers=$(nproc)
keepalive_nginx 16
echo "keepalive 16 per nginx worker, $workers children:" | tee "$out/nginx-keepalive.txt"
"$bench" "$url" "${load[@]}" --no-noise --timeout 2 | tee -a "$out/nginx-keepalive.txt" || true
pool_stop
pool_start --workers $((2 * workers))
keepalive_nginx 1
echo "keepalive 1 per nginx worker, $((2 * workers)) children (nginx workers x keepalive < children):" |
    tee -a "$out/nginx-keepalive.txt"
"$bench" "$url" "${load[@]}" --no-noise --timeout 2 | tee -a "$out/nginx-keepalive.txt" || true
cp "$STACK_DIR/nginx.conf.orig" "$STACK_DIR/nginx.conf"; kill -HUP "$NGINX_PID"; sleep 1
echo "no keep-alive (the shipped config), $((2 * workers)) children:" | tee -a "$out/nginx-keepalive.txt"
"$bench" "$url" "${load[@]}" --no-noise | tee -a "$out/nginx-keepalive.txt"
pool_stop
pool_start --workers "$workers"

say "4. start-up time and memory per process"
grep -h 'ready' "$STACK_DIR/digitd.log" | tail -1 | tee "$out/startup.txt"
"$bench" "$url" "${load[@]}" --duration 2 --no-noise > /dev/null # children have served requests
master=$(cat "$STACK_DIR/digitd.pid")
{ printf '%-8s %-7s %8s %8s %8s\n' pid role rss_kib pss_kib shared_clean_kib
  for pid in "$master" $(pgrep -P "$master"); do
    role=child; [ "$pid" = "$master" ] && role=master
    awk -v pid="$pid" -v role="$role" '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Shared_Clean:/{s=$2}
        END{printf "%-8s %-7s %8d %8d %8d\n", pid, role, r, p, s}' "/proc/$pid/smaps_rollup"
  done; } | tee "$out/memory.txt"
size "$DIGITD" | tee -a "$out/memory.txt"
pool_stop

say "5. the seed stand-in (gunicorn 2 workers + Flask + PIL + PyTorch), wrk 8 connections"
if have_py flask && have_py torch && have_py PIL && command -v gunicorn >/dev/null && command -v wrk >/dev/null; then
  bash "$peers/seed-standin/measure.sh" 2>&1 | tee "$out/seed-standin.txt"
else
  echo "seed stand-in skipped: apt-get install python3-flask gunicorn python3-pil python3-torch wrk" |
    tee "$out/seed-standin.txt"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
echo; echo "results in $out"
