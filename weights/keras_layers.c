/* keras_layers.c: each Keras layer type -> engine ops, with the weights it names.
 * Shapes are tracked the way Keras computes them, so a weight whose shape disagrees with the
 * config is caught here, at build time. */
#include "keras_build.h"

#include <math.h>
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

/* An int, or an n-tuple of ints ([3, 3] or 3); -1 if missing or malformed. */
static int int_pair(const cJSON *cfg, const char *k, int v[2])
{
    const cJSON *j = field(cfg, k);
    if (cJSON_IsNumber(j)) {
        v[0] = v[1] = j->valueint;
        return 0;
    }
    if (cJSON_GetArraySize(j) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(j, 0)) ||
        !cJSON_IsNumber(cJSON_GetArrayItem(j, 1)))
        return -1;
    v[0] = cJSON_GetArrayItem(j, 0)->valueint;
    v[1] = cJSON_GetArrayItem(j, 1)->valueint;
    return 0;
}

/* "relu", or Keras 3's serialised {"config": "relu"} / {"registered_name": ...}. */
static int parse_act(struct kb *b, const cJSON *j, enum dg_act *act)
{
    static const char *names[] = {"linear", "relu", "sigmoid", "tanh", "softmax"};
    const char *s = cJSON_IsString(j) ? j->valuestring : NULL;
    if (!j || cJSON_IsNull(j))
        s = "linear";
    if (cJSON_IsObject(j))
        s = str_field(j, "config", str_field(j, "registered_name", NULL));
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *act = (enum dg_act)i;
            return 0;
        }
    kb_fail(b, "activation '%s' is not supported (linear, relu, sigmoid, tanh, softmax)",
            s ? s : "?");
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

/* Reads the layer's weights named by its weight_names attribute into w[role] for each role
 * (e.g. "kernel", "bias"), each checked against rank/dims in want[role]. */
