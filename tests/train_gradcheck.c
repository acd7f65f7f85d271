/* train_gradcheck.c: finite-difference checks of every layer's backward pass in
 * weights/train/nn.c, of the loss, and of the whole network's gradient (train_net.c, two
 * threads).
 *
 * Layers: each is wrapped as a scalar function L = sum(out * R) for a fixed random R, so
 * dL/dout = R; the analytic gradients of its inputs and parameters are compared with
 * central differences of the float32 layer (eps 1e-3, divided by the steps actually
 * taken after float rounding; L summed in double). Error measure per gradient:
 * ||analytic - numeric||_2 / max(||analytic||_2, ||numeric||_2) over the entries without
 * a ReLU/max-pool kink inside the step (see compare). Tolerance TOL = 5e-4. Measured on
 * an AVX-512 machine, both GEMM kernels: conv2d 4.0e-5 to 1.4e-4 and dense 2.5e-5 to
 * 1.1e-4 (the float32 rounding of the outputs a 1e-3 step moves), dropout 1.2e-5,
 * softmax+xent 3e-8, max-pool and ReLU 1e-13 (exactly linear away from kinks). Any real
 * mistake (wrong index, missing term, wrong scale) gives errors near 1; scaling one
 * vector of the GEMM block by 1.001 already fails (6e-4 to 8e-4).
 * The sizes are chosen so that every GEMM of a layer (forward, d/kernel, d/input) runs
 * both its register block and its scalar tail on each GEMM kernel: M and N above the
 * block and not multiples of it (AVX-512: 6 x 32, 8-float vectors: 4 x 16). The test
 * checks that for each kernel, and runs the GEMM layers once per kernel the CPU has
 * (nn_gemm_use), so a machine with AVX-512 checks the 8-float kernel too. Max-pool's
 * 8-channel vector path and its tail: 13 channels.
 *
 * The whole network: see check_net. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn.h"
#include "train_net.h"

#define TOL 5e-4  /* layers: norm-wise relative error */
#define KINK 4e-3 /* layers: one-sided differences further apart have a kink (compare) */
#define EPS 1e-3f

static uint64_t rng = 42;

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

/* Compares an analytic gradient with central differences, over the n entries sampled
 * (index k -> entry idx[k], or k itself when idx is NULL). lp[k], lm[k]: the loss with the
 * entry moved up by hp[k] and down by hm[k] (the steps actually taken, after rounding);
 * l0 unmoved.
 * An entry whose two one-sided differences disagree by more than kink * scale (scale:
 * max(|analytic|, the rms of the analytic gradient)) has a ReLU or max-pool kink inside
 * its step, where a central difference means nothing: it is left out and counted. The
 * forward pass alone decides that, so a wrong backward pass cannot hide behind it; a kink
 * that is not caught adds at most kink / 2 * scale to its entry. kink sits above the
 * rounding noise of a one-sided difference (float32 layers: ~5e-4 of scale at eps 1e-3).
 * With 50 output channels a 1e-3 step crosses a kink for ~10 % of conv2d's entries, so
 * the test fails if more than 20 % were left out, or if the norm-wise error of the rest
 * is above tol. */
struct fd {
    const char *what;
    size_t n;
    const size_t *idx;
    const double *lp, *lm, *hp, *hm;
    double l0, tol, kink;
};

static void compare(const struct fd *c, const float *analytic)
{
    double num2 = 0, ana2 = 0, diff2 = 0, maxabs = 0, all2 = 0;
    size_t kinks = 0;
    for (size_t k = 0; k < c->n; k++) {
        double a = analytic[c->idx ? c->idx[k] : k];
        all2 += a * a;
    }
    double rms = sqrt(all2 / (double)c->n);
    for (size_t k = 0; k < c->n; k++) {
        double a = analytic[c->idx ? c->idx[k] : k];
        double fwd = (c->lp[k] - c->l0) / c->hp[k], bwd = (c->l0 - c->lm[k]) / c->hm[k];
        if (fabs(fwd - bwd) > c->kink * fmax(fabs(a), rms)) {
            kinks++;
            continue;
        }
        double num = (c->lp[k] - c->lm[k]) / (c->hp[k] + c->hm[k]), d = num - a;
        num2 += num * num, ana2 += a * a, diff2 += d * d;
        maxabs = fmax(maxabs, fabs(d));
    }
    double denom = fmax(sqrt(num2), sqrt(ana2));
    double rel = denom > 0 ? sqrt(diff2) / denom : 0;
    int ok = rel <= c->tol && denom > 0 && kinks * 5 <= c->n;
    printf("%-28s n=%-5zu rel.err %.2e (tol %.0e)  max abs err %.2e  kinks %zu  |grad| %.3e  %s\n",
           c->what, c->n, rel, c->tol, maxabs, kinks, sqrt(all2), ok ? "ok" : "FAIL");
    CHECK(ok, "%s: rel.err %.2e (tol %.0e), %zu of %zu entries at a kink", c->what, rel, c->tol,
          kinks, c->n);
}

