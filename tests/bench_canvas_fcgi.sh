#!/bin/bash
# bench_canvas_fcgi.sh DIGITD BENCH MNIST_DIR MIN_SCAN MIN_PEN: the canvas test sets through
# the real FastCGI API. All 10,000 MNIST test digits, drawn on 280x280 canvases as a person
# draws them (varied size, position, stroke; dark on white, white on black, transparent;
# a third with browser read-back noise), once in the scan style and once in the pen style,
# are POSTed as PNGs to a running pool; every answer must come back and agree with the
# in-process answer for the same PNG, and the accuracy must reach MIN_SCAN and MIN_PEN %.
DIGITD=$1 BENCH=$2 MNIST=$3 MIN_SCAN=$4 MIN_PEN=$5
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
start_pool --workers 2

# canvas_set STYLE MIN: one style's 10,000 canvases
canvas_set() {
    local out=$T/canvas-$1.json
    "$BENCH" --fcgi "unix:$SOCK" --style "$1" --count 10000 --requests 10000 --duration 600 \
        --connections 4 --mnist "$MNIST" --fail-on-error --no-progress --json >"$out" ||
        fail "$1 style: digitd-bench exit status $?"
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print("%s style through FastCGI: %d answered, accuracy %.2f %%, %d mismatches vs in-process" % (sys.argv[2], j["answered"], j["accuracy"], j["mismatches"]))' "$out" "$1"
    jcheck "$out" "j['answered'] == 10000 and j['failed'] == 0" "$1 style: not every request answered"
    jcheck "$out" "j['labelled'] == 10000 and j['mismatches'] == 0 and j['compared'] == 10000" \
        "$1 style: answers differ from the in-process answers"
    jcheck "$out" "isnum(j['accuracy']) and j['accuracy'] >= $2" "$1 style: accuracy below $2 %"
}
canvas_set scan "$MIN_SCAN"
canvas_set pen "$MIN_PEN"
[ "$FAILS" = 0 ] && ok "canvas sets through FastCGI" || exit 1
