#!/bin/bash
# server_idle.sh DIGITD: FastCGI connections that send BEGIN_REQUEST (16 bytes) and stall, 4
# and 64 of them (reopened as the server closes them, as an attacker would), against a
# 2-child pool on a unix socket and on TCP: a health probe on a fresh connection is answered
# within 1 s throughout, the stalled ones are closed after --header-timeout, no child is lost.
# Also: a GET_VALUES management record and a record for another request id end their
# connection at once.
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"
need_python

# attack ADDR N: N stalled connections for 5 s (longer than --header-timeout 2), a health
# probe every 0.25 s; prints "probes=P slow=S closed=C"
attack() {
    timeout 60 python3 - "$1" "$2" <<'PY'
import socket, struct, sys, time
import server_fcgi as F
addr, n = sys.argv[1], int(sys.argv[2])
begin = F.record(F.BEGIN_REQUEST, 1, struct.pack(">HB5x", F.RESPONDER, 0))
def stalled():
    c = F.Conn(addr, timeout=1)
    c.s.sendall(begin)
    c.s.setblocking(False)
    return c
idle = [stalled() for _ in range(n)]
probes = slow = closed = 0
end = time.time() + 5
while time.time() < end:
    for i, c in enumerate(idle):  # reopen what the server closed
        try:
            if c.s.recv(1) == b"":
                closed += 1
                c.close()
                idle[i] = stalled()
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
            idle[i] = stalled()
    probes += 1
    try:
        st, _, _ = F.get(F.Conn(addr, timeout=1), "/api/health")
        slow += st != 200
    except (socket.timeout, OSError, EOFError):
        slow += 1
    time.sleep(0.25)
print("probes=%d slow=%d closed=%d" % (probes, slow, closed))
PY
}

check_attack() { # label addr n
    local r
    r=$(attack "$2" "$3")
    echo "$1, $3 stalled: $r"
    case $r in
    probes=*" slow=0 closed="*) ;;
    *) fail "$1, $3 stalled connections: $r" ;;
    esac
    # closed= counts the server's closes: each stalled connection at least once in 5 s
    [ "${r##*closed=}" -ge "$3" ] 2>/dev/null || fail "$1: stalled connections not closed: $r"
}

start_pool --workers 2 --header-timeout 2
kids=$(children)
check_attack unix "$SOCK" 4
check_attack unix "$SOCK" 64
[ "$(children)" = "$kids" ] || fail "children changed: $kids -> $(children)"

# management record first, then a stray record for another request id after a BEGIN: both
# closed at once (well within the 2 s header deadline)
python3 - "$SOCK" <<'PY' || fail "management / stray records not closed at once"
import struct, sys, time
import server_fcgi as F
bad = 0
for name, msg in [
        ("GET_VALUES", F.record(9, 0, F.name_value("FCGI_MAX_CONNS", ""))),
        ("stray stdin", F.record(F.BEGIN_REQUEST, 1, struct.pack(">HB5x", F.RESPONDER, 0))
         + F.record(F.STDIN, 2, b"x" * 10))]:
    c = F.Conn(sys.argv[1])
    t0 = time.time()
    c.s.sendall(msg)
    if not c.closed_by_server(1.5):
        print("FAIL: %s: connection still open after 1.5 s" % name)
        bad += 1
sys.exit(bad)
PY
[ $FAILS = 0 ] && ok "unix: health answered throughout, management and stray records closed"
kill -TERM "$(master)"
wait_until eval '[ ! -e "$SOCK" ]' || fail "unix pool did not stop"

# the same on TCP (a free port on the loopback)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -f "$PIDF"
"$DIGITD" --listen "127.0.0.1:$PORT" --pid-file "$PIDF" --workers 2 --header-timeout 2 2>>"$LOG" &
wait_for_file "$PIDF" || { echo "digitd on TCP did not start"; cat "$LOG"; exit 1; }
kids=$(children)
check_attack tcp "127.0.0.1:$PORT" 4
check_attack tcp "127.0.0.1:$PORT" 64
[ "$(children)" = "$kids" ] || fail "tcp: children changed: $kids -> $(children)"
[ $FAILS = 0 ] && ok "tcp: health answered throughout"
[ $FAILS = 0 ] || exit 1
