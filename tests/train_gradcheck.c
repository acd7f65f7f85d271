/* train_gradcheck.c: finite-difference checks of every layer's backward pass in
 * worker/nn.c, of the loss, and of the whole network's gradient (train_net.c, two
 * threads). Each layer is wrapped as a scalar function L = sum(out * R) for a fixed random
 * R, so dL/dout = R; the analytic gradients of its inputs and parameters are compared
 * with central differences (L summed in double).
 * Error measure per gradient: ||analytic - numeric||_2 / max(||analytic||_2, ||numeric||_2),
 * printed for each; the test fails above TOL (the whole-net part: see check_net). A rare ReLU/max-pool kink inside +-eps
 * perturbs a single element, which this norm-wise measure tolerates while any real
 * mistake (wrong index, missing term, wrong scale) gives errors near 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "train_net.h"

#define TOL 2e-3
#define EPS 1e-3f

static uint64_t rng = 42;
static int failures;

static void fill(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (2.0f * nn_uniform(&rng) - 1.0f) * scale;
}

static double dot(const float *a, const float *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * r[i];
    return s;
}

/* A layer as a function of its (perturbed) buffers: returns sum(out * R). */
typedef double (*loss_fn)(void *ctx);

/* Compares analytic with central differences of f over the n floats at x. */
static void check(const char *what, loss_fn f, void *ctx, float *x, const float *analytic,
                  size_t n, float eps)
{
    double num2 = 0, ana2 = 0, diff2 = 0, maxabs = 0;
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + eps;
        double lp = f(ctx);
        x[i] = keep - eps;
        double lm = f(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2.0 * (double)eps), d = num - analytic[i];
        num2 += num * num, ana2 += (double)analytic[i] * analytic[i], diff2 += d * d;
        if (fabs(d) > maxabs)
            maxabs = fabs(d);
    }
    double denom = fmax(sqrt(num2), sqrt(ana2));
    double rel = denom > 0 ? sqrt(diff2) / denom : 0;
    int ok = rel <= TOL && denom > 0;
    printf("%-28s n=%-6zu rel.err %.2e  max abs err %.2e  |grad| %.3e  %s\n", what, n, rel,
           maxabs, sqrt(ana2), ok ? "ok" : "FAIL");
    failures += !ok;
}

/* ---- conv2d ---------------------------------------------------------------------- */
enum { CB = 2, CH = 7, CW = 6, CC = 3, COC = 20 }; /* OC 20: a 16-wide block and a tail */
struct conv_ctx {
    float in[CB * CH * CW * CC], w[9 * CC * COC], b[COC];
    float out[CB * (CH - 2) * (CW - 2) * COC], r[CB * (CH - 2) * (CW - 2) * COC];
    float scratch[(CH - 2) * (CW - 2) * 9 * CC];
};

static double conv_loss(void *p)
{
    struct conv_ctx *c = p;
    nn_conv2d_forward(c->out, c->in, c->w, c->b, CB, CH, CW, CC, COC, c->scratch);
    return dot(c->out, c->r, sizeof(c->out) / sizeof(float));
}

static void check_conv(void)
{
    static struct conv_ctx c;
    float din[sizeof(c.in) / 4], dw[sizeof(c.w) / 4] = {0}, db[COC] = {0}, wt[sizeof(c.w) / 4];
    float dout[sizeof(c.out) / 4];
    fill(c.in, sizeof(c.in) / 4, 1), fill(c.w, sizeof(c.w) / 4, 0.5f), fill(c.b, COC, 0.2f);
    fill(c.r, sizeof(c.r) / 4, 1);
    conv_loss(&c);
    memcpy(dout, c.r, sizeof(dout));
    nn_transpose(wt, c.w, 9 * CC, COC);
    nn_conv2d_backward(din, dw, db, dout, c.out, c.in, wt, CB, CH, CW, CC, COC, c.scratch);
    check("conv2d+relu d/input", conv_loss, &c, c.in, din, sizeof(c.in) / 4, EPS);
    check("conv2d+relu d/kernel", conv_loss, &c, c.w, dw, sizeof(c.w) / 4, EPS);
    check("conv2d+relu d/bias", conv_loss, &c, c.b, db, COC, EPS);
}