struct kb_want {
    const char *role;
    int rank;
    size_t dims[4];
    int optional_absent; /* the config says this weight does not exist */
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

static int role_of(const char *wname, const struct kb_want *want, int n)
{
    const char *base = strrchr(wname, '/');
    base = base ? base + 1 : wname;
    size_t len = strcspn(base, ":"); /* "kernel:0" -> "kernel" */
    for (int r = 0; r < n; r++)
        if (!want[r].optional_absent && strlen(want[r].role) == len &&
            strncmp(base, want[r].role, len) == 0)
            return r;
    return -1;
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
    char path[1024], msg[512], got[96], exp[96];
    int rank;
    size_t dims[4];
    snprintf(path, sizeof path, "%s/%s", group, wname);
    if (h5r_read_floats(b->file, path, &rank, dims, out, msg, sizeof msg)) {
        kb_fail(b, "%s", msg);
        return -1;
    }
    int same = rank == w->rank;
    for (int d = 0; same && d < rank; d++)
        same = dims[d] == w->dims[d];
    if (!same) {
        shape_str(got, sizeof got, rank, dims);
        shape_str(exp, sizeof exp, w->rank, w->dims);
        kb_fail(b, "weight '%s' has shape %s but the config implies %s", wname, got, exp);
        free(*out);
        return -1;
    }
    if (!own(b, *out))
        return -1;
    if (check_finite(b, wname, *out, want_floats(w)))
        return -1;
    b->layer->params += (long)want_floats(w);
    return 0;
}

static int read_weights(struct kb *b, const struct kb_want *want, int n, float **w)
{
    char group[256], msg[512];
    char **names;
    int count, rc = 0, expected = 0;
    snprintf(group, sizeof group, "model_weights/%s", b->lname);
    if (H5Lexists(b->file, "model_weights", H5P_DEFAULT) <= 0 ||
        H5Lexists(b->file, group, H5P_DEFAULT) <= 0) {
        kb_fail(b, "its weights are missing (no group '%s')", group);
        return -1;
    }
    if (h5r_attr_strings(b->file, group, "weight_names", &names, &count, msg, sizeof msg)) {
        kb_fail(b, "%s", msg);
        return -1;
    }
    for (int r = 0; r < n; r++) {
        w[r] = NULL;
        expected += !want[r].optional_absent;
    }
    for (int i = 0; i < count && rc == 0; i++) {
        int r = role_of(names[i], want, n);
        if (r < 0 || w[r]) {
            kb_fail(b, "unexpected or repeated weight '%s'", names[i]);
            rc = -1;
        } else {
            rc = read_one(b, group, names[i], &want[r], &w[r]);
        }
    }
    if (rc == 0 && count != expected) {
        kb_fail(b, "%d weights stored, the config implies %d", count, expected);
        rc = -1;
    }
    h5r_free_strings(names, count);
    return rc;
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

/* Window, strides and padding of a Conv2D or pooling layer into op; 0 or -1. */
static int window(struct kb *b, const cJSON *cfg, struct dg_op *op, const char *ksize_key)
{
    int k[2], s[2];
    const char *pad = str_field(cfg, "padding", "valid");
    if (int_pair(cfg, ksize_key, k) || k[0] < 1 || k[1] < 1 || k[0] > 64 || k[1] > 64) {
        kb_fail(b, "'%s' is missing or not in 1..64", ksize_key);
        return -1;
    }
    if (int_pair(cfg, "strides", s)) /* pooling: strides null = pool size */
        s[0] = k[0], s[1] = k[1];
    if (s[0] < 1 || s[1] < 1 || (strcmp(pad, "same") && strcmp(pad, "valid"))) {
        kb_fail(b, "strides must be >= 1 and padding 'valid' or 'same' (got '%s')", pad);
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

static int layer_conv(struct kb *b, const cJSON *cfg)
{
    int dil[2] = {1, 1}, filters = (int)cJSON_GetNumberValue(field(cfg, "filters"));
    enum dg_act act;
    if (need_image(b) || check_channels_last(b, cfg) || parse_act(b, field(cfg, "activation"), &act))
        return -1;
    if ((field(cfg, "dilation_rate") && int_pair(cfg, "dilation_rate", dil)) || dil[0] != 1 ||
        dil[1] != 1 || (field(cfg, "groups") && cJSON_GetNumberValue(field(cfg, "groups")) != 1) ||
        filters < 1 || filters > 65536) {
        kb_fail(b, "only filters in 1..65536, dilation_rate 1 and groups 1 are supported");
        return -1;
    }
    int valid = strcmp(str_field(cfg, "padding", "valid"), "valid") == 0;
    if (!(b->pa_s && valid) && flush_affine(b))
        return -1;
    struct dg_op *op = new_op(b, DG_OP_CONV2D);
    if (!op || window(b, cfg, op, "kernel_size"))
        return -1;
    op->out.c = filters;
    struct kb_want want[2] = {
        {"kernel", 4, {(size_t)op->kh, (size_t)op->kw, (size_t)op->in.c, (size_t)filters}, 0},
        {"bias", 1, {(size_t)filters}, !bool_field(cfg, "use_bias", 1)}};
    float *w[2];
    if (read_weights(b, want, 2, w))
        return -1;
    op->weight = w[0], op->bias = w[1], op->act = act;
    if (b->pa_s && fold_into_input(b, op, w[0]))
        return -1;
    b->cur = op->out;
    b->fold_ok = act == DG_ACT_LINEAR;
    return 0;
}

static int layer_dense(struct kb *b, const cJSON *cfg)
{
    int units = (int)cJSON_GetNumberValue(field(cfg, "units"));
    enum dg_act act;
    if (!b->flat && (b->cur.h != 1 || b->cur.w != 1)) {
        kb_fail(b, "Dense on a %dx%dx%d image (no Flatten before it) is not supported",
                b->cur.h, b->cur.w, b->cur.c);
        return -1;
    }
    if (units < 1 || units > (1 << 20) || parse_act(b, field(cfg, "activation"), &act)) {
        if (units < 1 || units > (1 << 20))
            kb_fail(b, "'units' is missing or not in 1..%d", 1 << 20);
        return -1;
    }
    struct dg_op *op = new_op(b, DG_OP_DENSE);
    if (!op)
        return -1;
    op->out = (struct dg_shape){1, 1, units};
    struct kb_want want[2] = {{"kernel", 2, {(size_t)op->in.c, (size_t)units}, 0},
                              {"bias", 1, {(size_t)units}, !bool_field(cfg, "use_bias", 1)}};
    float *w[2];
    if (read_weights(b, want, 2, w))
        return -1;
    op->weight = w[0], op->bias = w[1], op->act = act;
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
    if (!op || window(b, cfg, op, "pool_size"))
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

static int layer_reshape(struct kb *b, const cJSON *cfg)
{
    const cJSON *t = field(cfg, "target_shape");
    int n = cJSON_GetArraySize(t), d[3] = {1, 1, 1};
    long total = 1;
    for (int i = 0; i < n && i < 3; i++) {
        d[i] = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(t, i));
        total *= d[i] > 0 ? d[i] : 0;
    }
    if (n < 1 || n > 3 || total != (long)b->cur.h * b->cur.w * b->cur.c) {
        kb_fail(b, "target_shape must have 1 to 3 positive sizes with %d elements in all",
                b->cur.h * b->cur.w * b->cur.c);
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
static int add_act(struct kb *b, enum dg_act act)
{
    if (flush_affine(b))
        return -1;
    struct dg_model *m = &b->km->model;
    if (act == DG_ACT_LINEAR)
        return 0;
    if (m->n_ops > 0 && b->km->ops[m->n_ops - 1].act == DG_ACT_LINEAR &&
        (act != DG_ACT_SOFTMAX || b->act_ok)) {
        b->km->ops[m->n_ops - 1].act = act;
        b->fold_ok = 0;
        return 0;
    }
    struct dg_op *op = new_op(b, DG_OP_ACT);
    if (!op)
        return -1;
    op->act = act;
    return 0;
}

static int layer_activation(struct kb *b, const cJSON *cfg)
{
    enum dg_act act;
    return parse_act(b, field(cfg, "activation"), &act) ? -1 : add_act(b, act);
}

static int layer_relu(struct kb *b, const cJSON *cfg)
{
    const cJSON *mv = field(cfg, "max_value");
    if ((mv && !cJSON_IsNull(mv)) || cJSON_GetNumberValue(field(cfg, "negative_slope")) > 0 ||
        cJSON_GetNumberValue(field(cfg, "threshold")) != 0) {
        kb_fail(b, "only a plain ReLU is supported (no max_value, negative_slope, threshold)");
        return -1;
    }
    return add_act(b, DG_ACT_RELU);
}

static int last_axis(struct kb *b, const cJSON *cfg, const char *what)
{
    const cJSON *a = field(cfg, "axis");
    if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 1)
        a = cJSON_GetArrayItem(a, 0);
    int axis = a ? (int)cJSON_GetNumberValue(a) : -1;
    if (axis == -1 || axis == (b->flat ? 1 : 3))
        return 0;
    kb_fail(b, "%s over axis %d is not supported: only the channel (last) axis", what, axis);
    return -1;
}

static int layer_softmax(struct kb *b, const cJSON *cfg)
{
    return last_axis(b, cfg, "softmax") ? -1 : add_act(b, DG_ACT_SOFTMAX);
}

/* The normalisation as y = x * s + t per channel (in double, rounded once), composed with a
 * pending BatchNorm of the same channels; s and t are owned by b->km. */
static int bn_scale_shift(struct kb *b, const cJSON *cfg, float **s_out, float **t_out)
{
    const size_t c = (size_t)b->cur.c;
    const double eps = field(cfg, "epsilon") ? cJSON_GetNumberValue(field(cfg, "epsilon")) : 1e-3;
    struct kb_want want[4] = {{"gamma", 1, {c}, !bool_field(cfg, "scale", 1)},
                              {"beta", 1, {c}, !bool_field(cfg, "center", 1)},
                              {"moving_mean", 1, {c}, 0},
                              {"moving_variance", 1, {c}, 0}};
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
    {"Conv2D", layer_conv},            {"Convolution2D", layer_conv},
    {"MaxPooling2D", layer_maxpool},   {"MaxPool2D", layer_maxpool},
    {"AveragePooling2D", layer_avgpool}, {"AvgPool2D", layer_avgpool},
    {"GlobalAveragePooling2D", layer_gap}, {"GlobalAvgPool2D", layer_gap},
    {"GlobalMaxPooling2D", layer_gmp}, {"GlobalMaxPool2D", layer_gmp},
    {"Dense", layer_dense},            {"Flatten", layer_flatten},
    {"Reshape", layer_reshape},        {"Activation", layer_activation},
    {"ReLU", layer_relu},              {"Softmax", layer_softmax},
    {"BatchNormalization", layer_batchnorm},
};

#define SUPPORTED                                                                          \
    "InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, "         \
    "GlobalMaxPooling2D, Dense, Flatten, Reshape, Activation, ReLU, Softmax, "             \
    "BatchNormalization, Dropout and other inference no-ops"

/* The model input from the InputLayer (batch_shape / batch_input_shape) or, in Keras <= 2.2,
 * the first layer's batch_input_shape. 28x28x1, 28x28 and 784 are the same pixels. */
static int input_shape(struct kb *b, const cJSON *first_cfg)
{
    const cJSON *s = field(first_cfg, "batch_shape");
    if (!s)
        s = field(first_cfg, "batch_input_shape");
    int n = cJSON_GetArraySize(s), d[4] = {0, 0, 0, 0};
    for (int i = 1; i < n && i < 5; i++)
        d[i - 1] = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(s, i));
    if (!s) {
        kb_fail(b, "model_config gives no input shape (batch_shape / batch_input_shape)");
        return -1;
    }
    if (n == 2 && d[0] == 784) {
        b->cur = (struct dg_shape){1, 1, 784};
        b->flat = 1;
        return 0;
    }
    if ((n == 3 || (n == 4 && d[2] == 1)) && d[0] == 28 && d[1] == 28) {
        b->cur = (struct dg_shape){28, 28, 1};
        return 0;
    }
    kb_fail(b, "input shape has %d axes (%d, %d, %d): the model must take one 28x28 grey "
               "image (28x28x1, 28x28 or 784, channels_last)",
            n - 1, d[0], d[1], d[2]);
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
    if (refuse_channels_first(b, layers) || input_shape(b, field(layers->child, "config")))
        return -1;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        b->layer = &km->layers[km->n_layers++];
        if (convert_layer(b, l))
            return -1;
        b->layer->out = b->flat ? (struct dg_shape){0, 0, b->cur.c} : b->cur;
    }
    return finish(b);
}
