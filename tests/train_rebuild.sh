#!/usr/bin/env bash
# train_rebuild.sh ROOT H5 PREDICTIONS MNIST_DIR N: the retrain workflow as a user runs it.
# A second build tree is configured with -DWEIGHTS_H5=H5 (the short training run's file),
# which regenerates the weights header and compiles the vectorised engine (every ISA build)
# around it; its digitd-eval must reproduce the trainer's own probabilities for the first N
# MNIST test images: max |engine - trainer| <= 1e-5 and the same digit for every image; its
# digitd must say that the not-a-digit detector is off.
set -euo pipefail
root=$1 h5=$2 probs=$3 mnist=$4 n=$5
b=$(mktemp -d /tmp/digitd-rebuild.XXXXXX)
trap 'rm -rf "$b"' EXIT
cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=Release -DWEIGHTS_H5="$h5" \
      -DMNIST_DIR="$mnist" >"$b/configure.log"
cmake --build "$b" --target digitd-eval digitd -j2 >"$b/build.log" || { cat "$b/build.log"; exit 1; }
sum=$(sha256sum "$h5" | cut -c1-64)
grep -q "$sum" "$b/generated/model_weights.h" || { echo "FAIL: the header is not made from $h5"; exit 1; }
# The not-a-digit detector reads the shipped model's features: with another model it is off
# (README: run digitd-verdict-train after a retrain), never fed features it was not trained on.
"$b/digitd" --version | tee "$b/version.txt"
grep -q 'not-a-digit detector off' "$b/version.txt" || { echo "FAIL: the detector runs on another model"; exit 1; }
"$b/digitd-eval" "$mnist/t10k-images-idx3-ubyte.gz" "$mnist/t10k-labels-idx1-ubyte.gz" \
    --probs "$b/probs.txt" | grep -E '^(model|accuracy|median)'
python3 - "$b/probs.txt" "$probs" "$n" <<'PY'
import struct, sys
eng = [list(map(float, l.split())) for l in open(sys.argv[1])]
raw = open(sys.argv[2], "rb").read()
n = int(sys.argv[3])
tr = struct.unpack("<%df" % (n * 10), raw[:n * 40])
worst, same = 0.0, 0
for i in range(n):
    e, t = eng[i], tr[i * 10:(i + 1) * 10]
    worst = max(worst, max(abs(a - b) for a, b in zip(e, t)))
    same += e.index(max(e)) == t.index(max(t))
print("compiled engine vs trainer, %d images: max |difference| %.3g (limit 1e-5), same digit %d/%d"
      % (n, worst, same, n))
sys.exit(0 if worst <= 1e-5 and same == n else 1)
PY
