#!/bin/bash
# server_corpus.sh DIGITD CORPUS_DIR: every request in tests/corpus/requests (NAME.req:
# method, uri, type, expected status, optional length/zeros; NAME.body: the body) gets its
# status and a JSON {"error": ...} (a prediction for the 200s: PNGs that once crashed a
# child, e.g. aspect_*: a canvas side shorter than a preprocessing grid cell, copies of
# tests/corpus/png/ok-*), and the same children are alive afterwards.
DIGITD=$1
CORPUS=$2
. "$(dirname "$0")/lib/server_lib.sh"
start_pool --workers 2 --max-body 1000000 --max-width 1000 --max-height 1000
before=$(children)
n=0
for meta in "$CORPUS"/*.req; do
    name=$(basename "$meta" .req)
    method= uri= type= status= zeros= length=
    . "$meta"
    body="$CORPUS/$name.body"
    if [ -n "$zeros" ]; then head -c "$zeros" /dev/zero >"$T/body"; body=$T/body; fi
    [ -f "$body" ] || body=/dev/null
    [ -n "$length" ] || length=$(stat -c %s "$body")
    [ "$body" = /dev/null ] && [ "$method" = GET ] && length=
    a=$(req "$method" "$uri" "$type" "$length" <"$body")
    st=$(echo "$a" | status_of)
    [ "$st" = "$status" ] || fail "$name: status $st, expected $status: $a"
    if [ "$status" = 200 ]; then
        echo "$a" | body_of | grep -q '^{"prediction":[0-9]' || fail "$name: no prediction: $a"
    else
        echo "$a" | body_of | grep -q '^{"error":"[^"]' || fail "$name: no JSON error: $a"
    fi
    if [ "$status" = 405 ]; then echo "$a" | grep -q '^Allow: ' || fail "$name: no Allow"; fi
    n=$((n + 1))
done
# the pool still answers afterwards
[ "$(req GET /api/health </dev/null | status_of)" = 200 ] || fail "health after the corpus"
after=$(children)
[ "$before" = "$after" ] || fail "children changed: before '$before' after '$after'"
[ "$(nchildren)" = 2 ] || fail "pool has $(nchildren) children"
grep -q child-exit "$LOG" && fail "a child exited during the corpus"
echo "$n requests"
[ $n -ge 15 ] || fail "corpus too small ($n)"
[ $FAILS = 0 ] && ok "corpus" || exit 1
