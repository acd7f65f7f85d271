#!/bin/bash
# bench_fcgi.sh DIGITD BENCH MNIST_DIR: digitd-bench --fcgi against a real pool on a unix
# socket (started as the server tests do): every request answered, no error of any kind but
# possibly wrong digits, and every answer equal to the in-process answer for the same payload.
DIGITD=$1 BENCH=$2 MNIST=$3
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
start_pool --workers 2

# no_errors FILE N: N requests, all answered, compared with the answer at rest, no mismatch
no_errors() {
    jcheck "$1" "j['requests'] == $2 and j['answered'] == $2 and j['failed'] == 0"
    jcheck "$1" 'all(v == 0 for k, v in j["errors"].items() if k not in ("total", "wrong"))' \
        "errors other than wrong digits"
    jcheck "$1" 'j["errors"]["total"] == j["errors"]["wrong"] == j["labelled"] - j["correct"]' \
        "wrong digits are not labelled - correct"
    jcheck "$1" "j['mismatches'] == 0 and j['compared'] == $2" "mismatches vs at rest"
    jcheck "$1" 'isnum(j["accuracy"]) and j["accuracy"] >= 90' "accuracy under load < 90"
    jcheck "$1" 'isnum(j["requests_per_s"]) and j["requests_per_s"] > 0'
    jcheck "$1" 'all(isnum(j["latency_ms"][k]) for k in ("p50", "p90", "p99", "p99.9", "max"))'
    jcheck "$1" 'j["latency_ms"]["p50"] <= j["latency_ms"]["p99"] <= j["latency_ms"]["max"]' \
        "percentiles out of order"
}

# raw PNG bodies on /api/predict
"$BENCH" --fcgi "unix:$SOCK" --requests 300 --connections 4 --fail-on-error --json \
    --count 300 --mnist "$MNIST" >"$T/png.json" || fail "--fcgi (png) exit status $?"
cat "$T/png.json"
no_errors "$T/png.json" 300

# the seed page's JSON data URL bodies on /predict
"$BENCH" --fcgi "unix:$SOCK" --path /predict --body json --requests 100 --count 50 \
    --fail-on-error --json --mnist "$MNIST" >"$T/json.json" || fail "--fcgi (json) exit status $?"
no_errors "$T/json.json" 100

# a socket nobody listens on: every request fails, --fail-on-error exits 1, and the run
# still ends by itself (--requests has a time bound; here the count is reached first)
"$BENCH" --fcgi "unix:$T/nobody" --requests 20 --count 5 --fail-on-error --json \
    --mnist "$MNIST" >"$T/dead.json"
[ $? = 1 ] || fail "--fail-on-error did not exit 1 with a dead socket"
jcheck "$T/dead.json" 'j["answered"] == 0 and j["failed"] >= 20 and j["errors"]["connect"] >= 20 and j["requests_per_s"] == 0' \
    "dead socket: failures not counted as connect errors"
[ "$FAILS" = 0 ] && ok "bench --fcgi" || exit 1
