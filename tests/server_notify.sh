#!/bin/bash
# server_notify.sh DIGITD: the systemd notification protocol behind digitd.service
# (Type=notify, NotifyAccess=main, ExecReload=kill -USR2). A python3 stand-in for systemd
# listens on $NOTIFY_SOCKET and records each datagram with its sender's pid (SCM_CREDENTIALS,
# which systemd checks against the main pid). Asserted: the first master sends READY=1; at
# each USR2 hand-over the then-main master names its successor in MAINPID=, so systemd
# follows the new master instead of taking the old one's exit for the service's end.
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"
need_python
NOTES=$T/notes
python3 - "$T/notify" "$NOTES" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
s.settimeout(60)  # never outlive the test by much
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    out.write("from=%d %s\n" % (pid, msg.decode().replace("\n", " ")))
PY
listener=$!
trap 'kill $listener 2>/dev/null; cleanup' EXIT
wait_until test -S "$T/notify" || { echo "notify listener did not start"; exit 1; }
: >"$NOTES"
export NOTIFY_SOCKET=$T/notify

start_pool --workers 2 --graceful-timeout 5
m1=$(master)
wait_until grep -q "^from=$m1 READY=1" "$NOTES" || fail "no READY=1 from master $m1"
ok "first master $m1: READY=1"

for round in 1 2; do
    old=$(master)
    kill -USR2 "$old"
    wait_until eval '[ "$(cat "$PIDF" 2>/dev/null)" != '"$old"' ]' ||
        fail "round $round: pid file not updated"
    new=$(master)
    wait_until grep -q "^from=$old MAINPID=$new\b" "$NOTES" ||
        fail "round $round: no MAINPID=$new from the main pid $old"
    wait_until eval '! alive '"$old" || fail "round $round: old master $old did not exit"
    [ "$(req GET /api/health </dev/null | status_of)" = 200 ] ||
        fail "round $round: health after the upgrade"
    ok "upgrade $round: $old told systemd MAINPID=$new"
done
grep -v "^from=$m1 READY=1" "$NOTES" | grep -q READY=1 &&
    fail "an upgraded master sent READY=1 (rejected under NotifyAccess=main): $(cat "$NOTES")"
[ $FAILS = 0 ] || { cat "$NOTES"; exit 1; }
