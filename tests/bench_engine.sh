#!/bin/bash
# bench_engine.sh BENCH MNIST_DIR: digitd-bench --engine --json reports accuracy at rest and
# decode, preprocess, inference and the verdict's detector apart (plus their sum), for images
# and for stroke bodies (their reading and drawing); the values are not timed (the detector's
# share is a difference of two passes, near 0 when it is off).
BENCH=$1 MNIST=$2
. "$(dirname "$0")/lib/bench_lib.sh"
T=$(mktemp -d /tmp/digitd-bench-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$BENCH" --engine --count 200 --rounds 2 --json --mnist "$MNIST" >"$T/out.json" ||
    fail "digitd-bench --engine exit status $?"
cat "$T/out.json"
jcheck "$T/out.json" 'j["payloads"] == 200'
jcheck "$T/out.json" 'isnum(j["at_rest"]["accuracy"]) and j["at_rest"]["accuracy"] >= 90' \
    "accuracy at rest is not a number >= 90"
jcheck "$T/out.json" 'j["at_rest"]["rounds"] == 2 and j["at_rest"]["rejected"] == 0'
jcheck "$T/out.json" 'isinstance(j["at_rest"]["isa"], str)'
jcheck "$T/out.json" 'all(isnum(j["at_rest"][k]) and j["at_rest"][k] > 0 for k in
    ("decode_us", "preprocess_us", "inference_us", "total_us"))' "stage times missing or not > 0"
jcheck "$T/out.json" 'isnum(j["at_rest"]["verdict_us"])' "verdict_us missing"
jcheck "$T/out.json" 'abs(j["at_rest"]["total_us"] - j["at_rest"]["decode_us"] -
    j["at_rest"]["preprocess_us"] - j["at_rest"]["inference_us"] - j["at_rest"]["verdict_us"])
    < 1e-6 * j["at_rest"]["total_us"] + 1e-9' \
    "total_us is not the sum of the stages"

jcheck "$T/out.json" 'j["at_rest"]["input"] == "image"' "PNG payloads not timed as images"
# --body strokes: the stages a stroke request goes through (its JSON read, then drawn and
# centred), not a decode of the PNG of the same drawings
"$BENCH" --engine --style pen --body strokes --count 200 --rounds 2 --json --mnist "$MNIST" \
    >"$T/strokes.json" || fail "--body strokes exit status $?"
jcheck "$T/strokes.json" 'j["at_rest"]["input"] == "strokes" and j["at_rest"]["rejected"] == 0'
jcheck "$T/strokes.json" 'all(isnum(j["at_rest"][k]) and j["at_rest"][k] > 0 for k in
    ("decode_us", "preprocess_us", "inference_us", "total_us"))' "stroke stage times missing"
jcheck "$T/strokes.json" 'j["at_rest"]["accuracy"] >= 90' "stroke accuracy at rest under 90"
"$BENCH" --engine --style pen --body strokes --count 20 --rounds 1 --mnist "$MNIST" >"$T/strokes.txt" ||
    fail "--body strokes text exit $?"
grep -q "stroke body read" "$T/strokes.txt" && grep -q "dg_strokes_to_input" "$T/strokes.txt" ||
    fail "--body strokes: the stages are not named: $(cat "$T/strokes.txt")"

# the text form names the three stages too
"$BENCH" --engine --count 20 --rounds 1 --mnist "$MNIST" >"$T/out.txt" || fail "text exit $?"
for k in decode preprocess inference verdict total 'at rest'; do
    grep -q "$k" "$T/out.txt" || fail "text output lacks '$k'"
done
# --isa generic: the portable kernels (every build and CPU has them) answer as the default set
# does, and are named; a set that does not exist is a usage error naming it
"$BENCH" --engine --isa generic --count 200 --rounds 1 --json --mnist "$MNIST" >"$T/generic.json" ||
    fail "--isa generic exit status $?"
jcheck "$T/generic.json" 'j["at_rest"]["isa"] == "generic"' "--isa generic not reported"
jcheck "$T/generic.json" "j['at_rest']['accuracy'] == $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["at_rest"]["accuracy"])' "$T/out.json")" \
    "--isa generic answers differently from the default kernel set"
"$BENCH" --engine --isa avx9 --count 5 --mnist "$MNIST" 2>"$T/isa.err"
rc=$?
[ "$rc" = 2 ] && grep -q "'avx9' is not a kernel set" "$T/isa.err" || fail "--isa avx9: exit $rc, $(cat "$T/isa.err")"
[ "$FAILS" = 0 ] && ok "bench --engine" || exit 1
