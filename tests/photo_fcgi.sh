#!/bin/bash
# photo_fcgi.sh DIGITD BENCH PHOTO_SET MNIST_DIR [N_JPEG N_PNG MIN_ACCURACY]: the photo test
# set through the real FastCGI API. photo_set draws MNIST test digits as pen ink on synthetic
# paper photographed by a phone (tests/tools/photo_set.c: a rotated sheet on a table, ruled
# or squared, light falling off, shadows, blur, noise, perspective, 2-3 MP); they are POSTed
# as JPEG (Content-Type image/jpeg, a quarter with an EXIF orientation), the same JPEGs as
# JSON data URLs, and other photos as PNG. Every answer must come back, agree with the
# in-process answer for the same bytes, and each set's accuracy must reach MIN_ACCURACY.
DIGITD=$1 BENCH=$2 PHOTO_SET=$3 MNIST=$4 NJ=${5:-150} NP=${6:-60} MIN=${7:-97.0}
. "$(dirname "$0")/lib/server_lib.sh"
. "$(dirname "$0")/lib/bench_lib.sh"
mkdir -p "$T/jpeg" "$T/png"
# photos from 5000 on: none of them was looked at while the photo path was written
"$PHOTO_SET" "$MNIST" "$T/jpeg" jpeg 5000 "$NJ" || fail "photo_set jpeg exit status $?"
"$PHOTO_SET" "$MNIST" "$T/png" png 5000 "$NP" || fail "photo_set png exit status $?"
# phone photos are larger than the canvases the default body limit is set for
start_pool --workers 2 --max-body 16777216

run() { # KEY NAME DIR COUNT [bench options...]
    local key=$1 name=$2 dir=$3 n=$4
    shift 4
    "$BENCH" --fcgi "unix:$SOCK" --dir "$dir" --requests "$n" --duration 900 --connections 2 \
        --no-progress --json "$@" >"$T/$key.json"
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print("%s: %d answered, %d without a digit found (422), %d correct = %.2f %% of all, %d mismatches vs in-process" % (sys.argv[2], j["answered"], j["failed"], j["correct"], 100.0 * j["correct"] / int(sys.argv[3]), j["mismatches"]))' "$T/$key.json" "$name" "$n"
    # a photo where no digit is found is answered 422, as in-process: a wrong answer, not a
    # failed request; anything else (connection, protocol, a child dying) fails the test
    jcheck "$T/$key.json" "j['answered'] + j['failed'] == $n and j['failed'] == j['errors']['status'] and j['failed'] == j['at_rest']['rejected']" \
        "$name: requests failed other than as the in-process refusals"
    jcheck "$T/$key.json" "j['mismatches'] == 0 and j['compared'] == j['answered']" \
        "$name: answers differ from the in-process answers"
    jcheck "$T/$key.json" "100.0 * j['correct'] / $n >= $MIN" "$name: accuracy below $MIN % of all photos"
}
run jpeg "photos as image/jpeg" "$T/jpeg" "$NJ"
run json "photos as JSON image/jpeg data URLs" "$T/jpeg" "$NJ" --body json
run png "photos as image/png" "$T/png" "$NP"
grep -q child-exit "$LOG" && fail "a child exited"
[ "$FAILS" = 0 ] && ok "photo set through FastCGI" || exit 1
