#!/bin/bash
# verdict_nondigit_fcgi.sh DIGITD BENCH NONDIGIT_PNGS FONT_DIR N MIN_FLAGGED
# Letters of the test fonts and scribbles of the test seeds (tests/tools/nondigit_pngs.c: N of
# each, none of them seen by digitd-verdict-train) drawn on a canvas and POSTed as PNGs to a
# running pool through FastCGI: at least MIN_FLAGGED % must be answered "unsure" or
# "not_a_digit" (or 422, nothing recognisable); every other answer must be a valid one.
DIGITD=$1 BENCH=$2 PNGS=$3 FONTS=$4 N=$5 MIN=$6
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
mkdir -p "$T/shapes"
"$PNGS" "$FONTS" "$T/shapes" "$N" || fail "nondigit_pngs exit status $?"
TOTAL=$(ls "$T/shapes" | wc -l)
[ "$TOTAL" -ge "$N" ] || fail "only $TOTAL shapes drawn"
start_pool --workers 2
"$BENCH" --fcgi "unix:$SOCK" --dir "$T/shapes" --count "$TOTAL" --requests "$TOTAL" --duration 300 \
    --connections 4 --no-at-rest --no-progress --json >"$T/shapes.json"
python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); v = j["verdicts"]
print("%s letters and scribbles through FastCGI: verdicts %s, %d answered 422" % (sys.argv[2], v, j["errors"]["status"]))' "$T/shapes.json" "$TOTAL"
jcheck "$T/shapes.json" "j['answered'] + j['errors']['status'] == $TOTAL and j['failed'] == j['errors']['status']" \
    "answers missing or invalid"
jcheck "$T/shapes.json" "sum(j['verdicts'].values()) == j['answered']" "answers without a verdict"
jcheck "$T/shapes.json" "(j['verdicts']['unsure'] + j['verdicts']['not_a_digit'] + j['errors']['status']) >= $MIN * $TOTAL / 100" \
    "fewer than $MIN % of the letters and scribbles answered unsure or not a digit"
[ "$FAILS" = 0 ] && ok "letters and scribbles flagged" || exit 1
