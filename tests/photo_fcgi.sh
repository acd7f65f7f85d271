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

run() { # NAME DIR COUNT [bench options...]
    local name=$1 dir=$2 n=$3
    shift 3
    "$BENCH" --fcgi "unix:$SOCK" --dir "$dir" --requests "$n" --duration 600 --connections 2 \
        --fail-on-error --no-progress --json "$@" >"$T/$name.json" ||
        fail "$name: digitd-bench exit status $?"
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print("%s: %d answered, accuracy %.2f %%, %d mismatches vs in-process" % (sys.argv[2], j["answered"], j["accuracy"], j["mismatches"]))' "$T/$name.json" "$name"
    jcheck "$T/$name.json" "j['answered'] == $n and j['failed'] == 0" "$name: not every request answered"
    jcheck "$T/$name.json" "j['labelled'] == $n and j['mismatches'] == 0 and j['compared'] == $n" \
        "$name: answers differ from the in-process answers"
    jcheck "$T/$name.json" "isnum(j['accuracy']) and j['accuracy'] >= $MIN" "$name: accuracy below $MIN %"
}
run "photos as image/jpeg" "$T/jpeg" "$NJ"
run "photos as JSON image/jpeg data URLs" "$T/jpeg" "$NJ" --body json
run "photos as image/png" "$T/png" "$NP"
grep -q child-exit "$LOG" && fail "a child exited"
[ "$FAILS" = 0 ] && ok "photo set through FastCGI" || exit 1
