#!/bin/bash
# server_runsh.sh BUILD_DIR: scripts/run.sh as a person runs it (RUN_DIRs in a temp dir,
# free ports), started with `setsid` so that, as in a terminal, it leads a process group of
# its own, and stopped as a terminal's Ctrl-C does: SIGINT to that whole group.
#  1. It follows a USR2 upgrade: the old master exits, the new one (not run.sh's child) is
#     the one nginx reaches, and run.sh keeps running.
#  2. Ctrl-C: neither the pool nor nginx is in run.sh's process group (the INT reaches
#     run.sh alone); the pool's stop and exit lines reach run/digitd.log and run.sh's
#     output, between its "stopping" and "stopped"; the pool, its children, nginx and the
#     log follower all exit; run.sh exits 0.
#  3. "Up" means digitd's health through nginx: with another server answering 200 on the
#     port, run.sh does not say it is up, exits non-zero and leaves nothing running.
#  4. --host: nginx listens on the address given (127.0.0.2, beside the other server that
#     still holds 127.0.0.1 on the same port).
BUILD=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIGITD=$BUILD/digitd
. "$(dirname "$0")/lib/server_lib.sh"
for c in python3 curl setsid pgrep; do
    command -v $c >/dev/null || { echo "FAIL: server_runsh needs $c: run scripts/install-deps.sh --test"; exit 1; }
