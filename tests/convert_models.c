/* convert_models.c: small Keras models built by the test itself (config JSON + weights
 * written with kh5_write, the trainer's writer), for the converter's tests.
 *   convert_models check DIR [MODEL]  each model (or just MODEL): .h5 -> dg_keras_load ->
 *                             dg_engine_run, against a straightforward double-precision
 *                             forward pass of the same Keras layers (not of the converted
 *                             ops, so a wrong fold or fusion shows); max abs diff <= 1e-5
 *   convert_models bad DIR    writes the models digitd-convert must refuse (convert_refuse.sh)
 * The reference follows Keras's definitions: HWC (channels_last), 'same' padding puts
 * floor(total/2) before, average pooling counts only cells inside the image, BatchNorm and
 * softmax act on the last axis, Flatten/Reshape keep the row-major order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "keras_h5.h"
#include "keras_load.h"

enum kind { INPUT, CONV, MAXPOOL, AVGPOOL, GAP, DENSE, BN, ACT, SOFTMAX, FLATTEN, RESHAPE,
            DROPOUT, OTHER };
static const char *class_of[] = {"InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D",
                                 "GlobalAveragePooling2D", "Dense", "BatchNormalization",
                                 "Activation", "Softmax", "Flatten", "Reshape", "Dropout"};

struct shp {
    int h, w, c;
};

struct lay {
    enum kind k;
    int n;              /* CONV filters, DENSE units */
    int kh, kw, sh, sw; /* kernel or pool size; strides (0: Keras default) */
    int same, nobias;
    const char *act;    /* CONV, DENSE, ACT; NULL = linear */
    int rank, d[3];     /* INPUT batch shape without None; RESHAPE target_shape */
    const char *other;  /* OTHER: the class name; else a data_format to write */
    int poison;         /* 1 NaN in the kernel, 2 Inf in the bias, 3 negative BN variance,
                           4 a kernel one column too wide */
    /* filled in by build_layer() */
    char name[24];
    struct shp in, out;
    int nw;
    struct kh5_weight w[4];
    float *data[4];
};

struct model {
    const char *name;
    struct lay l[16];
};

static unsigned long long rng = 88172645463325252ull;

static double urand(void) /* [-1, 1) */
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

static int n_layers(const struct model *m)
{
    int n = 0;
    while (n < 16 && (n == 0 || m->l[n].k != INPUT))
        n++;
    return n;
}

/* Keras output size and the padding before ('same': floor(total / 2)). */
static int out_size(int in, int k, int s, int same, int *before)
{
    int out = same ? (in + s - 1) / s : (in - k) / s + 1;
    int total = (out - 1) * s + k - in;
    *before = same && total > 0 ? total / 2 : 0;
    return out;
}

static float *add_weight(struct lay *L, const char *name, int rank, int d0, int d1, int d2,
                         int d3, double scale, double offset)
{
    struct kh5_weight *w = &L->w[L->nw];
    int dims[4] = {d0, d1, d2, d3};
    size_t n = 1;
    w->name = name, w->rank = rank;
    for (int i = 0; i < rank; i++)
        n *= (size_t)(w->dims[i] = (size_t)dims[i]);
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (float)(offset + scale * urand());
    w->data = L->data[L->nw++] = p;
    return p;
}

