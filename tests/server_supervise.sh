#!/bin/bash
# server_supervise.sh DIGITD PNG: kill -9 -> replaced at once; children failing before they
# are ready -> back-off, never on every slot; --max-requests recycles;
# --request-timeout ends a child held by a stalled request; TERM lets slow requests finish.
DIGITD=$1
PNG=$2
. "$(dirname "$0")/lib/server_lib.sh"
LEN=$(stat -c %s "$PNG")
# slow_post OUT: sends the PNG in two pieces 2 s apart, the answer goes to OUT
slow_post() {
    { head -c 50 "$PNG"; sleep 2; tail -c +51 "$PNG"; } |
        req POST /api/predict image/png "$LEN" >"$1"
}

# 1. kill -9 a child: a new one takes its place, the pool is back to 3
start_pool --workers 3 --max-requests 3 --request-timeout 1 --header-timeout 30 \
    --graceful-timeout 10
first=$(children | cut -d' ' -f1)
kill -KILL "$first"
wait_until eval '! children | grep -qw '"$first"' && has_n 3' || fail "killed child not replaced"
grep -q "child-exit slot=[0-9]* child=$first signal=9" "$LOG" || fail "no exit record for $first"
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "health after kill"
ok "kill -9 -> replaced: $(children)"

# 1b. children killed from outside (an operator, the OOM killer), however young, are
# replaced at once: no back-off, which is only for children failing on their own before
# they are ready
newest() { children | tr ' ' '\n' | sed '/^$/d' | tail -1; }
for _ in 1 2 3 4; do
    c=$(newest)
    kill -KILL "$c"
    wait_until eval '[ "$(nchildren)" = 3 ] && ! children | grep -qw '"$c"
done
grep -q "respawn-delay" "$LOG" && fail "killed children backed off: $(grep respawn "$LOG")"
ok "killed young children replaced at once"

# 1c. children that fail on their own before they are ready (here: no file descriptor left
# for their epoll, under a limit the master just fits in: its lowest free fd, for the listen
# socket, plus one) are respawned with growing delays, except that the last slot left keeps
# starting one after the shortest delay
BO=$T/backoff
free=3
while [ -e /proc/$$/fd/$free ]; do free=$((free + 1)); done
prlimit --nofile=$((free + 1)) "$DIGITD" --listen "unix:$T/bo.sock" --workers 2 2>"$BO" &
bo=$!
wait_until grep -q "respawn-delay slot=[0-9] in_ms=400 failures=3" "$BO" ||
    fail "no growing back-off: $(tail -3 "$BO")"
wait_until grep -q "respawn-delay slot=[0-9] in_ms=100 failures=6" "$BO" ||
    fail "every slot backing off at once: $(grep respawn "$BO" | tail -3)"
grep -q "epoll_create1: Too many open files" "$BO" || fail "children did not fail as arranged"
grep -q " ready workers=" "$BO" && fail "a pool without working children said it was ready"
kill -TERM "$bo"
wait "$bo"
[ $FAILS = 0 ] && ok "children failing before ready: back-off, one slot always starting"

# 2. --max-requests 3: 9 more requests over 3 children retire at least one of them
old=$(children)
for _ in 1 2 3 4 5 6 7 8 9; do req GET /api/health </dev/null >/dev/null; done
wait_until grep -q "recycle slot" "$LOG" || fail "no child recycled after max-requests"
wait_until has_n 3 || fail "pool not back to 3 after recycling"
[ "$old" != "$(children)" ] || fail "recycling left the same children"
ok "max-requests recycles"

# 3. --request-timeout 1: a request whose first 20 KB are in (so the child serves it) and
# whose rest never comes: the child's own deadline ends it (SIGALRM), the master replaces it
held=$(children)
{ head -c 20000 /dev/zero; sleep 4; } | req POST /api/predict image/png 100000 >/dev/null 2>&1 &
stall=$!
wait_until grep -q "request-timeout" "$LOG" || fail "stuck child not killed"
grep -q "child-exit slot=[0-9]* child=[0-9]* signal=14.*(request timeout)" "$LOG" ||
    fail "no timeout exit record"
wait_until has_n 3 || fail "pool not back to 3 after the timeout kill"
[ "$held" != "$(children)" ] || fail "no child replaced after the timeout"
wait $stall
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "health after the timeout"
ok "request-timeout kills the stuck child"

# 4. TERM while two slow requests are in flight: both complete with 200, the master exits
# (a fresh pool without --request-timeout, which would kill these slow requests)
m=$(master)
kill -TERM "$m"
wait_until eval '! kill -0 '"$m"' 2>/dev/null' || fail "first pool did not stop"
start_pool --workers 2 --graceful-timeout 10 --header-timeout 30
m=$(master)
slow_post "$T/a1" &
s1=$!
slow_post "$T/a2" &
s2=$!
sleep 0.7
kill -TERM "$m"
wait $s1 $s2
for a in "$T/a1" "$T/a2"; do
    [ "$(status_of <"$a")" = 200 ] || fail "in-flight request during TERM: $(cat "$a")"
done
wait_until eval '! kill -0 '"$m"' 2>/dev/null' || fail "master $m still running after TERM"
[ -e "$PIDF" ] && fail "pid file left behind"
[ -e "$SOCK" ] && fail "socket left behind"
ok "TERM: in-flight requests completed, master exited"
[ $FAILS = 0 ] || exit 1
