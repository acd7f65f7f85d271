/* keras_layers.c: each Keras layer type -> engine ops, with the weights it names.
 * Shapes are tracked the way Keras computes them, so a weight whose shape disagrees with the
 * config is caught here, at build time. */
#include "keras_build.h"
#include "engine.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON fields --------------------------------------------------------------------- */

static const cJSON *field(const cJSON *cfg, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(cfg, k);
}

static const char *str_field(const cJSON *cfg, const char *k, const char *dflt)
{
    const cJSON *j = field(cfg, k);
    return cJSON_IsString(j) ? j->valuestring : dflt;
}

static int bool_field(const cJSON *cfg, const char *k, int dflt)
{
    const cJSON *j = field(cfg, k);
    return cJSON_IsBool(j) ? cJSON_IsTrue(j) : dflt;
}

/* The one test of a JSON value as an int: a number, integral, in lo..hi.  Casting a NaN, an
 * Inf (1e999 parses as one) or any double outside int's range is undefined behaviour, and
 * cJSON's valueint silently truncates 2.5 to 2, so neither is used for config values. */
static int json_int(const cJSON *j, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(j))
        return -1;
    const double v = j->valuedouble;
    if (!(v >= lo && v <= hi) || v != floor(v)) /* NaN fails the first test */
        return -1;
    *out = (int)v;
    return 0;
}

/* The JSON text of a value for a message (at most len - 1 bytes, "missing" for none). */
static void json_text(const cJSON *j, char *s, size_t len)
{
    char *p = j ? cJSON_PrintUnformatted(j) : NULL;
    snprintf(s, len, "%s", p ? p : "missing");
    free(p);
}

/* cfg[key] as an int in lo..hi; else fails naming the key, the range and what is there. */
static int int_key(struct kb *b, const cJSON *cfg, const char *key, int lo, int hi, int *out)
{
    const cJSON *j = field(cfg, key);
    char got[64];
    if (json_int(j, lo, hi, out) == 0)
        return 0;
    json_text(j, got, sizeof got);
    kb_fail(b, "'%s' must be an integer in %d..%d (got %s)", key, lo, hi, got);
    return -1;
}

/* cfg[key], an int or a pair of ints ([3, 3] or 3), each in lo..hi, into v; fails naming
 * the key.  When the key is absent, v keeps the caller's default. */
static int int_pair(struct kb *b, const cJSON *cfg, const char *key, int lo, int hi, int v[2])
{
    const cJSON *j = field(cfg, key);
    char got[64];
    if (!j)
        return 0;
    if (json_int(j, lo, hi, &v[0]) == 0) {
        v[1] = v[0];
        return 0;
    }
    if (cJSON_GetArraySize(j) == 2 && json_int(cJSON_GetArrayItem(j, 0), lo, hi, &v[0]) == 0 &&
        json_int(cJSON_GetArrayItem(j, 1), lo, hi, &v[1]) == 0)
        return 0;
    json_text(j, got, sizeof got);
    kb_fail(b, "'%s' must be an integer or a pair of integers in %d..%d (got %s)", key, lo, hi,
            got);
    return -1;
}

/* cfg[key] as a finite number, dflt when the key is absent (Keras's own default: files of
 * older versions leave out keys added later, e.g. ReLU's threshold before Keras 2.2.3). */
static int num_key(struct kb *b, const cJSON *cfg, const char *key, double dflt, double *out)
{
    const cJSON *j = field(cfg, key);
    char got[64];
    *out = dflt;
    if (!j)
        return 0;
    if (cJSON_IsNumber(j) && isfinite(j->valuedouble)) {
        *out = j->valuedouble;
        return 0;
    }
    json_text(j, got, sizeof got);
    kb_fail(b, "'%s' must be a number (got %s)", key, got);
    return -1;
}

/* "relu", or Keras 3's serialised {"config": "relu"} / {"registered_name": ...}; alpha: the
 * parameter Keras's function has for it (elu 1, leaky_relu 0.2). */
static int parse_act(struct kb *b, const cJSON *j, enum dg_act *act, float *alpha)
{
    static const struct {
        const char *name;
        enum dg_act act;
        float alpha;
    } acts[] = {{"linear", DG_ACT_LINEAR, 0},     {"relu", DG_ACT_RELU, 0},
                {"sigmoid", DG_ACT_SIGMOID, 0},   {"tanh", DG_ACT_TANH, 0},
                {"softmax", DG_ACT_SOFTMAX, 0},   {"elu", DG_ACT_ELU, 1},
                {"selu", DG_ACT_SELU, 0},         {"gelu", DG_ACT_GELU, 0},
                {"swish", DG_ACT_SWISH, 0},       {"silu", DG_ACT_SWISH, 0},
                {"softplus", DG_ACT_SOFTPLUS, 0}, {"leaky_relu", DG_ACT_LEAKY, 0.2f}};
    const char *s = cJSON_IsString(j) ? j->valuestring : NULL;
    if (!j || cJSON_IsNull(j))
        s = "linear";
    if (cJSON_IsObject(j))
        s = str_field(j, "config", str_field(j, "registered_name", NULL));
    for (size_t i = 0; s && i < sizeof acts / sizeof *acts; i++)
        if (strcmp(s, acts[i].name) == 0) {
            *act = acts[i].act, *alpha = acts[i].alpha;
            return 0;
        }
    kb_fail(b, "activation '%s' is not supported (linear, relu, sigmoid, tanh, softmax, elu, "
               "selu, gelu, swish/silu, softplus, leaky_relu)", s ? s : "?");
    return -1;
}

static int check_channels_last(struct kb *b, const cJSON *cfg)
{
    if (strcmp(str_field(cfg, "data_format", "channels_last"), "channels_last") == 0)
        return 0;
    kb_fail(b, "data_format '%s' is not supported: only channels_last",
            str_field(cfg, "data_format", ""));
    return -1;
}

/* ---- ops and weights ----------------------------------------------------------------- */

static float *own(struct kb *b, float *p)
{
    if (!p || b->km->n_arrays >= b->cap_arrays) {
        free(p);
        kb_fail(b, "out of memory");
        return NULL;
    }
    return b->km->arrays[b->km->n_arrays++] = p;
}