/* ---- maxpool ----------------------------------------------------------------------- */
enum { PB = 2, PH = 7, PW = 6, PC = 5 }; /* odd height: the last row is dropped */
struct pool_ctx {
    float in[PB * PH * PW * PC], out[PB * (PH / 2) * (PW / 2) * PC], r[PB * (PH / 2) * (PW / 2) * PC];
    int32_t arg[PB * (PH / 2) * (PW / 2) * PC];
};

static double pool_loss(void *p)
{
    struct pool_ctx *c = p;
    nn_maxpool_forward(c->out, c->arg, c->in, PB, PH, PW, PC);
    return dot(c->out, c->r, sizeof(c->out) / 4);
}

static void check_pool(void)
{
    static struct pool_ctx c;
    float din[sizeof(c.in) / 4];
    fill(c.in, sizeof(c.in) / 4, 1), fill(c.r, sizeof(c.r) / 4, 1);
    pool_loss(&c);
    nn_maxpool_backward(din, c.r, c.arg, PB, PH, PW, PC);
    check("maxpool2x2 d/input", pool_loss, &c, c.in, din, sizeof(c.in) / 4, 1e-3f);
}

/* ---- dropout, relu -------------------------------------------------------------- */
enum { DN = 300 };
struct elt_ctx {
    float in[DN], out[DN], mask[DN], r[DN];
    int relu;
};

static double elt_loss(void *p)
{
    struct elt_ctx *c = p;
    if (c->relu) {
        memcpy(c->out, c->in, sizeof(c->in));
        nn_relu_forward(c->out, DN);
    } else {
        uint64_t s = 7; /* the same mask every call */
        nn_dropout_forward(c->out, c->mask, c->in, DN, 0.4f, &s);
    }
    return dot(c->out, c->r, DN);
}

static void check_elementwise(void)
{
    static struct elt_ctx c;
    float din[DN];
    fill(c.in, DN, 1), fill(c.r, DN, 1);
    c.relu = 0;
    elt_loss(&c);
    nn_dropout_backward(din, c.r, c.mask, DN);
    check("dropout(0.4) d/input", elt_loss, &c, c.in, din, DN, EPS);
    c.relu = 1;
    elt_loss(&c);
    memcpy(din, c.r, sizeof(din));
    nn_relu_backward(din, c.out, DN);
    check("relu d/input", elt_loss, &c, c.in, din, DN, 1e-3f);
}

/* ---- dense --------------------------------------------------------------------------- */
enum { FB = 5, FIN = 37, FOUT = 21 };
struct dense_ctx {
    float in[FB * FIN], w[FIN * FOUT], b[FOUT], out[FB * FOUT], r[FB * FOUT];
};

static double dense_loss(void *p)
{
    struct dense_ctx *c = p;
    nn_dense_forward(c->out, c->in, c->w, c->b, FB, FIN, FOUT);
    return dot(c->out, c->r, FB * FOUT);
}

static void check_dense(void)
{
    static struct dense_ctx c;
    float din[FB * FIN], dw[FIN * FOUT] = {0}, db[FOUT] = {0}, wt[FIN * FOUT];
    fill(c.in, FB * FIN, 1), fill(c.w, FIN * FOUT, 0.3f), fill(c.b, FOUT, 0.1f);
    fill(c.r, FB * FOUT, 1);
    nn_transpose(wt, c.w, FIN, FOUT);
    nn_dense_backward(din, dw, db, c.r, c.in, wt, FB, FIN, FOUT);
    check("dense d/input", dense_loss, &c, c.in, din, FB * FIN, EPS);
    check("dense d/kernel", dense_loss, &c, c.w, dw, FIN * FOUT, EPS);
    check("dense d/bias", dense_loss, &c, c.b, db, FOUT, EPS);
}

/* ---- softmax + cross-entropy ---------------------------------------------------------- */
enum { SB = 4, SC = 10 };
struct xent_ctx {
    float z[SB * SC], p[SB * SC];
    uint8_t y[SB];
};

static double xent_loss(void *p)
{
    struct xent_ctx *c = p;
    return nn_softmax_xent_forward(c->p, c->z, c->y, SB, SC);
}