done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    { echo "FAIL: server_runsh needs nginx: run scripts/install-deps.sh --test"; exit 1; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pgid() { ps -o pgid= -p "$1" | tr -d ' '; }
# left RUN_DIR: processes still running whose command line names the run dir (nginx, digitd
# and the log follower all do), or run.sh's log keeper
left() { pgrep -af -- "$1" | grep -v pgrep; pgrep -af "run.sh-log-keeper $2\$"; }

# run.sh as root runs the pool and nginx's workers as nobody, who must reach RUN_DIR in $T
[ "$(id -u)" = 0 ] && chmod 711 "$T"
RS="" RSW="" fake=""
# start_runsh RUN_DIR OUT [run.sh options]: sets RS, run.sh's pid (= its process group and
# session: set -m makes the job a group leader, so setsid forks and the child leads a new
# session; INT is not ignored as for a plain `&` job), and RSW, the `setsid -w` waiting
# for it, whose exit status is run.sh's.
start_runsh() {
    local dir=$1 out=$2
    shift 2
    set -m
    RUN_DIR=$dir setsid -w bash "$ROOT/scripts/run.sh" --build-dir "$BUILD" "$@" >"$out" 2>&1 &
    RSW=$!
    set +m
    wait_until -t 10 eval 'RS=$(cat /proc/$RSW/task/$RSW/children 2>/dev/null); [ -n "$RS" ]' ||
        { echo "FAIL: run.sh did not start"; cat "$out"; exit 1; }
    RS=$(echo $RS)
}
# ctrl_c: what a terminal's Ctrl-C does, SIGINT to run.sh's whole process group
ctrl_c() { kill -INT -- -"$RS"; }
stop_all() {
    for d in "$T"/run*; do
        [ -s "$d/digitd.pid" ] && kill -TERM "$(cat "$d/digitd.pid")" 2>/dev/null
        [ -s "$d/nginx.pid" ] && kill -QUIT "$(cat "$d/nginx.pid")" 2>/dev/null
    done
    [ -n "$RS" ] && kill -TERM "$RS" 2>/dev/null
    [ -n "$fake" ] && kill "$fake" 2>/dev/null
}
trap 'stop_all; cleanup' EXIT
show() { for f in "$T"/out*; do echo "--- $f:"; cat "$f"; done; }

# --- 1. the USR2 upgrade
section=$FAILS
A=$T/runA
PIDF=$A/digitd.pid LOG=$A/digitd.log # server_lib's cleanup stops the current master, shows the log
port=$(free_port)
health() { curl -fsS "http://127.0.0.1:$port/api/health?pids=1"; }
start_runsh "$A" "$T/outA" --port "$port" --workers 2
wait_until -t 120 grep -q "digitd is up" "$T/outA" || { show; exit 1; }
m1=$(cat "$PIDF")
kill -USR2 "$m1"
wait_until -t 10 eval '[ "$(cat "$PIDF" 2>/dev/null)" != '"$m1"' ]' || fail "pid file not updated"
m2=$(cat "$PIDF")
wait_until -t 10 eval '! alive '"$m1" || fail "old master $m1 did not exit"
sleep 1.5 # run.sh looks every 0.5 s: long enough to have wrongly stopped
alive "$RS" || fail "run.sh exited after the upgrade: $(tail -3 "$T/outA")"
[ "$(health | json_field pid)" = "$m2" ] || fail "nginx does not reach the new master $m2"
# least privilege: run as root, neither the pool nor nginx's workers keep root
if [ "$(id -u)" = 0 ]; then
    [ "$(ps -o user= -p "$m2")" = nobody ] || fail "pool master runs as $(ps -o user= -p "$m2")"
    wk=$(ps -o user= --ppid "$(cat "$A/nginx.pid")" | sort -u | tr -d ' ')
    [ "$wk" = nobody ] || fail "nginx workers run as '$wk'"
fi
[ $FAILS = $section ] && ok "run.sh follows the upgrade $m1 -> $m2"

# --- 2. Ctrl-C
section=$FAILS
ngx=$(cat "$A/nginx.pid")
kids=$(cat /proc/"$m2"/task/*/children 2>/dev/null)
[ "$(pgid "$RS")" = "$RS" ] || fail "run.sh does not lead its process group: the check below means nothing"
for p in "$m2" "$ngx"; do
    [ "$(pgid "$p")" != "$RS" ] || fail "$p ($(cat /proc/"$p"/comm)) is in run.sh's process group: Ctrl-C reaches it directly"
done
ctrl_c
wait_until -t 40 eval '! alive '"$RS" || fail "run.sh did not stop on Ctrl-C"
wait "$RSW"
rc=$?
[ $rc = 0 ] || fail "run.sh exited $rc after Ctrl-C"
wait_until -t 10 eval '! alive '"$m2" || fail "new master $m2 left running by run.sh"
for c in $kids; do alive "$c" && fail "child $c of $m2 left running"; done
wait_until -t 10 eval '! alive '"$ngx" || fail "nginx $ngx left running by run.sh"
for what in "stop signal" "exit stopped"; do
    grep -q "pid=$m2 $what" "$A/digitd.log" || fail "no '$what' line from the pool in run/digitd.log"
done
# The same lines on run.sh's output, in order: its own "stopping", the pool's stop and exit
# lines (shown by the log follower, which Ctrl-C does not kill), then its "stopped".
order=$(grep -n -e "^run.sh: stopping" -e "pid=$m2 stop signal" -e "pid=$m2 exit stopped" -e "^run.sh: stopped" \
        "$T/outA" | cut -d: -f2- | sed "s/.*pid=$m2 //; s/^run.sh: //; s/;.*//")
[ "$(echo $order)" = "stopping stop signal exit stopped stopped" ] ||
    fail "run.sh's output does not show the pool's shutdown between stopping and stopped: $(echo $order)"
l=$(left "$A" "$RS")
[ -z "$l" ] || fail "left running after Ctrl-C: $l"
[ $FAILS = $section ] &&
    ok "Ctrl-C (INT to run.sh's process group) stops the pool, then nginx; the shutdown is logged and shown"

# --- 3. another server on the port: not "up"
section=$FAILS
B=$T/runB
port2=$(free_port)
python3 - "$port2" <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
fake=$!
wait_until -t 10 curl -fs -o /dev/null "http://127.0.0.1:$port2/api/health" || fail "the other server did not start"
start_runsh "$B" "$T/outB" --port "$port2" --workers 1
wait_until -t 60 eval '! alive '"$RS" || fail "run.sh kept running with another server on its port"
wait "$RSW"
rc=$?
[ $rc != 0 ] || fail "run.sh exited 0 with another server on its port"
grep -q "digitd is up" "$T/outB" && fail "run.sh said 'up' for another server's 200: $(grep 'is up' "$T/outB")"
grep -q "did not come up" "$T/outB" || fail "run.sh did not say the stack did not come up"
l=$(left "$B" "$RS")
[ -z "$l" ] || fail "left running after a failed start: $l"
[ $FAILS = $section ] && ok "another server answering 200 on the port is not taken for digitd"

# --- 4. --host
section=$FAILS
if python3 -c 'import socket; socket.socket().bind(("127.0.0.2", 0))' 2>/dev/null; then
    C=$T/runC
    start_runsh "$C" "$T/outC" --host 127.0.0.2 --port "$port2" --workers 1
    wait_until -t 120 grep -q "digitd is up" "$T/outC" || fail "run.sh --host 127.0.0.2 did not come up"
    grep -q "http://127.0.0.2:$port2/" "$T/outC" || fail "run.sh --host 127.0.0.2 printed another URL"
    [ "$(curl -fsS "http://127.0.0.2:$port2/api/health?pids=1" | json_field pid)" = "$(cat "$C/digitd.pid")" ] ||
        fail "127.0.0.2:$port2 does not reach the pool"
    [ "$(curl -fsS "http://127.0.0.1:$port2/api/health")" = '{"status":"ok"}' ] ||
        fail "127.0.0.1:$port2 is no longer the other server: nginx did not bind to 127.0.0.2 only"
    ctrl_c
    wait_until -t 40 eval '! alive '"$RS" || fail "run.sh --host did not stop on Ctrl-C"
    wait "$RSW" || fail "run.sh --host exited $? after Ctrl-C"
    l=$(left "$C" "$RS")
    [ -z "$l" ] || fail "left running after Ctrl-C: $l"
    [ $FAILS = $section ] && ok "--host 127.0.0.2: nginx listens there only"
else
    fail "--host not tested: 127.0.0.2 cannot be bound here (Linux binds all of 127.0.0.0/8)"
fi
kill "$fake" 2>/dev/null
wait "$fake" 2>/dev/null
fake=""
[ $FAILS = 0 ] || { show; exit 1; }
