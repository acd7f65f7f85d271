/* train_net.c: the seed network on top of weights/train/nn.c (see train_net.h). */
#include "train_net.h"

#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <string.h>

#include "nn.h"
#include "rank.h"

/* Activation sizes per image. */
#define C1 (26 * 26 * 32) /* conv2d out */
#define P1 (13 * 13 * 32) /* max_pooling2d out */
#define C2 (11 * 11 * 64) /* conv2d_1 out */

const struct tn_tensor tn_tensors[TN_N_TENSORS] = {
    {"conv2d", "kernel:0", 4, {3, 3, 1, 32}, 0, 288},
    {"conv2d", "bias:0", 1, {32}, 288, 32},
    {"conv2d_1", "kernel:0", 4, {3, 3, 32, 64}, 320, 18432},
    {"conv2d_1", "bias:0", 1, {64}, 18752, 64},
    {"dense", "kernel:0", 2, {TN_FLAT, TN_HIDDEN}, 18816, 102400},
    {"dense", "bias:0", 1, {TN_HIDDEN}, 121216, 64},
    {"dense_1", "kernel:0", 2, {TN_HIDDEN, TN_CLASSES}, 121280, 640},
    {"dense_1", "bias:0", 1, {TN_CLASSES}, 121920, 10},
};

size_t tn_n_params(void)
{
    return tn_tensors[TN_N_TENSORS - 1].offset + tn_tensors[TN_N_TENSORS - 1].size;
}

float *tn_tensor_ptr(float *buf, int t)
{
    return buf + tn_tensors[t].offset;
}

/* Transposed kernels for the backward passes (inside net->wt). */
#define WT_CONV2 0
#define WT_DENSE1 (WT_CONV2 + 18432)
#define WT_DENSE2 (WT_DENSE1 + 102400)
#define WT_TOTAL (WT_DENSE2 + 640)

/* One thread's activations and their gradients for a slice of up to cap images. */
struct tn_workspace {
    int cap;
    float *c1, *p1, *m1, *d1, *c2, *p2, *m2, *d2, *h, *m3, *d3, *z, *probs;
    int32_t *a1, *a2; /* max-pool winners */
    float *g_c1, *g_p1, *g_c2, *g_p2, *g_h, *g_z;
    float *scratch;
    float *block; /* the one allocation all the float pointers above point into */
};

static struct tn_workspace *ws_alloc(int cap)
{
    struct tn_workspace *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    size_t per_image = C1 + 3 * (size_t)P1 + C2 + 3 * (size_t)TN_FLAT + 3 * TN_HIDDEN +
                       2 * TN_CLASSES                                           /* forward */
                       + C1 + P1 + C2 + TN_FLAT + TN_HIDDEN + TN_CLASSES;       /* gradients */
    size_t scratch = nn_conv2d_scratch(13, 13, 32);
    size_t n1 = nn_conv2d_scratch(28, 28, 1);
    if (n1 > scratch)
        scratch = n1;
    size_t total = per_image * (size_t)cap + scratch;
    w->block = malloc(total * sizeof(float));
    w->a1 = malloc((size_t)cap * P1 * sizeof(int32_t));
    w->a2 = malloc((size_t)cap * TN_FLAT * sizeof(int32_t));
    if (!w->block || !w->a1 || !w->a2) {
        free(w->block), free(w->a1), free(w->a2), free(w);
        return NULL;
    }
    w->cap = cap;
    float *p = w->block;
#define TAKE(field, n) (w->field = p, p += (size_t)(n) * cap)
    TAKE(c1, C1), TAKE(p1, P1), TAKE(m1, P1), TAKE(d1, P1), TAKE(c2, C2);
    TAKE(p2, TN_FLAT), TAKE(m2, TN_FLAT), TAKE(d2, TN_FLAT);
    TAKE(h, TN_HIDDEN), TAKE(m3, TN_HIDDEN), TAKE(d3, TN_HIDDEN);
    TAKE(z, TN_CLASSES), TAKE(probs, TN_CLASSES);
    TAKE(g_c1, C1), TAKE(g_p1, P1), TAKE(g_c2, C2), TAKE(g_p2, TN_FLAT);
    TAKE(g_h, TN_HIDDEN), TAKE(g_z, TN_CLASSES);
#undef TAKE
    w->scratch = p;
    return w;
}

