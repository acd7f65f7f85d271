/* train_h5.c: saves the seed network as tf.keras 2.15 saves it with model.save("x.h5"):
 * the Sequential model_config (built with cJSON, the same class names, layer names and
 * config keys Keras writes), the training_config of a compiled model (loss, metrics,
 * optimizer as actually used) and the weights through kh5_write_compiled
 * (weights/keras_h5.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras_h5.h"
#include "train_net.h"

#define TN_KERAS_VERSION "2.15.0" /* the layout we write, as Keras would label it */

static cJSON *initializer(const char *class_name, int has_seed)
{
    cJSON *o = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "module", "keras.initializers");
    cJSON_AddStringToObject(o, "class_name", class_name);
    if (has_seed)
        cJSON_AddNullToObject(cfg, "seed");
    cJSON_AddItemToObject(o, "config", cfg);
    cJSON_AddNullToObject(o, "registered_name");
    return o;
}

static cJSON *int_pair(int a, int b)
{
    int v[2] = {a, b};
    return cJSON_CreateIntArray(v, 2);
}

static cJSON *input_shape(void)
{
    cJSON *s = cJSON_CreateArray();
    cJSON_AddItemToArray(s, cJSON_CreateNull());
    cJSON_AddItemToArray(s, cJSON_CreateNumber(28));
    cJSON_AddItemToArray(s, cJSON_CreateNumber(28));
    cJSON_AddItemToArray(s, cJSON_CreateNumber(1));
    return s;
}

/* Appends {"class_name": cls, "config": {name, trainable, dtype, ...}}; returns config. */
static cJSON *add_layer(cJSON *layers, const char *cls, const char *name)
{
    cJSON *l = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "class_name", cls);
    cJSON_AddItemToObject(l, "config", cfg);
    cJSON_AddItemToArray(layers, l);
    cJSON_AddStringToObject(cfg, "name", name);
    cJSON_AddTrueToObject(cfg, "trainable");
    cJSON_AddStringToObject(cfg, "dtype", "float32");
    return cfg;
}

static void add_weight_config(cJSON *cfg, const char *activation)
{
    cJSON_AddStringToObject(cfg, "activation", activation);
    cJSON_AddTrueToObject(cfg, "use_bias");
    cJSON_AddItemToObject(cfg, "kernel_initializer", initializer("GlorotUniform", 1));
    cJSON_AddItemToObject(cfg, "bias_initializer", initializer("Zeros", 0));
    const char *nulls[] = {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                           "kernel_constraint", "bias_constraint"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        cJSON_AddNullToObject(cfg, nulls[i]);
}

static void add_conv(cJSON *layers, const char *name, int filters, int first)
{
    cJSON *cfg = add_layer(layers, "Conv2D", name);
    if (first)
        cJSON_AddItemToObject(cfg, "batch_input_shape", input_shape());
    cJSON_AddNumberToObject(cfg, "filters", filters);
    cJSON_AddItemToObject(cfg, "kernel_size", int_pair(3, 3));
    cJSON_AddItemToObject(cfg, "strides", int_pair(1, 1));
    cJSON_AddStringToObject(cfg, "padding", "valid");
    cJSON_AddStringToObject(cfg, "data_format", "channels_last");
    cJSON_AddItemToObject(cfg, "dilation_rate", int_pair(1, 1));
    cJSON_AddNumberToObject(cfg, "groups", 1);
    add_weight_config(cfg, "relu");
}

static void add_pool(cJSON *layers, const char *name)
{
    cJSON *cfg = add_layer(layers, "MaxPooling2D", name);
    cJSON_AddItemToObject(cfg, "pool_size", int_pair(2, 2));
    cJSON_AddStringToObject(cfg, "padding", "valid");
    cJSON_AddItemToObject(cfg, "strides", int_pair(2, 2));
    cJSON_AddStringToObject(cfg, "data_format", "channels_last");
}

static void add_dropout(cJSON *layers, const char *name, double rate)
{
    cJSON *cfg = add_layer(layers, "Dropout", name);
    cJSON_AddNumberToObject(cfg, "rate", rate);
    cJSON_AddNullToObject(cfg, "noise_shape");
    cJSON_AddNullToObject(cfg, "seed");
}

static void add_dense(cJSON *layers, const char *name, int units, const char *activation)
{
    cJSON *cfg = add_layer(layers, "Dense", name);
    cJSON_AddNumberToObject(cfg, "units", units);
    add_weight_config(cfg, activation);
}

char *tn_model_config_json(const struct tn_net *net)
{
    cJSON *root = cJSON_CreateObject(), *config = cJSON_CreateObject();
    cJSON *layers = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "class_name", "Sequential");
    cJSON_AddItemToObject(root, "config", config);
    cJSON_AddStringToObject(config, "name", "sequential");
    cJSON_AddItemToObject(config, "layers", layers);

    cJSON *in = cJSON_CreateObject(), *in_cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "class_name", "InputLayer");
    cJSON_AddItemToObject(in, "config", in_cfg);
    cJSON_AddItemToObject(in_cfg, "batch_input_shape", input_shape());
    cJSON_AddStringToObject(in_cfg, "dtype", "float32");
    cJSON_AddFalseToObject(in_cfg, "sparse");
    cJSON_AddFalseToObject(in_cfg, "ragged");
    cJSON_AddStringToObject(in_cfg, "name", "conv2d_input");
    cJSON_AddItemToArray(layers, in);

    add_conv(layers, "conv2d", 32, 1);
    add_pool(layers, "max_pooling2d");
    add_dropout(layers, "dropout", net->drop[0]);
    add_conv(layers, "conv2d_1", 64, 0);
    add_pool(layers, "max_pooling2d_1");
    add_dropout(layers, "dropout_1", net->drop[1]);
    cJSON *flat = add_layer(layers, "Flatten", "flatten");
    cJSON_AddStringToObject(flat, "data_format", "channels_last");
    add_dense(layers, "dense", TN_HIDDEN, "relu");
    add_dropout(layers, "dropout_2", net->drop[2]);
    add_dense(layers, "dense_1", TN_CLASSES, "softmax");

    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return json;
}