/* Central differences of the float32 function f over the n floats at x. */
static void check(const char *what, loss_fn f, void *ctx, float *x, const float *analytic,
                  size_t n, float eps)
{
    double *buf = malloc(4 * n * sizeof(double));
    if (!buf)
        abort();
    double *lp = buf, *lm = buf + n, *hp = buf + 2 * n, *hm = buf + 3 * n;
    double l0 = f(ctx);
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + eps;
        hp[i] = (double)x[i] - keep;
        lp[i] = f(ctx);
        x[i] = keep - eps;
        hm[i] = keep - (double)x[i];
        lm[i] = f(ctx);
        x[i] = keep;
    }
    struct fd c = {what, n, NULL, lp, lm, hp, hm, l0, TOL, KINK};
    compare(&c, analytic);
    free(buf);
}

/* Fails unless an M x N GEMM runs both the register block and the scalar tail of the
 * kernel nn_gemm uses now. */
static void expect_block_and_tail(const char *what, int M, int N)
{
    int rows, cols;
    nn_gemm_kernel_name(&rows, &cols);
    int ok = M > rows && M % rows != 0 && N > cols && N % cols != 0;
    CHECK(ok, "%s: GEMM %d x %d misses the %d x %d block or its tail", what, M, N, rows, cols);
}

/* ---- conv2d ---------------------------------------------------------------------- */
/* GEMMs: forward and d/input P x OC and P x 9C, d/kernel 9C x OC, with P = 5 * 5 = 25,
 * 9C = 63, OC = 50: see the file comment. */
enum { CB = 2, CH = 7, CW = 7, CC = 7, COC = 50 };
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
    const int P = (CH - 2) * (CW - 2), K = 9 * CC;
    expect_block_and_tail("conv2d forward GEMM", P, COC);
    expect_block_and_tail("conv2d d/kernel GEMM", K, COC);
    expect_block_and_tail("conv2d d/input GEMM", P, K);
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
/* odd height: the last row is dropped; 13 channels: one 8-channel vector and a tail */
enum { PB = 2, PH = 7, PW = 6, PC = 13 };
struct pool_ctx {
    float in[PB * PH * PW * PC];
    float out[PB * (PH / 2) * (PW / 2) * PC], r[PB * (PH / 2) * (PW / 2) * PC];
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
/* GEMMs: forward B x OUT, d/kernel IN x OUT, d/input B x IN: see the file comment */
enum { FB = 7, FIN = 53, FOUT = 50 };
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
    expect_block_and_tail("dense forward GEMM", FB, FOUT);
    expect_block_and_tail("dense d/kernel GEMM", FIN, FOUT);
    expect_block_and_tail("dense d/input GEMM", FB, FIN);
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

/* ---- the whole network, two threads, against a double-precision re-implementation ------
 * A finite difference of the float32 network cannot be tight: a parameter moves thousands
 * of ReLU and max-pool decisions at once, and at any eps float32 resolves some of them flip
 * inside +-eps (the float32 check this replaces needed rel.err <= 3e-2 and measured up to
 * 2e-2 at eps 2e-4). So the numeric gradient comes from an independent double-precision
 * forward pass written here (the same dropout masks, from tn_dropout_mask) with
 * h = 1e-6, where rounding is ~1e-10 and kinks inside +-h are rare (and left out, see
 * compare: NET_KINK). tn_forward_backward's analytic float32 gradient (a batch of 3 split
 * over 2 threads: every layer, dropout, the per-thread sums) must match it within
 * NET_TOL = 1e-5 norm-wise per tensor (measured: 7e-8 to 6.2e-7), and its loss must match
 * the reference's within NET_TOL (measured: 1.8e-8). */
#define NET_TOL 1e-5
#define NET_KINK 2e-5
#define NET_H 1e-6
enum { NB = 3, NET_KEY = 12345 };
static int drop_n[3]; /* floats per image of each dropout mask: tn_dropout_size */

struct ref {
    double x[NB][TN_PIXELS], *mask[3];
    uint8_t y[NB];
    double *base[3], *work[3]; /* outputs of stages 0..2 at the unperturbed parameters */
};

/* 3x3 valid conv + ReLU + 2x2 max-pool + dropout mask, one image, HWC / HWIO. */
static void ref_conv_block(double *out, const double *in, int H, int W, int C, int OC,
                           const double *k, const double *b, const double *mask)
{
    static double conv[26 * 26 * 32];
    int OH = H - 2, OW = W - 2, QH = OH / 2, QW = OW / 2;
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++)
            for (int o = 0; o < OC; o++) {
                double s = b[o];
                for (int dy = 0; dy < 3; dy++)
                    for (int dx = 0; dx < 3; dx++)
                        for (int c = 0; c < C; c++)
                            s += in[((y + dy) * W + x + dx) * C + c] *
                                 k[((dy * 3 + dx) * C + c) * OC + o];
                conv[(y * OW + x) * OC + o] = s > 0 ? s : 0;
            }
    for (int y = 0; y < QH; y++)
        for (int x = 0; x < QW; x++)
            for (int o = 0; o < OC; o++) {
                double m = conv[(2 * y * OW + 2 * x) * OC + o];
                for (int d = 1; d < 4; d++)
                    m = fmax(m, conv[((2 * y + d / 2) * OW + 2 * x + d % 2) * OC + o]);
                out[(y * QW + x) * OC + o] = m * mask[(y * QW + x) * OC + o];
            }
}

