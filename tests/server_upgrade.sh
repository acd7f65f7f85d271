#!/bin/bash
# server_upgrade.sh DIGITD: USR2 zero-downtime upgrade. The pool runs from a copy of the
# binary; the copy is replaced (as a rebuild does) and USR2 makes a new master serve while
# client loops send predictions and health requests: no request may fail. Then a broken binary: the old pool keeps serving.
. "$(dirname "$0")/lib/server_lib.sh"
cp "$1" "$T/digitd"
DIGITD=$T/digitd

start_pool --workers 2 --graceful-timeout 10
old=$(master)
sock_ino=$(stat -c %i "$SOCK")
old_children=$(children)
# two client loops back to back, counting anything but a right answer: predictions of a
# real digit (tests/server_digit.png is a 1) and health requests
: >"$T/bad"
PNG=$(dirname "$0")/server_digit.png
client_loop() {
    while [ ! -e "$T/stop" ]; do
        if [ "$1" = predict ]; then
            a=$(post_png "$PNG")
            st=$(echo "$a" | status_of) d=$(echo "$a" | body_of | json_field prediction)
            [ "$st" = 200 ] && [ "$d" = 1 ] && echo >>"$T/good" || echo "predict: status '$st', digit '$d'" >>"$T/bad"
        else
            st=$(req GET /api/health </dev/null | status_of)
            [ "$st" = 200 ] && echo >>"$T/good" || echo "health: status '$st'" >>"$T/bad"
        fi
    done
}
client_loop predict &
loop=$!
client_loop health &
loop2=$!
sleep 0.5
cp "$1" "$T/digitd.new" && mv -f "$T/digitd.new" "$T/digitd" # a rebuild replaces the file
kill -USR2 "$old"
wait_until eval '[ "$(cat "$PIDF" 2>/dev/null)" != '"$old"' ]' || fail "pid file not updated"
new=$(master)
wait_until eval '! kill -0 '"$old"' 2>/dev/null' || fail "old master $old did not exit"
sleep 0.5
touch "$T/stop"
wait $loop $loop2
[ "$(health | json_field pid)" = "$new" ] ||
    fail "health does not report the new master $new"
[ "$(nchildren)" = 2 ] || fail "new pool has $(nchildren) children"
for c in $old_children; do kill -0 "$c" 2>/dev/null && fail "old child $c still alive"; done
[ -s "$T/bad" ] && fail "requests failed during the upgrade: $(sort "$T/bad" | uniq -c)"
echo "$(wc -l <"$T/good") requests answered during the upgrade, $(wc -l <"$T/bad") failed"
grep -q "upgrade-ready" "$LOG" || fail "no upgrade-ready record"
# the old master neither shut the socket down nor removed its file: the new pool owns both
[ "$(stat -c %i "$SOCK" 2>/dev/null)" = "$sock_ino" ] || fail "socket file gone or replaced"
ok "USR2 upgrade: $old -> $new"

# a broken binary at the same path: the upgrade fails, the old pool keeps serving
printf '#!/bin/sh\nexit 1\n' >"$T/digitd.new"
chmod +x "$T/digitd.new" && mv -f "$T/digitd.new" "$T/digitd"
kept=$(children)
kill -USR2 "$new"
wait_until grep -q "upgrade-failed" "$LOG" || fail "no upgrade-failed record"
[ "$(master)" = "$new" ] || fail "pid file changed after a failed upgrade"
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "old pool stopped serving"
[ "$(children)" = "$kept" ] || fail "children changed after a failed upgrade"
[ "$(stat -c %i "$SOCK" 2>/dev/null)" = "$sock_ino" ] || fail "failed upgrade touched the socket"
ok "USR2 with a broken binary: old pool keeps serving"

# TERM while an upgrade is still starting: the old master stops the would-be new master too
# and waits for it, so nothing is orphaned. The "new binary" never gets ready (it execs a
# long sleep), so without that it would outlive the test's bounded wait.
printf '#!/bin/sh\nexec sleep 60\n' >"$T/digitd.new"
chmod +x "$T/digitd.new" && mv -f "$T/digitd.new" "$T/digitd"
m=$(master)
kids=$(children)
starts=$(grep -c "upgrade-start" "$LOG")
kill -USR2 "$m"
wait_until eval '[ "$(grep -c upgrade-start "$LOG")" -gt '"$starts"' ]' || fail "no upgrade-start"
nm=$(sed -n 's/.*upgrade-start .*new_master=\([0-9]*\).*/\1/p' "$LOG" | tail -1)
wait_until eval '[ "$(cat /proc/'"$nm"'/comm 2>/dev/null)" = sleep ]' ||
    fail "new master $nm never started"
kill -TERM "$m"
wait_until eval '! alive '"$nm" || fail "starting new master $nm orphaned by TERM"
wait_until eval '! alive '"$m" || fail "master $m did not stop"
for c in $kids; do alive "$c" && fail "child $c still alive"; done
grep -q "upgrade-abandoned new_master=$nm" "$LOG" || fail "no upgrade-abandoned record"
grep -q "upgrade-exit new_master=$nm" "$LOG" || fail "new master's exit not reaped by $m"
# m owned the socket (it took over in the first upgrade): its stop removes the file
[ -e "$SOCK" ] && fail "socket file left behind by the upgraded master $m"
ok "TERM during a starting upgrade: new master $nm stopped, master $m exited"

# readiness runs the model: every master's "ready" (and so the upgrade's hand-over) comes
# after a child-ready record (self-test passed) from each of its slots, logged by the child
awk 'function kid() { match($0, /child=[0-9]+/); return substr($0, RSTART + 6, RLENGTH - 6) }
     NR == FNR { if (/ child-start slot=/) { split($2, m, "="); master[kid()] = m[2] } ; next }
     / child-ready slot=/ { n[master[kid()]]++ }
     / ready workers=/ { split($2, m, "="); split($4, w, "=");
                         if (n[m[2]] < w[2]) { print "master " m[2] " ready after " n[m[2]] " self-tests"; bad = 1 }
                         seen++ }
     END { if (!seen) { print "no ready record"; bad = 1 } ; exit bad }' "$LOG" "$LOG" >"$T/order" ||
    fail "ready before the children's self-tests: $(cat "$T/order")"
[ $FAILS = 0 ] && ok "each pool ready only after its children's self-tests"
[ $FAILS = 0 ] || exit 1