static void ws_free(struct tn_workspace *w)
{
    if (!w)
        return;
    free(w->block), free(w->a1), free(w->a2), free(w);
}

/* Glorot-uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); conv fans include 3x3. */
static void glorot(float *w, size_t n, double fan_in, double fan_out, uint64_t *rng)
{
    float limit = (float)sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = (2.0f * nn_uniform(rng) - 1.0f) * limit;
}

void tn_free(struct tn_net *net)
{
    if (net->ws)
        for (int t = 0; t < net->threads; t++)
            ws_free(net->ws[t]);
    if (net->tgrads)
        for (int t = 0; t < net->threads; t++)
            free(net->tgrads[t]);
    free(net->ws), free(net->tgrads), free(net->wt);
    free(net->params), free(net->grads), free(net->adam_m), free(net->adam_v);
    memset(net, 0, sizeof(*net));
}

int tn_init(struct tn_net *net, int max_batch, int threads, uint64_t seed)
{
    memset(net, 0, sizeof(*net));
    if (max_batch < 1 || threads < 1 || threads > 1024 || max_batch > (1 << 20))
        return -1;
    size_t np = tn_n_params();
    net->threads = threads;
    net->max_batch = max_batch;
    net->drop[0] = 0.25f, net->drop[1] = 0.25f, net->drop[2] = 0.5f;
    net->params = calloc(np, sizeof(float));
    net->grads = calloc(np, sizeof(float));
    net->adam_m = calloc(np, sizeof(float));
    net->adam_v = calloc(np, sizeof(float));
    net->wt = calloc(WT_TOTAL, sizeof(float));
    net->tgrads = calloc((size_t)threads, sizeof(float *));
    net->ws = calloc((size_t)threads, sizeof(*net->ws));
    if (!net->params || !net->grads || !net->adam_m || !net->adam_v || !net->wt || !net->tgrads ||
        !net->ws)
        goto fail;
    int slice = (max_batch + threads - 1) / threads;
    for (int t = 0; t < threads; t++) {
        net->tgrads[t] = calloc(np, sizeof(float));
        net->ws[t] = ws_alloc(slice);
        if (!net->tgrads[t] || !net->ws[t])
            goto fail;
    }
    uint64_t rng = seed;
    glorot(tn_tensor_ptr(net->params, TN_CONV1_W), 288, 9.0 * 1, 9.0 * 32, &rng);
    glorot(tn_tensor_ptr(net->params, TN_CONV2_W), 18432, 9.0 * 32, 9.0 * 64, &rng);
    glorot(tn_tensor_ptr(net->params, TN_DENSE1_W), 102400, TN_FLAT, TN_HIDDEN, &rng);
    glorot(tn_tensor_ptr(net->params, TN_DENSE2_W), 640, TN_HIDDEN, TN_CLASSES, &rng);
    return 0;
fail:
    tn_free(net);
    return -1;
}

/* Dropout is on when the key is nonzero; forcing the low bit keeps key 0 usable. */
static uint64_t training_key(uint64_t key)
{
    return key | 1;
}

/* Inverted dropout of one image at one layer. Its stream depends only on (key, layer,
 * image), not on how the batch is split across threads. */
static void drop_image(const struct tn_net *net, uint64_t key, int layer, int image, float *out,
                       float *mask, const float *in, size_t n)
{
    uint64_t s = key ^ ((uint64_t)image * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)layer << 56);
    dg_splitmix64_next(&s);
    nn_dropout_forward(out, mask, in, n, net->drop[layer], &s);
}