static void ref_dense(double *out, const double *in, int IN, int OUT, const double *w,
                      const double *b)
{
    for (int o = 0; o < OUT; o++) {
        double s = b[o];
        for (int i = 0; i < IN; i++)
            s += in[i] * w[i * OUT + o];
        out[o] = s;
    }
}

/* Stage s of image n: 0 conv2d block, 1 conv2d_1 block, 2 dense + ReLU + dropout,
 * 3 dense_1 + softmax cross-entropy (returns the loss). */
static double ref_stage(const struct ref *r, const double *P, int s, int n, const double *in,
                        double *out)
{
    const double *mask = s < 3 ? r->mask[s] + (size_t)n * drop_n[s] : NULL;
#define T(t) (P + tn_tensors[t].offset)
    switch (s) {
    case 0:
        ref_conv_block(out, in, 28, 28, 1, 32, T(TN_CONV1_W), T(TN_CONV1_B), mask);
        return 0;
    case 1:
        ref_conv_block(out, in, 13, 13, 32, 64, T(TN_CONV2_W), T(TN_CONV2_B), mask);
        return 0;
    case 2:
        ref_dense(out, in, TN_FLAT, TN_HIDDEN, T(TN_DENSE1_W), T(TN_DENSE1_B));
        for (int i = 0; i < TN_HIDDEN; i++)
            out[i] = (out[i] > 0 ? out[i] : 0) * mask[i];
        return 0;
    default: {
        double z[TN_CLASSES], m = -INFINITY, sum = 0;
        ref_dense(z, in, TN_HIDDEN, TN_CLASSES, T(TN_DENSE2_W), T(TN_DENSE2_B));
#undef T
        for (int c = 0; c < TN_CLASSES; c++)
            m = fmax(m, z[c]);
        for (int c = 0; c < TN_CLASSES; c++)
            sum += exp(z[c] - m);
        return m + log(sum) - z[r->y[n]];
    }
    }
}

/* The batch-mean loss at P, recomputing stages from..3 (earlier ones: r->base). */
static double ref_loss(struct ref *r, const double *P, int from, double *const out[3])
{
    double loss = 0;
    for (int n = 0; n < NB; n++) {
        for (int s = from; s < 3; s++) {
            const double *in = s == 0 ? r->x[n]
                               : s > from ? out[s - 1] + (size_t)n * drop_n[s - 1]
                                          : r->base[s - 1] + (size_t)n * drop_n[s - 1];
            ref_stage(r, P, s, n, in, out[s] + (size_t)n * drop_n[s]);
        }
        const double *in = from == 3 ? r->base[2] : out[2];
        loss += ref_stage(r, P, 3, n, in + (size_t)n * TN_HIDDEN, NULL);
    }
    return loss / NB;
}

