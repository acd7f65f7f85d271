#!/usr/bin/env bash
# scripts/fetch-mnist.sh offline: a file:// mirror with a corrupt file before a good one
# (the bad copy is rejected by its SHA-256, the good one kept), then only bad mirrors
# (exit non-zero, nothing left behind).
#   tests/train_fetch.sh FETCH_SCRIPT MNIST_DIR
set -euo pipefail
fetch=$1
mnist=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$tmp/bad"
cp "$mnist"/*.gz "$tmp/bad/"
printf 'x' >>"$tmp/bad/t10k-labels-idx1-ubyte.gz" # one byte more: checksum mismatch

MNIST_MIRRORS="file://$tmp/bad/ file://$mnist/" "$fetch" "$tmp/ok" 2>"$tmp/log" ||
  fail "good mirror rejected: $(cat "$tmp/log")"
grep -q "t10k-labels-idx1-ubyte.gz: SHA-256 mismatch" "$tmp/log" || fail "mismatch not reported"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz \
         t10k-labels-idx1-ubyte.gz; do
  cmp -s "$tmp/ok/$f" "$mnist/$f" || fail "$f differs from the mirror's good copy"
done

if MNIST_DIR="$tmp/env" MNIST_MIRRORS="file://$tmp/bad/" "$fetch" 2>"$tmp/log"; then
  fail "a corrupt file was accepted"
fi
grep -q "$tmp/env/t10k-labels-idx1-ubyte.gz: no mirror" "$tmp/log" || fail "no clear error: $(cat "$tmp/log")"
[ ! -e "$tmp/env/t10k-labels-idx1-ubyte.gz" ] || fail "the corrupt file was kept"
[ -z "$(ls "$tmp/env"/*.part 2>/dev/null)" ] || fail "partial downloads left behind"
echo "train_fetch: ok"
