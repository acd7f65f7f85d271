#!/bin/bash
# bench_world_fcgi.sh DIGITD BENCH MNIST_DIR MIN_WORLD MIN_CLASS MIN_PEN MAX_DOUBT_WORLD MAX_DOUBT_PEN
# The world-styles set and the pen-style canvas set through the real FastCGI API. All 10,000
# MNIST test digits are drawn by the renderer (worker/input/render.h): once as the world
# writes them (digitd-bench --style world: slashed and dotted zeros, ones with a flag and a
# foot, crossed sevens, a tap or a stray stroke beside any digit, a third in a thin grey
# pencil), once in the plain pen style; POSTed as PNGs to a running pool. Every answer must
# come back and agree with the in-process answer; the world set must reach MIN_WORLD % and
# each of its classes MIN_CLASS %, the pen set MIN_PEN %; at most MAX_DOUBT_* % of either may
# be answered "unsure" or "not_a_digit" (every answer must carry a verdict).
DIGITD=$1 BENCH=$2 MNIST=$3 MIN=$4 MIN_CLASS=$5 MIN_PEN=$6 MAX_DOUBT_WORLD=$7 MAX_DOUBT_PEN=$8
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
start_pool --workers 2

for style in world pen; do
    "$BENCH" --fcgi "unix:$SOCK" --count 10000 --requests 10000 --duration 600 --connections 4 \
        --mnist "$MNIST" --style $style --fail-on-error --no-progress --json >"$T/$style.json" ||
        fail "$style: digitd-bench exit status $?"
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); v = j["verdicts"]
print("%s set through FastCGI: %d answered, accuracy %.2f %%, by class %s, verdicts %s, %d mismatches vs in-process" % (sys.argv[2], j["answered"], j["accuracy"], " ".join("%.2f" % a for a in j["class_accuracy"]), v, j["mismatches"]))' "$T/$style.json" $style
    jcheck "$T/$style.json" "j['answered'] == 10000 and j['failed'] == 0" "$style: not every request answered"
    jcheck "$T/$style.json" "j['labelled'] == 10000 and j['mismatches'] == 0 and j['compared'] == 10000" \
        "$style: answers differ from the in-process answers"
    jcheck "$T/$style.json" "sum(j['verdicts'].values()) == 10000" "$style: answers without a verdict"
done
jcheck "$T/world.json" "isnum(j['accuracy']) and j['accuracy'] >= $MIN" "world-styles accuracy below $MIN %"
jcheck "$T/world.json" "min(j['class_accuracy']) >= $MIN_CLASS" "a world-styles class below $MIN_CLASS %"
jcheck "$T/pen.json" "isnum(j['accuracy']) and j['accuracy'] >= $MIN_PEN" "pen-style accuracy below $MIN_PEN %"
jcheck "$T/world.json" "(j['verdicts']['unsure'] + j['verdicts']['not_a_digit']) <= $MAX_DOUBT_WORLD * 100" \
    "more than $MAX_DOUBT_WORLD % of the world-styles set answered unsure or not a digit"
jcheck "$T/pen.json" "(j['verdicts']['unsure'] + j['verdicts']['not_a_digit']) <= $MAX_DOUBT_PEN * 100" \
    "more than $MAX_DOUBT_PEN % of the pen-style set answered unsure or not a digit"
[ "$FAILS" = 0 ] && ok "world-styles and pen sets through FastCGI" || exit 1
