#!/bin/bash
# server_limits.sh DIGITD: the defaults.
#  - --max-body 2 MiB (= nginx.conf.example's client_max_body_size 2m and the README): one
#    byte over is 413 before the body is read; at the limit the body is read (here: missing,
#    so 400, not 413);
#  - --max-width/--max-height 2048: a PNG whose header says 2049 is 413 (from the header
#    alone), a real 2048-wide one is decoded;
#  - --workers: one child per CPU this process may run on (its affinity mask, as taskset,
#    cpusets and containers set it), not per CPU of the machine.
DIGITD=$1
CORPUS=$(dirname "$0")/corpus/png
. "$(dirname "$0")/lib/server_lib.sh"
start_pool --workers 1
st=$(req POST /api/predict image/png 2097153 </dev/null | status_of)
[ "$st" = 413 ] || fail "CONTENT_LENGTH 2 MiB + 1: status $st, want 413"
st=$(req POST /api/predict image/png 2097152 </dev/null | status_of)
[ "$st" = 400 ] || fail "CONTENT_LENGTH 2 MiB with no body: status $st, want 400"
"$DIGITD" --help | grep -q -- "--max-body 2097152" || fail "--help does not say the default"
[ $FAILS = 0 ] && ok "default --max-body is 2 MiB"

for f in too_large-width-2049 too_large-height-2049; do
    st=$(post_png "$CORPUS/$f.png" | status_of)
    [ "$st" = 413 ] || fail "$f.png: status $st, want 413"
done
st=$(post_png "$CORPUS/ok-wide-2048x1.png" | status_of)
[ "$st" = 200 ] || fail "a 2048x1 PNG: status $st, want 200"
"$DIGITD" --help | grep -q -- "--max-width 2048 --max-height 2048" ||
    fail "--help does not say the default image limits"
[ $FAILS = 0 ] && ok "default --max-width/--max-height are 2048"
kill -TERM "$(master)"
for _ in $(seq 100); do [ -e "$SOCK" ] || break; sleep 0.1; done

# default --workers: pinned to one CPU, one child; unpinned, as many as nproc (which reads
# the same affinity mask) says
cpu=$(taskset -pc $$ 2>/dev/null | sed 's/.*: //; s/[-,].*//')
if [ -n "$cpu" ]; then
    rm -f "$PIDF"
    taskset -c "$cpu" "$DIGITD" --listen "unix:$SOCK" --pid-file "$PIDF" 2>>"$LOG" &
    wait_for_file "$PIDF" || fail "pinned digitd did not start"
    [ "$(nchildren)" = 1 ] || fail "pinned to CPU $cpu: $(nchildren) children, want 1"
    kill -TERM "$(master)"
    for _ in $(seq 100); do [ -e "$SOCK" ] || break; sleep 0.1; done
fi
start_pool
n=$(nproc)
[ "$n" -gt 256 ] && n=256
[ "$(nchildren)" = "$n" ] || fail "default: $(nchildren) children, nproc says $n"
[ $FAILS = 0 ] && ok "default --workers follows the CPU affinity (pinned: 1, else $n)"
[ $FAILS = 0 ] || exit 1