static struct dg_op *new_op(struct kb *b, enum dg_op_kind kind)
{
    struct dg_model *m = &b->km->model;
    if (m->n_ops >= b->cap_ops) {
        kb_fail(b, "too many ops");
        return NULL;
    }
    struct dg_op *op = &b->km->ops[m->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->name = b->layer->name;
    op->in = op->out = b->cur;
    op->sh = op->sw = 1;
    b->fold_ok = 0;
    b->act_ok = 1;
    return op;
}

/* The weights a layer's config implies, in the order Keras creates them (layer.weights:
 * kernel, bias; gamma, beta, moving_mean, moving_variance), which is the order of the
 * weight_names attribute: Keras loads by position, so the converter does too. */
struct kb_want {
    const char *role;
    int rank;
    size_t dims[4];
    int absent; /* the config says this weight does not exist (use_bias, center, scale) */
    int skip;   /* stored but not needed for inference (Normalization's count): not read */
};

static size_t want_floats(const struct kb_want *w)
{
    size_t n = 1;
    for (int d = 0; d < w->rank; d++)
        n *= w->dims[d];
    return n;
}

static void shape_str(char *s, size_t len, int rank, const size_t *dims)
{
    int o = snprintf(s, len, "(");
    for (int d = 0; d < rank && o > 0 && (size_t)o < len; d++)
        o += snprintf(s + o, len - (size_t)o, d ? ", %zu" : "%zu", dims[d]);
    if (o > 0 && (size_t)o < len)
        snprintf(s + o, len - (size_t)o, ")");
}

/* "a/b" in fresh memory (names come from the file: no fixed-size buffer to truncate them). */
static char *join_path(struct kb *b, const char *a, const char *c)
{
    const size_t la = strlen(a), lc = strlen(c);
    char *p = la < SIZE_MAX / 2 && lc < SIZE_MAX / 2 ? malloc(la + lc + 2) : NULL;
    if (!p) {
        kb_fail(b, "out of memory");
        return NULL;
    }
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, c, lc + 1);
    return p;
}

/* The sanity check names allow: weight_names entry "conv/kernel_1:0" is "kernel" after
 * dropping the path, the ":0" and a "_1" uniquifier (TF 1.x graph names).  Refused only
 * when it names a different one of the layer's weights, which means the order is not the
 * one Keras would load it in; any other name (renamed variables) is Keras's business. */
static int name_contradicts(const char *wname, const struct kb_want *want, int n, int r)
{
    const char *base = strrchr(wname, '/');
    base = base ? base + 1 : wname;
    size_t len = strcspn(base, ":");
    size_t stem = len;
    while (stem > 0 && base[stem - 1] >= '0' && base[stem - 1] <= '9')
        stem--;
    if (stem > 0 && stem < len && base[stem - 1] == '_')
        len = stem - 1;
    for (int i = 0; i < n; i++)
        if (i != r && strlen(want[i].role) == len && strncmp(base, want[i].role, len) == 0)
            return 1;
    return 0;
}

/* A NaN or Inf weight (diverged training, a corrupt file) would be written into the header
 * as `nan` and make every prediction NaN: refuse it here, naming the weight. */
static int check_finite(struct kb *b, const char *wname, const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) {
            kb_fail(b, "weight '%s' has a non-finite value (%g at flat index %zu): the model is "
                       "broken (diverged training?); retrain or re-export it",
                    wname, (double)p[i], i);
            return -1;
        }
    return 0;
}

static int read_one(struct kb *b, const char *group, const char *wname,
                    const struct kb_want *w, float **out)
{
    char msg[512], got[96], exp[96];
    int rank, rc = -1;
    size_t dims[4];
    char *path = join_path(b, group, wname);
    if (!path)
        return -1;
    if (h5r_read_floats(b->file, path, &rank, dims, out, msg, sizeof msg)) {
        kb_fail(b, "%s", msg);
        goto out;
    }
    int same = rank == w->rank;
    for (int d = 0; same && d < rank; d++)
        same = dims[d] == w->dims[d];
    if (!same) {
        shape_str(got, sizeof got, rank, dims);
        shape_str(exp, sizeof exp, w->rank, w->dims);
        kb_fail(b, "weight '%s' (the %s) has shape %s but the config implies %s", wname,
                w->role, got, exp);
        free(*out);
        goto out;
    }
    if (!own(b, *out) || check_finite(b, wname, *out, want_floats(w)))
        goto out;
    b->layer->params += (long)want_floats(w);
    rc = 0;
out:
    free(path);
    return rc;
}

/* "kernel, bias" for a message: the weights the config implies, in order. */
static void roles_text(char *s, size_t len, const struct kb_want *want, int n)
{
    int o = 0;
    s[0] = 0;
    for (int r = 0; r < n && o >= 0 && (size_t)o < len; r++)
        if (!want[r].absent)
            o += snprintf(s + o, len - (size_t)o, "%s%s", o ? ", " : "", want[r].role);
}

/* The layer's weight group and the names of its weights in Keras's order, for the file's
 * layout (keras_build.h): weight_names, or Keras 3's vars/0, vars/1, ...  0 or -1. */
static int layer_weights(struct kb *b, char **group, char ***names, int *count)
{
    char msg[512];
    *names = NULL, *count = 0;
    *group = b->layout == KB_MODEL_WEIGHTS ? join_path(b, "model_weights", b->lname)
             : b->layout == KB_ROOT        ? join_path(b, "", b->lname)
                                           : join_path(b, "layers", b->lname);
    char *vars = *group && b->layout == KB_VARS ? join_path(b, *group, "vars") : NULL;
    if (vars)
        free(*group), *group = vars;
    if (!*group || (b->layout == KB_VARS && !vars))
        return -1;
    H5G_info_t info;
    if (H5Lexists(b->file, *group + (b->layout == KB_ROOT), H5P_DEFAULT) <= 0) {
        kb_fail(b, "its weights are missing (no group '%s')", *group);
    } else if (b->layout != KB_VARS) {
        if (h5r_attr_strings(b->file, *group, "weight_names", names, count, msg, sizeof msg) == 0)
            return 0;
        kb_fail(b, "%s", msg);
    } else if (H5Gget_info_by_name(b->file, *group, &info, H5P_DEFAULT) >= 0 &&
               info.nlinks <= 16 && (*names = calloc(info.nlinks + 1, sizeof **names))) {
        for (*count = 0; *count < (int)info.nlinks; (*count)++)
            if (!((*names)[*count] = malloc(12)))
                break;
            else
                snprintf((*names)[*count], 12, "%d", *count);
        if (*count == (int)info.nlinks)
            return 0;
        kb_fail(b, "out of memory");
    } else {
        kb_fail(b, "'%s' is not a group of at most 16 weights", *group);
    }
    h5r_free_strings(*names, *count);
    free(*group);
    *group = NULL, *names = NULL, *count = 0;
    return -1;
}

/* Reads the i-th stored weight into w[r] for the i-th present role r (w[r] = NULL for an
 * absent one), each checked against want[r]'s shape. */
static int read_weights(struct kb *b, const struct kb_want *want, int n, float **w)
{
    char roles[128], *group;
    char **names;
    int count, rc = 0, expected = 0;
    if (layer_weights(b, &group, &names, &count))
        return -1;
    for (int r = 0; r < n; r++) {
        w[r] = NULL;
        expected += !want[r].absent;
    }
    roles_text(roles, sizeof roles, want, n);
    if (count != expected) {
        kb_fail(b, "%d weights stored (%s), the config implies %d (%s)", count,
                b->layout == KB_VARS ? "vars" : "weight_names", expected, roles);
        rc = -1;
    }
    for (int i = 0, r = 0; i < count && rc == 0; i++, r++) {
        while (want[r].absent)
            r++;
        if (name_contradicts(names[i], want, n, r)) {
            kb_fail(b, "weight %d of weight_names is '%s' but Keras's order (%s) puts the %s "
                       "there", i, names[i], roles, want[r].role);
            rc = -1;
        } else if (!want[r].skip) {
            rc = read_one(b, group, names[i], &want[r], &w[r]);
        }
    }
    h5r_free_strings(names, count);
    free(group);
    return rc;
}

