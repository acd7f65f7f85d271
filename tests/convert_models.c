/* convert_models.c: small Keras models built by the test itself (config JSON + weights
 * written with kh5_write, the trainer's writer, then moved to other versions' layouts with
 * libhdf5 where a model asks for it), for the converter's tests.
 *   convert_models check DIR [MODEL]  each model (or just MODEL): .h5 -> dg_keras_load ->
 *                             dg_engine_run, against a straightforward double-precision
 *                             forward pass of the same Keras layers (not of the converted
 *                             ops, so a wrong fold or fusion shows); max abs diff <= 1e-5
 *   convert_models write DIR MODEL  only writes DIR/MODEL.h5 (the build compiles each into
 *                             the vectorised engine: tests/CMakeLists.txt)
 *   convert_models bad DIR    writes the models digitd-convert must refuse (convert_refuse.sh)
 *   convert_models rawpixel SRC.h5 OUT.h5  a copy of a real model whose first Conv2D kernel
 *                             is divided by 255: the same classifier for raw 0..255 pixels
 *   convert_models accuracy FILE.h5 MNIST_DIR [SCALE]  prints the model's accuracy (%) on
 *                             the 10,000 test digits through the runtime engine
 *   convert_models keras DIR MODEL  writes DIR/MODEL.h5 and the same model as DIR/MODEL.keras,
 *                             in Keras 3's layout (keras_archive.h): metadata.json,
 *                             config.json, model.weights.h5 with layers/<name>/vars/N
 *   convert_models badkeras DIR  writes the .keras archives digitd-convert must refuse
 *   convert_models config FILE.h5 OUT.json  writes the file's model_config (its to_json())
 *   convert_models list "A;B;..."  fails unless the names given (CMake's list of the models
 *                             compiled into the vectorised engine) are exactly `checks`
 * The reference follows Keras's definitions: HWC (channels_last), 'same' padding puts
 * floor(total/2) before, average pooling counts only cells inside the image, BatchNorm and
 * softmax act on the last axis, Flatten/Reshape keep the row-major order. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <zip.h>

#include "check.h"
#include "check_mnist.h"
#include "engine.h"
#include "h5_read.h"
#include "keras_h5.h"
#include "keras_load.h"

enum kind { INPUT, CONV, MAXPOOL, AVGPOOL, GAP, DENSE, BN, ACT, SOFTMAX, FLATTEN, RESHAPE,
            DROPOUT, RELU, ADD, RESCALE, NORM, LEAKY, ZPAD, OTHER };
static const char *class_of[] = {"InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D",
                                 "GlobalAveragePooling2D", "Dense", "BatchNormalization",
                                 "Activation", "Softmax", "Flatten", "Reshape", "Dropout",
                                 "ReLU", "Add", "Rescaling", "Normalization", "LeakyReLU",
                                 "ZeroPadding2D"};

struct shp {
    int h, w, c;
};

struct lay {
    enum kind k;
    int n;              /* CONV filters, DENSE units */
    int kh, kw, sh, sw; /* kernel or pool size; strides (0: Keras default) */
    int same, nobias;
    int nostrides;      /* CONV: no "strides" key at all (Keras's default, 1) */
    int bn_off;         /* BN: 1 center=false (no beta), 2 scale=false (no gamma), 3 both */
    int from;           /* ADD: the second input is the layer this many before */
    const char *act;    /* CONV, DENSE, ACT; NULL = linear */
    int rank, d[3];     /* INPUT batch shape without None (0 = null); RESHAPE target_shape */
    const char *other;  /* OTHER: the class name; else a data_format to write */
    const char *extra;  /* raw JSON appended to the config ("\"threshold\": 0.0", ...) */
    double scale, offset; /* RESCALE: y = x * scale + offset; NORM (from the config when
                             scale > 0): mean offset, variance scale; LEAKY: scale = alpha */
    int pad[4];           /* ZPAD: top, bottom, left, right */
    int poison;         /* 1 NaN in the kernel, 2 Inf in the bias, 3 negative BN variance,
                           4 a kernel one column too wide, 5 BN weights in the wrong order */
    /* filled in by build_layer() */
    char name[320];
    struct shp in, out;
    int nw;
    struct kh5_weight w[4];
    char wnames[4][32];
    float *data[4];     /* as stored, in weight_names order */
    const float *kern, *bias, *gamma, *beta, *mean, *var; /* by role (NULL: absent) */
};

/* Where the model config keeps the input shape (Keras versions differ). */
enum input_at { IN_LAYER,   /* an InputLayer (tf.keras 2, Keras 3) */
                IN_FIRST,   /* batch_input_shape on the first layer (Keras <= 2.2) */
                IN_BUILD2,  /* deferred build: Sequential config's build_input_shape */
                IN_BUILD3,  /* Keras 3 serialisation: the model's build_config */
                IN_LBUILD3  /* Keras 3 serialisation: the first layer's build_config */ };
enum style { SEQUENTIAL, FUNC2 /* Keras 2 inbound_nodes */, FUNC3 /* Keras 3 */ };
enum naming { TF2,     /* model_weights/<l>/<l>/kernel:0 */
              RENAMED, /* kernel_1:0 ...: uniquified TF 1.x graph names */
              KERAS3   /* model_weights/<l>/sequential/<l>/kernel, weight_names without :0 */ };

struct model {
    const char *name;
    struct lay l[16];
    enum style style;
    enum input_at input_at;
    enum naming naming;
    int long_names; /* layer names of about 300 characters */
    const char *input; /* digitd-convert --input-scale (NULL: none) ... */
    double in_scale, in_mean, in_std; /* ... and what it means: the layers get
                                         (pixel * in_scale - in_mean) / in_std */
};

static unsigned long long rng;

static double urand(void) /* [-1, 1) */
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

/* Each model's weights depend only on its name, so `write` and `check` make the same. */
static void seed(const char *name)
{
    rng = 88172645463325252ull;
    for (const char *s = name; *s; s++)
        rng = (rng ^ (unsigned char)*s) * 1099511628211ull;
    rng = rng ? rng : 1;
}

static int n_layers(const struct model *m)
{
    int n = 0;
    while (n < 16 && (n == 0 || m->l[n].k != INPUT))
        n++;
    return n;
}

/* Whether layer i appears in the config and the file (a deferred model has no InputLayer). */
static int emitted(const struct model *m, int i)
{
    return i > 0 || m->input_at == IN_LAYER;
}

/* Keras output size and the padding before ('same': floor(total / 2)). */
static int out_size(int in, int k, int s, int same, int *before)
{
    int out = same ? (in + s - 1) / s : (in - k) / s + 1;
    int total = (out - 1) * s + k - in;
    *before = same && total > 0 ? total / 2 : 0;
    return out;
}

/* Adds the weight `role` ("kernel", ...) to L, stored as "kernel:0", or "kernel_1:0" in a
 * RENAMED model, filled with offset + scale * urand(). */
static float *add_weight(const struct model *m, struct lay *L, const char *role, int rank,
                         int d0, int d1, int d2, int d3, double scale, double offset)
{
    struct kh5_weight *w = &L->w[L->nw];
    int dims[4] = {d0, d1, d2, d3};
    size_t n = 1;
    snprintf(L->wnames[L->nw], sizeof L->wnames[0], "%s%s:0", role,
             m->naming == RENAMED ? "_1" : "");
    w->name = L->wnames[L->nw], w->rank = rank;
    for (int i = 0; i < rank; i++)
        n *= (size_t)(w->dims[i] = (size_t)dims[i]);
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (float)(offset + scale * urand());
    w->data = L->data[L->nw++] = p;
    return p;
}

