#!/bin/bash
# server_keepconn.sh DIGITD: FastCGI connections the client keeps open (FCGI_KEEP_CONN, as
# nginx's fastcgi_keep_conn on), with tests/lib/server_fcgi.py as the client:
#  1. several requests on one kept connection are all answered, by the same child, which
#     meanwhile does not count as busy; other clients are served meanwhile;
#  2. a kept connection idle for --keep-conn-idle is closed by the server, and a client
#     waiting for the only child is then served (a cached connection cannot pin a child);
#  3. --keep-conn-idle 0 closes the connection after each request;
#  4. TERM with one kept connection idle and a request in flight on another: the request
#     completes, both connections are closed, the pool exits before the graceful timeout;
#  5. a connection not kept, its request read to the end, is closed by the child as soon as
#     it is answered (a request and a predict), while the client still holds its end: the
#     child does not wait for the client to close first; a body refused unread is answered.
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"
need_python
PNG=$(dirname "$0")/server_digit.png
py() { timeout 60 python3 - "$SOCK" "$PNG" "$T" "$@"; }

# 1 and 2 (--workers 2): the idle limit is short, but no step depends on its timing: the
# close is awaited (30 s at most), and the other checks happen on answers already received
start_pool --workers 2 --keep-conn-idle 2 --request-timeout 20
py <<'PY' || fail "kept connection with two children"
import json, sys, time
import server_fcgi as F
sock, png = sys.argv[1], open(sys.argv[2], "rb").read()
bad = 0
def check(cond, what):
    global bad
    if not cond:
        print("FAIL:", what)
        bad += 1

a = F.Conn(sock)
pids = set()
for i in range(3):  # health, predict, health: all on the one connection
    if i == 1:
        st, _, body = a.request(F.params_for("POST", "/api/predict", "image/png", png), png)
        check(st == 200 and b'"prediction":' in body, "predict on the kept connection: %d" % st)
    else:
        st, _, body = a.request(F.params_for("GET", "/api/health?pids=1"))
        check(st == 200, "request %d on the kept connection: %d" % (i + 1, st))
        pids.add(json.loads(body)["worker_pid"])
check(len(pids) == 1, "kept connection answered by children %s" % pids)
kept_child = pids.pop() if pids else 0
# the idle kept connection waits in its child's pending set: new clients are served, by
# either child (the holder included)
for _ in range(3):
    st, _, body = F.get(sock, "/api/health")
    check(st == 200, "another client while a connection is kept: %d" % st)
# an idle kept connection is not a request in flight: only the metrics request itself is
# (the holder sets its busy mark back just after its answer: look a few times)
seen = []
for _ in range(50):
    _, _, m = F.get(sock, "/api/metrics")
    seen = [l for l in m.decode().splitlines() if l.startswith("digitd_in_flight ")]
    if seen == ["digitd_in_flight 1"]:
        break
    time.sleep(0.1)
check(seen == ["digitd_in_flight 1"], "idle kept connection counted in flight: %s" % seen)
check(a.closed_by_server(30), "idle kept connection not closed after --keep-conn-idle 2")
print("kept child", kept_child)
sys.exit(1 if bad else 0)
PY
grep -q "request-timeout" "$LOG" && fail "a child was killed for --request-timeout"
[ "$(nchildren)" = 2 ] || fail "pool has $(nchildren) children"
[ $FAILS = 0 ] && ok "kept connection: one child answers it, others are served, idle: closed"
kill -TERM "$(master)"
wait_until eval '[ ! -e "$SOCK" ]' || fail "pool 1 did not stop"

# 2b. one child: a kept connection pins it while idle; a waiting client is served once the
# server has closed the idle connection (before: never, or only after a timeout kill)
start_pool --workers 1 --keep-conn-idle 2 --request-timeout 20
py <<'PY' || fail "kept connection with one child"
import subprocess, sys, os
import server_fcgi as F
sock = sys.argv[1]
a = F.Conn(sock)
st, _, _ = a.request(F.params_for("GET", "/api/health"))
if st != 200:
    sys.exit("first request: %d" % st)
# cgi-fcgi, not this process, so the wait does not depend on our own recv order
env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health", "PATH": os.environ["PATH"]}
b = subprocess.Popen(["timeout", "40", "cgi-fcgi", "-bind", "-connect", sock], env=env,
                     stdout=subprocess.PIPE)
if not a.closed_by_server(30):
    sys.exit("idle kept connection held the only child for 30 s")
out = b.communicate()[0]
if not out.startswith(b"Status: 200"):
    sys.exit("waiting client: %r" % out[:80])
PY
grep -q "request-timeout" "$LOG" && fail "the pinned child was killed for --request-timeout"
[ $FAILS = 0 ] && ok "one child: idle kept connection closed, waiting client served"
kill -TERM "$(master)"
wait_until eval '[ ! -e "$SOCK" ]' || fail "pool 2 did not stop"

