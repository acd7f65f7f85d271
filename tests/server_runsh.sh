#!/bin/bash
# server_runsh.sh BUILD_DIR: scripts/run.sh follows a USR2 upgrade. It starts the pool and a
# private nginx (RUN_DIR in a temp dir, a free port); after `kill -USR2 $(cat digitd.pid)`
# the old master exits and the new one is not run.sh's child: run.sh must keep running,
# nginx must reach the new pool, and Ctrl-C (INT to run.sh) must stop the new master too.
BUILD=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIGITD=$BUILD/digitd
. "$(dirname "$0")/server_lib.sh"
command -v python3 >/dev/null && command -v curl >/dev/null &&
    { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } ||
    { echo "skip: needs python3, curl and nginx"; exit 77; }
wait_until() { # seconds command... : retries every 0.1 s
    local i=0 n=$(($1 * 10))
    shift
    until "$@"; do [ $i -ge $n ] && return 1; sleep 0.1; i=$((i + 1)); done
}
export RUN_DIR=$T/run
PIDF=$RUN_DIR/digitd.pid # server_lib's cleanup then stops whatever master is current
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
health() { curl -fsS "http://127.0.0.1:$port/api/health"; }

set -m # run.sh in its own process group, where INT is not ignored as for a plain `&` job
bash "$ROOT/scripts/run.sh" --port "$port" --workers 2 --build-dir "$BUILD" >"$T/out" 2>&1 &
rs=$!
set +m
trap 'kill -TERM $rs 2>/dev/null; [ -s "$RUN_DIR/nginx.pid" ] &&
      kill -QUIT "$(cat "$RUN_DIR/nginx.pid")" 2>/dev/null; cleanup' EXIT
wait_until 120 grep -q "digitd is up" "$T/out" || { cat "$T/out"; exit 1; }
m1=$(cat "$PIDF")

kill -USR2 "$m1"
wait_until 10 eval '[ "$(cat "$PIDF" 2>/dev/null)" != '"$m1"' ]' || fail "pid file not updated"
m2=$(cat "$PIDF")
wait_until 10 eval '! alive '"$m1" || fail "old master $m1 did not exit"
sleep 1.5 # run.sh looks every 0.5 s: long enough to have wrongly stopped
alive "$rs" || fail "run.sh exited after the upgrade: $(tail -3 "$T/out")"
[ "$(health | json_field pid)" = "$m2" ] || fail "nginx does not reach the new master $m2"
ok "run.sh follows the upgrade $m1 -> $m2"

kids=$(cat /proc/"$m2"/task/*/children 2>/dev/null)
kill -INT "$rs"
wait_until 40 eval '! alive '"$rs" || fail "run.sh did not stop on INT"
wait_until 10 eval '! alive '"$m2" || fail "new master $m2 left running by run.sh"
for c in $kids; do alive "$c" && fail "child $c of $m2 left running"; done
grep -q "run.sh: stopped" "$T/out" || fail "run.sh did not report a clean stop"
ok "INT to run.sh stops the current master $m2"
[ $FAILS = 0 ] || { cat "$T/out"; exit 1; }