/* How many weights the layer stores, or -1. */
static int stored_weights(struct kb *b)
{
    char *group, **names;
    int count;
    if (layer_weights(b, &group, &names, &count))
        return -1;
    h5r_free_strings(names, count);
    free(group);
    return count;
}

/* ---- BatchNormalization placement ---------------------------------------------------- */

/* Emits the pending BatchNorm as a per-channel AFFINE op on the current activation. */
static int flush_affine(struct kb *b)
{
    if (!b->pa_s)
        return 0;
    const int c = b->cur.c;
    float *s = own(b, malloc((size_t)c * sizeof *s)), *t = s ? own(b, malloc((size_t)c * sizeof *t)) : NULL;
    if (!t)
        return -1;
    for (int i = 0; i < c; i++) { /* after a Flatten, element i is channel i % pa_c */
        s[i] = b->pa_s[i % b->pa_c];
        t[i] = b->pa_t[i % b->pa_c];
    }
    b->pa_s = b->pa_t = NULL;
    struct dg_op *op = new_op(b, DG_OP_AFFINE);
    if (!op)
        return -1;
    op->name = b->pa_name;
    op->weight = s;
    op->bias = t;
    return 0;
}

/* Folds the pending BatchNorm into the input side of a Conv2D/Dense whose every input is
 * a real pixel (valid padding): W'[..ci..] = W * s[ci], b' = b + sum W * t[ci]. */
