#!/bin/bash
# bench_unipen.sh UNIPEN_BIN BENCH: digitd-unipen reads pen strokes in UNIPEN text (the form of the
# UCI pendigits files: y up, one point per line) and sends each digit through the stroke
# path. Three plain shapes (a ring, a bar, a seven in two strokes) must come back as 0, 1
# and 7 (0 wrong answers counted; 1 when the bar is labelled 7), a segment labelled with a
# letter is skipped, and a broken file is an error naming the file and the line.
# digitd-bench --unipen loads the same digits as payloads.
UNIPEN=$1 BENCH=$2
. "$(dirname "$0")/lib/bench_lib.sh"
T=$(mktemp -d /tmp/digitd-unipen-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

# A ring of 40 points about (250, 250), radius 80 across, 110 up (y up, as the tablet's).
ring() {
    awk 'BEGIN { for (i = 0; i <= 40; i++) { a = 6.2832 * i / 40;
                 printf " %d %d\n", 250 + 80 * sin(a), 250 + 110 * cos(a) } }'
}
{
    printf '.INCLUDE dene.doc\n.LEXICON "0" "1" "7"\n.HIERARCHY DIGIT\n\n'
    printf '.SEGMENT DIGIT 0 ? "0"\n.COMMENT 0 1 41\n.PEN_DOWN\n'
    ring
    printf '.PEN_UP\n.DT 100\n\n'
    printf '.SEGMENT DIGIT 1 ? "A"\n.PEN_DOWN\n 100 100\n 150 300\n 200 100\n.PEN_UP\n\n'
    printf '.SEGMENT DIGIT 2 ? "1"\n.PEN_DOWN\n 250 400\n 250 300\n 250 200\n 250 100\n.PEN_UP\n\n'
    printf '.SEGMENT DIGIT 3 ? "7"\n.PEN_DOWN\n 150 400\n 250 400\n 350 400\n.PEN_UP\n'
    printf '.PEN_DOWN\n 350 400\n 300 250\n 250 100\n.PEN_UP\n'
} >"$T/digits.txt"

"$UNIPEN" "$T/digits.txt" >"$T/out.txt" || fail "digitd-unipen exit status $?"
cat "$T/out.txt"
grep -q ": 3 digits," "$T/out.txt" || fail "not 3 digits read (the letter's segment is skipped)"
grep -q "^accuracy: 100.00% (3/3)" "$T/out.txt" || fail "a ring, a bar and a seven not read as 0, 1, 7"
grep -q "^no answer (422): 0" "$T/out.txt" || fail "a digit refused"
grep -q "^wrong answers: 0, of them in doubt: 0$" "$T/out.txt" || fail "wrong answers counted where none is"
# The bar labelled 7: one wrong answer, counted (in doubt or not: the model's to say).
sed 's/^.SEGMENT DIGIT 2 ? "1"/.SEGMENT DIGIT 2 ? "7"/' "$T/digits.txt" >"$T/wrong.txt"
"$UNIPEN" "$T/wrong.txt" >"$T/wrong_out.txt" || fail "digitd-unipen exit status $? (a wrong label)"
grep -q "^accuracy: 66.67% (2/3)" "$T/wrong_out.txt" && grep -q "^wrong answers: 1, of them in doubt: [01]$" \
    "$T/wrong_out.txt" || fail "the bar labelled 7: not one wrong answer of three: $(cat "$T/wrong_out.txt")"

# digitd-bench takes them as payloads: as the page's strokes and as the page's PNG of them
for body in strokes png; do
    "$BENCH" --engine --unipen "$T/digits.txt" --body $body --rounds 1 --json >"$T/bench_$body.json" ||
        fail "digitd-bench --unipen --body $body exit status $?"
    jcheck "$T/bench_$body.json" 'j["payloads"] == 3 and j["at_rest"]["accuracy"] == 100' \
        "digitd-bench --unipen --body $body: not 3 payloads read as 0, 1, 7"
done
jcheck "$T/bench_strokes.json" 'j["at_rest"]["input"] == "strokes"' "--body strokes not sent as strokes"
"$BENCH" --engine --unipen "$T/digits.txt" --dir "$T" --rounds 1 2>"$T/err.txt" &&
    fail "--unipen with --dir accepted"
grep -q "one source of payloads" "$T/err.txt" || fail "--unipen with --dir: no message"

# The same digits with y pointing down are upside down unless --y-down says so.
awk '/^ [0-9]/ { $2 = 500 - $2; printf " %d %d\n", $1, $2; next } { print }' "$T/digits.txt" >"$T/down.txt"
"$UNIPEN" "$T/down.txt" --y-down >"$T/down_out.txt" || fail "--y-down exit status $?"
grep -q "^accuracy: 100.00% (3/3)" "$T/down_out.txt" || fail "--y-down: not read as 0, 1, 7"

# Broken files: an error naming the file and the line, exit status 1.
printf '.SEGMENT DIGIT 0 ? "1"\n.PEN_DOWN\n 10 10\n 10 abc\n.PEN_UP\n' >"$T/bad.txt"
"$UNIPEN" "$T/bad.txt" >/dev/null 2>"$T/err.txt"
rc=$?
cat "$T/err.txt"
[ $rc -eq 1 ] || fail "a bad point: exit status $rc, not 1"
grep -q "bad.txt:4: a point is two numbers" "$T/err.txt" || fail "a bad point: no file:line message"
{
    printf '.SEGMENT DIGIT 0 ? "1"\n.PEN_DOWN\n'
    awk 'BEGIN { for (i = 0; i < 3000; i++) printf " %d 10\n", i }'
    printf '.PEN_UP\n'
} >"$T/long.txt"
"$UNIPEN" "$T/long.txt" >/dev/null 2>"$T/err.txt"
rc=$?
cat "$T/err.txt"
[ $rc -eq 1 ] && grep -q "long.txt:2051: a digit of more than 2048 points" "$T/err.txt" ||
    fail "too many points: exit status $rc or message"
printf '.SEGMENT DIGIT 0 ? "x"\n' >"$T/none.txt"
"$UNIPEN" "$T/none.txt" >/dev/null 2>"$T/err.txt" && fail "a file with no digit accepted"
grep -q "none.txt: no digit" "$T/err.txt" || fail "no digit: no message"
"$UNIPEN" "$T/digits.txt" --height 0 2>/dev/null && fail "--height 0 accepted"
"$UNIPEN" "$T/missing.txt" 2>/dev/null && fail "a missing file accepted"
[ "$FAILS" = 0 ] && ok "digitd-unipen reads UNIPEN strokes and names what is wrong in a file" || exit 1
