# server_lib.sh: shared helpers for the digitd FastCGI tests (sourced, not run).
# Each test starts real digitd processes on a unix socket in a private temp dir and talks
# to them with cgi-fcgi (libfcgi-bin). Needs: DIGITD (binary path).
set -u
command -v cgi-fcgi >/dev/null ||
    { echo "FAIL: cgi-fcgi not found: apt-get install libfcgi-bin (scripts/install-deps.sh --test)"; exit 1; }
T=$(mktemp -d /tmp/digitd-test.XXXXXX)
SOCK=$T/sock
PIDF=$T/pid
LOG=$T/log
FAILS=0
cleanup() {
    # stop only the pool this test started (the pid file names its current master)
    [ -s "$PIDF" ] && kill -TERM "$(cat "$PIDF")" 2>/dev/null
    sleep 0.3
    [ -s "$PIDF" ] && kill -KILL "$(cat "$PIDF")" 2>/dev/null
    if [ "$FAILS" -ne 0 ]; then echo "--- digitd log:"; cat "$LOG"; fi
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# start_pool [digitd options...]: starts the pool, waits until the pid file appears
# (written once every child is accepting).
start_pool() {
    rm -f "$PIDF"
    "$DIGITD" --listen "unix:$SOCK" --pid-file "$PIDF" "$@" 2>>"$LOG" &
    wait_for_file "$PIDF" || { echo "digitd did not start"; cat "$LOG"; exit 1; }
}

# wait_until [-t SECONDS] command...: runs the command every 0.1 s until it succeeds; fails
# once SECONDS (default 10) have passed without.
wait_until() {
    local i=0 n=100
    if [ "$1" = -t ]; then n=$(($2 * 10)); shift 2; fi
    until "$@"; do [ $i -ge $n ] && return 1; sleep 0.1; i=$((i + 1)); done
}

# need_python: python3 for the tests' own FastCGI client (tests/lib/server_fcgi.py), importable,
# leaving no __pycache__ in the tree. Without it the test fails, naming it.
need_python() {
    command -v python3 >/dev/null ||
        { echo "FAIL: python3 not found: run scripts/install-deps.sh --test"; exit 1; }
    export PYTHONPATH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) PYTHONDONTWRITEBYTECODE=1
}

wait_for_file() { # path [tries of 0.1 s]
    local i=0
    while [ ! -s "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$1" ]
}

master() { cat "$PIDF"; }
# Children of the master, sorted, one line.
children() {
    cat /proc/"$(master)"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d' | sort -n |
        tr '\n' ' '
}
nchildren() { children | wc -w; }
has_n() { [ "$(nchildren)" = "$1" ]; } # the master has exactly N children

# req METHOD URI [TYPE [LENGTH]] < body: prints the whole FastCGI answer (headers + body).
# LENGTH "none" sends no CONTENT_LENGTH. A pool that stops accepting fails the request after
# 30 s instead of hanging the test until ctest's timeout.
req() {
    local len=${4-}
    if [ "$len" = none ]; then
        env -i REQUEST_METHOD="$1" REQUEST_URI="$2" CONTENT_TYPE="${3-}" \
            timeout 30 cgi-fcgi -bind -connect "$SOCK"
    else
        env -i REQUEST_METHOD="$1" REQUEST_URI="$2" CONTENT_TYPE="${3-}" \
            CONTENT_LENGTH="$len" timeout 30 cgi-fcgi -bind -connect "$SOCK"
    fi
}
status_of() { sed -n '1s/^Status: \([0-9]*\).*/\1/p'; }  # answer on stdin -> status
body_of() { sed '1,/^\r\{0,1\}$/d'; }                       # answer on stdin -> body
# GET a JSON field with a tiny extractor (numbers and strings; flat keys only)
json_field() { grep -o "\"$1\":\"\{0,1\}[^,\"}]*" | head -1 | sed 's/.*://; s/"//'; }
health() { req GET "/api/health?pids=1" </dev/null | body_of; }

# post_png FILE [URI]: prints the answer to a PNG body.
post_png() { req POST "${2:-/api/predict}" image/png "$(stat -c %s "$1")" <"$1"; }

# alive PID: the process exists and is not a zombie (orphans may wait a while for a reaper).
alive() {
    local st
    st=$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ]
}