static int fold_into_input(struct kb *b, struct dg_op *op, float *w)
{
    const size_t nout = (size_t)op->out.c, n = dg_op_weight_floats(op);
    float *bias = (float *)op->bias;
    if (!bias) {
        bias = own(b, calloc(nout, sizeof *bias));
        if (!bias)
            return -1;
        op->bias = bias;
    }
    double *acc = calloc(nout, sizeof *acc);
    if (!acc) {
        kb_fail(b, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const size_t ci = (i / nout) % (size_t)b->pa_c;
        acc[i % nout] += (double)w[i] * b->pa_t[ci];
        w[i] *= b->pa_s[ci];
    }
    for (size_t o = 0; o < nout; o++)
        bias[o] = (float)(bias[o] + acc[o]);
    free(acc);
    b->pa_s = b->pa_t = NULL;
    return 0;
}

/* ---- layers -------------------------------------------------------------------------- */

static int same_out(int in, int k, int s, const char *pad, int *pt)
{
    if (strcmp(pad, "same") == 0) {
        int out = (in + s - 1) / s, total = (out - 1) * s + k - in;
        *pt = total > 0 ? total / 2 : 0;
        return out;
    }
    *pt = 0;
    return in >= k ? (in - k) / s + 1 : 0;
}

/* Window, strides and padding of a Conv2D or pooling layer into op; 0 or -1.  Missing (or,
 * for pooling, null) strides take Keras's defaults: 1 for Conv2D, the pool size for
 * pooling. */
static int window(struct kb *b, const cJSON *cfg, struct dg_op *op, int is_pool)
{
    const char *ksize_key = is_pool ? "pool_size" : "kernel_size";
    const char *pad = str_field(cfg, "padding", "valid");
    int k[2] = {0, 0}, s[2] = {1, 1};
    if (!field(cfg, ksize_key)) {
        kb_fail(b, "'%s' is missing", ksize_key);
        return -1;
    }
    if (int_pair(b, cfg, ksize_key, 1, 64, k))
        return -1;
    if (is_pool)
        s[0] = k[0], s[1] = k[1];
    if (!(is_pool && cJSON_IsNull(field(cfg, "strides"))) &&
        int_pair(b, cfg, "strides", 1, 64, s))
        return -1;
    if (strcmp(pad, "same") && strcmp(pad, "valid")) {
        kb_fail(b, "padding '%s' is not supported: only 'valid' or 'same'", pad);
        return -1;
    }
    op->kh = k[0], op->kw = k[1], op->sh = s[0], op->sw = s[1];
    op->out.h = same_out(op->in.h, k[0], s[0], pad, &op->pt);
    op->out.w = same_out(op->in.w, k[1], s[1], pad, &op->pl);
    if (op->out.h < 1 || op->out.w < 1) {
        kb_fail(b, "the window %dx%d does not fit the %dx%d input", k[0], k[1], op->in.h,
                op->in.w);
        return -1;
    }
    return 0;
}

static int need_image(struct kb *b)
{
    if (!b->flat)
        return 0;
    kb_fail(b, "needs an image (h, w, c) input but gets a flat vector of %d", b->cur.c);
    return -1;
}

/* dilation_rate and groups: only Keras's defaults (1) are supported. */
static int conv_plain(struct kb *b, const cJSON *cfg)
{
    int dil[2] = {1, 1}, groups = 1;
    if (int_pair(b, cfg, "dilation_rate", 1, 64, dil) ||
        (field(cfg, "groups") && int_key(b, cfg, "groups", 1, 65536, &groups)))
        return -1;
    if (dil[0] == 1 && dil[1] == 1 && groups == 1)
        return 0;
    kb_fail(b, "dilation_rate (%d, %d) and groups %d are not supported: only 1", dil[0], dil[1],
            groups);
    return -1;
}

/* An int n (n, n) or a pair [a, b] of ints in 0..64 into v; 0 or -1. */
static int pad_pair(const cJSON *j, int v[2])
{
    if (json_int(j, 0, 64, &v[0]) == 0) {
        v[1] = v[0];
        return 0;
    }
    return cJSON_GetArraySize(j) == 2 && json_int(cJSON_GetArrayItem(j, 0), 0, 64, &v[0]) == 0 &&
                   json_int(cJSON_GetArrayItem(j, 1), 0, 64, &v[1]) == 0
               ? 0
               : -1;
}

/* ZeroPadding2D: padding 1, [1, 2] (rows, columns) or [[top, bottom], [left, right]].
 * Supported right before a Conv2D, which then pads by it too (convert_layer checks). */
static int layer_zeropad(struct kb *b, const cJSON *cfg)
{
    const cJSON *p = field(cfg, "padding");
    int v[4] = {1, 1, 1, 1}, ok = !p;
    if (p && json_int(p, 0, 64, &v[0]) == 0)
        ok = 1, v[1] = v[2] = v[3] = v[0];
    else if (p && cJSON_GetArraySize(p) == 2 && pad_pair(cJSON_GetArrayItem(p, 0), v) == 0 &&
             pad_pair(cJSON_GetArrayItem(p, 1), v + 2) == 0)
        ok = 1; /* [a, b] is read as [[a, a], [b, b]], as Keras does */
    if (!ok) {
        char got[64];
        json_text(p, got, sizeof got);
        kb_fail(b, "'padding' must be an integer, a pair or a pair of pairs in 0..64 (got %s)",
                got);
        return -1;
    }
    if (need_image(b) || check_channels_last(b, cfg) || flush_affine(b))
        return -1;
    memcpy(b->zp, v, sizeof v);
    b->zp_on = 1, b->zp_in = b->cur;
    b->cur.h += v[0] + v[1], b->cur.w += v[2] + v[3];
    return 0;
}

static int layer_conv(struct kb *b, const cJSON *cfg)
{
    int filters;
    enum dg_act act;
    float alpha;
    if (need_image(b) || check_channels_last(b, cfg) ||
        int_key(b, cfg, "filters", 1, 65536, &filters) || conv_plain(b, cfg) ||
        parse_act(b, field(cfg, "activation"), &act, &alpha))
        return -1;
    int valid = strcmp(str_field(cfg, "padding", "valid"), "valid") == 0 && !b->zp_on;
    if (!(b->pa_s && valid) && flush_affine(b))
        return -1;
    struct dg_op *op = new_op(b, DG_OP_CONV2D);
    if (!op || window(b, cfg, op, 0))
        return -1;
    if (b->zp_on) { /* the ZeroPadding2D before: its rows and columns join the conv's own */
        op->in = b->zp_in;
        op->pt += b->zp[0], op->pl += b->zp[2];
        b->zp_on = 0;
    }
    op->out.c = filters;
    struct kb_want want[2] = {
        {"kernel", 4, {(size_t)op->kh, (size_t)op->kw, (size_t)op->in.c, (size_t)filters}, 0, 0},
        {"bias", 1, {(size_t)filters}, !bool_field(cfg, "use_bias", 1), 0}};
    float *w[2];
    if (read_weights(b, want, 2, w))
        return -1;
    op->weight = w[0], op->bias = w[1], op->act = act, op->alpha = alpha;
    if (b->pa_s && fold_into_input(b, op, w[0]))
        return -1;
    b->cur = op->out;
    b->fold_ok = act == DG_ACT_LINEAR;
    return 0;
}

static int layer_dense(struct kb *b, const cJSON *cfg)
{
    int units;
    enum dg_act act;
    float alpha;
    if (!b->flat && (b->cur.h != 1 || b->cur.w != 1)) {
        kb_fail(b, "Dense on a %dx%dx%d image (no Flatten before it) is not supported",
                b->cur.h, b->cur.w, b->cur.c);
        return -1;
    }
    if (int_key(b, cfg, "units", 1, 1 << 20, &units) ||
        parse_act(b, field(cfg, "activation"), &act, &alpha))
        return -1;
    struct dg_op *op = new_op(b, DG_OP_DENSE);
    if (!op)
        return -1;
    op->out = (struct dg_shape){1, 1, units};
    struct kb_want want[2] = {{"kernel", 2, {(size_t)op->in.c, (size_t)units}, 0, 0},
                              {"bias", 1, {(size_t)units}, !bool_field(cfg, "use_bias", 1), 0}};
    float *w[2];
    if (read_weights(b, want, 2, w))
        return -1;
    op->weight = w[0], op->bias = w[1], op->act = act, op->alpha = alpha;
    if (b->pa_s && fold_into_input(b, op, w[0]))
        return -1;
    b->cur = op->out;
    b->flat = 1;
    b->fold_ok = act == DG_ACT_LINEAR;
    return 0;
}

static int layer_pool(struct kb *b, const cJSON *cfg, enum dg_op_kind kind)
{
    if (need_image(b) || check_channels_last(b, cfg) || flush_affine(b))
        return -1;
    struct dg_op *op = new_op(b, kind);
    if (!op || window(b, cfg, op, 1))
        return -1;
    op->out.c = op->in.c;
    b->cur = op->out;
    return 0;
}

/* Global pooling: {h, w, c} -> (None, c). A pending BatchNorm commutes with an average. */
static int layer_global(struct kb *b, const cJSON *cfg, int is_max)
{
    if (need_image(b) || check_channels_last(b, cfg) || (is_max && flush_affine(b)))
        return -1;
    struct dg_op *op = new_op(b, is_max ? DG_OP_MAXPOOL : DG_OP_GAP);
    if (!op)
        return -1;
    if (is_max)
        op->kh = op->sh = op->in.h, op->kw = op->sw = op->in.w;
    op->out = (struct dg_shape){1, 1, op->in.c};
    b->cur = op->out;
    b->flat = 1;
    return 0;
}

/* Flatten/Reshape: the data stays as it is (HWC row-major), only its shape changes.  When
 * the channel count changes, element i's channel (i % c) is no longer the one the last op
 * wrote it as, so a per-channel BatchNorm can no longer fold into that op's output channels
 * and a softmax over the new last axis is not the op's per-pixel softmax: fusion with the
 * last op ends here (a BatchNorm then becomes AFFINE or folds forward, a softmax an ACT). */
static void set_shape(struct kb *b, struct dg_shape s, int flat)
{
    if (s.c != b->cur.c)
        b->fold_ok = b->act_ok = 0;
    b->cur = s;
    b->flat = flat;
}

static int layer_flatten(struct kb *b, const cJSON *cfg)
{
    if (check_channels_last(b, cfg))
        return -1;
    set_shape(b, (struct dg_shape){1, 1, b->cur.h * b->cur.w * b->cur.c}, 1);
    return 0;
}

/* Reshape: 1 to 3 sizes, one of them may be -1 (inferred, as Keras does). */
static int layer_reshape(struct kb *b, const cJSON *cfg)
{
    const cJSON *t = field(cfg, "target_shape");
    const int n = cJSON_IsArray(t) ? cJSON_GetArraySize(t) : 0;
    const long total = (long)b->cur.h * b->cur.w * b->cur.c;
    int d[3] = {1, 1, 1}, infer = -1, ok = n >= 1 && n <= 3;
    long prod = 1; /* stays <= total: no overflow */
    for (int i = 0; ok && i < n; i++) {
        ok = json_int(cJSON_GetArrayItem(t, i), -1, 1 << 20, &d[i]) == 0 && d[i] != 0 &&
             !(d[i] == -1 && infer >= 0);
        if (ok && d[i] == -1)
            infer = i;
        else if (ok && (ok = d[i] <= total / prod))
            prod *= d[i];
    }
    if (ok && infer >= 0 && (ok = total % prod == 0))
        d[infer] = (int)(total / prod), prod = total;
    if (!ok || prod != total) {
        char got[64];
        json_text(t, got, sizeof got);
        kb_fail(b, "'target_shape' must list 1 to 3 sizes (positive, or one -1) with %ld "
                   "elements in all (got %s)", total, got);
        return -1;
    }
    if (flush_affine(b))
        return -1;
    set_shape(b, n == 1 ? (struct dg_shape){1, 1, d[0]} : (struct dg_shape){d[0], d[1], d[2]},
              n == 1);
    return 0;
}

/* Activation, ReLU, Softmax layers: merged into the op before when that one is linear.
 * An element-wise activation merges across a Flatten/Reshape (same values, same order); a
 * softmax only while the channel axis is still that op's (act_ok, see set_shape). */
static int add_act(struct kb *b, enum dg_act act, float alpha)
{
    if (flush_affine(b))
        return -1;
    struct dg_model *m = &b->km->model;
    if (act == DG_ACT_LINEAR)
        return 0;
    if (m->n_ops > 0 && b->km->ops[m->n_ops - 1].act == DG_ACT_LINEAR &&
        (act != DG_ACT_SOFTMAX || b->act_ok)) {
        b->km->ops[m->n_ops - 1].act = act;
        b->km->ops[m->n_ops - 1].alpha = alpha;
        b->fold_ok = 0;
        return 0;
    }
    struct dg_op *op = new_op(b, DG_OP_ACT);
    if (!op)
        return -1;
    op->act = act, op->alpha = alpha;
    return 0;
}

static int layer_activation(struct kb *b, const cJSON *cfg)
{
    enum dg_act act;
    float alpha;
    return parse_act(b, field(cfg, "activation"), &act, &alpha) ? -1 : add_act(b, act, alpha);
}

/* LeakyReLU: alpha (Keras 2) or negative_slope (Keras 3), default 0.3 in both; ELU: alpha. */
static int layer_leaky(struct kb *b, const cJSON *cfg)
{
    double a;
    const char *key = field(cfg, "negative_slope") ? "negative_slope" : "alpha";
    return num_key(b, cfg, key, 0.3, &a) ? -1 : add_act(b, DG_ACT_LEAKY, (float)a);
}

static int layer_elu(struct kb *b, const cJSON *cfg)
{
    double a;
    return num_key(b, cfg, "alpha", 1.0, &a) ? -1 : add_act(b, DG_ACT_ELU, (float)a);
}

/* A ReLU without a cap or threshold (a negative_slope makes it a LeakyReLU).  Keys a file
 * leaves out take Keras's defaults (threshold and negative_slope 0, max_value None): Keras
 * 2.2.0-2.2.2 wrote ReLU without a threshold. */
static int layer_relu(struct kb *b, const cJSON *cfg)
{
    const cJSON *mv = field(cfg, "max_value");
    double slope, threshold;
    if (num_key(b, cfg, "negative_slope", 0, &slope) ||
        num_key(b, cfg, "threshold", 0, &threshold))
        return -1;
    if ((mv && !cJSON_IsNull(mv)) || threshold != 0) {
        char got[64];
        json_text(mv, got, sizeof got);
        kb_fail(b, "only a plain ReLU is supported (max_value null, threshold 0; got max_value "
                   "%s, negative_slope %g, threshold %g)", mv ? got : "null", slope, threshold);
        return -1;
    }
    return add_act(b, slope != 0 ? DG_ACT_LEAKY : DG_ACT_RELU, (float)slope);
}

/* The layer's axis (default -1, or a one-element list) must be the last one. */
static int last_axis(struct kb *b, const cJSON *cfg, const char *what)
{
    const cJSON *a = field(cfg, "axis");
    const int last = b->flat ? 1 : 3;
    int axis = -1;
    if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 1)
        a = cJSON_GetArrayItem(a, 0);
    if (a && json_int(a, -last - 1, last, &axis)) {
        char got[64];
        json_text(field(cfg, "axis"), got, sizeof got);
        kb_fail(b, "'axis' must be an integer in %d..%d (got %s)", -last - 1, last, got);
        return -1;
    }
    if (axis == -1 || axis == last)
        return 0;
    kb_fail(b, "%s over axis %d is not supported: only the channel (last) axis", what, axis);
    return -1;
}

