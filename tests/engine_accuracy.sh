#!/bin/sh
# engine_accuracy.sh EVAL MNIST_DIR EXPECTED: digitd-eval (built against one Keras file)
# on the MNIST test set must print the accuracy the keras-models README lists for it.
set -eu
eval_bin=$1 mnist=$2 expected=$3
out=$("$eval_bin" "$mnist/t10k-images-idx3-ubyte.gz" "$mnist/t10k-labels-idx1-ubyte.gz")
echo "$out"
got=$(echo "$out" | sed -n 's/^accuracy: \([0-9.]*\)%.*/\1/p')
if [ "$got" != "$expected" ]; then
    echo "FAIL: accuracy $got%, expected $expected%" >&2
    exit 1
fi
echo "accuracy $got% as expected"