/* BatchNorm's weights in Keras's order, gamma/beta left out as center/scale say; poison 5
 * stores beta before gamma, which Keras would load as gamma = beta. */
static void bn_weights(const struct model *m, struct lay *L, int c)
{
    if (L->poison == 5) {
        L->beta = add_weight(m, L, "beta", 1, c, 0, 0, 0, 0.3, 0);
        L->gamma = add_weight(m, L, "gamma", 1, c, 0, 0, 0, 0.5, 1.0);
    }
    if (!(L->bn_off & 2) && L->poison != 5)
        L->gamma = add_weight(m, L, "gamma", 1, c, 0, 0, 0, 0.5, 1.0);
    if (!(L->bn_off & 1) && L->poison != 5)
        L->beta = add_weight(m, L, "beta", 1, c, 0, 0, 0, 0.3, 0);
    L->mean = add_weight(m, L, "moving_mean", 1, c, 0, 0, 0, 0.3, 0);
    float *v = add_weight(m, L, "moving_variance", 1, c, 0, 0, 0, 0.5, 1.0);
    v[0] = L->poison == 3 ? -1 : 1;
    L->var = v;
}

static int stride(const struct lay *L, int k, int s)
{
    return s ? s : L->k == CONV ? 1 : k; /* Keras: 1 for Conv2D, the pool size for pooling */
}

/* Shapes through the layers and random weights of a size that keeps activations O(1). */
static void build_layer(const struct model *m, struct lay *L, struct shp s)
{
    L->in = L->out = s;
    L->nw = 0;
    L->kern = L->bias = L->gamma = L->beta = L->mean = L->var = NULL;
    int pt;
    if (L->k == INPUT) { /* the 784 pixels pass through, as {28, 28, c} or {1, 1, 784} */
        L->out = (struct shp){L->rank == 1 ? 1 : L->d[0], L->rank == 1 ? 1 : L->d[1],
                              L->rank == 3 ? L->d[2] : L->rank == 1 ? L->d[0] : 1};
        L->in = L->out;
    }
    if (L->k == CONV || L->k == MAXPOOL || L->k == AVGPOOL) {
        L->out.h = out_size(s.h, L->kh, stride(L, L->kh, L->sh), L->same, &pt);
        L->out.w = out_size(s.w, L->kw, stride(L, L->kw, L->sw), L->same, &pt);
    }
    if (L->k == CONV) {
        L->out.c = L->n;
        double sc = 1.5 / sqrt((double)L->kh * L->kw * s.c);
        float *k = add_weight(m, L, "kernel", 4, L->kh, L->kw, s.c + (L->poison == 4),
                              L->n, sc, 0);
        if (L->poison == 1)
            k[1] = NAN;
        L->kern = k;
    }
    if (L->k == GAP)
        L->out = (struct shp){1, 1, s.c};
    if (L->k == ZPAD)
        L->out = (struct shp){s.h + L->pad[0] + L->pad[1], s.w + L->pad[2] + L->pad[3], s.c};
    if (L->k == DENSE) {
        L->out = (struct shp){1, 1, L->n};
        L->kern = add_weight(m, L, "kernel", 2, s.h * s.w * s.c, L->n + (L->poison == 4),
                             0, 0, 1.5 / sqrt((double)s.h * s.w * s.c), 0);
        if (L->poison == 1)
            L->data[0][0] = NAN;
    }
    if ((L->k == CONV || L->k == DENSE) && !L->nobias) {
        float *b = add_weight(m, L, "bias", 1, L->n, 0, 0, 0, 0.2, 0);
        b[0] = L->poison == 2 ? INFINITY : 0.1f;
        L->bias = b;
    }
    if (L->k == BN)
        bn_weights(m, L, s.c);
    if (L->k == NORM && !(L->scale > 0)) { /* adapted: mean and variance stored as weights */
        L->mean = add_weight(m, L, "mean", 1, s.c, 0, 0, 0, 0.2, 0.4);
        L->var = add_weight(m, L, "variance", 1, s.c, 0, 0, 0, 0.1, 0.3);
    }
    if (L->k == FLATTEN)
        L->out = (struct shp){1, 1, s.h * s.w * s.c};
    if (L->k == RESHAPE) { /* one size may be -1: what is left of the input's elements */
        int d[3] = {L->d[0], L->d[1], L->d[2]}, known = 1;
        for (int i = 0; i < L->rank; i++)
            known *= d[i] > 0 ? d[i] : 1;
        for (int i = 0; i < L->rank; i++)
            d[i] = d[i] > 0 ? d[i] : s.h * s.w * s.c / known;
        L->out = L->rank == 1 ? (struct shp){1, 1, d[0]} : (struct shp){d[0], d[1], d[2]};
    }
}

/* ---- the model config JSON --------------------------------------------------------------- */

static void add(char *j, size_t len, const char *fmt, const char *a)
{
    size_t o = strlen(j);
    snprintf(j + o, len - o, fmt, a);
}

/* ", "key": [null, 28, 28]" (batch adds the leading null; a 0 size is written null). */
static void ints(char *j, size_t len, const char *key, int rank, const int *d, int batch)
{
    size_t o = strlen(j);
    o += (size_t)snprintf(j + o, len - o, ", \"%s\": [%s", key, batch ? "null" : "");
    for (int i = 0; i < rank; i++) {
        char v[16] = "null";
        if (d[i])
            snprintf(v, sizeof v, "%d", d[i]);
        o += (size_t)snprintf(j + o, len - o, "%s%s", i || batch ? ", " : "", v);
    }
    snprintf(j + o, len - o, "]");
}

/* Keras 3's ", "build_config": {"input_shape": [null, ...]}" with the model's input shape. */
static void build_config(char *j, size_t len, const struct model *m)
{
    add(j, len, "%s", ", \"build_config\": {\"input_shape\": [null");
    for (int i = 0; i < m->l[0].rank; i++) {
        char v[16];
        snprintf(v, sizeof v, ", %d", m->l[0].d[i]);
        add(j, len, "%s", v);
    }
    add(j, len, "%s", "]}");
}

/* A Functional layer's inbound_nodes: the previous layer (and, for ADD, another one). */
static void inbound(char *j, size_t len, const struct model *m, int i)
{
    const struct lay *L = &m->l[i];
    char buf[1024];
    add(j, len, "%s", ", \"inbound_nodes\": [");
    for (int k = 0; i > 0 && k < 1 + (L->k == ADD); k++) {
        const char *from = m->l[k ? i - L->from : i - 1].name;
        if (m->style == FUNC2)
            snprintf(buf, sizeof buf, "%s[\"%s\", 0, 0, {}]", k ? ", " : "[", from);
        else
            snprintf(buf, sizeof buf, "%s{\"class_name\": \"__keras_tensor__\", \"config\": "
                     "{\"dtype\": \"float32\", \"keras_history\": [\"%s\", 0, 0]}}",
                     k ? ", " : "{\"args\": [", from);
        add(j, len, "%s", buf);
    }
    if (i > 0)
        add(j, len, "%s", m->style == FUNC2 ? "]" : "], \"kwargs\": {}}");
    add(j, len, "%s", "]");
}