static int layer_softmax(struct kb *b, const cJSON *cfg)
{
    return last_axis(b, cfg, "softmax") ? -1 : add_act(b, DG_ACT_SOFTMAX, 0);
}

/* The normalisation as y = x * s + t per channel (in double, rounded once), composed with a
 * pending BatchNorm of the same channels; s and t are owned by b->km. */
static int bn_scale_shift(struct kb *b, const cJSON *cfg, float **s_out, float **t_out)
{
    const size_t c = (size_t)b->cur.c;
    double eps;
    if (num_key(b, cfg, "epsilon", 1e-3, &eps))
        return -1;
    struct kb_want want[4] = {{"gamma", 1, {c}, !bool_field(cfg, "scale", 1), 0},
                              {"beta", 1, {c}, !bool_field(cfg, "center", 1), 0},
                              {"moving_mean", 1, {c}, 0, 0},
                              {"moving_variance", 1, {c}, 0, 0}};
    float *w[4];
    if (read_weights(b, want, 4, w))
        return -1;
    float *s = own(b, malloc(c * sizeof *s)), *t = s ? own(b, malloc(c * sizeof *t)) : NULL;
    if (!t)
        return -1;
    for (size_t i = 0; i < c; i++) {
        if (!((double)w[3][i] + eps > 0)) { /* sqrt of it: NaN or a division by zero */
            kb_fail(b, "moving_variance[%zu] + epsilon = %g is not positive: the statistics "
                       "are broken; retrain or re-export the model", i, (double)w[3][i] + eps);
            return -1;
        }
        double sc = (w[0] ? w[0][i] : 1.0) / sqrt((double)w[3][i] + eps);
        double sh = (w[1] ? w[1][i] : 0.0) - (double)w[2][i] * sc;
        if (b->pa_s) /* two BatchNorms in a row compose: x*s1*s2 + t1*s2 + t2 */
            sh += b->pa_t[i] * sc, sc *= b->pa_s[i];
        s[i] = (float)sc, t[i] = (float)sh;
    }
    *s_out = s, *t_out = t;
    return check_finite(b, "(folded scale)", s, c) || check_finite(b, "(folded shift)", t, c);
}

/* Folds into the output side of the op before when exact, else stays pending (folded into
 * the input side of the next Conv2D/Dense, or emitted as AFFINE by flush_affine). */