/* Shapes through the layers and random weights of a size that keeps activations O(1). */
static void build_layer(struct lay *L, struct shp s)
{
    L->in = L->out = s;
    int pt;
    if (L->k == INPUT) { /* the 784 pixels pass through, as {28, 28, c} or {1, 1, 784} */
        L->out = (struct shp){L->rank == 1 ? 1 : L->d[0], L->rank == 1 ? 1 : L->d[1],
                              L->rank == 3 ? L->d[2] : L->rank == 1 ? L->d[0] : 1};
        L->in = L->out;
    }
    if (L->k == CONV || L->k == MAXPOOL || L->k == AVGPOOL) {
        int sh = L->sh ? L->sh : L->k == CONV ? 1 : L->kh, sw = L->sw ? L->sw : L->k == CONV ? 1 : L->kw;
        L->out.h = out_size(s.h, L->kh, sh, L->same, &pt);
        L->out.w = out_size(s.w, L->kw, sw, L->same, &pt);
    }
    if (L->k == CONV) {
        L->out.c = L->n;
        double sc = 1.5 / sqrt((double)L->kh * L->kw * s.c);
        float *k = add_weight(L, "kernel:0", 4, L->kh, L->kw, s.c + (L->poison == 4), L->n, sc, 0);
        if (L->poison == 1)
            k[1] = NAN;
    }
    if (L->k == GAP)
        L->out = (struct shp){1, 1, s.c};
    if (L->k == DENSE) {
        L->out = (struct shp){1, 1, L->n};
        float *k = add_weight(L, "kernel:0", 2, s.h * s.w * s.c, L->n + (L->poison == 4), 0, 0,
                              1.5 / sqrt((double)s.h * s.w * s.c), 0);
        if (L->poison == 1)
            k[0] = NAN;
    }
    if ((L->k == CONV || L->k == DENSE) && !L->nobias)
        add_weight(L, "bias:0", 1, L->n, 0, 0, 0, 0.2, 0)[0] = L->poison == 2 ? INFINITY : 0.1f;
    if (L->k == BN) {
        add_weight(L, "gamma:0", 1, s.c, 0, 0, 0, 0.5, 1.0);
        add_weight(L, "beta:0", 1, s.c, 0, 0, 0, 0.3, 0);
        add_weight(L, "moving_mean:0", 1, s.c, 0, 0, 0, 0.3, 0);
        add_weight(L, "moving_variance:0", 1, s.c, 0, 0, 0, 0.5, 1.0)[0] = L->poison == 3 ? -1 : 1;
    }
    if (L->k == FLATTEN)
        L->out = (struct shp){1, 1, s.h * s.w * s.c};
    if (L->k == RESHAPE)
        L->out = L->rank == 1 ? (struct shp){1, 1, L->d[0]} : (struct shp){L->d[0], L->d[1], L->d[2]};
}

static void ints(char *j, size_t len, const char *key, int rank, const int *d, int batch)
{
    size_t o = strlen(j);
    o += (size_t)snprintf(j + o, len - o, ", \"%s\": [%s", key, batch ? "null" : "");
    for (int i = 0; i < rank; i++)
        o += (size_t)snprintf(j + o, len - o, "%s%d", i || batch ? ", " : "", d[i]);
    snprintf(j + o, len - o, "]");
}

static void add(char *j, size_t len, const char *fmt, const char *a)
{
    size_t o = strlen(j);
    snprintf(j + o, len - o, fmt, a);
}

