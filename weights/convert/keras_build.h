/* keras_build.h: internal to the Keras loader: the state while a model_config layer list is
 * turned into ops (keras_layers.c), shared with the file-level reader (keras_load.c). */
#ifndef DIGITD_KERAS_BUILD_H
#define DIGITD_KERAS_BUILD_H

#include <cjson/cJSON.h>
#include <hdf5.h>

#include "h5_read.h"
#include "keras_load.h"

struct kb {
    struct dg_keras_model *km;
    const char *path;
    char *err;
    size_t errlen;
    hid_t file;
    const cJSON *model;        /* the model_config object (class_name, config, ...) */
    const struct dg_keras_opts *opts;
    const char *config_text;   /* a .keras archive's config.json, else NULL */
    enum {
        KB_MODEL_WEIGHTS, /* model.save(".h5"): model_weights/<layer>, weight_names */
        KB_ROOT,          /* tf.keras save_weights(".h5"): <layer> at the root, weight_names */
        KB_VARS           /* Keras 3 .weights.h5 (and a .keras archive's model.weights.h5):
                             layers/<layer>/vars/0, 1, ... in the layer's weight order */
    } layout;
    const char *lname, *ltype; /* the layer being converted, for messages */
    struct dg_keras_layer *layer;
    struct dg_shape cur;       /* the current activation */
    int flat;                  /* cur is (None, c) */
    int cap_ops, cap_arrays;
    int fold_ok;               /* the last op is a linear Conv2D/Dense a BatchNorm may join */
    int act_ok;                /* cur's channel axis is still the last op's output channels,
                                  so a softmax over it may join that op */
    /* A BatchNormalization not yet placed: y = x * pa_s[c] + pa_t[c] on channel c. */
    float *pa_s, *pa_t;
    int pa_c;
    const char *pa_name;
    /* A ZeroPadding2D not yet placed (the next layer, a Conv2D, pads by it): top, bottom,
     * left, right; cur is already the padded shape, zp_in the unpadded one. */
    int zp_on, zp[4];
    struct dg_shape zp_in;
};

/* Sets err to "<path>: layer '<name>' (<type>): <message>" (or "<path>: <message>"). */
void kb_fail(struct kb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces characters that could break out of a C string or comment in the generated
 * header (names come from the file) with '_'. */
void kb_sanitize(char *s);

/* Converts the layer list into b->km's ops; 0 or -1 with b->err. */
int kb_build(struct kb *b, const cJSON *layers);

/* Whether layer type `type` is one whose conversion reads weights from the file (Conv2D,
 * Dense, BatchNormalization, an adapted Normalization). */
int kb_type_has_weights(const char *type);

#endif