static int layer_batchnorm(struct kb *b, const cJSON *cfg)
{
    float *s, *t;
    if (last_axis(b, cfg, "BatchNormalization") ||
        (b->pa_s && b->pa_c != b->cur.c && flush_affine(b)) || bn_scale_shift(b, cfg, &s, &t))
        return -1;
    const size_t c = (size_t)b->cur.c;
    struct dg_model *m = &b->km->model;
    if (b->fold_ok && b->km->ops[m->n_ops - 1].out.c == (int)c) {
        /* after a linear Conv2D/Dense whose output channels are cur's: scale them */
        struct dg_op *op = &b->km->ops[m->n_ops - 1];
        float *wt = (float *)op->weight, *bias = (float *)op->bias;
        if (!bias && !(bias = own(b, calloc(c, sizeof *bias))))
            return -1;
        for (size_t i = 0, n = dg_op_weight_floats(op); i < n; i++)
            wt[i] *= s[i % c];
        for (size_t o = 0; o < c; o++)
            bias[o] = bias[o] * s[o] + t[o];
        op->bias = bias;
        return 0;
    }
    b->pa_s = s, b->pa_t = t, b->pa_c = (int)c, b->pa_name = b->layer->name;
    return 0;
}

/* ---- input scale, Rescaling, Normalization: per-channel maps folded forward -------- */

/* Composes y = x * s[i] + t[i] (n = 1 value for every channel, or one per channel) after the
 * pending per-channel map, which the next Conv2D/Dense folds into its input side (else it
 * runs as an AFFINE op).  name: the op's name should it become one. */
static int pend_affine(struct kb *b, const double *s, const double *t, int n, const char *name)
{
    const int c = b->cur.c;
    if (b->pa_s && c % b->pa_c != 0 && flush_affine(b))
        return -1;
    float *ns = own(b, malloc((size_t)c * sizeof *ns));
    float *nt = ns ? own(b, malloc((size_t)c * sizeof *nt)) : NULL;
    if (!nt)
        return -1;
    for (int i = 0; i < c; i++) { /* element i of an HWC activation is channel i % c */
        const double ps = b->pa_s ? b->pa_s[i % b->pa_c] : 1, pt = b->pa_s ? b->pa_t[i % b->pa_c] : 0;
        ns[i] = (float)(ps * s[i % n]);
        nt[i] = (float)(pt * s[i % n] + t[i % n]);
    }
    if (!b->pa_s)
        b->pa_name = name;
    b->pa_s = ns, b->pa_t = nt, b->pa_c = c;
    return check_finite(b, "(folded scale)", ns, (size_t)c) ||
           check_finite(b, "(folded shift)", nt, (size_t)c);
}

/* cfg[key]: a number, or a list of one or c numbers, into v[0 .. c - 1] (one number is
 * every channel's); 0 when the key is absent or null (v untouched), -1 (failed) for anything
 * else. */
static int num_list(struct kb *b, const cJSON *cfg, const char *key, double *v)
{
    const cJSON *j = field(cfg, key), *e;
    const int c = b->cur.c, len = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : -1;
    int n = 0;
    if (!j || cJSON_IsNull(j))
        return 0;
    if (cJSON_IsNumber(j) && isfinite(j->valuedouble))
        v[n++] = j->valuedouble;
    else if (len == 1 || len == c)
        cJSON_ArrayForEach(e, j)
        {
            if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
                break;
            v[n++] = e->valuedouble;
        }
    if (n == 0 || (len > 0 && n != len)) {
        char got[64];
        json_text(j, got, sizeof got);
        kb_fail(b, "'%s' must be a number or a list of 1 or %d numbers (got %s)", key, c, got);
        return -1;
    }
    for (int i = n; i < c; i++)
        v[i] = v[0];
    return 0;
}

/* The input scale (dg_input_spec): --input-scale, else raw pixels when the model starts
 * with a Rescaling layer (a model that rescales its own input was trained on 0..255, the
 * way Keras's tutorials feed MNIST), else unit.  The identity is no op at all. */
static int input_scale(struct kb *b, const cJSON *layers)
{
    struct dg_keras_model *km = b->km;
    const cJSON *l = layers->child;
    if (l && strcmp(str_field(l, "class_name", ""), "InputLayer") == 0)
        l = l->next;
    km->input = (struct dg_input_spec){1, 0, 1};
    snprintf(km->input_from, sizeof km->input_from, "the default");
    if (b->opts->input) {
        km->input = *b->opts->input;
        snprintf(km->input_from, sizeof km->input_from, "--input-scale");
    } else if (l && strcmp(str_field(l, "class_name", ""), "Rescaling") == 0) {
        km->input.scale = 255;
        snprintf(km->input_from, sizeof km->input_from,
                 "the default for a model that begins with Rescaling");
    }
    dg_input_spec_text(&km->input, km->input_text, sizeof km->input_text);
    const struct dg_input_spec *in = &km->input;
    if (in->scale == 1 && in->mean == 0 && in->std == 1)
        return 0;
    const double s = in->scale / in->std, t = -in->mean / in->std;
    return pend_affine(b, &s, &t, 1, "input_scale");
}

/* Rescaling: y = x * scale + offset (Keras 2.6+ and 3; a number or one per channel). */
static int layer_rescaling(struct kb *b, const cJSON *cfg)
{
    const size_t c = (size_t)b->cur.c;
    double *s = malloc(c * sizeof *s), *t = malloc(c * sizeof *t);
    int rc = -1;
    if (!s || !t) {
        kb_fail(b, "out of memory");
    } else {
        for (size_t i = 0; i < c; i++)
            s[i] = 1, t[i] = 0;
        if (num_list(b, cfg, "scale", s) == 0 && num_list(b, cfg, "offset", t) == 0)
            rc = pend_affine(b, s, t, (int)c, b->layer->name);
    }
    free(s), free(t);
    return rc;
}

/* Normalization: y = (x - mean) / max(sqrt(variance), 1e-7) as Keras computes it (its
 * backend epsilon), or x * sqrt(variance) + mean with invert.  mean and variance come from
 * the config (passed to the constructor) or, after adapt(), from the stored weights mean,
 * variance and (Keras 2) count. */
static int layer_normalization(struct kb *b, const cJSON *cfg)
{
    const size_t c = (size_t)b->cur.c;
    const int from_config = field(cfg, "mean") && !cJSON_IsNull(field(cfg, "mean"));
    double *mean = calloc(c, sizeof *mean), *var = calloc(c, sizeof *var);
    float *w[3] = {NULL, NULL, NULL};
    int rc = -1;
    if (!mean || !var) {
        kb_fail(b, "out of memory");
        goto out;
    }
    if (last_axis(b, cfg, "Normalization"))
        goto out;
    if (from_config) {
        if (num_list(b, cfg, "mean", mean) || num_list(b, cfg, "variance", var))
            goto out;
    } else {
        struct kb_want want[3] = {{"mean", 1, {c}, 0, 0}, {"variance", 1, {c}, 0, 0},
                                  {"count", 0, {0}, stored_weights(b) != 3, 1}};
        if (read_weights(b, want, 3, w))
            goto out;
        for (size_t i = 0; i < c; i++)
            mean[i] = w[0][i], var[i] = w[1][i];
    }
    const int invert = bool_field(cfg, "invert", 0);
    for (size_t i = 0; i < c; i++) {
        const double sd = var[i] > 0 ? fmax(sqrt(var[i]), 1e-7) : 1e-7;
        mean[i] = invert ? mean[i] : -mean[i] / sd; /* the shift */
        var[i] = invert ? sd : 1 / sd;              /* the scale */
    }
    rc = pend_affine(b, var, mean, (int)c, b->layer->name);
out:
    free(mean), free(var);
    return rc;
}