static const size_t drop_size[3] = {P1, TN_FLAT, TN_HIDDEN};

size_t tn_dropout_size(int layer)
{
    return layer >= 0 && layer < 3 ? drop_size[layer] : 0;
}

void tn_dropout_mask(const struct tn_net *net, uint64_t dropout_key, int layer, int image,
                     float *mask)
{
    float ones[P1], out[P1];
    if (layer < 0 || layer >= 3)
        return;
    for (size_t i = 0; i < drop_size[layer]; i++)
        ones[i] = 1.0f;
    drop_image(net, training_key(dropout_key), layer, image, out, mask, ones, drop_size[layer]);
}

int tn_threads_running(int requested, const char **why)
{
#ifdef _OPENMP
    int got = 1;
#pragma omp parallel num_threads(requested)
#pragma omp single
    got = omp_get_num_threads();
    *why = "OpenMP gives fewer: see OMP_THREAD_LIMIT and OMP_DYNAMIC";
    return got;
#else
    (void)requested; /* the slices of a step run one after the other */
    *why = "built without OpenMP";
    return 1;
#endif
}

/* Forward over images [lo, lo + n) of the batch; with key != 0 (training) dropout is on. */
static void forward_slice(struct tn_net *net, struct tn_workspace *w, const float *x, int n,
                          int training, uint64_t key, int lo)
{
    float *P = net->params;
    nn_conv2d_forward(w->c1, x, tn_tensor_ptr(P, TN_CONV1_W), tn_tensor_ptr(P, TN_CONV1_B), n, 28,
                      28, 1, 32, w->scratch);
    nn_maxpool_forward(w->p1, w->a1, w->c1, n, 26, 26, 32);
    const float *d1 = w->p1, *d2 = w->p2, *d3 = w->h;
    if (training) {
        for (int i = 0; i < n; i++)
            drop_image(net, key, 0, lo + i, w->d1 + (size_t)i * P1, w->m1 + (size_t)i * P1,
                       w->p1 + (size_t)i * P1, P1);
        d1 = w->d1;
    }
    nn_conv2d_forward(w->c2, d1, tn_tensor_ptr(P, TN_CONV2_W), tn_tensor_ptr(P, TN_CONV2_B), n, 13,
                      13, 32, 64, w->scratch);
    nn_maxpool_forward(w->p2, w->a2, w->c2, n, 11, 11, 64);
    if (training) {
        for (int i = 0; i < n; i++)
            drop_image(net, key, 1, lo + i, w->d2 + (size_t)i * TN_FLAT,
                       w->m2 + (size_t)i * TN_FLAT, w->p2 + (size_t)i * TN_FLAT, TN_FLAT);
        d2 = w->d2;
    }
    nn_dense_forward(w->h, d2, tn_tensor_ptr(P, TN_DENSE1_W), tn_tensor_ptr(P, TN_DENSE1_B), n,
                     TN_FLAT, TN_HIDDEN);
    nn_relu_forward(w->h, (size_t)n * TN_HIDDEN);
    if (training) {
        for (int i = 0; i < n; i++)
            drop_image(net, key, 2, lo + i, w->d3 + (size_t)i * TN_HIDDEN,
                       w->m3 + (size_t)i * TN_HIDDEN, w->h + (size_t)i * TN_HIDDEN, TN_HIDDEN);
        d3 = w->d3;
    }
    nn_dense_forward(w->z, d3, tn_tensor_ptr(P, TN_DENSE2_W), tn_tensor_ptr(P, TN_DENSE2_B), n,
                     TN_HIDDEN, TN_CLASSES);
}

