#!/bin/bash
# server_limits.sh DIGITD: the default --max-body is 2 MiB (= nginx.conf.example's
# client_max_body_size 2m and the README): one byte over is 413 before the body is read; at
# the limit the body is read (here: missing, so 400, not 413).
DIGITD=$1
. "$(dirname "$0")/server_lib.sh"
start_pool --workers 1
st=$(req POST /api/predict image/png 2097153 </dev/null | status_of)
[ "$st" = 413 ] || fail "CONTENT_LENGTH 2 MiB + 1: status $st, want 413"
st=$(req POST /api/predict image/png 2097152 </dev/null | status_of)
[ "$st" = 400 ] || fail "CONTENT_LENGTH 2 MiB with no body: status $st, want 400"
"$DIGITD" --help | grep -q -- "--max-body 2097152" || fail "--help does not say the default"
ok "default --max-body is 2 MiB"
[ $FAILS = 0 ] || exit 1
