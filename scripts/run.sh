#!/usr/bin/env bash
# Runs digitd: installs what is missing, builds, starts the worker pool and a private nginx
# (its config generated from nginx.conf.example, its files in run/), prints the URL, and
# stops both cleanly on Ctrl-C. Follows zero-downtime upgrades: after
# `kill -USR2 $(cat run/digitd.pid)` the new master (not a child of this script) is the one
# supervised and stopped.
#   scripts/run.sh [--port 8080] [--workers N] [--build-dir build]
# Needs root or sudo only when packages are missing. RUN_DIR overrides run/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=8080 workers="" build=${BUILD_DIR:-$root/build}
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh"
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" --target digitd

run=${RUN_DIR:-$root/run}
mkdir -p "$run"
run=$(cd "$run" && pwd)
sock="$run/digitd.sock"
pidf="$run/digitd.pid"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
pool_pid="" nginx_pid=""

# The pool's current master is the one the pid file names: a USR2 upgrade forks a new
# master from the old one, which rewrites the file and then the old one exits. So the pool
# is watched and stopped through the file, not through $pool_pid (only the first master).
current_master() { cat "$pidf" 2>/dev/null || true; }
alive() { # PID: running; a zombie waiting for a reaper does not count
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

stop() {
  trap - INT TERM EXIT
  echo "run.sh: stopping" >&2
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true   # graceful: finish requests
  # TERM the current master and the first one if it still runs (mid-upgrade: a master
  # stopped while its successor starts stops that one too). Graceful: requests finish.
  local m masters
  masters=$(printf '%s\n' "$(current_master)" "$pool_pid" | sed '/^$/d' | sort -u)
  for m in $masters; do kill -TERM "$m" 2>/dev/null || true; done
  # Poll, not `wait`: an upgraded master is not our child. Bounded by digitd's default
  # --graceful-timeout (30 s, then it SIGKILLs its children itself) and a margin.
  for _ in $(seq 350); do
    local up=0
    for m in $masters; do alive "$m" && up=1; done
    [ $up = 0 ] && break
    sleep 0.1
  done
  wait "$pool_pid" "$nginx_pid" 2>/dev/null || true
  echo "run.sh: stopped" >&2
  exit "${1:-0}"
}
trap stop INT TERM
trap 'stop 1' EXIT

# shellcheck disable=SC2086 # $workers is empty or "--workers N"
rm -f "$pidf"
"$build/digitd" --listen "unix:$sock" --pid-file "$pidf" \
  ${workers:+--workers "$workers"} 2> >(tee -a "$run/digitd.log" >&2) &
pool_pid=$!

"$root/scripts/nginx-from-example.sh" "$run" "$port" "$sock"
"$nginx_bin" -p "$run" -c "$run/nginx.conf" -e "$run/error.log" -g 'daemon off;' &
nginx_pid=$!

# supervise: returns when the pool (whichever master is current) or nginx is gone
supervise() {
  local m
  while :; do
    m=$(current_master)
    if ! alive "$m"; then
      # read the file and the process at different moments: an upgrade may have handed
      # over in between, so look once more before calling the pool gone
      m=$(current_master)
      alive "$m" || { echo "run.sh: the worker pool exited" >&2; return; }
    fi
    alive "$nginx_pid" || { echo "run.sh: nginx exited" >&2; return; }
    sleep 0.5 & wait $! # `wait` returns at once on Ctrl-C, so the trap runs without delay
  done
}

for _ in $(seq 50); do
  if curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; then
    echo "digitd is up: http://127.0.0.1:$port/  (pool pid $(current_master); Ctrl-C stops)"
    echo "  upgrade after a rebuild: kill -USR2 \$(cat $pidf)"
    supervise
    echo "run.sh: see $run/digitd.log and $run/error.log" >&2
    stop 1
  fi
  kill -0 "$pool_pid" 2>/dev/null && kill -0 "$nginx_pid" 2>/dev/null || break
  sleep 0.2
done
echo "run.sh: the stack did not come up on port $port; see $run/digitd.log and $run/error.log" >&2
stop 1