static void check_net(void)
{
    static struct tn_net net;
    static struct ref r = {.y = {1, 7, 4}};
    float x[NB * TN_PIXELS];
    for (int s = 0; s < 3; s++)
        drop_n[s] = (int)tn_dropout_size(s);
    int init_failed = tn_init(&net, 4, 2, 99);
    CHECK(!init_failed, "tn_init failed");
    if (init_failed)
        return;
    for (int i = 0; i < NB * TN_PIXELS; i++) {
        x[i] = nn_uniform(&rng) < 0.3f ? nn_uniform(&rng) : 0.0f;
        r.x[i / TN_PIXELS][i % TN_PIXELS] = x[i];
    }
    for (int t = 0; t < TN_N_TENSORS; t++) /* nonzero biases: exercise them too */
        if (tn_tensors[t].rank == 1)
            fill(tn_tensor_ptr(net.params, t), tn_tensors[t].size, 0.05f);
    size_t np = tn_n_params();
    double *P = malloc(np * sizeof(double));
    float *m = malloc(drop_n[0] * sizeof(float));
    for (int s = 0; s < 3; s++) {
        r.mask[s] = malloc((size_t)NB * drop_n[s] * sizeof(double));
        r.base[s] = malloc((size_t)NB * drop_n[s] * sizeof(double));
        r.work[s] = malloc((size_t)NB * drop_n[s] * sizeof(double));
        if (!r.mask[s] || !r.base[s] || !r.work[s])
            abort();
    }
    if (!P || !m)
        abort();
    for (int s = 0; s < 3; s++)
        for (int n = 0; n < NB; n++) {
            tn_dropout_mask(&net, NET_KEY, s, n, m);
            for (int i = 0; i < drop_n[s]; i++)
                r.mask[s][(size_t)n * drop_n[s] + i] = m[i];
        }
    for (size_t i = 0; i < np; i++)
        P[i] = net.params[i];

    long ok = 0;
    double loss = tn_forward_backward(&net, x, r.y, NB, NET_KEY, &ok) / NB;
    double ref = ref_loss(&r, P, 0, r.base);
    double lrel = fabs(loss - ref) / fabs(ref);
    printf("net loss: float32 %.8f, double reference %.8f, rel.diff %.1e (tol %.0e)  %s\n", loss,
           ref, lrel, NET_TOL, lrel <= NET_TOL ? "ok" : "FAIL");
    CHECK(lrel <= NET_TOL, "net loss: rel.diff %.1e over %.0e", lrel, NET_TOL);

    enum { SAMPLES = 60 };
    double lp[SAMPLES], lm[SAMPLES], hp[SAMPLES], hm[SAMPLES];
    size_t idx[SAMPLES];
    for (int t = 0; t < TN_N_TENSORS; t++) {
        /* 60 random entries of each tensor (all of a small one) */
        size_t n = tn_tensors[t].size < SAMPLES ? tn_tensors[t].size : SAMPLES;
        double *p = P + tn_tensors[t].offset;
        int stage = t / 2; /* the stage a tensor enters: its layer */
        for (size_t k = 0; k < n; k++) {
            size_t i = n == tn_tensors[t].size ? k : dg_splitmix64_next(&rng) % tn_tensors[t].size;
            double keep = p[i];
            idx[k] = i;
            p[i] = keep + NET_H;
            hp[k] = p[i] - keep;
            lp[k] = ref_loss(&r, P, stage, r.work);
            p[i] = keep - NET_H;
            hm[k] = keep - p[i];
            lm[k] = ref_loss(&r, P, stage, r.work);
            p[i] = keep;
        }
        char what[64];
        snprintf(what, sizeof(what), "net %s %s", tn_tensors[t].layer, tn_tensors[t].name);
        struct fd c = {what, n, idx, lp, lm, hp, hm, ref, NET_TOL, NET_KINK};
        compare(&c, tn_tensor_ptr(net.grads, t));
    }
    for (int s = 0; s < 3; s++)
        free(r.mask[s]), free(r.base[s]), free(r.work[s]);
    free(P), free(m);
    tn_free(&net);
}

int main(void)
{
    /* the GEMM layers once per kernel this CPU can run, widest first */
    const enum nn_gemm_kernel kernels[] = {NN_GEMM_V16, NN_GEMM_V8};
    for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
        if (nn_gemm_use(kernels[k]))
            continue;
        printf("-- GEMM kernel %s\n", nn_gemm_kernel_name(NULL, NULL));
        check_conv();
        check_dense();
    }
    nn_gemm_use(NN_GEMM_AUTO);
    printf("-- GEMM kernel %s (the CPU's default) for the rest\n", nn_gemm_kernel_name(NULL, NULL));
    check_pool();
    check_elementwise();
    check_xent();
    check_net();
    printf("%s\n", failures ? "gradient check FAILED" : "all gradients agree");
    return failures ? 1 : 0;
}