# 3. --keep-conn-idle 0: closed after each request, even when the client asks to keep it
start_pool --workers 1 --keep-conn-idle 0
py <<'PY' || fail "--keep-conn-idle 0"
import sys
import server_fcgi as F
a = F.Conn(sys.argv[1])
st, _, _ = a.request(F.params_for("GET", "/api/health"))
if st != 200 or not a.closed_by_server(30):
    sys.exit("status %d, connection %s" % (st, "closed" if st == 200 else "?"))
PY
[ $FAILS = 0 ] && ok "--keep-conn-idle 0 closes after the request"
kill -TERM "$(master)"
wait_until eval '[ ! -e "$SOCK" ]' || fail "pool 3 did not stop"

# 4. graceful stop: B kept and idle on one child, A's second request in flight on the other
# (its body held back until the stop has begun): A is answered, then both are closed
start_pool --workers 2 --keep-conn-idle 60 --graceful-timeout 20
m=$(master)
py <<'PY' &
import os, sys, time
import server_fcgi as F
sock, png, tdir = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
def out(name, text):
    with open(os.path.join(tdir, name), "w") as f:
        f.write(text)
a = F.Conn(sock)
b = F.Conn(sock)
ra = a.request(F.params_for("GET", "/api/health"))[0]
rb = b.request(F.params_for("GET", "/api/health"))[0]
a.begin(F.params_for("POST", "/api/predict", "image/png", png), send_body=False)
a.s.sendall(F.record(F.STDIN, a.req_id, png[:100]))
out("held", "%d %d\n" % (ra, rb))
while not os.path.exists(os.path.join(tdir, "go")):
    time.sleep(0.05)
a.send_body(png[100:])
st = a.answer()[0]
out("result", "%d %s %s\n" % (st, a.closed_by_server(30), b.closed_by_server(30)))
PY
client=$!
wait_until test -s "$T/held" || fail "client did not start"
[ "$(cat "$T/held")" = "200 200" ] || fail "first requests: $(cat "$T/held")"
kill -TERM "$m"
wait_until grep -q " stop signal" "$LOG" || fail "no stop record"
touch "$T/go"
wait $client
[ "$(cat "$T/result" 2>/dev/null)" = "200 True True" ] ||
    fail "in flight during TERM: '$(cat "$T/result" 2>/dev/null)' (want 200, both closed)"
wait_until eval '! alive '"$m" || fail "master $m did not exit"
grep -q "stop-kill" "$LOG" && fail "children needed SIGKILL: a kept connection held them"
[ $FAILS = 0 ] && ok "TERM: request on a kept connection answered, kept connections closed"

# 5. The client sees the end of the answer only once the child has closed the connection (no
# shutdown() comes first on this path), so at that moment the child holds no socket but the
# ones it held while idle; libfcgi's graceful close would still hold this one, in poll().
start_pool --workers 1 --max-body 4096
kid=$(children | tr -d " ")
sockets() { find "/proc/$kid/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
idle=$(sockets)
[ "$idle" -ge 1 ] || fail "child $kid: no listen socket among its fds"
py "$idle" "$kid" <<'PY' || fail "connections not kept"
import os, sys
import server_fcgi as F
sock, png = sys.argv[1], open(sys.argv[2], "rb").read()
idle, kid = int(sys.argv[4]), sys.argv[5]
def sockets():
    fds = "/proc/%s/fd" % kid
    return sum(os.readlink(os.path.join(fds, f)).startswith("socket:") for f in os.listdir(fds))
bad = 0
for what, params, body in (("health", F.params_for("GET", "/api/health"), b""),
                           ("predict", F.params_for("POST", "/api/predict", "image/png", png), png)):
    a = F.Conn(sock)
    st, _, _ = a.request(params, body, keep=False)
    closed = a.closed_by_server(30)
    held = sockets()  # our end is still open
    if st != 200 or not closed or held != idle:
        print("FAIL: %s: status %d, closed %s, child sockets %d (idle: %d)" % (what, st, closed, held, idle))
        bad += 1
    a.close()
# a body over --max-body, refused before it is read: answered in full all the same
big = b"\x00" * 8192
a = F.Conn(sock)
st, _, _ = a.request(F.params_for("POST", "/api/predict", "image/png", big), big, keep=False)
if st != 413 or not a.closed_by_server(30):
    print("FAIL: refused body: status %d" % st)
    bad += 1
sys.exit(1 if bad else 0)
PY
[ "$(children | tr -d " ")" = "$kid" ] || fail "the child changed: $kid -> $(children)"
[ $FAILS = 0 ] && ok "a connection not kept is closed once answered; a refused body is answered"
kill -TERM "$(master)"
wait_until eval '[ ! -e "$SOCK" ]' || fail "pool 5 did not stop"
[ $FAILS = 0 ] || exit 1
