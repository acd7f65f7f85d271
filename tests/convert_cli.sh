#!/bin/sh
# digitd-convert on a real Keras file: --summary lists the layers and the total parameters
# (the counts Keras's model.summary() prints for it), and two runs give byte-identical
# headers, to a file and to stdout alike.
#   convert_cli.sh DIGITD-CONVERT WORKDIR KERAS_MODELS_DIR
set -u
conv=$1 dir=$2 keras=$3
h5="$keras/seedarch_keras3.8.0_keshavagr273.h5"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

"$conv" "$h5" --summary >"$dir/summary" || fail "--summary exited non-zero"
cat "$dir/summary"
# Conv2D(32,3x3) 320, Conv2D(64,3x3) 18,496, Dense(64) 102,464, Dense(10) 650
for p in "conv2d (Conv2D)" "(None, 26, 26, 32)" "max_pooling2d (MaxPooling2D)" \
    "flatten (Flatten)" "(None, 1600)" "dense_1 (Dense)" "102,464" "Total params: 121,930"; do
    grep -qF -- "$p" "$dir/summary" || fail "--summary lacks '$p'"
done
[ ! -e "$dir/summary.h" ] || fail "--summary wrote a header"

"$conv" "$h5" -o "$dir/a.h" || fail "first conversion"
"$conv" "$h5" -o "$dir/b.h" || fail "second conversion"
"$conv" "$h5" >"$dir/c.h" || fail "conversion to stdout"
cmp "$dir/a.h" "$dir/b.h" || fail "two conversions differ"
cmp "$dir/a.h" "$dir/c.h" || fail "stdout and -o differ"
grep -qF "$(sha256sum "$h5" | cut -d' ' -f1)" "$dir/a.h" || fail "no source SHA-256 in the header"
echo "ok: summary, identical headers"
