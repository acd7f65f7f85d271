#!/bin/bash
# server_socket.sh DIGITD: the unix socket belongs to one pool.
#  1. a second digitd on the path of a running pool refuses to start ("already in use by a
#     running server") and the running pool keeps its socket and serves on;
#  2. a stale socket (nothing listens) is replaced; a file that is not a socket is refused
#     and left alone;
#  3. at exit a pool removes the path only if it is still its own socket: one put there by
#     another server meanwhile is left in place;
#  4. during a graceful stop with a request in flight, new connections are refused at once
#     (ECONNREFUSED, so nginx moves on to another pool) instead of waiting in the backlog,
#     and the request in flight completes.
# (USR2 upgrades keep the socket: server_upgrade.sh.)
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"
need_python
PNG=$(dirname "$0")/server_digit.png
inode() { stat -c %i "$1" 2>/dev/null; }
# listen_on PATH: a python3 server that binds PATH and accepts (closing what it accepts)
# until PATH.stop exists; prints "ready" to PATH.ready once listening
listen_on() {
    python3 - "$1" <<'PY' &
import os, socket, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
s.settimeout(0.1)
open(path + ".ready", "w").write("ready\n")
deadline = time.time() + 60
while not os.path.exists(path + ".stop") and time.time() < deadline:
    try:
        s.accept()[0].close()
    except socket.timeout:
        pass
PY
}

# 1. a second pool on the same path
start_pool --workers 1
m=$(master)
ino=$(inode "$SOCK")
timeout 30 "$DIGITD" --listen "unix:$SOCK" --workers 1 2>"$T/second.log"
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || fail "second digitd on a live socket: exit $rc"
grep -q "already in use by a running server" "$T/second.log" ||
    fail "second digitd did not say why: $(cat "$T/second.log")"
[ "$(inode "$SOCK")" = "$ino" ] || fail "the running pool's socket file was replaced"
[ "$(health | json_field pid)" = "$m" ] || fail "the running pool does not answer on its socket"
[ $FAILS = 0 ] && ok "second digitd refused: $(sed 's/.* error //' "$T/second.log")"
kill -TERM "$m"
wait_until eval '! alive '"$m" || fail "pool did not stop"
[ -e "$SOCK" ] && fail "pool left its socket file behind"

# 2. a stale socket is replaced, a regular file refused
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "could not make a stale socket"
start_pool --workers 1
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "pool on a replaced stale socket"
grep -q "stale-socket" "$LOG" || fail "no stale-socket record"
kill -TERM "$(master)"
wait_until eval '[ ! -e "$SOCK" ]' || fail "pool did not stop"
echo "not a socket" >"$SOCK"
timeout 30 "$DIGITD" --listen "unix:$SOCK" --workers 1 2>"$T/file.log" && fail "started on a file"
grep -q "is not a socket" "$T/file.log" || fail "no reason given: $(cat "$T/file.log")"
[ "$(cat "$SOCK")" = "not a socket" ] || fail "the file at the path was changed"
rm -f "$SOCK"
[ $FAILS = 0 ] && ok "stale socket replaced, regular file refused and kept"

# 3. the path taken over by another server while the pool runs (its file removed by hand):
# at exit the pool must not remove the other server's socket
start_pool --workers 1
m=$(master)
rm -f "$SOCK"
listen_on "$SOCK"
other=$!
wait_until test -s "$SOCK.ready" || fail "stand-in server did not start"
kill -TERM "$m"
wait_until eval '! alive '"$m" || fail "pool did not stop"
[ -S "$SOCK" ] || fail "the pool removed another server's socket at exit"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$SOCK" ||
    fail "the other server's socket does not accept any more"
touch "$SOCK.stop"
wait $other
rm -f "$SOCK" "$SOCK.ready" "$SOCK.stop"
[ $FAILS = 0 ] && ok "exit leaves a socket that is not the pool's own"

# 4. graceful stop with a request partly in (its body held until told): a new connect is
# refused while the stopping child waits for the rest, then the request completes
start_pool --workers 2 --graceful-timeout 20 --header-timeout 60
m=$(master)
timeout 60 python3 - "$SOCK" "$PNG" "$T" <<'PY' &
import os, sys, time
import server_fcgi as F
sock, png, tdir = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
a = F.Conn(sock)
a.begin(F.params_for("POST", "/api/predict", "image/png", png), keep=False, send_body=False)
a.s.sendall(F.record(F.STDIN, a.req_id, png[:100]))
open(os.path.join(tdir, "held"), "w").write("1\n")
while not os.path.exists(os.path.join(tdir, "go")):
    time.sleep(0.05)
a.send_body(png[100:])
open(os.path.join(tdir, "result"), "w").write("%d\n" % a.answer()[0])
PY
client=$!
wait_until test -s "$T/held" || fail "client did not start"
# the connection is accepted before the stop: it waits, part of its request in, in a
# child's pending set (one socket more than the children's two copies of the listen socket)
accepted() {
    local n=0 c
    for c in $(children); do n=$((n + $(ls -l /proc/"$c"/fd 2>/dev/null | grep -c 'socket:'))); done
    [ "$n" = 3 ]
}
wait_until accepted || fail "held request not accepted"
kill -TERM "$m"
wait_until grep -q " stop signal" "$LOG" || fail "no stop record"
timeout 30 python3 - "$SOCK" <<'PY' >"$T/connect"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
try:
    s.connect(sys.argv[1])
    print("connected")  # queued for children that are all stopping
except ConnectionRefusedError:
    print("refused")
except FileNotFoundError:
    print("no socket file")
except OSError as e:
    print("error %s" % e)
PY
[ "$(cat "$T/connect")" = refused ] || fail "connect during the graceful stop: $(cat "$T/connect")"
alive "$m" || fail "master exited before the request in flight was done"
touch "$T/go"
wait $client
[ "$(cat "$T/result" 2>/dev/null)" = 200 ] ||
    fail "request in flight during TERM: $(cat "$T/result" 2>/dev/null)"
wait_until eval '! alive '"$m" || fail "master $m did not exit"
[ -e "$SOCK" ] && fail "socket file left behind"
[ $FAILS = 0 ] && ok "graceful stop: new connections refused at once, request in flight answered"
[ $FAILS = 0 ] || exit 1
