#!/bin/sh
# A model trained on raw 0..255 pixels: a real model's first Conv2D kernel divided by 255
# (convert_models rawpixel) is the same classifier for raw pixels.  Converted with
# --input-scale raw it reproduces the original's accuracy on the 10,000 test digits to
# 0.01 %; converted without it, --check-mnist warns loudly and names raw; with it, it does
# not warn.
#   convert_input_scale.sh DIGITD-CONVERT CONVERT_MODELS WORKDIR KERAS_MODELS_DIR MNIST_DIR
set -u
conv=$1 models=$2 dir=$3 keras=$4 mnist=$5
stem=seedarch_keras3.8.0_keshavagr273 expected=99.22 # the keras-models README's accuracy
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$mnist/t10k-images-idx3-ubyte.gz" ] || fail "no MNIST test set in $mnist"
"$models" rawpixel "$keras/$stem.h5" "$dir/raw.h5" || fail "cannot write the raw-pixel model"

"$conv" "$dir/raw.h5" --check-mnist "$mnist" -o "$dir/unit.h" 2>"$dir/unit.err" ||
    fail "conversion without --input-scale: $(cat "$dir/unit.err")"
cat "$dir/unit.err"
grep -qF "*** WARNING" "$dir/unit.err" || fail "no warning for a raw-pixel model converted as unit"
grep -qF "Convert it with --input-scale raw" "$dir/unit.err" || fail "the warning does not name raw"

"$conv" "$dir/raw.h5" --input-scale raw --check-mnist "$mnist" -o "$dir/raw.h" 2>"$dir/raw.err" ||
    fail "conversion with --input-scale raw: $(cat "$dir/raw.err")"
cat "$dir/raw.err"
grep -qF "WARNING" "$dir/raw.err" && fail "a warning with the right input scale"
grep -q '^#define DG_MODEL_INPUT_SCALE "raw"' "$dir/raw.h" || fail "raw.h: DG_MODEL_INPUT_SCALE"

acc=$("$models" accuracy "$dir/raw.h5" "$mnist" raw) || fail "accuracy run"
echo "raw-pixel model, --input-scale raw: $acc % (the original: $expected %)"
[ "$acc" = "$expected" ] || fail "accuracy $acc %, want $expected %"
echo "ok: warning without the scale, none with it, accuracy $acc %"
