#!/usr/bin/env bash
# digitd-train's command line: errors name the file, and a seed + thread count give
# identical results.
#   tests/train_cli.sh DIGITD_TRAIN MNIST_DIR [N_TRAIN N_VAL N_TEST]
# N_*: the determinism runs' training, validation and test images (default 1500 500 200).
set -euo pipefail
train=$1
mnist=$2
n_train=${3:-1500} n_val=${4:-500} n_test=${5:-200}
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

# --out an existing directory, or something that is not a regular file (rename would
# replace it): refused before any training, naming the path.
mkdir "$tmp/adir"
mkfifo "$tmp/afifo"
for out in "$tmp/adir" "$tmp/afifo"; do
  if "$train" --data "$mnist" --epochs 1 --limit 100 --val-split 100 --test-limit 100 \
    --out "$out" 2>"$tmp/err"; then
    fail "--out $out accepted"
  fi
  grep -q -- "--out $out: is " "$tmp/err" || fail "no path and reason in: $(cat "$tmp/err")"
  ! grep -q "^epoch" "$tmp/err" || fail "--out $out refused only after training"
done
grep -q "is a directory" <("$train" --data "$mnist" --out "$tmp/adir" 2>&1) || fail "no 'is a directory'"

# Bad options: usage error (exit 2). --seed takes 0..2^64-1 and nothing else.
usage_error() { # args...
  set +e
  "$train" "$@" 2>/dev/null
  local rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$*: exit $rc, expected 2"
}
usage_error --epochs zero
usage_error --seed 18446744073709551616
usage_error --seed -1
usage_error --seed " 5"
usage_error --seed 5x
usage_error --mark-fraction 1.5
usage_error --pencil-fraction -0.1
usage_error --warp-fraction 2
usage_error --extra-eval a --extra-eval b --extra-eval c --extra-eval d --extra-eval e

# A small run from a scratch directory, without --out: writes ./best_mnist_model.h5 there
# (never weights/); the largest seed is taken as given; OMP_THREAD_LIMIT=1 makes
# --threads 2 impossible, which is said, and the real count is reported; the last line
# has what the speed benchmark reads.
mkdir "$tmp/cwd"
(cd "$tmp/cwd" && OMP_THREAD_LIMIT=1 "$train" --data "$mnist" --limit 200 --val-split 100 \
  --test-limit 100 --epochs 1 --batch 50 --threads 2 --seed 18446744073709551615 --quiet \
  2>"$tmp/err") || fail "small run failed: $(cat "$tmp/err")"
[ -s "$tmp/cwd/best_mnist_model.h5" ] || fail "no best_mnist_model.h5 in the current directory"
grep -q "seed 18446744073709551615, 1 threads" "$tmp/err" || fail "seed or threads: $(cat "$tmp/err")"
grep -q "warning: --threads 2, but only 1 run" "$tmp/err" || fail "no thread warning: $(cat "$tmp/err")"
tail -1 "$tmp/err" | grep -Eq \
  '[0-9.]+ s total, [0-9.]+ s/epoch of 200 images, 1 epochs, [0-9]+ images/s, 1 threads$' ||
  fail "last line: $(tail -1 "$tmp/err")"

# Determinism: the same seed and thread count, twice -> byte-identical predictions;
# another seed -> different ones.
run() { # seed threads out
  "$train" --data "$mnist" --limit "$n_train" --val-split "$n_val" --test-limit "$n_test" \
    --epochs 1 --batch 64 --seed "$1" --threads "$2" --quiet --out "$tmp/$3.h5" \
    --predictions "$tmp/$3.probs" 2>/dev/null
}
run 7 2 a
run 7 2 b
run 8 2 c
cmp -s "$tmp/a.probs" "$tmp/b.probs" || fail "same seed and threads, different results"
! cmp -s "$tmp/a.probs" "$tmp/c.probs" || fail "different seeds, identical results"
[ "$(stat -c %s "$tmp/a.probs")" = $((n_test * 10 * 4)) ] || fail "predictions file has the wrong size"
echo "train_cli: ok"
