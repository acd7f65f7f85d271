/* kernels_generic.h: plain C kernels for the ops that are not matrix products (pooling,
 * global average, per-channel affine, activations, softmax); Conv2D and Dense are
 * kernels_vec.h's.
 *
 * They take the op descriptor by pointer; called from the runtime path (dg_engine_run) the
 * dimensions are read at run time, and inlined into the compiled-in path with a pointer to a
 * static const dg_op they constant-fold.
 * All activations are HWC (channels-last), exactly Keras's channels_last layout.
 */
#ifndef DIGITD_KERNELS_GENERIC_H
#define DIGITD_KERNELS_GENERIC_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "model_ops.h"

static inline float dg_act1(enum dg_act act, float alpha, float v)
{
    switch (act) {
    case DG_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case DG_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case DG_ACT_TANH: return tanhf(v);
    case DG_ACT_ELU: return v > 0.0f ? v : alpha * expm1f(v);
    case DG_ACT_SELU: return 1.05070098f * (v > 0.0f ? v : 1.67326324f * expm1f(v));
    case DG_ACT_GELU: return 0.5f * v * (1.0f + erff(v * 0.70710678f));
    case DG_ACT_SWISH: return v / (1.0f + expf(-v));
    case DG_ACT_SOFTPLUS: return fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))); /* no overflow */
    case DG_ACT_LEAKY: return v > 0.0f ? v : alpha * v;
    default: return v; /* linear; softmax is handled per pixel by dg_act_apply */
    }
}

/* Softmax over the c channels of one pixel; subtracting the max keeps expf finite. */
static inline void dg_softmax(float *y, int c)
{
    float m = y[0], s = 0.0f;
    for (int i = 1; i < c; i++)
        m = y[i] > m ? y[i] : m;
    for (int i = 0; i < c; i++) {
        y[i] = expf(y[i] - m);
        s += y[i];
    }
    for (int i = 0; i < c; i++)
        y[i] /= s;
}

/* y: pixels x c floats, activation applied in place (alpha: dg_op's). */
static inline void dg_act_apply(enum dg_act act, float alpha, float *y, long pixels, int c)
{
    if (act == DG_ACT_LINEAR)
        return;
    if (act == DG_ACT_SOFTMAX) {
        for (long p = 0; p < pixels; p++)
            dg_softmax(y + p * c, c);
        return;
    }
    for (long i = 0; i < pixels * c; i++)
        y[i] = dg_act1(act, alpha, y[i]);
}

/* MAXPOOL / AVGPOOL: cells outside the image are skipped ('same' pads with -inf for max;
 * for average Keras divides by the number of cells inside the image). */
static inline void dg_pool_generic(const struct dg_op *op, const float *in, float *out)
{
    const int ih = op->in.h, iw = op->in.w, c = op->in.c;
    const int is_max = op->kind == DG_OP_MAXPOOL;
    for (int oy = 0; oy < op->out.h; oy++)
        for (int ox = 0; ox < op->out.w; ox++) {
            float *y = out + ((size_t)oy * op->out.w + ox) * c;
            int n = 0;
            for (int ch = 0; ch < c; ch++)
                y[ch] = is_max ? -FLT_MAX : 0.0f;
            for (int ky = 0; ky < op->kh; ky++) {
                const int iy = oy * op->sh + ky - op->pt;
                if (iy < 0 || iy >= ih)
                    continue;
                for (int kx = 0; kx < op->kw; kx++) {
                    const int ix = ox * op->sw + kx - op->pl;
                    if (ix < 0 || ix >= iw)
                        continue;
                    const float *x = in + ((size_t)iy * iw + ix) * c;
                    n++;
                    for (int ch = 0; ch < c; ch++)
                        y[ch] = is_max ? (x[ch] > y[ch] ? x[ch] : y[ch]) : y[ch] + x[ch];
                }
            }
            if (!is_max && n > 0)
                for (int ch = 0; ch < c; ch++)
                    y[ch] /= (float)n;
        }
    dg_act_apply(op->act, op->alpha, out, (long)op->out.h * op->out.w, c);
}

/* GAP: {h, w, c} -> {1, 1, c}. */
static inline void dg_gap_generic(const struct dg_op *op, const float *in, float *out)
{
    const long pixels = (long)op->in.h * op->in.w;
    const int c = op->in.c;
    for (int ch = 0; ch < c; ch++)
        out[ch] = 0.0f;
    for (long p = 0; p < pixels; p++)
        for (int ch = 0; ch < c; ch++)
            out[ch] += in[p * c + ch];
    for (int ch = 0; ch < c; ch++)
        out[ch] /= (float)pixels;
    dg_act_apply(op->act, op->alpha, out, 1, c);
}

/* AFFINE (per channel) and ACT (activation only): shape unchanged. */
static inline void dg_affine_act_generic(const struct dg_op *op, const float *in, float *out)
{
    const long pixels = (long)op->in.h * op->in.w;
    const int c = op->in.c;
    for (long p = 0; p < pixels; p++)
        for (int ch = 0; ch < c; ch++) {
            float v = in[p * c + ch];
            if (op->kind == DG_OP_AFFINE)
                v = v * op->weight[ch] + (op->bias ? op->bias[ch] : 0.0f);
            out[p * c + ch] = v;
        }
    dg_act_apply(op->act, op->alpha, out, pixels, c);
}

/* Every op but CONV2D and DENSE, which are dg_step's (kernels_vec.h). */
static inline void dg_op_generic(const struct dg_op *op, const float *in, float *out)
{
    switch (op->kind) {
    case DG_OP_CONV2D:
    case DG_OP_DENSE: break;
    case DG_OP_MAXPOOL:
    case DG_OP_AVGPOOL: dg_pool_generic(op, in, out); break;
    case DG_OP_GAP: dg_gap_generic(op, in, out); break;
    case DG_OP_AFFINE:
    case DG_OP_ACT: dg_affine_act_generic(op, in, out); break;
    }
}

#endif
