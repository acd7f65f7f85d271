#!/bin/sh
# Every refusal of digitd-convert, through the real binary: exit status non-zero, a message
# with the key phrase a user acts on, and no header (nor a temporary file) left behind.
#   convert_refuse.sh DIGITD-CONVERT CONVERT_MODELS WORKDIR KERAS_MODELS_DIR HANGS_DIR
# HANGS_DIR: .h5 files the fuzzer made on which libhdf5 1.10 loops forever
# (tests/corpus/h5-hangs): each must be given up with a message, not hang the build.
set -u
conv=$1 models=$2 dir=$3 keras=$4 hangs=$5 opts=""
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$models" bad "$dir" || { echo "FAIL: cannot write the test models"; exit 1; }
printf 'this is a text file, not a model\n' >"$dir/notes.h5"
printf 'PK\003\004\024\000\000\000\010\000model.keras...' >"$dir/model.keras"
fails=0

# refuse FILE PHRASE...: every PHRASE (fixed strings) must appear in the message.
refuse() {
    f=$1 out="$dir/out.h"
    shift
    rm -f "$out" "$out".*
    # shellcheck disable=SC2086 # opts: options, split on purpose
    "$conv" "$f" $opts -o "$out" >"$dir/stdout" 2>"$dir/stderr"
    rc=$?
    bad=""
    [ $rc -ne 0 ] || bad="exit status 0"
    for left in "$out" "$out".*; do
        [ -e "$left" ] && bad="$bad; left $(basename "$left")"
    done
    [ -s "$dir/stdout" ] && bad="$bad; wrote to stdout"
    for p in "$@"; do
        grep -qF -- "$p" "$dir/stderr" || bad="$bad; no '$p' in the message"
    done
    if [ -n "$bad" ]; then
        echo "FAIL $(basename "$f"): $bad"
        sed 's/^/    /' "$dir/stderr"
        fails=$((fails + 1))
    else
        echo "ok   $(basename "$f"): $(cat "$dir/stderr")"
    fi
}

refuse "$dir/notes.h5" "not an HDF5 file"
refuse "$dir/model.keras" ".keras (zip) archive but libzip cannot read it"
refuse "$dir/missing.h5" "cannot open"
opts="--load-timeout 2"
for f in "$hangs"/*.h5; do
    refuse "$f" "$f: reading it did not finish in 2 s" "nothing written"
done
opts=""
for f in "$keras"/weightsonly-*; do
    refuse "$f" "weights-only file" "no model_config"
done
refuse "$dir/channels_first.h5" "'channels_first' is not supported" "conv_1"
refuse "$dir/input32.h5" "input shape" "(32, 32, 1)" "28x28"
refuse "$dir/bad_shape.h5" "layer 'dense_2' (Dense)" "has shape (784, 11)" "implies (784, 10)"
refuse "$dir/lstm.h5" "layer 'other_1' (LSTM)" "'LSTM' is not supported" \
    "supported: InputLayer, Conv2D"
refuse "$dir/nested_weights.h5" "layer 'other_1' (Sequential) is a nested model" \
    "layer 'inner_dense' (Dense) has weights" "save the model with its layers in one list"
refuse "$dir/conv2dtranspose.h5" "layer 'other_1' (Conv2DTranspose)" \
    "'Conv2DTranspose' is not supported" "supported: InputLayer, Conv2D"
refuse "$dir/nan_kernel.h5" "layer 'conv_1' (Conv2D)" "non-finite value (nan"
refuse "$dir/inf_bias.h5" "layer 'dense_2' (Dense)" "non-finite value (inf"
refuse "$dir/bn_negative_variance.h5" "layer 'bn_2' (BatchNormalization)" \
    "moving_variance[0] + epsilon" "not positive"
refuse "$dir/bn_wrong_order.h5" "layer 'bn_2' (BatchNormalization)" \
    "weight 0 of weight_names is 'bn_2/beta:0'" \
    "Keras's order (gamma, beta, moving_mean, moving_variance) puts the gamma there"
refuse "$dir/not_keras.h5" "HDF5 but not a Keras model" "no 'model_config'"
refuse "$dir/input_null.h5" "input shape has 3 axes (None, None, 1)" "28x28"
refuse "$dir/skip_connection.h5" "layer 'add_3' (Add) joins 2 layers, 'conv_2' and 'conv_1'" \
    "Functional models that are a single chain"
refuse "$dir/hard_sigmoid.h5" "layer 'act_3' (Activation)" \
    "activation 'hard_sigmoid' is not supported" "(linear, relu, sigmoid, tanh, softmax, elu,"
refuse "$dir/zeropad_pool.h5" "layer 'maxpool_2' (MaxPooling2D)" "follows a ZeroPadding2D" \
    "supported only right before a Conv2D"
refuse "$dir/relu6.h5" "layer 'relu_3' (ReLU)" "only a plain ReLU" "got max_value 6"
refuse "$dir/out12.h5" "the model outputs 12 values" "must output 10"
refuse "$dir/dense_on_image.h5" "layer 'dense_2' (Dense)" \
    "Dense on a 26x26x4 image (no Flatten before it)"
refuse "$dir/filters_fraction.h5" "layer 'other_1' (Conv2D)" \
    "'filters' must be an integer in 1..65536 (got 2.5)"
refuse "$dir/units_huge.h5" "layer 'other_2' (Dense)" "'units' must be an integer in 1..1048576"
refuse "$dir/act_too_big.h5" "layer 'conv_1' (Conv2D)" \
    "its output 28x28x512 is 401408 floats" "bound of 262144 floats per activation"
refuse "$dir/pad_too_big.h5" "layer 'conv_2' (Conv2D)" \
    "its input 28x28x300 zero-padded for its 3x3 window is 270000 floats" "DG_MAX_ACT_FLOATS"
refuse "$dir/keras1.h5" "layer 'other_1' (Convolution2D)" "'nb_filter' is a Keras 1.x config key" \
    "Keras 1.x files are not supported"
[ $fails -eq 0 ] || { echo "$fails refusal(s) wrong"; exit 1; }
