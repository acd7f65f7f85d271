#!/bin/sh
# digitd-convert on a real Keras file: --summary lists the layers and the total parameters
# (the counts Keras's model.summary() prints for it), the header's provenance comment has
# the source SHA-256, Keras version, layer list and parameter count, two runs give
# byte-identical headers (to a file and to stdout alike, and when several run at once on
# the same output), and a model ending in tanh says what the service reports for it.
#   convert_cli.sh DIGITD-CONVERT CONVERT_MODELS WORKDIR KERAS_MODELS_DIR
set -u
conv=$1 models=$2 dir=$3 keras=$4
h5="$keras/seedarch_keras3.8.0_keshavagr273.h5"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

"$conv" "$h5" --summary >"$dir/summary" || fail "--summary exited non-zero"
cat "$dir/summary"
# Conv2D(32,3x3) 320, Conv2D(64,3x3) 18,496, Dense(64) 102,464, Dense(10) 650
layers="conv2d (Conv2D)|(None, 26, 26, 32)|max_pooling2d (MaxPooling2D)|flatten (Flatten)|(None, 1600)|dense_1 (Dense)|102,464|Total params: 121,930"
IFS='|'
for p in $layers "Output: the model's softmax"; do
    grep -qF -- "$p" "$dir/summary" || fail "--summary lacks '$p'"
done
unset IFS
[ ! -e "$dir/summary.h" ] || fail "--summary wrote a header"

"$conv" "$h5" -o "$dir/a.h" || fail "first conversion"
"$conv" "$h5" -o "$dir/b.h" || fail "second conversion"
"$conv" "$h5" >"$dir/c.h" || fail "conversion to stdout"
cmp "$dir/a.h" "$dir/b.h" || fail "two conversions differ"
cmp "$dir/a.h" "$dir/c.h" || fail "stdout and -o differ"
# the provenance comment: the lines up to the one that closes it
sed '/^ \*\//q' "$dir/a.h" >"$dir/comment"
grep -qF "$(sha256sum "$h5" | cut -d' ' -f1)" "$dir/comment" || fail "no source SHA-256 in the header"
IFS='|'
for p in "source seedarch_keras3.8.0_keshavagr273.h5 (Keras 3.8.0" $layers \
    "Output: the model's softmax"; do
    grep -qF -- "$p" "$dir/comment" || fail "the header's comment lacks '$p'"
done
unset IFS
grep -q '^#define DG_MODEL_ADD_SOFTMAX 0' "$dir/a.h" || fail "a softmax model gets a softmax added"
want=$(printf '%o' $((0666 & ~$(umask))))
[ "$(stat -c %a "$dir/a.h")" = "$want" ] || fail "header mode $(stat -c %a "$dir/a.h"), want $want"

# Several conversions to one output at once (parallel builds): all succeed, one result,
# no temporary file left.
pids=""
for i in 1 2 3 4 5 6; do
    "$conv" "$h5" -o "$dir/p.h" 2>"$dir/p$i.err" &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || fail "a concurrent conversion failed: $(cat "$dir"/p*.err)"
done
cmp "$dir/a.h" "$dir/p.h" || fail "concurrent conversions left a different header"
[ "$(ls "$dir" | grep -c '^p\.h\.')" -eq 0 ] || fail "temporary files left: $(ls "$dir")"

# A model ending in tanh: the service reports a softmax of its outputs, and says so.
"$models" write "$dir" nobias_sigmoid_tanh || fail "cannot write the tanh model"
"$conv" "$dir/nobias_sigmoid_tanh.h5" --summary -o "$dir/t.h" >"$dir/t.summary" ||
    fail "tanh model: conversion"
for f in "$dir/t.summary" "$dir/t.h"; do
    grep -qF "Output: the model ends in sigmoid/tanh scores, not probabilities: the service reports a softmax of them" "$f" ||
        fail "$(basename "$f") does not say what the service reports for a tanh end"
done
grep -q '^#define DG_MODEL_ADD_SOFTMAX 1' "$dir/t.h" || fail "a tanh model gets no softmax"
# The input scale: stated in --summary and the header (default unit), given by --input-scale,
# and a spec that is not one refused before anything is read.
grep -qF 'Input: pixels 0..1 as the service gives them' "$dir/summary" || fail "--summary lacks the input"
grep -q '^#define DG_MODEL_INPUT_SCALE "unit"' "$dir/a.h" || fail "the header lacks the input scale"
"$conv" "$h5" --input-scale raw --summary -o "$dir/raw.h" >"$dir/raw.summary" || fail "--input-scale raw"
for f in "$dir/raw.summary" "$dir/raw.h"; do
    grep -qF 'input scale "raw", --input-scale): the model receives p * 255, 0..255' "$f" ||
        fail "$(basename "$f") does not state the raw input"
done
grep -q '^#define DG_MODEL_INPUT_SCALE "raw"' "$dir/raw.h" || fail "raw.h: DG_MODEL_INPUT_SCALE"
"$conv" "$h5" --input-scale 1,0.5 -o "$dir/bad.h" 2>"$dir/bad.err" && fail "--input-scale 1,0.5 accepted"
grep -qF "expected unit, raw, a scale S or S,MEAN,STD" "$dir/bad.err" || fail "bad --input-scale message"
[ ! -e "$dir/bad.h" ] || fail "a refused --input-scale wrote a header"
echo "ok: summary, provenance, identical headers, concurrent runs, output note, input scale"
