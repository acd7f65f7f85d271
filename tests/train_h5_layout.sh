#!/usr/bin/env bash
# The .h5 digitd-train writes has the layout tf.keras 2.15 model.save() writes: compared
# with a real tf.keras 2.15.0 file of the same architecture family (h5dump).
#   tests/train_h5_layout.sh OUR.h5 KERAS_MODELS_DIR
set -euo pipefail
ours=$1
ref=$2/seedarch-nodropout_tfkeras2.15.0_ErenAri.h5
fail() { echo "FAIL: $*" >&2; exit 1; }
for c in h5dump python3; do # h5dump: hdf5-tools
  command -v $c >/dev/null || fail "$c not found: run scripts/install-deps.sh --test"
done

# root and model_weights attributes (training_config: Keras loads the model compiled)
for a in keras_version backend model_config training_config; do
  h5dump -a "/$a" "$ours" >/dev/null 2>&1 || fail "root attribute $a missing"
done
for a in keras_version backend layer_names; do
  h5dump -a "/model_weights/$a" "$ours" >/dev/null 2>&1 || fail "model_weights attribute $a missing"
done

# layer_names: every layer of the seed network, in order
data() { h5dump -a "$1" "$2" | sed -n '/DATA {/,/}/p' | tr -d '\n'; } # an attribute's values
names=$(data /model_weights/layer_names "$ours" | grep -o '"[a-z_0-9]*"' | tr -d '"' | tr '\n' ' ')
want="conv2d max_pooling2d dropout conv2d_1 max_pooling2d_1 dropout_1 flatten dense dropout_2 dense_1 "
[ "$names" = "$want" ] || fail "layer_names: got '$names', want '$want'"

# weights: the same paths, shapes and type as Keras writes (kernel:0 / bias:0)
for p in conv2d/conv2d/kernel:0 conv2d/conv2d/bias:0 conv2d_1/conv2d_1/kernel:0 \
         conv2d_1/conv2d_1/bias:0 dense/dense/kernel:0 dense/dense/bias:0 \
         dense_1/dense_1/kernel:0 dense_1/dense_1/bias:0; do
  h5dump -H -d "/model_weights/$p" "$ours" | grep -q H5T_IEEE_F32LE || fail "$p missing or not float32"
done
shape() { h5dump -H -d "/model_weights/$2" "$1" | grep -o 'SIMPLE { ( [0-9, ]* )' | head -1; }
for p in conv2d/conv2d/kernel:0 conv2d_1/conv2d_1/kernel:0 conv2d/conv2d/bias:0; do
  [ "$(shape "$ours" "$p")" = "$(shape "$ref" "$p")" ] || fail "$p shape differs from Keras's"
done
[ "$(shape "$ours" dense/dense/kernel:0)" = "SIMPLE { ( 1600, 64 )" ] || fail "dense kernel shape"
[ "$(shape "$ours" dense_1/dense_1/kernel:0)" = "SIMPLE { ( 64, 10 )" ] || fail "dense_1 kernel shape"

# weight_names of a layer with weights, in Keras's order (kernel before bias)
wn=$(data /model_weights/conv2d_1/weight_names "$ours" | grep -o '"[^"]*"' | tr '\n' ' ')
[ "$wn" = '"conv2d_1/kernel:0" "conv2d_1/bias:0" ' ] || fail "conv2d_1 weight_names: $wn"

# model_config: every config key tf.keras 2.15 writes for these layer classes, ours too
keys() { h5dump -a /model_config "$1" | grep -o '"[a-z_]*":' | sort -u; }
missing=$(comm -23 <(keys "$ref") <(keys "$ours"))
[ -z "$missing" ] || fail "model_config lacks keys Keras writes: $missing"
cfg=$(h5dump -a /model_config "$ours" | tr -d '\n')
for cls in Sequential InputLayer Conv2D MaxPooling2D Dropout Flatten Dense; do
  grep -q "\"class_name\": *\"$cls\"" <<<"$cfg" || fail "model_config has no $cls"
done
# string attributes: the same storage (variable length) and character set as Keras's
strtype() { h5dump -A -a "$2" "$1" | grep -E 'STRSIZE|CSET|H5T_IEEE' | tr -s ' ' | tr '\n' ' '; }
for a in /keras_version /backend /model_config /training_config \
         /model_weights/keras_version /model_weights/backend \
         /model_weights/layer_names /model_weights/conv2d/weight_names /model_weights/flatten/weight_names; do
  [ "$(strtype "$ours" "$a")" = "$(strtype "$ref" "$a")" ] ||
    fail "$a stored as '$(strtype "$ours" "$a")', Keras stores it as '$(strtype "$ref" "$a")'"
done
# training_config: the top-level keys Keras writes, optimizer keys among Keras's, and the
# values of the short run (sparse labels, Adam at a constant 1e-3, which Keras also stores as
# float32: 0.0010000000474974513), as the reference has them
attr_json() { h5dump -a "$2" "$1" | tr -d '\n' | sed -E 's/.*\(0\): "(.*)" *\} *\}.*/\1/'; }
python3 - "$(attr_json "$ours" /training_config)" "$(attr_json "$ref" /training_config)" <<'PY' ||
import json, sys
ours, ref = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def fail(msg):
    sys.exit(f"FAIL: training_config: {msg}")
if set(ours) != set(ref):
    fail(f"keys {sorted(ours)}, Keras writes {sorted(ref)}")
oc, rc = ours["optimizer_config"]["config"], ref["optimizer_config"]["config"]
if not set(oc) <= set(rc):
    fail(f"optimizer keys Keras does not write: {sorted(set(oc) - set(rc))}")
for k in ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"):
    if oc[k] != rc[k] or type(oc[k]) != type(rc[k]):
        fail(f"{k} is {oc[k]!r}, the reference's {rc[k]!r}")
for k in ("loss", "loss_weights", "weighted_metrics"):
    if ours[k] != ref[k]:
        fail(f"{k} is {ours[k]!r}, the reference's {ref[k]!r}")
if ours["metrics"] != ["accuracy"]:
    fail(f"metrics {ours['metrics']!r}")
PY
  exit 1
echo "train_h5_layout: ok"