/* Backward over the slice (after a training forward_slice), gradients into g. */
static void backward_slice(struct tn_net *net, struct tn_workspace *w, const float *x,
                           const uint8_t *labels, int n, float scale, float *g)
{
    nn_softmax_xent_backward(w->g_z, w->probs, labels, n, TN_CLASSES, scale);
    nn_dense_backward(w->g_h, tn_tensor_ptr(g, TN_DENSE2_W), tn_tensor_ptr(g, TN_DENSE2_B), w->g_z,
                      w->d3, net->wt + WT_DENSE2, n, TN_HIDDEN, TN_CLASSES);
    nn_dropout_backward(w->g_h, w->g_h, w->m3, (size_t)n * TN_HIDDEN);
    nn_relu_backward(w->g_h, w->h, (size_t)n * TN_HIDDEN);
    nn_dense_backward(w->g_p2, tn_tensor_ptr(g, TN_DENSE1_W), tn_tensor_ptr(g, TN_DENSE1_B),
                      w->g_h, w->d2, net->wt + WT_DENSE1, n, TN_FLAT, TN_HIDDEN);
    nn_dropout_backward(w->g_p2, w->g_p2, w->m2, (size_t)n * TN_FLAT);
    nn_maxpool_backward(w->g_c2, w->g_p2, w->a2, n, 11, 11, 64);
    nn_conv2d_backward(w->g_p1, tn_tensor_ptr(g, TN_CONV2_W), tn_tensor_ptr(g, TN_CONV2_B),
                       w->g_c2, w->c2, w->d1, net->wt + WT_CONV2, n, 13, 13, 32, 64, w->scratch);
    nn_dropout_backward(w->g_p1, w->g_p1, w->m1, (size_t)n * P1);
    nn_maxpool_backward(w->g_c1, w->g_p1, w->a1, n, 26, 26, 32);
    nn_conv2d_backward(NULL, tn_tensor_ptr(g, TN_CONV1_W), tn_tensor_ptr(g, TN_CONV1_B), w->g_c1,
                       w->c1, x, NULL, n, 28, 28, 1, 32, w->scratch);
}

static long count_correct(const float *probs, const uint8_t *labels, int n)
{
    long ok = 0;
    for (int i = 0; i < n; i++) {
        ok += dg_argmax(probs + (size_t)i * TN_CLASSES, TN_CLASSES) == labels[i];
    }
    return ok;
}

double tn_forward_backward(struct tn_net *net, const float *x, const uint8_t *labels, int n,
                           uint64_t dropout_key, long *correct)
{
    int T = net->threads;
    double loss[T];
    long ok[T];
    float *P = net->params;
    nn_transpose(net->wt + WT_CONV2, tn_tensor_ptr(P, TN_CONV2_W), 288, 64);
    nn_transpose(net->wt + WT_DENSE1, tn_tensor_ptr(P, TN_DENSE1_W), TN_FLAT, TN_HIDDEN);
    nn_transpose(net->wt + WT_DENSE2, tn_tensor_ptr(P, TN_DENSE2_W), TN_HIDDEN, TN_CLASSES);
    size_t np = tn_n_params();
    dropout_key = training_key(dropout_key);
#pragma omp parallel for num_threads(T) schedule(static, 1)
    for (int t = 0; t < T; t++) {
        int lo = (int)((long)n * t / T), hi = (int)((long)n * (t + 1) / T);
        struct tn_workspace *w = net->ws[t];
        memset(net->tgrads[t], 0, np * sizeof(float));
        loss[t] = 0.0, ok[t] = 0;
        if (hi <= lo)
            continue;
        const float *xs = x + (size_t)lo * TN_PIXELS;
        forward_slice(net, w, xs, hi - lo, 1, dropout_key, lo);
        loss[t] = nn_softmax_xent_forward(w->probs, w->z, labels + lo, hi - lo, TN_CLASSES);
        ok[t] = count_correct(w->probs, labels + lo, hi - lo);
        backward_slice(net, w, xs, labels + lo, hi - lo, 1.0f / (float)n, net->tgrads[t]);
    }
    float *G = net->grads;
    float *const *tg = net->tgrads;
#pragma omp parallel for num_threads(T) schedule(static)
    for (size_t i = 0; i < np; i++) {
        float s = tg[0][i];
        for (int t = 1; t < T; t++) /* fixed order: deterministic for a thread count */
            s += tg[t][i];
        G[i] = s;
    }
    double total = 0.0;
    for (int t = 0; t < T; t++)
        total += loss[t], *correct += ok[t];
    return total;
}

