#!/bin/sh
# Weights-only files with their architecture as JSON (digitd-convert W.h5 --config M.json):
# the two real save_weights files of keras-models (tf.keras 2.13's root layout, Keras 3.11's
# .weights.h5 with layers/<name>/vars/N), each with the model_config of the full file saved
# from the same model (what model.to_json() gives), convert to the same op table and weights
# as that full file.  And the refusals of --config: missing file, not JSON.
#   convert_weights_json.sh DIGITD-CONVERT CONVERT_MODELS WORKDIR KERAS_MODELS_DIR
set -u
conv=$1 models=$2 dir=$3 keras=$4
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
# the header from its first weight array on: ops and weights, not the provenance
body() { sed -n '/^extern const float/,$p' "$1"; }

for pair in "mlp-flatten_tfkeras2.13.1_semonw.h5 weightsonly-mlp_tfkeras2.13.1_semonw.h5" \
    "bn-same_keras3.11.3_Deepender25.h5 weightsonly-bn-same_keras3.11.3_Deepender25.weights.h5"; do
    set -- $pair
    full=$1 weights=$2
    "$models" config "$keras/$full" "$dir/$full.json" || fail "cannot extract $full's config"
    "$conv" "$keras/$full" -o "$dir/full.h" || fail "$full: conversion"
    "$conv" "$keras/$weights" --config "$dir/$full.json" -o "$dir/w.h" 2>"$dir/err" ||
        fail "$weights --config: $(cat "$dir/err")"
    [ -n "$(body "$dir/w.h")" ] || fail "$weights: no weights in the header"
    body "$dir/full.h" >"$dir/full.body"
    body "$dir/w.h" >"$dir/w.body"
    cmp -s "$dir/full.body" "$dir/w.body" || fail "$weights --config differs from $full"
    grep -qF "source $weights" "$dir/w.h" || fail "$weights: not named as the source"
    echo "ok   $weights --config $full.json: the same ops and weights as $full"
done

w="$keras/weightsonly-mlp_tfkeras2.13.1_semonw.h5"
"$conv" "$w" --config "$dir/missing.json" -o "$dir/x.h" 2>"$dir/err" && fail "a missing --config accepted"
grep -qF -- "--config $dir/missing.json: cannot read it" "$dir/err" || fail "missing config: $(cat "$dir/err")"
printf '{"class_name": "Sequential", ' >"$dir/broken.json"
"$conv" "$w" --config "$dir/broken.json" -o "$dir/x.h" 2>"$dir/err" && fail "broken JSON accepted"
grep -qF "broken.json is not valid JSON" "$dir/err" || fail "broken JSON: $(cat "$dir/err")"
[ ! -e "$dir/x.h" ] || fail "a refused --config wrote a header"
echo "ok: --config refusals"
