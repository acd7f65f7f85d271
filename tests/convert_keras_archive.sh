#!/bin/sh
# .keras archives (Keras 3's model.save("x.keras"), layout in weights/convert/keras_archive.h)
# written by the test itself (convert_models keras: metadata.json, config.json,
# model.weights.h5 with layers/<name>/vars/N): each converts to the same op table and
# weights as the same model saved as .h5, with the archive named as the source and
# metadata.json's Keras version; and each broken archive is refused with its reason.
#   convert_keras_archive.sh DIGITD-CONVERT CONVERT_MODELS WORKDIR
set -u
conv=$1 models=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir/tmp" || exit 1
export TMPDIR="$dir/tmp" # where digitd-convert puts model.weights.h5 while it reads it
fail() { echo "FAIL: $*"; exit 1; }
body() { sed -n '/^extern const float/,$p' "$1"; }

for m in keras3_naming functional_keras3 bn_center_scale rescaling_first; do
    "$models" keras "$dir" "$m" || fail "$m: cannot write the archive"
    "$conv" "$dir/$m.h5" -o "$dir/$m.h5.h" || fail "$m.h5: conversion"
    "$conv" "$dir/$m.keras" -o "$dir/$m.keras.h" 2>"$dir/err" || fail "$m.keras: $(cat "$dir/err")"
    body "$dir/$m.h5.h" >"$dir/a" && body "$dir/$m.keras.h" >"$dir/b"
    [ -s "$dir/b" ] && cmp -s "$dir/a" "$dir/b" || fail "$m.keras differs from $m.h5"
    grep -qF "source $m.keras (Keras 3.8.0" "$dir/$m.keras.h" || fail "$m.keras: provenance"
    echo "ok   $m.keras: the same ops and weights as $m.h5"
done
[ -z "$(ls "$dir/tmp")" ] || fail "temporary files left: $(ls "$dir/tmp")"

"$models" badkeras "$dir" || fail "cannot write the broken archives"
refuse() {
    f=$1 phrase=$2
    "$conv" "$dir/$f" -o "$dir/x.h" 2>"$dir/err" && fail "$f accepted"
    grep -qF -- "$phrase" "$dir/err" || fail "$f: no '$phrase' in: $(cat "$dir/err")"
    [ ! -e "$dir/x.h" ] || fail "$f: a header was written"
    echo "ok   $f: $(cat "$dir/err")"
}
refuse no_config.keras "a .keras archive without config.json"
refuse no_weights.keras "a .keras archive without model.weights.h5"
refuse truncated.keras "libzip cannot read it"
[ -z "$(ls "$dir/tmp")" ] || fail "temporary files left after a refusal: $(ls "$dir/tmp")"
echo "ok: .keras archives, no temporary file left"
