/* engine_ref.h: a straightforward reference for the engine tests, written from Keras's
 * definitions independently of worker/kernels_*.h: double accumulation, naive loops. */
#ifndef DIGITD_TEST_ENGINE_REF_H
#define DIGITD_TEST_ENGINE_REF_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_ops.h"

static double ref_act(enum dg_act a, double alpha, double v)
{
    if (a == DG_ACT_RELU)
        return v > 0 ? v : 0;
    if (a == DG_ACT_ELU || a == DG_ACT_SELU) { /* Keras's selu constants */
        double e = v > 0 ? v : (a == DG_ACT_ELU ? alpha : 1.6732632423543772) * (exp(v) - 1);
        return a == DG_ACT_SELU ? 1.0507009873554805 * e : e;
    }
    if (a == DG_ACT_GELU)
        return 0.5 * v * (1 + erf(v / sqrt(2.0)));
    if (a == DG_ACT_SWISH)
        return v / (1 + exp(-v));
    if (a == DG_ACT_SOFTPLUS)
        return log(1 + exp(v));
    if (a == DG_ACT_LEAKY)
        return v > 0 ? v : alpha * v;
    if (a == DG_ACT_SIGMOID)
        return 1 / (1 + exp(-v));
    if (a == DG_ACT_TANH)
        return tanh(v);
    return v;
}

/* Window cell (oy*s + k - pad) of an op, or -1 when outside the input. */
static int ref_cell(int o, int s, int k, int pad, int n)
{
    int i = o * s + k - pad;
    return i >= 0 && i < n ? i : -1;
}

static double ref_value(const struct dg_op *op, const float *in, int oy, int ox, int oc)
{
    const struct dg_shape I = op->in;
    double acc = 0, best = -INFINITY;
    int cells = 0;
    if (op->kind == DG_OP_DENSE) {
        for (long i = 0; i < (long)I.h * I.w * I.c; i++)
            acc += (double)in[i] * op->weight[i * op->out.c + oc];
        return acc + (op->bias ? op->bias[oc] : 0);
    }
    if (op->kind == DG_OP_GAP) {
        for (int p = 0; p < I.h * I.w; p++)
            acc += in[p * I.c + oc];
        return acc / (I.h * I.w);
    }
    if (op->kind == DG_OP_AFFINE || op->kind == DG_OP_ACT) {
        double v = in[(oy * I.w + ox) * I.c + oc];
        return op->kind == DG_OP_ACT ? v : v * op->weight[oc] + (op->bias ? op->bias[oc] : 0);
    }
    for (int ky = 0; ky < op->kh; ky++)
        for (int kx = 0; kx < op->kw; kx++) {
            int iy = ref_cell(oy, op->sh, ky, op->pt, I.h), ix = ref_cell(ox, op->sw, kx, op->pl, I.w);
            if (iy < 0 || ix < 0)
                continue;
            const float *x = in + (iy * I.w + ix) * I.c;
            cells++;
            if (op->kind == DG_OP_CONV2D) {
                for (int ic = 0; ic < I.c; ic++)
                    acc += (double)x[ic] *
                           op->weight[((ky * op->kw + kx) * I.c + ic) * op->out.c + oc];
            } else if (op->kind == DG_OP_MAXPOOL) {
                best = x[oc] > best ? x[oc] : best;
            } else {
                acc += x[oc];
            }
        }
    if (op->kind == DG_OP_CONV2D)
        return acc + (op->bias ? op->bias[oc] : 0);
    return op->kind == DG_OP_MAXPOOL ? best : acc / cells;
}

/* One op, naive; softmax over the channels of each pixel. */
static void ref_op(const struct dg_op *op, const float *in, float *out)
{
    const struct dg_shape O = op->out;
    for (int oy = 0; oy < O.h; oy++)
        for (int ox = 0; ox < O.w; ox++) {
            float *y = out + (oy * O.w + ox) * O.c;
            double v[4096], m = -INFINITY, s = 0;
            for (int oc = 0; oc < O.c; oc++) {
                v[oc] = ref_act(op->act, op->alpha, ref_value(op, in, oy, ox, oc));
                m = v[oc] > m ? v[oc] : m;
            }
            if (op->act == DG_ACT_SOFTMAX) {
                for (int oc = 0; oc < O.c; oc++)
                    s += (v[oc] = exp(v[oc] - m));
                for (int oc = 0; oc < O.c; oc++)
                    v[oc] /= s;
            }
            for (int oc = 0; oc < O.c; oc++)
                y[oc] = (float)v[oc];
        }
}

/* Whole model; returns the model's outputs (no softmax added). 0 on success. */
static int ref_model(const struct dg_model *m, const float *x, float *y)
{
    size_t big = (size_t)m->max_act;
    float *a = malloc(big * sizeof *a), *b = malloc(big * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    memcpy(a, x, (size_t)m->input.h * m->input.w * m->input.c * sizeof *a);
    for (int i = 0; i < m->n_ops; i++) {
        float *t;
        ref_op(&m->ops[i], a, b);
        t = a, a = b, b = t;
    }
    memcpy(y, a, (size_t)m->n_out * sizeof *y);
    free(a);
    free(b);
    return 0;
}

#endif