/* One layer's config as tf.keras 2.x writes it (the keys the converter reads). */
static void layer_json(char *j, size_t len, const struct model *m, int i)
{
    const struct lay *L = &m->l[i];
    const char *df = L->k != OTHER && L->other ? L->other : "channels_last";
    int k[2] = {L->kh, L->kw}, st[2] = {stride(L, L->kh, L->sh), stride(L, L->kw, L->sw)};
    char buf[1024];
    snprintf(buf, sizeof buf, "%s{\"class_name\": \"%s\", \"name\": \"%s\", \"config\": "
             "{\"name\": \"%s\"", i > !emitted(m, 0) ? ", " : "",
             L->k == OTHER ? L->other : class_of[L->k], L->name, L->name);
    add(j, len, "%s", buf);
    if (L->k == INPUT) /* Keras 3 says batch_shape */
        ints(j, len, m->style == FUNC3 || m->naming == KERAS3 ? "batch_shape" : "batch_input_shape",
             L->rank, L->d, 1);
    if (i == 1 && m->input_at == IN_FIRST)
        ints(j, len, "batch_input_shape", m->l[0].rank, m->l[0].d, 1);
    if (L->k == CONV || L->k == MAXPOOL || L->k == AVGPOOL) {
        ints(j, len, L->k == CONV ? "kernel_size" : "pool_size", 2, k, 0);
        if (L->k == CONV ? !L->nostrides : L->sh != 0)
            ints(j, len, "strides", 2, st, 0);
        else if (L->k != CONV)
            add(j, len, "%s", ", \"strides\": null");
        add(j, len, ", \"padding\": \"%s\"", L->same ? "same" : "valid");
    }
    if (L->k == CONV || L->k == MAXPOOL || L->k == AVGPOOL || L->k == GAP || L->k == FLATTEN)
        add(j, len, ", \"data_format\": \"%s\"", df);
    if (L->k == CONV || L->k == DENSE) {
        snprintf(buf, sizeof buf, ", \"%s\": %d, \"use_bias\": %s",
                 L->k == CONV ? "filters" : "units", L->n, L->nobias ? "false" : "true");
        add(j, len, "%s", buf);
    }
    if (L->k == CONV || L->k == DENSE || L->k == ACT)
        add(j, len, ", \"activation\": \"%s\"", L->act ? L->act : "linear");
    if (L->k == BN) {
        snprintf(buf, sizeof buf, ", \"axis\": -1, \"epsilon\": 0.001, \"center\": %s, "
                 "\"scale\": %s", L->bn_off & 1 ? "false" : "true",
                 L->bn_off & 2 ? "false" : "true");
        add(j, len, "%s", buf);
    }
    if (L->k == SOFTMAX)
        add(j, len, "%s", ", \"axis\": -1");
    if (L->k == RESHAPE)
        ints(j, len, "target_shape", L->rank, L->d, 0);
    if (L->k == DROPOUT)
        add(j, len, "%s", ", \"rate\": 0.5");
    if (L->k == RESCALE || (L->k == NORM && L->scale > 0)) {
        snprintf(buf, sizeof buf, L->k == RESCALE ? ", \"scale\": %.17g, \"offset\": %.17g"
                                                  : ", \"axis\": -1, \"variance\": [%.17g], "
                                                    "\"mean\": [%.17g]",
                 L->scale, L->offset);
        add(j, len, "%s", buf);
    }
    if (L->k == LEAKY) {
        snprintf(buf, sizeof buf, ", \"alpha\": %.17g", L->scale);
        add(j, len, "%s", buf);
    }
    if (L->k == ZPAD) {
        snprintf(buf, sizeof buf, ", \"padding\": [[%d, %d], [%d, %d]], \"data_format\": "
                 "\"channels_last\"", L->pad[0], L->pad[1], L->pad[2], L->pad[3]);
        add(j, len, "%s", buf);
    }
    if (L->k == NORM && !(L->scale > 0))
        add(j, len, "%s", ", \"axis\": -1, \"mean\": null, \"variance\": null");
    if (L->extra)
        add(j, len, ", %s", L->extra);
    add(j, len, "%s", "}");
    if (m->style != SEQUENTIAL)
        inbound(j, len, m, i);
    if (i == 1 && m->input_at == IN_LBUILD3)
        build_config(j, len, m);
    add(j, len, "%s", "}");
}

/* The whole model_config; 0 or -1 when it does not fit. */
static int model_json(char *j, size_t len, const struct model *m, int n)
{
    const int func = m->style != SEQUENTIAL;
    snprintf(j, len, "{\"class_name\": \"%s\", \"config\": {\"name\": \"%s\", \"layers\": [",
             func ? "Functional" : "Sequential", func ? "model" : "sequential");
    for (int i = 0; i < n; i++)
        if (emitted(m, i))
            layer_json(j, len, m, i);
    add(j, len, "%s", "]");
    if (func) {
        char buf[1024];
        snprintf(buf, sizeof buf, ", \"input_layers\": [[\"%s\", 0, 0]], \"output_layers\": "
                 "[[\"%s\", 0, 0]]", m->l[0].name, m->l[n - 1].name);
        add(j, len, "%s", buf);
    }
    if (m->input_at == IN_BUILD2)
        ints(j, len, "build_input_shape", m->l[0].rank, m->l[0].d, 1);
    add(j, len, "%s", "}");
    if (m->input_at == IN_BUILD3)
        build_config(j, len, m);
    add(j, len, "%s", "}");
    return strlen(j) + 1 < len ? 0 : -1;
}

/* ---- the .h5 ------------------------------------------------------------------------------ */

static int set_names(hid_t g, const char **names, int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate_simple(1, &dim, NULL);
    H5Tset_size(t, H5T_VARIABLE);
    int rc = H5Adelete(g, "weight_names") < 0 ? -1 : 0;
    hid_t a = rc ? -1 : H5Acreate2(g, "weight_names", t, s, H5P_DEFAULT, H5P_DEFAULT);
    rc = a < 0 || H5Awrite(a, t, names) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s), H5Tclose(t);
    return rc;
}

/* Keras 3's legacy .h5 layout, from the tf.keras one kh5_write wrote: each weight moves to
 * model_weights/<l>/sequential/<l>/<var> (no ":0") and weight_names follow. */
static int keras3_layout(const char *path, const struct model *m, int n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), lcpl = H5Pcreate(H5P_LINK_CREATE);
    int rc = f < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 ? -1 : 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const struct lay *L = &m->l[i];
        char src[2048], dst[2048], names[4][1024];
        const char *np[4];
        for (int w = 0; w < L->nw && rc == 0; w++) {
            snprintf(src, sizeof src, "model_weights/%s/%s/%s", L->name, L->name, L->w[w].name);
            snprintf(names[w], sizeof names[w], "sequential/%s/%.*s", L->name,
                     (int)strcspn(L->w[w].name, ":"), L->w[w].name);
            snprintf(dst, sizeof dst, "model_weights/%s/%s", L->name, names[w]);
            np[w] = names[w];
            rc = H5Lmove(f, src, f, dst, lcpl, H5P_DEFAULT) < 0 ? -1 : 0;
        }
        if (L->nw && rc == 0) {
            snprintf(src, sizeof src, "model_weights/%s/%s", L->name, L->name);
            snprintf(dst, sizeof dst, "model_weights/%s", L->name);
            hid_t g = H5Gopen2(f, dst, H5P_DEFAULT);
            rc = g < 0 || H5Ldelete(f, src, H5P_DEFAULT) < 0 || set_names(g, np, L->nw) ? -1 : 0;
            if (g >= 0)
                H5Gclose(g);
        }
    }
    H5Pclose(lcpl);
    if (f >= 0 && H5Fclose(f) < 0)
        rc = -1;
    return rc;
}