/* ---- the layer list ------------------------------------------------------------------ */

static int layer_noop(struct kb *b, const cJSON *cfg)
{
    (void)b, (void)cfg;
    return 0;
}

static int layer_maxpool(struct kb *b, const cJSON *cfg)
{
    return layer_pool(b, cfg, DG_OP_MAXPOOL);
}

static int layer_avgpool(struct kb *b, const cJSON *cfg)
{
    return layer_pool(b, cfg, DG_OP_AVGPOOL);
}

static int layer_gap(struct kb *b, const cJSON *cfg)
{
    return layer_global(b, cfg, 0);
}

static int layer_gmp(struct kb *b, const cJSON *cfg)
{
    return layer_global(b, cfg, 1);
}

static const struct {
    const char *type;
    int (*convert)(struct kb *, const cJSON *);
} layer_types[] = {
    {"InputLayer", layer_noop},        {"Dropout", layer_noop},
    {"SpatialDropout2D", layer_noop},  {"GaussianNoise", layer_noop},
    {"GaussianDropout", layer_noop},   {"AlphaDropout", layer_noop},
    {"ActivityRegularization", layer_noop},
    /* the augmentation layers Keras's guides put inside the model: inactive at inference,
     * where each returns its input as it is */
    {"RandomFlip", layer_noop},        {"RandomRotation", layer_noop},
    {"RandomZoom", layer_noop},        {"RandomTranslation", layer_noop},
    {"RandomContrast", layer_noop},    {"RandomBrightness", layer_noop},
    {"Conv2D", layer_conv},            {"Convolution2D", layer_conv},
    {"MaxPooling2D", layer_maxpool},   {"MaxPool2D", layer_maxpool},
    {"AveragePooling2D", layer_avgpool}, {"AvgPool2D", layer_avgpool},
    {"GlobalAveragePooling2D", layer_gap}, {"GlobalAvgPool2D", layer_gap},
    {"GlobalMaxPooling2D", layer_gmp}, {"GlobalMaxPool2D", layer_gmp},
    {"Dense", layer_dense},            {"Flatten", layer_flatten},
    {"Reshape", layer_reshape},        {"Activation", layer_activation},
    {"ReLU", layer_relu},              {"Softmax", layer_softmax},
    {"BatchNormalization", layer_batchnorm},
    {"Rescaling", layer_rescaling},    {"Normalization", layer_normalization},
    {"LeakyReLU", layer_leaky},        {"ELU", layer_elu},
    {"ZeroPadding2D", layer_zeropad},
};

/* Whether layer type `type` is one whose conversion reads weights from the file. */
int kb_type_has_weights(const char *type)
{
    for (size_t i = 0; i < sizeof layer_types / sizeof layer_types[0]; i++)
        if (strcmp(type, layer_types[i].type) == 0)
            return layer_types[i].convert == layer_conv || layer_types[i].convert == layer_dense ||
                   layer_types[i].convert == layer_batchnorm ||
                   layer_types[i].convert == layer_normalization;
    return 0;
}

#define SUPPORTED                                                                          \
    "InputLayer, Conv2D, ZeroPadding2D, MaxPooling2D, AveragePooling2D, "                  \
    "GlobalAveragePooling2D, GlobalMaxPooling2D, Dense, Flatten, Reshape, Activation, "    \
    "ReLU, LeakyReLU, ELU, Softmax, "                                                      \
    "BatchNormalization, Rescaling, Normalization, Dropout, the Random* augmentation layers " \
    "and other inference no-ops"

/* The batch input shape, where the Keras versions put it: the InputLayer's batch_shape
 * (Keras 3) or batch_input_shape (tf.keras 2), the first layer's batch_input_shape (Keras
 * <= 2.2, no InputLayer), or for a Sequential model built later (model.build(), no
 * input_shape=) the model config's build_input_shape (Keras 2 and 3's legacy .h5) or a
 * build_config's input_shape (Keras 3's serialisation, on the model or its first layer). */
static const cJSON *batch_shape(const struct kb *b, const cJSON *first)
{
    const cJSON *cfg = field(first, "config");
    const cJSON *s = field(cfg, "batch_shape");
    s = s ? s : field(cfg, "batch_input_shape");
    s = s ? s : field(field(b->model, "config"), "build_input_shape");
    s = s ? s : field(field(b->model, "build_config"), "input_shape");
    s = s ? s : field(field(first, "build_config"), "input_shape");
    return cJSON_IsArray(s) ? s : NULL;
}

/* The model input; 28x28x1, 28x28 and 784 are the same pixels. */
static int input_shape(struct kb *b, const cJSON *first)
{
    const cJSON *s = batch_shape(b, first);
    if (!s) {
        kb_fail(b, "model_config gives no input shape (no batch_shape, batch_input_shape or "
                   "build_input_shape)");
        return -1;
    }
    const int n = cJSON_GetArraySize(s) - 1; /* axes after the batch axis */
    int d[3] = {0, 0, 0}, ok = n >= 1 && n <= 3;
    char text[128] = "(";
    for (int i = 0; i < n; i++) {
        const cJSON *j = cJSON_GetArrayItem(s, i + 1);
        char v[32];
        ok = i < 3 && json_int(j, 1, 1 << 20, &d[i < 3 ? i : 0]) == 0 && ok;
        json_text(j, v, sizeof v);
        size_t o = strlen(text);
        snprintf(text + o, sizeof text - o, "%s%s", i ? ", " : "", cJSON_IsNull(j) ? "None" : v);
    }
    snprintf(text + strlen(text), sizeof text - strlen(text), ")");
    if (ok && n == 1 && d[0] == 784) {
        b->cur = (struct dg_shape){1, 1, 784};
        b->flat = 1;
        return 0;
    }
    if (ok && (n == 2 || (n == 3 && d[2] == 1)) && d[0] == 28 && d[1] == 28) {
        b->cur = (struct dg_shape){28, 28, 1};
        return 0;
    }
    kb_fail(b, "input shape has %d axes %s: the model must take one 28x28 grey image "
               "(28x28x1, 28x28 or 784, channels_last)", n, text);
    return -1;
}

