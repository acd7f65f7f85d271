#!/bin/bash
# bench_canvas_fcgi.sh DIGITD BENCH MNIST_DIR [MIN_ACCURACY]: the canvas test set through the
# real FastCGI API. All 10,000 MNIST test digits, drawn on 280x280 canvases as a person
# draws them (varied size, position, stroke; dark on white, white on black, transparent;
# a third with browser read-back noise), are POSTed as PNGs to a running pool; every
# answer must come back, agree with the in-process answer for the same PNG, and the
# accuracy must reach MIN_ACCURACY (default 99.0 %).
DIGITD=$1 BENCH=$2 MNIST=$3 MIN=${4:-99.0}
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
start_pool --workers 2

"$BENCH" --fcgi "unix:$SOCK" --count 10000 --requests 10000 --duration 600 --connections 4 \
    --mnist "$MNIST" --fail-on-error --no-progress --json >"$T/canvas.json" ||
    fail "digitd-bench exit status $?"
python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print("canvas set through FastCGI: %d answered, accuracy %.2f %%, %d mismatches vs in-process" % (j["answered"], j["accuracy"], j["mismatches"]))' "$T/canvas.json"
jcheck "$T/canvas.json" "j['answered'] == 10000 and j['failed'] == 0" "not every request answered"
jcheck "$T/canvas.json" "j['labelled'] == 10000 and j['mismatches'] == 0 and j['compared'] == 10000" \
    "answers differ from the in-process answers"
jcheck "$T/canvas.json" "isnum(j['accuracy']) and j['accuracy'] >= $MIN" "accuracy below $MIN %"
[ "$FAILS" = 0 ] && ok "canvas set through FastCGI" || exit 1
