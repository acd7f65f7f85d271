#!/usr/bin/env bash
# digitd-train's command line: errors name the file, and a seed + thread count give
# identical results.
#   tests/train_cli.sh DIGITD_TRAIN MNIST_DIR
set -euo pipefail
train=$1
mnist=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A missing directory: non-zero exit, and the message names the missing file.
if "$train" --data "$tmp/nowhere" --epochs 1 --out "$tmp/x.h5" 2>"$tmp/err"; then
  fail "missing data accepted"
fi
grep -q "$tmp/nowhere/train-images-idx3-ubyte.gz" "$tmp/err" || fail "no file name in: $(cat "$tmp/err")"

# A truncated images file: non-zero exit naming it.
mkdir "$tmp/cut"
cp "$mnist"/*.gz "$tmp/cut/"
head -c 100000 "$mnist/train-images-idx3-ubyte.gz" >"$tmp/cut/train-images-idx3-ubyte.gz"
if "$train" --data "$tmp/cut" --epochs 1 --out "$tmp/x.h5" 2>"$tmp/err"; then
  fail "truncated data accepted"
fi
grep -q "cut/train-images-idx3-ubyte.gz" "$tmp/err" || fail "no file name in: $(cat "$tmp/err")"
[ ! -e "$tmp/x.h5" ] || fail "an .h5 was written after a data error"

# An output directory that does not exist: refused before training, naming the path.
if "$train" --data "$mnist" --epochs 1 --out "$tmp/no/such/dir/x.h5" 2>"$tmp/err"; then
  fail "unwritable --out accepted"
fi
grep -q "$tmp/no/such/dir/x.h5" "$tmp/err" || fail "no path in: $(cat "$tmp/err")"

# Bad options: usage error (exit 2).
set +e
"$train" --epochs zero 2>/dev/null; rc=$?
set -e
[ "$rc" = 2 ] || fail "--epochs zero: exit $rc, expected 2"

# Determinism: the same seed and thread count, twice -> byte-identical predictions;
# another seed -> different ones.
run() { # seed threads out
  "$train" --data "$mnist" --limit 1500 --val-split 500 --test-limit 200 --epochs 1 --batch 64 \
    --seed "$1" --threads "$2" --quiet --out "$tmp/$3.h5" --predictions "$tmp/$3.probs" 2>/dev/null
}
run 7 2 a
run 7 2 b
run 8 2 c
cmp -s "$tmp/a.probs" "$tmp/b.probs" || fail "same seed and threads, different results"
! cmp -s "$tmp/a.probs" "$tmp/c.probs" || fail "different seeds, identical results"
[ "$(stat -c %s "$tmp/a.probs")" = $((200 * 10 * 4)) ] || fail "predictions file has the wrong size"
echo "train_cli: ok"