/* A JSON number that Python reads back as a float, in Python's shortest form: cJSON prints
 * 1.0 as "1", which json.loads makes an int, and Keras 3 refuses an int learning_rate. */
static cJSON *json_float(double v)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof(buf), "%.17g", v);
    if (!strpbrk(buf, ".eEn")) /* n: nan, inf (not valid JSON; never passed here) */
        strcat(buf, ".0");
    return cJSON_CreateRaw(buf);
}

/* A schedule as Keras serialises one inside an optimizer config. */
static cJSON *lr_schedule(const char *class_name, cJSON *cfg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "module", "keras.optimizers.schedules");
    cJSON_AddStringToObject(o, "class_name", class_name);
    cJSON_AddItemToObject(o, "config", cfg);
    cJSON_AddNullToObject(o, "registered_name");
    return o;
}

/* Adam's learning_rate: a number for a constant rate, else the Keras schedule that gives
 * the same rate at every step (lr_at in train.c). Only the config keys every Keras since
 * tf.keras 2.4 accepts (no warmup_*, which tf.keras < 2.13 refuses). A constant is the
 * float32 value, as Keras stores its learning-rate variable (1e-3 -> 0.0010000000474974513);
 * schedules keep the Python floats they were given. */
static cJSON *learning_rate(const struct tn_training *t)
{
    cJSON *cfg = cJSON_CreateObject();
    switch (t->schedule) {
    case TN_LR_COSINE:
        cJSON_AddItemToObject(cfg, "initial_learning_rate", json_float(t->lr));
        cJSON_AddNumberToObject(cfg, "decay_steps", (double)t->steps);
        cJSON_AddItemToObject(cfg, "alpha", json_float(0.0));
        cJSON_AddNullToObject(cfg, "name");
        return lr_schedule("CosineDecay", cfg);
    case TN_LR_STEP: {
        cJSON *b = cJSON_CreateArray(), *v = cJSON_CreateArray();
        cJSON_AddItemToArray(b, cJSON_CreateNumber((double)t->boundaries[0]));
        cJSON_AddItemToArray(b, cJSON_CreateNumber((double)t->boundaries[1]));
        cJSON_AddItemToArray(v, json_float(t->lr));
        cJSON_AddItemToArray(v, json_float(t->lr * 0.1)); /* as lr_at computes them */
        cJSON_AddItemToArray(v, json_float(t->lr * 0.01));
        cJSON_AddItemToObject(cfg, "boundaries", b);
        cJSON_AddItemToObject(cfg, "values", v);
        cJSON_AddNullToObject(cfg, "name");
        return lr_schedule("PiecewiseConstantDecay", cfg);
    }
    default:
        cJSON_Delete(cfg);
        return json_float((double)(float)t->lr);
    }
}