/* Shapes, weights, and the .h5 at DIR/<name>.h5; 0 or -1. */
static int write_model(struct model *m, const char *dir)
{
    static const char *kn[] = {"input", "conv", "maxpool", "avgpool", "gap", "dense", "bn",
                               "act", "softmax", "flatten", "reshape", "dropout", "relu", "add",
                               "rescale", "norm", "leaky", "zpad", "other"};
    static char json[1 << 17];
    struct kh5_layer hl[16];
    const int n = n_layers(m);
    int nh = 0;
    struct shp s = {0, 0, 0};
    seed(m->name);
    for (int i = 0; i < n; i++) {
        struct lay *L = &m->l[i];
        snprintf(L->name, sizeof L->name, "%s_%d%s%.290s", kn[L->k], i, m->long_names ? "_" : "",
                 m->long_names ? "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"
                                 "123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq"
                                 "rstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefg"
                                 "hijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456"
                                 "789abcdefghijklmnopqrstuvwxyz0123456789" : "");
        build_layer(m, L, s);
        s = L->out;
        if (emitted(m, i))
            hl[nh++] = (struct kh5_layer){L->name, L->nw, L->w};
    }
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s.h5", dir, m->name);
    if (model_json(json, sizeof json, m, n)) {
        fprintf(stderr, "%s: model_config does not fit the buffer\n", m->name);
        return -1;
    }
    if (kh5_write(path, json, m->naming == KERAS3 ? "3.8.0" : "2.15.0", hl, nh, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (m->naming == KERAS3 && keras3_layout(path, m, n)) {
        fprintf(stderr, "%s: cannot move the weights to the Keras 3 layout\n", path);
        return -1;
    }
    return 0;
}

/* An HDF5 file that is no Keras model: one dataset, no model_config. */
static int write_not_keras(const char *dir)
{
    char path[4096];
    hsize_t dim = 4;
    const float v[4] = {1, 2, 3, 4};
    snprintf(path, sizeof path, "%s/not_keras.h5", dir);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(1, &dim, NULL);
    hid_t d = f < 0 ? -1 : H5Dcreate2(f, "data", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT,
                                      H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    if (f < 0 || H5Fclose(f) < 0)
        rc = 1;
    return rc ? -1 : 0;
}

/* ---- the reference: Keras's layers in double, straight from the definitions ---------- */

static double act1(const char *a, double v)
{
    if (!a || strcmp(a, "linear") == 0)
        return v;
    if (strcmp(a, "relu") == 0)
        return v > 0 ? v : 0;
    if (strcmp(a, "sigmoid") == 0)
        return 1 / (1 + exp(-v));
    if (strcmp(a, "tanh") == 0)
        return tanh(v);
    if (strcmp(a, "elu") == 0)
        return v > 0 ? v : exp(v) - 1;
    if (strcmp(a, "selu") == 0) /* Keras's constants */
        return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (exp(v) - 1));
    if (strcmp(a, "gelu") == 0)
        return 0.5 * v * (1 + erf(v / sqrt(2.0)));
    if (strcmp(a, "swish") == 0 || strcmp(a, "silu") == 0)
        return v / (1 + exp(-v));
    if (strcmp(a, "softplus") == 0)
        return log(1 + exp(v));
    if (strcmp(a, "leaky_relu") == 0) /* Keras 3's function: negative_slope 0.2 */
        return v > 0 ? v : 0.2 * v;
    return NAN; /* softmax is not element-wise: handled by the caller */
}

/* Softmax over the last axis of every pixel. */
static void softmax_last(double *v, struct shp s)
{
    for (int p = 0; p < s.h * s.w; p++) {
        double *x = v + (size_t)p * s.c, m = -INFINITY, sum = 0;
        for (int i = 0; i < s.c; i++)
            m = x[i] > m ? x[i] : m;
        for (int i = 0; i < s.c; i++)
            sum += x[i] = exp(x[i] - m);
        for (int i = 0; i < s.c; i++)
            x[i] /= sum;
    }
}

/* Conv2D or pooling output element (oy, ox, o). */
static double window_value(const struct lay *L, const double *in, int oy, int ox, int o)
{
    const struct shp I = L->in;
    int sh = stride(L, L->kh, L->sh), sw = stride(L, L->kw, L->sw);
    int pt, pl;
    out_size(I.h, L->kh, sh, L->same, &pt), out_size(I.w, L->kw, sw, L->same, &pl);
    double acc = L->bias ? L->bias[o] : 0, best = -INFINITY;
    int cells = 0;
    for (int ky = 0; ky < L->kh; ky++)
        for (int kx = 0; kx < L->kw; kx++) {
            int y = oy * sh + ky - pt, x = ox * sw + kx - pl;
            if (y < 0 || y >= I.h || x < 0 || x >= I.w)
                continue; /* zero padding for a conv; outside the average for a pool */
            const double *px = in + ((size_t)y * I.w + x) * I.c;
            cells++;
            if (L->k == CONV)
                for (int ic = 0; ic < I.c; ic++)
                    acc += px[ic] * L->kern[((ky * L->kw + kx) * I.c + ic) * L->n + o];
            else
                acc += px[o], best = px[o] > best ? px[o] : best;
        }
    return L->k == CONV ? acc : L->k == MAXPOOL ? best : acc / cells;
}

static void ref_layer(const struct lay *L, const double *in, double *out)
{
    const struct shp I = L->in, O = L->out;
    const size_t nin = (size_t)I.h * I.w * I.c, nout = (size_t)O.h * O.w * O.c;
    memcpy(out, in, nin * sizeof *out); /* INPUT, Flatten, Reshape, Dropout: same values */
    if (L->k == CONV || L->k == MAXPOOL || L->k == AVGPOOL)
        for (int y = 0; y < O.h; y++)
            for (int x = 0; x < O.w; x++)
                for (int o = 0; o < O.c; o++)
                    out[((size_t)y * O.w + x) * O.c + o] = window_value(L, in, y, x, o);
    if (L->k == GAP)
        for (int c = 0; c < I.c; c++) {
            out[c] = 0;
            for (int p = 0; p < I.h * I.w; p++)
                out[c] += in[(size_t)p * I.c + c] / (I.h * I.w);
        }
    if (L->k == DENSE)
        for (size_t o = 0; o < nout; o++) {
            out[o] = L->bias ? L->bias[o] : 0;
            for (size_t i = 0; i < nin; i++)
                out[o] += in[i] * L->kern[i * nout + o];
        }
    if (L->k == BN)
        for (size_t i = 0; i < nout; i++) {
            const size_t c = i % (size_t)O.c;
            out[i] = (in[i] - L->mean[c]) / sqrt(L->var[c] + 1e-3) * (L->gamma ? L->gamma[c] : 1) +
                     (L->beta ? L->beta[c] : 0);
        }
    if (L->k == RESCALE)
        for (size_t i = 0; i < nout; i++)
            out[i] = in[i] * L->scale + L->offset;
    if (L->k == LEAKY)
        for (size_t i = 0; i < nout; i++)
            out[i] = in[i] > 0 ? in[i] : L->scale * in[i];
    if (L->k == ZPAD)
        for (int y = 0; y < O.h; y++)
            for (int x = 0; x < O.w; x++)
                for (int c = 0; c < O.c; c++) {
                    const int iy = y - L->pad[0], ix = x - L->pad[2];
                    out[((size_t)y * O.w + x) * O.c + c] =
                        iy >= 0 && iy < I.h && ix >= 0 && ix < I.w
                            ? in[((size_t)iy * I.w + ix) * I.c + c] : 0;
                }
    if (L->k == NORM)
        for (size_t i = 0; i < nout; i++) {
            const size_t c = i % (size_t)O.c;
            const double mean = L->scale > 0 ? L->offset : L->mean[c];
            const double var = L->scale > 0 ? L->scale : L->var[c];
            out[i] = (in[i] - mean) / fmax(sqrt(var), 1e-7);
        }
    const char *a = L->k == SOFTMAX ? "softmax" : L->k == RELU ? "relu"
                    : L->k == CONV || L->k == DENSE || L->k == ACT ? L->act : NULL;
    if (a && strcmp(a, "softmax") == 0)
        softmax_last(out, O);
    else
        for (size_t i = 0; i < nout; i++)
            out[i] = act1(a, out[i]);
}

/* ---- check: the converter + runtime engine against the reference ---------------------- */

static double check_model(struct model *m, const char *dir)
{
    char path[4096], err[1024];
    struct dg_keras_model km;
    struct dg_input_spec in;
    struct dg_keras_opts opts = {.input = m->input ? &in : NULL};
    snprintf(path, sizeof path, "%s/%s.h5", dir, m->name);
    if (m->input && dg_input_spec_parse(m->input, &in, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", m->name, err);
        return INFINITY;
    }
    if (write_model(m, dir) || dg_keras_load_opts(path, &opts, &km, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", m->name, err);
        return INFINITY;
    }
    static double a[65536], b[65536];
    static float x[784], scratch[1 << 17];
    float y[10];
    double worst = 0;
    if (dg_engine_scratch_floats(&km.model) > sizeof scratch / sizeof *scratch)
        worst = INFINITY;
    for (int t = 0; t < 4 && worst < INFINITY; t++) {
        for (int i = 0; i < 784; i++) { /* pixels in [0, 1], like the service's input */
            x[i] = (float)(0.5 + 0.5 * urand());
            a[i] = m->in_scale ? (x[i] * m->in_scale - m->in_mean) / m->in_std : x[i];
        }
        for (int i = 0; i < n_layers(m); i++) {
            ref_layer(&m->l[i], a, b);
            memcpy(a, b, sizeof a);
        }
        dg_engine_run(&km.model, x, y, scratch);
        for (int o = 0; o < 10; o++)
            worst = fmax(worst, isnan(y[o]) ? INFINITY : fabs(y[o] - a[o]));
    }
    printf("%-22.22s %2d ops  max |engine - reference| = %.3g\n", m->name, km.model.n_ops,
           worst);
    dg_keras_free(&km);
    return worst;
}

static void free_model(struct model *m)
{
    for (int i = 0; i < 16; i++)
        for (int w = 0; w < m->l[i].nw; w++)
            free(m->l[i].data[w]);
}

/* ---- the models ------------------------------------------------------------------------ */

#define IN3 {.k = INPUT, .rank = 3, .d = {28, 28, 1}}
#define IN2 {.k = INPUT, .rank = 2, .d = {28, 28}}
#define IN1 {.k = INPUT, .rank = 1, .d = {784}}
#define CV(N, KH, KW, ...) {.k = CONV, .n = (N), .kh = (KH), .kw = (KW), __VA_ARGS__}
#define DN(N, ...) {.k = DENSE, .n = (N), __VA_ARGS__}
#define PL(K, KH, KW, ...) {.k = (K), .kh = (KH), .kw = (KW), __VA_ARGS__}
#define L(K, ...) {.k = (K), __VA_ARGS__}
/* A Sequential used as a layer: its InputLayer, a RandomFlip, and a Sequential holding a
 * RandomRotation, as tf.keras 2 writes them (each its input at inference). */
#define NESTED_AUGMENTATION                                                                  \
    L(OTHER, .other = "Sequential",                                                        \
      .extra = "\"layers\": [{\"class_name\": \"InputLayer\", \"config\": {\"name\": "          \
               "\"aug_input\", \"batch_input_shape\": [null, 28, 28, 1]}}, "                  \
               "{\"class_name\": \"RandomFlip\", \"config\": {\"name\": \"aug_flip\", "         \
               "\"mode\": \"horizontal\"}}, {\"class_name\": \"Sequential\", \"config\": "      \
               "{\"name\": \"aug_inner\", \"layers\": [{\"class_name\": \"RandomRotation\", "   \
               "\"config\": {\"name\": \"aug_rotation\", \"factor\": 0.1}}]}}]")
#define M(NAME, ...) .name = (NAME), .l = {__VA_ARGS__} /* a model: name, layers */
#define R3(A, B, C) {.k = RESHAPE, .rank = 3, .d = {(A), (B), (C)}}
#define RELU_KERAS22 L(RELU) /* Keras 2.2.0-2.2.2: no keys but the name */
#define RELU_FULL \
    L(RELU, .extra = "\"max_value\": null, \"negative_slope\": 0.0, \"threshold\": 0.0")

/* Each layer type and option, the fusions around BatchNorm, activations, Flatten and
 * pooling, and the layouts of the Keras versions.  Every one of them is also compiled into
 * the vectorised engine and checked there (DG_SELF_BUILT_MODELS in tests/CMakeLists.txt). */
static struct model checks[] = {
    {M("avgpool_strides", IN3, CV(4, 3, 3, .sh = 2, .sw = 2, .same = 1, .act = "relu"),
        PL(AVGPOOL, 3, 3, .sh = 2, .sw = 2, .same = 1), PL(AVGPOOL, 2, 2),
        L(FLATTEN), DN(10, .act = "softmax"))},
    {M("nobias_sigmoid_tanh", IN2, CV(3, 5, 5, .nobias = 1, .act = "sigmoid"), PL(MAXPOOL, 2, 2),
        CV(4, 3, 3, .same = 1, .nobias = 1, .act = "tanh"),
        PL(MAXPOOL, 3, 3, .sh = 2, .sw = 2, .same = 1), L(FLATTEN),
        DN(10, .nobias = 1, .act = "tanh"))},
    {M("bn_before_conv", IN3, CV(4, 3, 3, .act = "relu"), L(BN), CV(6, 3, 3), L(BN),
        L(ACT, .act = "relu"), PL(MAXPOOL, 2, 2), L(BN),
        CV(8, 4, 4, .sh = 2, .sw = 1, .same = 1, .act = "relu"), L(DROPOUT),
        L(GAP), DN(10), L(SOFTMAX))},
    {M("reshape_784", IN1, R3(28, 28, 1), CV(4, 3, 3, .sh = 2, .sw = 2, .act = "relu"), L(FLATTEN),
        DN(32, .act = "relu"), R3(2, 4, 4), CV(10, 2, 4), L(FLATTEN),
        L(ACT, .act = "softmax"))},
    /* Flatten/Reshape changing the channel axis: no fusion across it */
    {M("conv_flatten_bn", IN3, CV(3, 3, 3), L(FLATTEN), L(BN), DN(10), L(SOFTMAX))},
    {M("conv_flatten_bn_relu", IN3, CV(3, 3, 3), L(FLATTEN), L(BN), L(ACT, .act = "relu"), DN(10))},
    {M("conv_flatten_softmax", IN3, CV(5, 27, 28), L(FLATTEN), L(SOFTMAX))},
    {M("dense_reshape_bn", IN1, DN(40), R3(2, 2, 10), L(BN), L(FLATTEN), L(ACT, .act = "tanh"),
        DN(10))},
    {M("dense_bn_sigmoid", IN2, L(FLATTEN), DN(16), L(BN), L(ACT, .act = "sigmoid"),
        DN(10, .act = "softmax"))},
    /* 2x2/2 max pooling after a conv, which the vector engine fuses when it may: 'same' on
     * an odd size (11 -> 6, 25 -> 13) pads after the last row, 'valid' (11 -> 5) drops it */
    {M("pool_same_odd", IN3, CV(4, 3, 3, .act = "relu"), PL(MAXPOOL, 2, 2),
        CV(8, 3, 3, .act = "relu"), PL(MAXPOOL, 2, 2, .same = 1), L(FLATTEN),
        DN(10, .act = "softmax"))},
    {M("k4_pool_same", IN3, CV(8, 4, 4, .act = "relu"), PL(MAXPOOL, 2, 2, .same = 1), L(FLATTEN),
        DN(10, .act = "softmax"))},
    {M("pool_valid_odd", IN3, CV(6, 3, 3, .act = "relu"), PL(MAXPOOL, 2, 2), CV(13, 3, 3),
        PL(MAXPOOL, 2, 2), L(FLATTEN), DN(10))},
    /* Conv2D without a strides key: Keras's default is 1, not the kernel size */
    {M("conv_no_strides", IN3, CV(4, 3, 3, .nostrides = 1, .act = "relu"), PL(MAXPOOL, 2, 2),
        L(FLATTEN), DN(10, .act = "softmax"))},
    /* ReLU layers as Keras 2.2.0-2.2.2 (no threshold key) and later versions write them */
    {M("relu_layers", IN3, CV(4, 3, 3), RELU_KERAS22, PL(MAXPOOL, 2, 2), L(FLATTEN), DN(16),
        RELU_FULL, DN(10, .act = "softmax"))},
    /* BatchNormalization with center=false / scale=false: no beta / gamma stored */
    {M("bn_center_scale", IN3, CV(4, 3, 3, .act = "relu"), L(BN, .bn_off = 1), CV(6, 3, 3),
        L(BN, .bn_off = 2), L(BN, .bn_off = 3), L(FLATTEN), DN(10))},
    {M("reshape_infer", IN1, R3(28, -1, 1), CV(4, 3, 3, .act = "relu"), L(FLATTEN),
        DN(10, .act = "softmax"))},
    /* the layouts: Functional chains (Keras 2 and 3 inbound_nodes), weight names */
    /* ...the first with an augmentation block written as a model of its own, used as a layer
     * (Keras's guides: data_augmentation = Sequential([...]); nested twice here) */
    {M("functional_keras2", IN3, NESTED_AUGMENTATION, CV(4, 3, 3, .act = "relu"),
        PL(MAXPOOL, 2, 2), L(DROPOUT), L(FLATTEN), DN(10, .act = "softmax")), .style = FUNC2},
    {M("functional_keras3", IN2, L(FLATTEN), DN(16, .act = "relu"), L(BN),
        DN(10, .act = "softmax")), .style = FUNC3, .naming = KERAS3},
    /* ...with the augmentation layers Keras's guides put inside a model, each its input
     * at inference */
    {M("keras3_naming", IN3,
        L(OTHER, .other = "RandomRotation",
          .extra = "\"factor\": [-0.1, 0.1], \"fill_mode\": \"reflect\""),
        L(OTHER, .other = "RandomZoom", .extra = "\"height_factor\": 0.1, \"width_factor\": null"),
        L(OTHER, .other = "RandomTranslation",
          .extra = "\"height_factor\": 0.1, \"width_factor\": 0.1"),
        L(OTHER, .other = "RandomFlip", .extra = "\"mode\": \"horizontal\""),
        L(OTHER, .other = "RandomContrast", .extra = "\"factor\": 0.2"),
        L(OTHER, .other = "RandomBrightness", .extra = "\"factor\": 0.2, \"value_range\": [0, 1]"),
        CV(4, 3, 3), L(BN), L(ACT, .act = "relu"), PL(MAXPOOL, 2, 2), L(FLATTEN), DN(10)),
     .naming = KERAS3},
    {M("renamed_weights", IN3, CV(4, 3, 3, .act = "relu"), L(BN), PL(MAXPOOL, 2, 2), L(FLATTEN),
        DN(10)), .naming = RENAMED},
    {M("long_layer_names", IN3, CV(4, 3, 3, .act = "relu"), L(FLATTEN), DN(10)), .long_names = 1},
    /* where the input shape is: first layer (Keras <= 2.2), or a deferred build */
    {M("input_on_first_layer", IN3, CV(4, 3, 3, .act = "relu"), L(FLATTEN), DN(10)),
     .input_at = IN_FIRST},
    {M("deferred_keras2", IN2, L(FLATTEN), DN(10, .act = "softmax")), .input_at = IN_BUILD2},
    {M("deferred_keras3", IN3, CV(4, 3, 3, .act = "relu"), L(FLATTEN), DN(10)),
     .input_at = IN_BUILD3},
    {M("deferred_keras3_layer", IN1, DN(10, .act = "softmax")), .input_at = IN_LBUILD3},
    /* input scale and normalisation layers, folded forward into the first Conv2D/Dense or,
     * before a 'same' conv or a pool, run as a per-channel op; a model that begins with
     * Rescaling takes raw pixels by default */
    {M("rescaling_first", IN3, L(RESCALE, .scale = 1 / 255.0), CV(4, 3, 3, .act = "relu"),
        PL(MAXPOOL, 2, 2), L(FLATTEN), DN(10, .act = "softmax")), .in_scale = 255, .in_std = 1},
    {M("input_scale_raw_same", IN3, CV(4, 3, 3, .same = 1, .act = "tanh"), L(FLATTEN),
        DN(10)), .input = "raw", .in_scale = 255, .in_std = 1},
    {M("input_standardised", IN2, L(FLATTEN), DN(16, .act = "relu"), DN(10)),
     .input = "1,0.1307,0.3081", .in_scale = 1, .in_mean = 0.1307, .in_std = 0.3081},
    {M("normalization_layers", IN3, L(NORM, .scale = 0.09, .offset = 0.13), PL(MAXPOOL, 2, 2),
        L(NORM), CV(4, 3, 3, .act = "relu"), L(RESCALE, .scale = 0.5, .offset = -1),
        L(FLATTEN), DN(10))},
    /* the activations beyond relu/sigmoid/tanh, as Conv2D/Dense options and as layers;
     * ZeroPadding2D (asymmetric) before a valid and a 'same' Conv2D */
    {M("activations", IN3, CV(4, 3, 3, .act = "elu"), CV(5, 3, 3, .act = "gelu"),
        PL(MAXPOOL, 2, 2), CV(6, 3, 3, .act = "swish"), L(ACT, .act = "softplus"), L(FLATTEN),
        DN(16, .act = "selu"), DN(12, .act = "silu"), DN(10, .act = "leaky_relu"),
        L(SOFTMAX))},
    {M("leaky_zeropad", IN3, L(ZPAD, .pad = {1, 2, 0, 3}), CV(4, 3, 3, .sh = 2, .sw = 2),
        L(LEAKY, .scale = 0.1), L(ZPAD, .pad = {2, 0, 1, 1}), CV(6, 3, 3, .same = 1),
        L(ACT, .act = "elu"), L(FLATTEN), DN(10), L(SOFTMAX))},
};

/* What digitd-convert must refuse (tests/convert_refuse.sh checks each message). */
static struct model bad[] = {
    {M("channels_first", {.k = INPUT, .rank = 3, .d = {1, 28, 28}},
        CV(4, 1, 1, .other = "channels_first"), L(FLATTEN), DN(10))},
    {M("input32", {.k = INPUT, .rank = 3, .d = {32, 32, 1}}, L(FLATTEN), DN(10))},
    {M("input_null", {.k = INPUT, .rank = 3, .d = {0, 0, 1}}, L(FLATTEN), DN(10))},
    {M("bad_shape", IN3, L(FLATTEN), DN(10, .poison = 4))},
    {M("lstm", IN2, L(OTHER, .other = "LSTM"), DN(10))},
    {M("nested_weights", IN3, L(OTHER, .other = "Sequential",
        .extra = "\"layers\": [{\"class_name\": \"RandomFlip\", \"config\": {\"name\": "
                 "\"aug_flip\"}}, {\"class_name\": \"Dense\", \"config\": {\"name\": "
                 "\"inner_dense\", \"units\": 4}}]"), L(FLATTEN), DN(10))},
    {M("conv2dtranspose", IN3, L(OTHER, .other = "Conv2DTranspose"), L(FLATTEN), DN(10))},
    {M("nan_kernel", IN3, CV(2, 3, 3, .poison = 1), L(FLATTEN), DN(10))},
    {M("inf_bias", IN3, L(FLATTEN), DN(10, .poison = 2))},
    {M("bn_negative_variance", IN3, CV(2, 3, 3), L(BN, .poison = 3), L(FLATTEN), DN(10))},
    {M("bn_wrong_order", IN3, CV(2, 3, 3), L(BN, .poison = 5), L(FLATTEN), DN(10))},
    {M("skip_connection", IN3, CV(4, 3, 3, .same = 1), CV(4, 3, 3, .same = 1),
        L(ADD, .from = 2), L(FLATTEN), DN(10)), .style = FUNC2},
    {M("hard_sigmoid", IN2, L(FLATTEN), DN(16), L(ACT, .act = "hard_sigmoid"), DN(10))},
    {M("zeropad_pool", IN3, L(ZPAD, .pad = {1, 1, 1, 1}), PL(MAXPOOL, 2, 2), L(FLATTEN),
        DN(10))},
    {M("relu6", IN2, L(FLATTEN), DN(16), L(RELU, .extra = "\"max_value\": 6.0"), DN(10))},
    {M("out12", IN3, L(FLATTEN), DN(12, .act = "softmax"))},
    {M("dense_on_image", IN3, CV(4, 3, 3), DN(10))},
    {M("filters_fraction", IN3, L(OTHER, .other = "Conv2D",
        .extra = "\"filters\": 2.5, \"kernel_size\": [3, 3]"),
        L(FLATTEN), DN(10))},
    {M("units_huge", IN2, L(FLATTEN), L(OTHER, .other = "Dense", .extra = "\"units\": 1e300"))},
    /* the engine's bound on one activation (DG_MAX_ACT_FLOATS): an output, a padded input */
    {M("act_too_big", IN3, CV(512, 3, 3, .same = 1), L(GAP), DN(10))},
    {M("pad_too_big", IN3, CV(300, 1, 1), CV(4, 3, 3, .same = 1), L(GAP), DN(10))},
    {M("keras1", IN3, L(OTHER, .other = "Convolution2D",
        .extra = "\"nb_filter\": 4, \"nb_row\": 3, \"nb_col\": 3, "
        "\"border_mode\": \"valid\""), L(FLATTEN), DN(10))},
};

/* `rawpixel`: src copied to dst, then the first weight of the first layer with weights (the
 * first Conv2D's kernel in the files used) divided by 255 in place. */
static int raw_pixel_copy(const char *src, const char *dst)
{
    char cmd[8300], err[512], **layers = NULL, **wn = NULL, group[1024], path[2048];
    int nl = 0, nw = 0, rc = -1, rank;
    size_t dims[4];
    float *w = NULL;
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    if (system(cmd) != 0)
        return -1;
    hid_t f = H5Fopen(dst, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0 || h5r_attr_strings(f, "model_weights", "layer_names", &layers, &nl, err, sizeof err))
        goto out;
    for (int i = 0; i < nl && nw == 0; i++) {
        snprintf(group, sizeof group, "model_weights/%s", layers[i]);
        if (h5r_attr_strings(f, group, "weight_names", &wn, &nw, err, sizeof err))
            goto out;
        if (nw == 0)
            h5r_free_strings(wn, 0), wn = NULL;
    }
    snprintf(path, sizeof path, "%s/%s", group, nw ? wn[0] : "");
    if (nw == 0 || h5r_read_floats(f, path, &rank, dims, &w, err, sizeof err))
        goto out;
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= dims[d];
    for (size_t i = 0; i < n; i++)
        w[i] /= 255.0f;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    rc = d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0 ? 0 : -1;
    if (d >= 0)
        H5Dclose(d);
    printf("%s: %s (%zu floats) / 255\n", dst, path, n);
out:
    if (rc)
        fprintf(stderr, "rawpixel %s: %s\n", src, err);
    free(w);
    h5r_free_strings(wn, nw), h5r_free_strings(layers, nl);
    if (f >= 0 && H5Fclose(f) < 0)
        rc = -1;
    return rc;
}

/* `accuracy`: the converted model (with --input-scale SCALE) on the 10,000 test digits. */
static int accuracy(const char *h5, const char *mnist, const char *scale)
{
    char err[1024];
    struct dg_input_spec in;
    struct dg_keras_opts opts = {.input = scale ? &in : NULL};
    struct dg_keras_model km;
    if ((scale && dg_input_spec_parse(scale, &in, err, sizeof err)) ||
        dg_keras_load_opts(h5, &opts, &km, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double a = dg_mnist_accuracy(&km.model, mnist, 10000, err, sizeof err);
    dg_keras_free(&km);
    if (a < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%.2f\n", 100 * a);
    return 0;
}

/* Keras 3's model.weights.h5 of m at path: layers/<name>/vars/<i> for every layer, one
 * float32 dataset per weight in Keras's order, and the root's empty vars group. */
static int keras3_weights(const struct model *m, const char *path)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    int rc = f < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 ? -1 : 0;
    hid_t g = rc ? -1 : H5Gcreate2(f, "vars", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    rc = g < 0 || H5Gclose(g) < 0 ? -1 : 0;
    for (int i = 0; i < n_layers(m) && rc == 0; i++) {
        const struct lay *L = &m->l[i];
        char name[1024];
        if (!emitted(m, i))
            continue;
        snprintf(name, sizeof name, "layers/%s/vars", L->name);
        g = H5Gcreate2(f, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        rc = g < 0 ? -1 : 0;
        for (int w = 0; w < L->nw && rc == 0; w++) {
            hsize_t dims[4];
            for (int d = 0; d < L->w[w].rank; d++)
                dims[d] = L->w[w].dims[d];
            hid_t s = H5Screate_simple(L->w[w].rank, dims, NULL);
            char v[16];
            snprintf(v, sizeof v, "%d", w);
            hid_t d = H5Dcreate2(g, v, H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            rc = d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                   L->data[w]) < 0 ? -1 : 0;
            if (d >= 0)
                H5Dclose(d);
            H5Sclose(s);
        }
        if (g >= 0)
            H5Gclose(g);
    }
    H5Pclose(lcpl);
    if (f >= 0 && H5Fclose(f) < 0)
        rc = -1;
    return rc;
}

/* A zip at path with the given members (NULL content: the file at that path instead). */
static int write_zip(const char *path, int n, const char *const names[],
                     const char *const texts[])
{
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    int rc = z ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        zip_source_t *src = texts[i][0] == '@' ? zip_source_file(z, texts[i] + 1, 0, -1)
                                               : zip_source_buffer(z, texts[i], strlen(texts[i]), 0);
        if (!src || zip_file_add(z, names[i], src, ZIP_FL_OVERWRITE) < 0) {
            zip_source_free(src);
            rc = -1;
        }
    }
    if (z && zip_close(z) < 0) {
        zip_discard(z);
        rc = -1;
    }
    return rc;
}

/* `keras`: the check model `name` as DIR/name.h5 and DIR/name.keras (members in Keras's
 * order: metadata.json, config.json, model.weights.h5). */
static int write_keras(struct model *m, const char *dir)
{
    static char json[1 << 17];
    char wpath[4096], zpath[4096], wref[4100];
    if (write_model(m, dir) || model_json(json, sizeof json, m, n_layers(m)))
        return -1;
    snprintf(wpath, sizeof wpath, "%s/%s.model.weights.h5", dir, m->name);
    snprintf(wref, sizeof wref, "@%s", wpath);
    snprintf(zpath, sizeof zpath, "%s/%s.keras", dir, m->name);
    const char *names[] = {"metadata.json", "config.json", "model.weights.h5"};
    const char *texts[] = {"{\"keras_version\": \"3.8.0\", \"date_saved\": "
                           "\"2025-01-01@00:00:00\"}", json, wref};
    int rc = keras3_weights(m, wpath) || write_zip(zpath, 3, names, texts) ? -1 : 0;
    unlink(wpath);
    if (rc)
        fprintf(stderr, "keras %s: cannot write %s\n", m->name, zpath);
    return rc;
}

/* `badkeras`: archives without config.json, without model.weights.h5, and a truncated one;
 * plus a .keras whose weights do not fit its config. */
static int write_bad_keras(const char *dir)
{
    char p[3][4096], w[4096];
    const char *meta = "{\"keras_version\": \"3.8.0\"}";
    snprintf(p[0], sizeof p[0], "%s/no_config.keras", dir);
    snprintf(p[1], sizeof p[1], "%s/no_weights.keras", dir);
    snprintf(p[2], sizeof p[2], "%s/truncated.keras", dir);
    snprintf(w, sizeof w, "@%s/bad.weights.h5", dir);
    const char *n0[] = {"metadata.json", "model.weights.h5"}, *t0[] = {meta, w};
    const char *n1[] = {"metadata.json", "config.json"}, *t1[] = {meta, "{}"};
    FILE *f = fopen(w + 1, "w");
    int rc = !f || fputs("not hdf5", f) < 0;
    if (f && fclose(f))
        rc = 1;
    rc |= write_zip(p[0], 2, n0, t0) || write_zip(p[1], 2, n1, t1) ||
          write_zip(p[2], 2, n1, t1) || truncate(p[2], 30);
    return rc ? -1 : 0;
}

/* `config`: a full model's model_config as the JSON file model.to_json() would give. */
static int dump_config(const char *h5, const char *out)
{
    char err[512], *json = NULL;
    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    FILE *o = NULL;
    int rc = f < 0 || h5r_attr_string(f, ".", "model_config", &json, err, sizeof err) ||
             !(o = fopen(out, "w")) || fputs(json, o) < 0;
    if (o && fclose(o))
        rc = 1;
    if (f >= 0)
        H5Fclose(f);
    if (rc)
        fprintf(stderr, "config %s -> %s: failed\n", h5, out);
    free(json);
    return rc;
}

/* `list`: every model of `checks` in the ';'-separated names, and nothing else. */
static int same_list(const char *names, size_t n)
{
    size_t given = 0, len = strlen(names);
    for (const char *p = names; p < names + len; p += strcspn(p, ";") + 1)
        given += strcspn(p, ";") > 0;
    for (size_t i = 0; i < n; i++) {
        const size_t k = strlen(checks[i].name);
        int found = 0;
        for (const char *p = names; !found && p < names + len; p += strcspn(p, ";") + 1)
            found = strcspn(p, ";") == k && strncmp(p, checks[i].name, k) == 0;
        CHECK(found, "model '%s' is not in the list", checks[i].name);
    }
    CHECK(given == n, "%zu names given, %zu models in checks", given, n);
    return failures ? 1 : 0;
}

static struct model *find(struct model *set, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i].name, name) == 0)
            return &set[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const int check = argc >= 3 && strcmp(argv[1], "check") == 0;
    const int write = argc == 4 && strcmp(argv[1], "write") == 0;
    const int badset = argc == 3 && strcmp(argv[1], "bad") == 0;
    const size_t nchecks = sizeof checks / sizeof *checks;
    if (argc == 3 && strcmp(argv[1], "list") == 0)
        return same_list(argv[2], nchecks);
    if (argc == 4 && strcmp(argv[1], "keras") == 0) {
        struct model *m = find(checks, nchecks, argv[3]);
        return !m || write_keras(m, argv[2]) != 0;
    }
    if (argc == 3 && strcmp(argv[1], "badkeras") == 0)
        return write_bad_keras(argv[2]) != 0;
    if (argc == 4 && strcmp(argv[1], "config") == 0)
        return dump_config(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "rawpixel") == 0)
        return raw_pixel_copy(argv[2], argv[3]) != 0;
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "accuracy") == 0)
        return accuracy(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (!(check && argc <= 4) && !write && !badset) {
        fprintf(stderr, "usage: convert_models check DIR [MODEL] | write DIR MODEL | bad DIR | "
                        "list NAMES | rawpixel SRC DST | accuracy H5 MNIST_DIR [SCALE] | "
                        "config H5 OUT.json | keras DIR MODEL | badkeras DIR\n");
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (badset) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            CHECK(write_model(&bad[i], argv[2]) == 0, "%s: not written", bad[i].name);
            free_model(&bad[i]);
        }
        CHECK(write_not_keras(argv[2]) == 0, "the file that is not a Keras model: not written");
        return failures ? 1 : 0;
    }
    if (write) {
        struct model *m = find(checks, nchecks, argv[3]);
        if (!m) {
            fprintf(stderr, "convert_models: no model '%s'\n", argv[3]);
            return 2;
        }
        int failed = write_model(m, argv[2]) != 0;
        free_model(m);
        return failed;
    }
    int ran = 0;
    for (size_t i = 0; i < nchecks; i++) {
        if (argc == 4 && strcmp(argv[3], checks[i].name) != 0)
            continue; /* one model, when debugging */
        double d = check_model(&checks[i], argv[2]);
        ran++;
        CHECK(d <= 1e-5, "%s: max abs difference %.3g > 1e-5", checks[i].name, d);
        free_model(&checks[i]);
    }
    CHECK(ran > 0, "no model named %s", argc == 4 ? argv[3] : "");
    return failures ? 1 : 0;
}
