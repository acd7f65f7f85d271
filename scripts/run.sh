#!/usr/bin/env bash
# Runs digitd: installs what is missing, builds, starts the worker pool and a private nginx
# (its config generated from nginx.conf.example, its files in run/), prints the URL, and
# stops both cleanly on Ctrl-C.
#   scripts/run.sh [--port 8080] [--workers N] [--build-dir build]
# Needs root or sudo only when packages are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=8080 workers="" build=${BUILD_DIR:-$root/build}
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh"
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" --target digitd

run="$root/run"
mkdir -p "$run"
sock="$run/digitd.sock"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
pool_pid="" nginx_pid=""

stop() {
  trap - INT TERM EXIT
  echo "run.sh: stopping" >&2
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true   # graceful: finish requests
  [ -n "$pool_pid" ] && kill -TERM "$pool_pid" 2>/dev/null || true     # graceful: finish requests
  wait "$pool_pid" "$nginx_pid" 2>/dev/null || true
  echo "run.sh: stopped" >&2
  exit "${1:-0}"
}
trap stop INT TERM
trap 'stop 1' EXIT

# shellcheck disable=SC2086 # $workers is empty or "--workers N"
"$build/digitd" --listen "unix:$sock" --pid-file "$run/digitd.pid" \
  ${workers:+--workers "$workers"} 2> >(tee -a "$run/digitd.log" >&2) &
pool_pid=$!

"$root/scripts/nginx-from-example.sh" "$run" "$port" "$sock"
"$nginx_bin" -p "$run" -c "$run/nginx.conf" -e "$run/error.log" -g 'daemon off;' &
nginx_pid=$!

for _ in $(seq 50); do
  if curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; then
    echo "digitd is up: http://127.0.0.1:$port/  (pool pid $(cat "$run/digitd.pid"); Ctrl-C stops)"
    echo "  upgrade after a rebuild: kill -USR2 \$(cat $run/digitd.pid)"
    wait -n "$pool_pid" "$nginx_pid" || true
    echo "run.sh: a server exited; see $run/digitd.log and $run/error.log" >&2
    stop 1
  fi
  kill -0 "$pool_pid" 2>/dev/null && kill -0 "$nginx_pid" 2>/dev/null || break
  sleep 0.2
done
echo "run.sh: the stack did not come up on port $port; see $run/digitd.log and $run/error.log" >&2
stop 1
