#!/usr/bin/env bash
# Runs digitd: installs what is missing, builds, starts the worker pool and a private nginx
# (its config generated from nginx.conf.example, its files in run/), waits until
# /api/health answers with the model, prints the URL, and stops both cleanly on Ctrl-C
# (or TERM): the pool first (graceful: requests in flight finish), then nginx (QUIT,
# graceful too). Follows zero-downtime upgrades: after `kill -USR2 $(cat run/digitd.pid)`
# the new master (not a child of this script) is the one supervised and stopped.
#   scripts/run.sh [--host ADDR] [--port PORT] [--workers N] [--build-dir DIR]
#     --host ADDR      address nginx listens on (default 127.0.0.1: this machine only;
#                      0.0.0.0 or :: for every interface, e.g. to try the page on a phone)
#     --port PORT      its port (default 8080)
#     --workers N      worker processes (default: one per CPU)
#     --build-dir DIR  build tree (default build/, or $BUILD_DIR)
# The pool logs to run/digitd.log (shown here too), nginx to run/error.log; RUN_DIR
# overrides run/. Needs root or sudo only when packages are missing. Run as root, neither the
# pool nor nginx's workers keep root: both run as nobody (RUN_DIR is handed to nobody).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
host=127.0.0.1 port=8080 workers="" build=${BUILD_DIR:-$root/build}
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "run.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --host) need "$@"; host=$2; shift 2 ;;
    --port) need "$@"; port=$2; shift 2 ;;
    --workers) need "$@"; workers=$2; shift 2 ;;
    --build-dir) need "$@"; build=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
  { echo "run.sh: --port '$port' is not a port number" >&2; exit 2; }
[ -z "$workers" ] || [[ $workers =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: --workers '$workers' is not a positive number" >&2; exit 2; }
[[ $host =~ ^[A-Za-z0-9._-]+$ || $host =~ ^\[?[0-9A-Fa-f:.]+\]?$ ]] ||
  { echo "run.sh: --host '$host' is not an address or host name" >&2; exit 2; }
# Where to reach nginx from here (for the health check and the URL printed).
bare=${host#\[} bare=${bare%\]}
case "$bare" in
  0.0.0.0) url_host=127.0.0.1 ;;
  ::) url_host='[::1]' ;;
  *:*) url_host="[$bare]" ;;
  *) url_host=$bare ;;
esac

"$root/scripts/install-deps.sh"
# a new tree uses Ninja (install-deps.sh installs it); an existing one keeps its generator
[ -f "$build/CMakeCache.txt" ] ||
  CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja} cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" --target digitd

run=${RUN_DIR:-$root/run}
mkdir -p "$run"
run=$(cd "$run" && pwd)
sock="$run/digitd.sock"
pidf="$run/digitd.pid"
log="$run/digitd.log"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
health_url="http://$url_host:$port/api/health"
pool_pid="" nginx_pid="" keeper="" follower=""

say() { echo "$@" >&2 2>/dev/null || true; } # a closed terminal must not stop a stop
# The pool's current master is the one the pid file names: a USR2 upgrade forks a new
# master from the old one, which rewrites the file and then the old one exits. So the pool
# is watched and stopped through the file, not through $pool_pid (only the first master).
current_master() { cat "$pidf" 2>/dev/null || true; }
alive() { # PID: running; a zombie waiting for a reaper does not count
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}
gone() { # TENTHS PID...: polls until none of the PIDs is alive; fails after TENTHS x 0.1 s
  local n=$1 p up
  shift
  for _ in $(seq "$n"); do
    up=0
    for p in "$@"; do alive "$p" && up=1; done
    [ $up = 0 ] && return 0
    sleep 0.1 || true # a second Ctrl-C kills this sleep, not the stop
  done
  return 1
}

