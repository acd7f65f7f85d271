/* keras_h5.h: write a model to a Keras-format .h5 the way tf.keras 2.x model.save("x.h5")
 * lays it out, with libhdf5:
 *   root attrs   keras_version, backend="tensorflow", model_config (JSON), and
 *                training_config (JSON) for a compiled model (kh5_write_compiled)
 *   /model_weights          attrs keras_version, backend, layer_names (every layer, in order)
 *   /model_weights/<layer>  attr weight_names = ["<layer>/<weight>", ...] (empty float64 array
 *                           for a layer without weights, as Keras writes it)
 *   /model_weights/<layer>/<layer>/<weight>   float32 dataset, e.g. "kernel:0", "bias:0"
 * Used by digitd-train and by the tests that build small models. */
#ifndef DIGITD_KERAS_H5_H
#define DIGITD_KERAS_H5_H

#include <stddef.h>

struct kh5_weight {
    const char *name;      /* "kernel:0", "bias:0", "gamma:0", ... */
    int rank;              /* 1..4 */
    size_t dims[4];        /* Keras shape, e.g. conv kernel {kh, kw, in, out} */
    const float *data;     /* row-major over dims */
};

struct kh5_layer {
    const char *name;      /* layer name as in model_config, e.g. "conv2d" */
    int n_weights;         /* 0 for Dropout, Flatten, MaxPooling2D, ... */
    const struct kh5_weight *weights;
};

/* Writes path (replacing it atomically: a temporary file path.tmp<pid> beside it, then
 * rename). Returns 0, or -1 with a message in err that names path and the step that
 * failed (creating the temporary file, writing it, renaming it) and why.
 * model_config_json is the Sequential/Functional config JSON; layers lists every layer of
 * the config, weightless ones included, in order. Writes no training_config: Keras loads
 * such a file uncompiled (as it does a model saved before compile()). */
int kh5_write(const char *path, const char *model_config_json, const char *keras_version,
              const struct kh5_layer *layers, int n_layers, char *err, size_t errlen);

/* kh5_write plus the root attribute training_config (compile()'s arguments as JSON, the
 * way tf.keras stores them for a compiled model), so that keras.models.load_model returns
 * a compiled model. training_config_json NULL: the same as kh5_write. */
int kh5_write_compiled(const char *path, const char *model_config_json,
                       const char *training_config_json, const char *keras_version,
                       const struct kh5_layer *layers, int n_layers, char *err, size_t errlen);

#endif