static void check_xent(void)
{
    static struct xent_ctx c = {.y = {3, 0, 9, 3}};
    float dz[SB * SC];
    fill(c.z, SB * SC, 3);
    xent_loss(&c);
    nn_softmax_xent_backward(dz, c.p, c.y, SB, SC, 1.0f);
    check("softmax+xent d/logits", xent_loss, &c, c.z, dz, SB * SC, 1e-3f);
}

/* ---- the whole network, two threads ------------------------------------------------------
 * Here a parameter moves thousands of ReLU and max-pool decisions at once, so at any eps
 * that float32 resolves, a few of them flip inside +-eps and bend the numeric derivative
 * by about eps * 10 relative (measured: 3.5e-2 at eps 3e-3, 3.8e-3 at 1e-4, on the conv
 * biases), while the layer checks above are exact to ~1e-4. So this part uses a small eps
 * (2e-4) and checks the wiring (every layer, dropout masks, the per-thread gradient sum),
 * where a mistake makes nearly every entry disagree: >= 80 % of the sampled entries must
 * agree to 2e-3 + 2 % and the norm-wise error must be below 3e-2. */
struct net_ctx {
    struct tn_net net;
    float x[3 * TN_PIXELS];
    uint8_t y[3];
};

static double net_loss(void *p)
{
    struct net_ctx *c = p;
    long ok = 0;
    return tn_forward_backward(&c->net, c->x, c->y, 3, 12345, &ok) / 3.0;
}

static void check_net(void)
{
    static struct net_ctx c = {.y = {1, 7, 4}};
    if (tn_init(&c.net, 4, 2, 99)) {
        printf("tn_init failed\n");
        failures++;
        return;
    }
    for (int i = 0; i < 3 * TN_PIXELS; i++)
        c.x[i] = nn_uniform(&rng) < 0.3f ? nn_uniform(&rng) : 0.0f;
    for (int t = 0; t < TN_N_TENSORS; t++) /* nonzero biases: exercise them too */
        if (tn_tensors[t].rank == 1)
            fill(tn_tensor_ptr(c.net.params, t), tn_tensors[t].size, 0.05f);
    net_loss(&c);
    size_t np = tn_n_params();
    float *g = malloc(np * sizeof(float));
    if (!g)
        abort();
    memcpy(g, c.net.grads, np * sizeof(float));
    const float eps = 2e-4f;
    for (int t = 0; t < TN_N_TENSORS; t++) {
        /* 60 random entries of each tensor (all of a small one) */
        size_t n = tn_tensors[t].size < 60 ? tn_tensors[t].size : 60;
        double num2 = 0, ana2 = 0, diff2 = 0;
        size_t agree = 0;
        float *p = tn_tensor_ptr(c.net.params, t), *gt = g + tn_tensors[t].offset;
        for (size_t k = 0; k < n; k++) {
            size_t i = n == tn_tensors[t].size ? k : nn_splitmix64(&rng) % tn_tensors[t].size;
            float keep = p[i];
            p[i] = keep + eps;
            double lp = net_loss(&c);
            p[i] = keep - eps;
            double lm = net_loss(&c);
            p[i] = keep;
            double num = (lp - lm) / (2.0 * eps), d = num - gt[i];
            num2 += num * num, ana2 += (double)gt[i] * gt[i], diff2 += d * d;
            agree += fabs(d) <= 2e-3 + 2e-2 * fabs(gt[i]);
        }
        double rel = sqrt(diff2) / fmax(fmax(sqrt(num2), sqrt(ana2)), 1e-12);
        int ok = rel <= 3e-2 && agree * 5 >= n * 4 && ana2 > 0;
        printf("net %-8s %-9s n=%-3zu rel.err %.2e  agree %3zu/%-3zu |grad| %.3e  %s\n",
               tn_tensors[t].layer, tn_tensors[t].name, n, rel, agree, n, sqrt(ana2),
               ok ? "ok" : "FAIL");
        failures += !ok;
    }
    free(g);
    tn_free(&c.net);
}

int main(void)
{
    check_conv();
    check_pool();
    check_elementwise();
    check_dense();
    check_xent();
    check_net();
    printf("%s\n", failures ? "gradient check FAILED" : "all gradients agree");
    return failures ? 1 : 0;
}