# Ctrl-C in a terminal sends INT to the whole foreground process group. The pool, nginx and
# the log follower run in sessions of their own (setsid; a background job of this script
# is never a group leader, so setsid does not fork and $! is the process itself): only this
# script gets the INT, and it stops them in order. The pool then logs its shutdown, which
# the follower still shows, and nginx serves until the pool has drained.
stop() {
  local rc=${1:-0} m masters
  trap 'say "run.sh: still stopping (requests in flight finish first)"' INT TERM HUP
  trap - EXIT
  say "run.sh: stopping"
  # 1. The pool: TERM the current master and the first one if it still runs (mid-upgrade:
  # a master stopped while its successor starts stops that one too). Graceful: requests
  # finish. Polled, not `wait`ed: an upgraded master is not our child. Bounded by digitd's
  # default --graceful-timeout (30 s, then it SIGKILLs its children itself) and a margin.
  masters=$(printf '%s\n' "$(current_master)" "$pool_pid" | sed '/^$/d' | sort -u)
  for m in $masters; do kill -TERM "$m" 2>/dev/null || true; done
  # shellcheck disable=SC2086 # one PID per word
  [ -z "$masters" ] || gone 350 $masters || say "run.sh: the pool is still running after 35 s"
  [ -z "$pool_pid" ] || wait "$pool_pid" 2>/dev/null || true
  # 2. nginx: QUIT is its graceful stop (open requests finish, idle connections close);
  # TERM (fast) only if it takes longer than its own timeouts allow.
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    gone 300 "$nginx_pid" || kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  # 3. The log follower prints what the pool wrote last, then ends with its keeper.
  if [ -n "$keeper" ]; then
    kill "$keeper" 2>/dev/null || true
    wait "$keeper" 2>/dev/null || true
    wait "$follower" 2>/dev/null || true
  fi
  say "run.sh: stopped"
  exit "$rc"
}
trap stop INT TERM HUP
trap 'stop 1' EXIT
trap '' PIPE # output to a closed pipe or terminal fails (say ignores it) instead of killing us

# The pool writes its log file itself, so no line depends on a pipe or on this terminal;
# `tail` shows the new lines here, from its own session, until stop() ends its keeper (or
# this script is gone: the keeper watches it).
touch "$log"
from=$(($(stat -c %s "$log") + 1))
setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done' run.sh-log-keeper "$$" \
  </dev/null >/dev/null 2>&1 &
keeper=$!
setsid tail -c "+$from" -f -s 0.2 --pid="$keeper" "$log" </dev/null >&2 &
follower=$!

# As root: the pool runs as nobody, the user nginx's workers run as (nginx-from-example.sh),
# so they can connect to its socket, and RUN_DIR becomes nobody's for its socket and pid file.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  export NGINX_USER=nobody
  as_user=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups --)
  chown nobody:"$(id -gn nobody)" "$run"
  "${as_user[@]}" test -x "$build/digitd" || {
    echo "run.sh: user nobody cannot run $build/digitd (a parent directory closed to others?)" >&2
    exit 1; }
fi
rm -f "$pidf"
# --request-timeout 10: nginx.conf.example waits 12 s (fastcgi_read_timeout) for an answer,
# so a runaway request is ended by the pool, not left running after nginx gave up on it.
# shellcheck disable=SC2086 # $workers is empty or a number
setsid "${as_user[@]}" "$build/digitd" --listen "unix:$sock" --pid-file "$pidf" --request-timeout 10 \
  ${workers:+--workers "$workers"} </dev/null 2>>"$log" &
pool_pid=$!

"$root/scripts/nginx-from-example.sh" "$run" "$port" "$sock" "" "$host"
setsid "$nginx_bin" -p "$run" -c "$run/nginx.conf" -e "$run/error.log" -g 'daemon off;' </dev/null &
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
      alive "$m" || { say "run.sh: the worker pool exited"; return; }
    fi
    alive "$nginx_pid" || { say "run.sh: nginx exited"; return; }
    sleep 0.5 & wait $! # `wait` returns at once on Ctrl-C, so the trap runs without delay
  done
}

# Up means digitd's own health answer through nginx: a 200 with the model's JSON. Anything
# else on the port (another server that took it first) is not "up".
last_answer=""
healthy() {
  local out code
  out=$(curl -sS --max-time 5 -w '\n%{http_code}' "$health_url" 2>&1) || { last_answer=$out; return 1; }
  code=${out##*$'\n'} out=${out%$'\n'*}
  last_answer="HTTP $code ${out:0:200}"
  [ "$code" = 200 ] && [[ $out =~ \"status\":\"ok\" && $out =~ \"params\":[1-9] &&
                          $out =~ \"sha256\":\"[0-9a-f]{64}\" ]]
}

for _ in $(seq 150); do
  if healthy; then
    echo "digitd is up: http://$url_host:$port/  (pool pid $(current_master); Ctrl-C stops)"
    case "$bare" in 0.0.0.0|::) echo "  nginx listens on every interface: port $port is reachable from the network" ;; esac
    echo "  upgrade after a rebuild: kill -USR2 \$(cat $pidf)"
    supervise
    say "run.sh: see $log and $run/error.log"
    stop 1
  fi
  alive "$pool_pid" || { say "run.sh: the worker pool exited while starting"; break; }
  alive "$nginx_pid" || { say "run.sh: nginx exited while starting (port $port taken?)"; break; }
  sleep 0.2
done
say "run.sh: the stack did not come up on $host:$port: $health_url gave ${last_answer:-nothing}"
say "run.sh: see $log and $run/error.log"
stop 1
