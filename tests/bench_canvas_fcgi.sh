#!/bin/bash
# bench_canvas_fcgi.sh DIGITD BENCH MNIST_DIR MIN_SCAN MIN_PEN MIN_WORLD MIN_WORLD_CLASS
#                      MAX_DOUBT_PEN MAX_DOUBT_WORLD
# The canvas test sets through the real FastCGI API, the one test of their accuracy. All
# 10,000 MNIST test digits, drawn on 280x280 canvases as people draw them (varied size,
# position, stroke; dark on white, white on black, transparent; a third with browser
# read-back noise), are POSTed as PNGs to a running pool three times: in the scan style, in
# the pen style, and as the world writes them (digitd-bench --style world: slashed and dotted
# zeros, ones with a flag and a foot, crossed sevens, nines with a hooked tail, a tap or a
# stray stroke beside any digit, a third in a thin grey pencil). Every answer must come back (or be the same 422 as
# in-process), carry a verdict and agree with the in-process answer for the same PNG; each set must reach its MIN_* %, each
# world-styles class MIN_WORLD_CLASS %, and at most MAX_DOUBT_* % of the pen and world sets
# may be answered "unsure" or "not_a_digit".
DIGITD=$1 BENCH=$2 MNIST=$3 MIN_SCAN=$4 MIN_PEN=$5 MIN_WORLD=$6 MIN_CLASS=$7 DOUBT_PEN=$8 DOUBT_WORLD=$9
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
start_pool --workers 2

# canvas_set STYLE MIN: one style's 10,000 canvases; leaves $T/canvas-STYLE.json. A canvas
# where nothing recognisable is found is answered 422, as in-process: a wrong answer, not a
# failed request; anything else (connection, protocol, a child dying) fails the test.
canvas_set() {
    local out=$T/canvas-$1.json
    "$BENCH" --fcgi "unix:$SOCK" --style "$1" --count 10000 --requests 10000 --duration 600 \
        --connections 4 --mnist "$MNIST" --no-progress --json >"$out"
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print("%s style through FastCGI: %d answered, %d refused (422), accuracy %.2f %% of all, by class %s, verdicts %s, %d mismatches vs in-process" % (sys.argv[2], j["answered"], j["failed"], j["correct"] / 100.0, " ".join("%.2f" % a for a in j["class_accuracy"]), j["verdicts"], j["mismatches"]))' "$out" "$1"
    jcheck "$out" "j['answered'] + j['failed'] == 10000 and j['failed'] == j['errors']['status'] and j['failed'] == j['at_rest']['rejected']" \
        "$1 style: requests failed other than as the in-process refusals"
    jcheck "$out" "j['mismatches'] == 0 and j['compared'] == j['answered']" \
        "$1 style: answers differ from the in-process answers"
    jcheck "$out" "sum(j['verdicts'].values()) == j['answered']" "$1 style: answers without a verdict"
    jcheck "$out" "j['correct'] / 100.0 >= $2" "$1 style: accuracy below $2 % of all canvases"
}
# doubt STYLE MAX: at most MAX % answered unsure or not a digit
doubt() {
    jcheck "$T/canvas-$1.json" "(j['verdicts']['unsure'] + j['verdicts']['not_a_digit']) <= $2 * 100" \
        "more than $2 % of the $1 set answered unsure or not a digit"
}
canvas_set scan "$MIN_SCAN"
canvas_set pen "$MIN_PEN"
doubt pen "$DOUBT_PEN"
canvas_set world "$MIN_WORLD"
jcheck "$T/canvas-world.json" "min(j['class_accuracy']) >= $MIN_CLASS" "a world-styles class below $MIN_CLASS %"
doubt world "$DOUBT_WORLD"
[ "$FAILS" = 0 ] && ok "canvas sets through FastCGI" || exit 1