/* One layer's config as tf.keras 2.x writes it (the keys the converter reads). */
static void layer_json(char *j, size_t len, const struct lay *L, int first)
{
    const char *df = L->k != OTHER && L->other ? L->other : "channels_last";
    int k[2] = {L->kh, L->kw}, st[2] = {L->sh ? L->sh : 1, L->sw ? L->sw : 1};
    char buf[160];
    snprintf(buf, sizeof buf, "%s{\"class_name\": \"%s\", \"config\": {\"name\": \"%s\"",
             first ? "" : ", ", L->k == OTHER ? L->other : class_of[L->k], L->name);
    add(j, len, "%s", buf);
    if (L->k == INPUT)
        ints(j, len, "batch_input_shape", L->rank, L->d, 1);
    if (L->k == CONV || L->k == MAXPOOL || L->k == AVGPOOL) {
        ints(j, len, L->k == CONV ? "kernel_size" : "pool_size", 2, k, 0);
        if (L->k == CONV || L->sh)
            ints(j, len, "strides", 2, st, 0);
        else
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
    if (L->k == BN)
        add(j, len, "%s", ", \"axis\": -1, \"epsilon\": 0.001, \"center\": true, \"scale\": true");
    if (L->k == SOFTMAX)
        add(j, len, "%s", ", \"axis\": -1");
    if (L->k == RESHAPE)
        ints(j, len, "target_shape", L->rank, L->d, 0);
    if (L->k == DROPOUT)
        add(j, len, "%s", ", \"rate\": 0.5");
    add(j, len, "%s", "}}");
}

/* Shapes, weights, and the .h5 at DIR/<name>.h5; 0 or -1. */
static int write_model(struct model *m, const char *dir)
{
    static const char *kn[] = {"input", "conv", "maxpool", "avgpool", "gap", "dense", "bn",
                               "act", "softmax", "flatten", "reshape", "dropout", "other"};
    static char json[65536];
    struct kh5_layer hl[16];
    const int n = n_layers(m);
    struct shp s = {0, 0, 0};
    snprintf(json, sizeof json, "{\"class_name\": \"Sequential\", \"config\": {\"name\": "
                                "\"sequential\", \"layers\": [");
    for (int i = 0; i < n; i++) {
        struct lay *L = &m->l[i];
        snprintf(L->name, sizeof L->name, "%s_%d", kn[L->k], i);
        build_layer(L, s);
        s = L->out;
        layer_json(json, sizeof json, L, i == 0);
        hl[i] = (struct kh5_layer){L->name, L->nw, L->w};
    }
    add(json, sizeof json, "%s", "]}}");
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s.h5", dir, m->name);
    if (kh5_write(path, json, "2.15.0", hl, n, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
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
    int sh = L->sh ? L->sh : L->k == CONV ? 1 : L->kh, sw = L->sw ? L->sw : L->k == CONV ? 1 : L->kw;
    int pt, pl;
    out_size(I.h, L->kh, sh, L->same, &pt), out_size(I.w, L->kw, sw, L->same, &pl);
    double acc = L->k == CONV && !L->nobias ? L->data[1][o] : 0, best = -INFINITY;
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
                    acc += px[ic] * L->data[0][((ky * L->kw + kx) * I.c + ic) * L->n + o];
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
            out[o] = L->nobias ? 0 : L->data[1][o];
            for (size_t i = 0; i < nin; i++)
                out[o] += in[i] * L->data[0][i * nout + o];
        }
    if (L->k == BN)
        for (size_t i = 0; i < nout; i++) {
            const size_t c = i % (size_t)O.c;
            out[i] = (in[i] - L->data[2][c]) / sqrt(L->data[3][c] + 1e-3) * L->data[0][c] +
                     L->data[1][c];
        }
    const char *a = L->k == SOFTMAX ? "softmax" : L->k == CONV || L->k == DENSE || L->k == ACT ? L->act : NULL;
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
    snprintf(path, sizeof path, "%s/%s.h5", dir, m->name);
    if (write_model(m, dir) || dg_keras_load(path, &km, err, sizeof err)) {
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
        for (int i = 0; i < 784; i++) /* pixels in [0, 1], like the service's input */
            a[i] = x[i] = (float)(0.5 + 0.5 * urand());
        for (int i = 0; i < n_layers(m); i++) {
            ref_layer(&m->l[i], a, b);
            memcpy(a, b, sizeof a);
        }
        dg_engine_run(&km.model, x, y, scratch);
        for (int o = 0; o < 10; o++)
            worst = fmax(worst, isnan(y[o]) ? INFINITY : fabs(y[o] - a[o]));
    }
    printf("%-22s %2d ops  max |engine - reference| = %.3g\n", m->name, km.model.n_ops, worst);
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
#define R3(A, B, C) {.k = RESHAPE, .rank = 3, .d = {(A), (B), (C)}}

/* Each layer type and option, and the fusions around BatchNorm, activations, Flatten. */
static struct model checks[] = {
    {"avgpool_strides", {IN3, CV(4, 3, 3, .sh = 2, .sw = 2, .same = 1, .act = "relu"),
                         PL(AVGPOOL, 3, 3, .sh = 2, .sw = 2, .same = 1), PL(AVGPOOL, 2, 2),
                         L(FLATTEN), DN(10, .act = "softmax")}},
    {"nobias_sigmoid_tanh", {IN2, CV(3, 5, 5, .nobias = 1, .act = "sigmoid"), PL(MAXPOOL, 2, 2),
                             CV(4, 3, 3, .same = 1, .nobias = 1, .act = "tanh"),
                             PL(MAXPOOL, 3, 3, .sh = 2, .sw = 2, .same = 1), L(FLATTEN),
                             DN(10, .nobias = 1, .act = "tanh")}},
    {"bn_before_conv", {IN3, CV(4, 3, 3, .act = "relu"), L(BN), CV(6, 3, 3), L(BN),
                        L(ACT, .act = "relu"), PL(MAXPOOL, 2, 2), L(BN),
                        CV(8, 4, 4, .sh = 2, .sw = 1, .same = 1, .act = "relu"), L(DROPOUT),
                        L(GAP), DN(10), L(SOFTMAX)}},
    {"reshape_784", {IN1, R3(28, 28, 1), CV(4, 3, 3, .sh = 2, .sw = 2, .act = "relu"), L(FLATTEN),
                     DN(32, .act = "relu"), R3(2, 4, 4), CV(10, 2, 4), L(FLATTEN),
                     L(ACT, .act = "softmax")}},
    /* Flatten/Reshape changing the channel axis: no fusion across it */
    {"conv_flatten_bn", {IN3, CV(3, 3, 3), L(FLATTEN), L(BN), DN(10), L(SOFTMAX)}},
    {"conv_flatten_bn_relu", {IN3, CV(3, 3, 3), L(FLATTEN), L(BN), L(ACT, .act = "relu"), DN(10)}},
    {"conv_flatten_softmax", {IN3, CV(5, 27, 28), L(FLATTEN), L(SOFTMAX)}},
    {"dense_reshape_bn", {IN1, DN(40), R3(2, 2, 10), L(BN), L(FLATTEN), L(ACT, .act = "tanh"),
                          DN(10)}},
    {"dense_bn_sigmoid", {IN2, L(FLATTEN), DN(16), L(BN), L(ACT, .act = "sigmoid"),
                          DN(10, .act = "softmax")}},
};

/* What digitd-convert must refuse (tests/convert_refuse.sh checks each message). */
static struct model bad[] = {
    {"channels_first", {{.k = INPUT, .rank = 3, .d = {1, 28, 28}},
                        CV(4, 1, 1, .other = "channels_first"), L(FLATTEN), DN(10)}},
    {"input32", {{.k = INPUT, .rank = 3, .d = {32, 32, 1}}, L(FLATTEN), DN(10)}},
    {"bad_shape", {IN3, L(FLATTEN), DN(10, .poison = 4)}},
    {"lstm", {IN2, L(OTHER, .other = "LSTM"), DN(10)}},
    {"conv2dtranspose", {IN3, L(OTHER, .other = "Conv2DTranspose"), L(FLATTEN), DN(10)}},
    {"nan_kernel", {IN3, CV(2, 3, 3, .poison = 1), L(FLATTEN), DN(10)}},
    {"inf_bias", {IN3, L(FLATTEN), DN(10, .poison = 2)}},
    {"bn_negative_variance", {IN3, CV(2, 3, 3), L(BN, .poison = 3), L(FLATTEN), DN(10)}},
};

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "check") && strcmp(argv[1], "bad"))) {
        fprintf(stderr, "usage: convert_models check|bad DIR [MODEL]\n");
        return 2;
    }
    int failed = 0;
    if (strcmp(argv[1], "bad") == 0) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            failed |= write_model(&bad[i], argv[2]) != 0;
            free_model(&bad[i]);
        }
        return failed;
    }
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
        if (argc == 4 && strcmp(argv[3], checks[i].name) != 0)
            continue; /* one model, when debugging */
        double d = check_model(&checks[i], argv[2]);
        if (!(d <= 1e-5)) {
            fprintf(stderr, "FAIL %s: max abs difference %.3g > 1e-5\n", checks[i].name, d);
            failed = 1;
        }
        free_model(&checks[i]);
    }
    return failed;
}
