#!/bin/bash
# server_signals.sh DIGITD: --header-timeout closes a client stalling inside the FastCGI
# header without costing a child; SIGUSR1 does not kill the master; children stop when the master is killed.
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"

start_pool --workers 3 --header-timeout 1 --graceful-timeout 5

# 1. half a FastCGI record header (3 of 8 bytes), then silence: the connection waits in a
# child's pending set, never holding the child, and is closed at --header-timeout; the child
# lives on. The client reports whether the server dropped the connection within 10 s.
need_python
kids=$(children)
python3 - "$SOCK" >"$T/half" 2>&1 <<'PY'
import sys
import server_fcgi as F
conn = F.Conn(sys.argv[1])
conn.s.sendall(F.record(F.BEGIN_REQUEST, 1, bytes(8))[:3])  # 3 of the header's 8 bytes
print("closed" if conn.closed_by_server(10) else "not closed within 10 s")
PY
[ "$(cat "$T/half")" = closed ] || fail "half-header client: $(cat "$T/half")"
[ "$(children)" = "$kids" ] || fail "children changed: $kids -> $(children)"
grep -q "child-exit" "$LOG" && fail "a child exited: $(grep child-exit "$LOG")"
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "health after the close"
ok "half a FastCGI header: closed after --header-timeout, no child lost"

# 2. SIGUSR1 (nginx's "reopen logs" habit): master and children stay, the pool answers
m=$(master)
kids=$(children)
kill -USR1 "$m"
wait_until grep -q "reopen-ignored" "$LOG" || fail "no reopen-ignored record"
alive "$m" || fail "master $m died of SIGUSR1"
[ "$(children)" = "$kids" ] || fail "children changed after SIGUSR1: $kids -> $(children)"
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "health after SIGUSR1"
ok "SIGUSR1 ignored, pool serving"

# 2b. children ignore USR1 too, so signalling the whole process group is harmless
# (libfcgi would otherwise install its own USR1 handler, which makes accept fail for good)
for c in $kids; do kill -USR1 "$c"; done
sleep 0.3
for _ in 1 2 3 4 5 6; do
    [ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "health after USR1"
done
[ "$(children)" = "$kids" ] || fail "children died of SIGUSR1: $kids -> $(children)"
grep -q " error " "$LOG" && fail "error records after SIGUSR1: $(grep " error " "$LOG")"
ok "children ignore SIGUSR1"

# 3. kill -9 the master: its children notice (PR_SET_PDEATHSIG) and exit, none is left
# accepting with nobody supervising it
kill -KILL "$m"
gone() { for c in $kids; do alive "$c" && return 1; done; return 0; }
wait_until gone || fail "children still alive after the master was killed: $kids"
rm -f "$PIDF" # names a dead master now; cleanup must not signal a recycled pid
ok "master killed -> children exited"
[ $FAILS = 0 ] || exit 1
