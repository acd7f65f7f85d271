/* keras_load.h: read a Keras full-model .h5 (model.save("x.h5"), Keras 2.0 .. 3.x) into a
 * struct dg_model the engine can run, the way Keras itself reads it: the topology from the
 * root attribute model_config (JSON), each layer's weights from model_weights/<layer> in the
 * order of its weight_names attribute.
 *
 * Conversion (see README "Model files"): inference no-ops (InputLayer, Dropout, Flatten,
 * Reshape, ...) emit nothing, since every activation is HWC row-major like Keras's
 * channels_last; a separate Activation/ReLU/Softmax merges into the op before it when that
 * op is linear; BatchNormalization folds into the neighbouring Conv2D/Dense when that is
 * exact, else becomes a per-channel DG_OP_AFFINE.  Anything else is refused with a message
 * naming the file, the layer, its type and what is supported. */
#ifndef DIGITD_KERAS_LOAD_H
#define DIGITD_KERAS_LOAD_H

#include <stddef.h>

#include "model_ops.h"

/* One Keras layer as --summary shows it. */
struct dg_keras_layer {
    char name[96];
    char type[48];
    struct dg_shape out; /* h = w = 0 for a flat (None, c) output */
    long params;
};

/* What the model receives for the service's pixels p (0..1, 0 = background, 1 = ink):
 * x = (p * scale - mean) / std.  The affine map is folded into the first Conv2D/Dense at
 * build time (or, before a 'same' Conv2D or a pooling layer, runs as one per-channel op). */
struct dg_input_spec {
    double scale, mean, std;
};

/* Parses --input-scale: "unit" (1), "raw" (255), "S" or "S,MEAN,STD". 0, or -1 with err. */
int dg_input_spec_parse(const char *s, struct dg_input_spec *in, char *err, size_t errlen);

/* The spec as --input-scale would take it back: "unit", "raw" or "S,MEAN,STD" (%g). */
void dg_input_spec_text(const struct dg_input_spec *in, char *s, size_t len);

struct dg_keras_opts {
    const struct dg_input_spec *input; /* NULL: unit, or what a leading Rescaling implies */
    const char *config; /* the architecture as JSON (model.to_json(), a .keras archive's
                           config.json) for a weights-only file; NULL: the file's
                           model_config */
};

/* A loaded model: model.ops, the weights and the strings are owned by it. */
struct dg_keras_model {
    struct dg_model model;
    struct dg_op *ops;
    float **arrays;            /* every weight/bias array the ops point to */
    int n_arrays;
    struct dg_keras_layer *layers;
    int n_layers;
    char *name, *source, *sha256, *keras_version;
    struct dg_input_spec input;
    char input_text[96];       /* dg_input_spec_text(&input), model.input_scale points here */
    char input_from[96];       /* where the scale came from, for --summary */
};

/* Reads path into km (zeroed first). Returns 0, or -1 with "<path>: <problem>" in err. */
int dg_keras_load(const char *path, struct dg_keras_model *km, char *err, size_t errlen);

/* The same with options (NULL: the defaults). */
int dg_keras_load_opts(const char *path, const struct dg_keras_opts *o,
                       struct dg_keras_model *km, char *err, size_t errlen);

/* The same from an HDF5 file image in memory (img, len bytes; a .keras archive is refused),
 * named name in messages and as the model's source. */
int dg_keras_load_image(const void *img, size_t len, const char *name,
                        const struct dg_keras_opts *o, struct dg_keras_model *km, char *err,
                        size_t errlen);

void dg_keras_free(struct dg_keras_model *km);

/* Number of floats in op's weight and bias arrays (0 when it has none). */
size_t dg_op_weight_floats(const struct dg_op *op);
size_t dg_op_bias_floats(const struct dg_op *op);

#endif