/* tf.keras 2.x layout of training_config, with the choices that every loader reads back:
 * - optimizer "Adam" with only the keys Adam has taken since tf.keras 2.4. tf.keras 2.15
 *   itself writes "Custom>Adam" with jit_compile and is_legacy_optimizer, which Keras 3
 *   refuses ("Argument(s) not recognized") and tf.keras < 2.11 cannot resolve; without
 *   is_legacy_optimizer tf.keras 2.11-2.15 compile with their legacy Adam, the same math.
 * - metrics ["accuracy"]: every version resolves the string for the model's output.
 * - loss sparse_categorical_crossentropy: the trainer's labels are digits, not one-hot.
 * loss_weights must be present: tf.keras indexes it without a default. */
char *tn_training_config_json(const struct tn_training *t)
{
    cJSON *root = cJSON_CreateObject(), *metrics = cJSON_CreateArray();
    cJSON *opt = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "loss", "sparse_categorical_crossentropy");
    cJSON_AddItemToArray(metrics, cJSON_CreateString("accuracy"));
    cJSON_AddItemToObject(root, "metrics", metrics);
    cJSON_AddNullToObject(root, "weighted_metrics");
    cJSON_AddNullToObject(root, "loss_weights");
    cJSON_AddItemToObject(root, "optimizer_config", opt);
    cJSON_AddStringToObject(opt, "class_name", "Adam");
    cJSON_AddItemToObject(opt, "config", cfg);
    cJSON_AddStringToObject(cfg, "name", "Adam");
    cJSON_AddItemToObject(cfg, "learning_rate", learning_rate(t));
    cJSON_AddItemToObject(cfg, "beta_1", json_float(TN_ADAM_BETA1));
    cJSON_AddItemToObject(cfg, "beta_2", json_float(TN_ADAM_BETA2));
    cJSON_AddItemToObject(cfg, "epsilon", json_float(TN_ADAM_EPSILON));
    cJSON_AddFalseToObject(cfg, "amsgrad");
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return json;
}

int tn_save_h5(const struct tn_net *net, const float *params, const struct tn_training *training,
               const char *path, char *err, size_t errlen)
{
    static const char *const names[] = {"conv2d",  "max_pooling2d",   "dropout",
                                        "conv2d_1", "max_pooling2d_1", "dropout_1",
                                        "flatten", "dense",           "dropout_2",
                                        "dense_1"};
    enum { N_LAYERS = sizeof(names) / sizeof(names[0]) };
    struct kh5_layer layers[N_LAYERS];
    struct kh5_weight weights[TN_N_TENSORS];
    for (int t = 0; t < TN_N_TENSORS; t++) {
        const struct tn_tensor *tt = &tn_tensors[t];
        weights[t].name = tt->name;
        weights[t].rank = tt->rank;
        for (int d = 0; d < 4; d++)
            weights[t].dims[d] = tt->dims[d];
        weights[t].data = params + tt->offset;
    }
    for (int l = 0; l < N_LAYERS; l++) {
        layers[l].name = names[l];
        layers[l].n_weights = 0;
        layers[l].weights = NULL;
        for (int t = 0; t < TN_N_TENSORS; t += 2) /* kernel, bias pairs */
            if (!strcmp(tn_tensors[t].layer, names[l])) {
                layers[l].n_weights = 2;
                layers[l].weights = &weights[t];
            }
    }
    char *json = tn_model_config_json(net);
    char *tjson = training ? tn_training_config_json(training) : NULL;
    int rc = -1;
    if (!json || (training && !tjson))
        snprintf(err, errlen, "%s: out of memory building the model's JSON", path);
    else
        rc = kh5_write_compiled(path, json, tjson, TN_KERAS_VERSION, layers, N_LAYERS, err,
                                errlen);
    cJSON_free(json);
    cJSON_free(tjson);
    return rc;
}