/* The fraction of the run done at step s of epoch (0..1); kept in this form, which the
 * shipped model was trained with, so that its run stays reproducible bit for bit. */
static double progress_at(const struct tn_training *t, int epoch, long s)
{
    return ((double)epoch + (double)s / (double)t->steps_per_epoch) / t->epochs;
}

double tn_lr_at(const struct tn_training *t, int epoch, long s)
{
    double progress = progress_at(t, epoch, s);
    switch (t->schedule) {
    case TN_LR_COSINE: return t->lr * 0.5 * (1.0 + cos(M_PI * progress));
    case TN_LR_STEP: return t->lr * (progress < 0.5 ? 1.0 : progress < 0.75 ? 0.1 : 0.01);
    default: return t->lr;
    }
}

/* The step schedule's boundaries are read off tn_lr_at itself, step by step, so that the
 * .h5 states exactly the rates the run used (rounding included). */
void tn_training_init(struct tn_training *t, double lr, enum tn_lr_schedule schedule, int epochs,
                      long steps_per_epoch)
{
    *t = (struct tn_training){.lr = lr, .schedule = schedule, .epochs = epochs,
                              .steps_per_epoch = steps_per_epoch,
                              .steps = steps_per_epoch * epochs};
    for (long g = 0; schedule == TN_LR_STEP && g < t->steps; g++) {
        double r = tn_lr_at(t, (int)(g / steps_per_epoch), g % steps_per_epoch);
        if (r >= lr) /* exact: the rate is lr times 1, 0.1 or 0.01 */
            t->boundaries[0] = g;
        if (r >= lr * 0.1)
            t->boundaries[1] = g;
    }
}

void tn_adam_step(struct tn_net *net, float lr, float beta1, float beta2, float eps)
{
    net->adam_t++;
    double t = (double)net->adam_t;
    float lr_t = (float)(lr * sqrt(1.0 - pow(beta2, t)) / (1.0 - pow(beta1, t)));
    size_t np = tn_n_params();
    float *p = net->params, *g = net->grads, *m = net->adam_m, *v = net->adam_v;
#pragma omp parallel for num_threads(net->threads) schedule(static)
    for (size_t i = 0; i < np; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}

double tn_predict(struct tn_net *net, const float *x, const uint8_t *labels, size_t n,
                  float *probs, long *correct)
{
    int T = net->threads;
    double total = 0.0;
    for (size_t b0 = 0; b0 < n; b0 += (size_t)net->max_batch) {
        int nb = n - b0 < (size_t)net->max_batch ? (int)(n - b0) : net->max_batch;
        double loss[T];
        long ok[T];
#pragma omp parallel for num_threads(T) schedule(static, 1)
        for (int t = 0; t < T; t++) {
            int lo = (int)((long)nb * t / T), hi = (int)((long)nb * (t + 1) / T);
            struct tn_workspace *w = net->ws[t];
            loss[t] = 0.0, ok[t] = 0;
            if (hi <= lo)
                continue;
            forward_slice(net, w, x + (b0 + (size_t)lo) * TN_PIXELS, hi - lo, 0, 0, 0);
            float *pr = probs ? probs + (b0 + (size_t)lo) * TN_CLASSES : w->probs;
            if (labels) {
                loss[t] = nn_softmax_xent_forward(pr, w->z, labels + b0 + lo, hi - lo, TN_CLASSES);
                ok[t] = count_correct(pr, labels + b0 + lo, hi - lo);
            } else {
                nn_softmax_forward(pr, w->z, hi - lo, TN_CLASSES);
            }
        }
        for (int t = 0; t < T; t++) {
            total += loss[t];
            if (correct)
                *correct += ok[t];
        }
    }
    return total;
}