static int convert_layer(struct kb *b, const cJSON *l)
{
    const cJSON *cls = field(l, "class_name"), *cfg = field(l, "config");
    b->ltype = cJSON_IsString(cls) ? cls->valuestring : "?";
    const cJSON *name = field(cfg, "name");
    b->lname = cJSON_IsString(name) ? name->valuestring : "?";
    snprintf(b->layer->name, sizeof b->layer->name, "%s", b->lname);
    snprintf(b->layer->type, sizeof b->layer->type, "%s", b->ltype);
    kb_sanitize(b->layer->name), kb_sanitize(b->layer->type);
    if (b->zp_on && strcmp(b->ltype, "Conv2D") && strcmp(b->ltype, "Convolution2D")) {
        kb_fail(b, "follows a ZeroPadding2D: ZeroPadding2D is supported only right before a "
                   "Conv2D");
        return -1;
    }
    for (size_t i = 0; i < sizeof layer_types / sizeof layer_types[0]; i++)
        if (strcmp(b->ltype, layer_types[i].type) == 0)
            return layer_types[i].convert(b, cfg);
    kb_fail(b, "layer type '%s' is not supported; supported: " SUPPORTED, b->ltype);
    return -1;
}

static long shape_floats(struct dg_shape s)
{
    return (long)s.h * s.w * s.c;
}

/* The ops layer b->layer became (from first_op on) within the engine's bound: their outputs
 * and the zero-padded input of a convolution. */
static int check_sizes(struct kb *b, int first_op)
{
    for (int i = first_op; i < b->km->model.n_ops; i++) {
        const struct dg_op *op = &b->km->ops[i];
        const long out = shape_floats(op->out), pad = (long)dg_engine_op_pad_floats(op);
        if (out <= DG_MAX_ACT_FLOATS && pad <= DG_MAX_ACT_FLOATS)
            continue;
        char what[160];
        if (out >= pad)
            snprintf(what, sizeof what, "its output %dx%dx%d is %ld floats", op->out.h,
                     op->out.w, op->out.c, out);
        else
            snprintf(what, sizeof what, "its input %dx%dx%d zero-padded for its %dx%d window "
                     "is %ld floats", op->in.h, op->in.w, op->in.c, op->kh, op->kw, pad);
        kb_fail(b, "%s, more than the engine's bound of %ld floats per activation "
                   "(DG_MAX_ACT_FLOATS, model_ops.h); use fewer filters there", what,
                DG_MAX_ACT_FLOATS);
        return -1;
    }
    return 0;
}

/* Every weight was finite when read, but folding a BatchNorm multiplies them: an overflow
 * to Inf there must not reach the header either. */
static int check_ops_finite(struct kb *b)
{
    const struct dg_model *m = &b->km->model;
    for (int i = 0; i < m->n_ops; i++) {
        const struct dg_op *op = &b->km->ops[i];
        const size_t nw = dg_op_weight_floats(op), nb = dg_op_bias_floats(op);
        for (size_t k = 0; k < nw + nb; k++)
            if (!isfinite(k < nw ? op->weight[k] : op->bias[k - nw])) {
                kb_fail(b, "layer '%s': folding BatchNormalization into it overflows to a "
                           "non-finite weight; the model cannot be converted exactly", op->name);
                return -1;
            }
    }
    return 0;
}

/* After the last layer: place a trailing BatchNorm, check the output, size the buffers. */
static int finish(struct kb *b)
{
    struct dg_model *m = &b->km->model;
    if (flush_affine(b))
        return -1;
    b->lname = NULL;
    if (b->zp_on) {
        kb_fail(b, "the model ends in a ZeroPadding2D");
        return -1;
    }
    if (!b->flat && (b->cur.h != 1 || b->cur.w != 1)) {
        kb_fail(b, "the model outputs a %dx%dx%d image, not a vector of class scores",
                b->cur.h, b->cur.w, b->cur.c);
        return -1;
    }
    if (b->cur.c != 10 || m->n_ops == 0) {
        kb_fail(b, "the model outputs %d values: a digit classifier must output 10", b->cur.c);
        return -1;
    }
    if (check_ops_finite(b))
        return -1;
    m->n_out = 10;
    m->input = (struct dg_shape){28, 28, 1};
    m->max_act = 784;
    for (int i = 0; i < m->n_ops; i++) {
        long n = shape_floats(b->km->ops[i].out);
        m->max_act = n > m->max_act ? n : m->max_act;
    }
    for (int i = 0; i < b->km->n_layers; i++)
        m->params += b->km->layers[i].params;
    return 0;
}

/* Checked before anything else, so a channels_first model is refused as that (its (1, 28,
 * 28) input or its weight shapes would otherwise fail first with a less useful message). */
static int refuse_channels_first(struct kb *b, const cJSON *layers)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        const cJSON *cfg = field(l, "config");
        if (strcmp(str_field(cfg, "data_format", "channels_last"), "channels_first") != 0)
            continue;
        b->lname = str_field(cfg, "name", "?");
        b->ltype = str_field(l, "class_name", "?");
        kb_fail(b, "data_format 'channels_first' is not supported: only channels_last (the "
                   "Keras default); rebuild the model with data_format='channels_last'");
        return -1;
    }
    return 0;
}

/* Keras 1.x configs use other keys (nb_filter, output_dim, border_mode, ...) for the same
 * layers; refused as such instead of as "filters missing". */
static int refuse_keras1(struct kb *b, const cJSON *layers)
{
    static const char *keys[] = {"nb_filter", "nb_row", "output_dim", "border_mode",
                                 "subsample", "dim_ordering"};
    const char *v = b->km->keras_version;
    if (v && strncmp(v, "1.", 2) == 0) {
        kb_fail(b, "keras_version %s: Keras 1.x files are not supported; load the model in "
                   "Keras 2 or later and save it again with model.save(\"model.h5\")", v);
        return -1;
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        const cJSON *cfg = field(l, "config");
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            if (!field(cfg, keys[k]))
                continue;
            b->lname = str_field(cfg, "name", "?");
            b->ltype = str_field(l, "class_name", "?");
            kb_fail(b, "'%s' is a Keras 1.x config key: Keras 1.x files are not supported; "
                       "load the model in Keras 2 or later and save it again with "
                       "model.save(\"model.h5\")", keys[k]);
            return -1;
        }
    }
    return 0;
}

int kb_build(struct kb *b, const cJSON *layers)
{
    const int n = cJSON_GetArraySize(layers);
    struct dg_keras_model *km = b->km;
    b->cap_ops = 2 * n + 2;
    b->cap_arrays = 4 * n + 4;
    km->ops = calloc((size_t)b->cap_ops, sizeof *km->ops);
    km->arrays = calloc((size_t)b->cap_arrays, sizeof *km->arrays);
    km->layers = calloc((size_t)n, sizeof *km->layers);
    if (!km->ops || !km->arrays || !km->layers) {
        kb_fail(b, "out of memory");
        return -1;
    }
    if (refuse_keras1(b, layers) || refuse_channels_first(b, layers) ||
        input_shape(b, layers->child) || input_scale(b, layers))
        return -1;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        b->layer = &km->layers[km->n_layers++];
        const int first_op = km->model.n_ops;
        if (convert_layer(b, l) || check_sizes(b, first_op))
            return -1;
        b->layer->out = b->flat ? (struct dg_shape){0, 0, b->cur.c} : b->cur;
    }
    return finish(b);
}
