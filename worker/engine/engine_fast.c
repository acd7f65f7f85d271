/* engine_fast.c: the compiled-in model, unrolled op by op from the generated header's
 * DG_MODEL_OPS X-macro.  Each kernel receives &dg_model_ops[i], a static const, so every
 * dimension folds to a constant.  Compiled once per ISA (engine.cmake sets -DDG_ISA=name
 * and the target flags); engine.c picks one at run time. */
#include <string.h>

#include "engine_isa.h"
#include "kernels_vec.h"
#include "model_weights.h"

#ifndef DG_MODEL_ADD_SOFTMAX
#error "model_weights.h comes from an older digitd-convert: regenerate it"
#endif

#define DG_CAT2(a, b) a##b
#define DG_CAT(a, b) DG_CAT2(a, b)

/* Padded-input buffer for 'same' convolutions; larger pads fall back to generic code. */
#define DG_PAD_FLOATS (2 * DG_MODEL_MAX_ACT + 4096)

void DG_CAT(dg_engine_forward_, DG_ISA)(const float *x, float *probs);

DG_INLINE int dg_vec_act(enum dg_act a)
{
    return a == DG_ACT_LINEAR || a == DG_ACT_RELU;
}

/* A 2x2 stride-2 max pool right after the conv whose every window lies inside the conv's
 * output: fuse it (dg_conv2d_pool_vec computes conv rows/columns 0 .. 2 * pool size - 1).
 * pt = pl = 0 is not enough: 'same' pooling of an odd size (7 -> 4) puts all its padding
 * after the last row/column, so its last window would read a conv row that does not exist;
 * exactly floor(n / 2) outputs on both axes means no padding at all. */
DG_INLINE int dg_fusable_pool(const struct dg_op *cv, const struct dg_op *pl)
{
    return pl && pl->kind == DG_OP_MAXPOOL && pl->kh == 2 && pl->kw == 2 && pl->sh == 2 &&
           pl->sw == 2 && pl->pt == 0 && pl->pl == 0 && pl->in.h == cv->out.h &&
           pl->in.w == cv->out.w && pl->out.h == cv->out.h / 2 && pl->out.w == cv->out.w / 2 &&
           pl->act == DG_ACT_LINEAR && dg_vec_act(cv->act);
}

/* Zero-pads in to the size the conv's windows cover, so the kernel needs no bounds tests. */
DG_INLINE const float *dg_pad_input(const struct dg_op *op, const float *in, float *pad,
                                    int *iw)
{
    const int ph = (op->out.h - 1) * op->sh + op->kh, pw = (op->out.w - 1) * op->sw + op->kw;
    const int c = op->in.c;
    *iw = op->in.w;
    if (op->pt == 0 && op->pl == 0 && ph <= op->in.h && pw <= op->in.w)
        return in;
    memset(pad, 0, (size_t)ph * pw * c * sizeof *pad);
    for (int y = 0; y < op->in.h; y++) {
        const int py = y + op->pt;
        if (py >= ph)
            break;
        int n = op->in.w;
        n = op->pl + n > pw ? pw - op->pl : n;
        memcpy(pad + ((size_t)py * pw + op->pl) * c, in + (size_t)y * op->in.w * c,
               (size_t)n * c * sizeof *pad);
    }
    *iw = pw;
    return pad;
}

/* Runs op (and the next one if fused); returns the number of ops consumed. */
DG_INLINE int dg_step(const struct dg_op *op, const struct dg_op *next, const float *in,
                      float *out, float *pad)
{
    if (op->kind == DG_OP_CONV2D && dg_vec_act(op->act)) {
        const int ph = (op->out.h - 1) * op->sh + op->kh;
        const int pw = (op->out.w - 1) * op->sw + op->kw;
        if ((long)ph * pw * op->in.c <= DG_PAD_FLOATS) {
            int iw;
            const float *src = dg_pad_input(op, in, pad, &iw);
            if (dg_fusable_pool(op, next)) {
                dg_conv2d_pool_vec(op, next, src, iw, out);
                return 2;
            }
            dg_conv2d_vec(op, src, iw, out);
            return 1;
        }
    }
    if (op->kind == DG_OP_DENSE) {
        dg_dense_vec(op, in, out);
        return 1;
    }
    dg_op_generic(op, in, out);
    return 1;
}

#define DG_NEXT_OP(i) ((i) + 1 < DG_MODEL_N_OPS ? &dg_model_ops[(i) + 1] : NULL)

/* One X-macro step: ops already consumed by a fusion are skipped (folded at compile time). */
#define DG_RUN_OP(i, kind)                                                      \
    if ((i) >= done) {                                                          \
        done = (i) + dg_step(&dg_model_ops[i], DG_NEXT_OP(i), in, out, pad);    \
        in = out;                                                               \
        out = out == buf[0] ? buf[1] : buf[0];                                  \
    }

void DG_CAT(dg_engine_forward_, DG_ISA)(const float *x, float *probs)
{
    float buf[2][DG_MODEL_MAX_ACT] __attribute__((aligned(64)));
    float pad[DG_PAD_FLOATS] __attribute__((aligned(64)));
    const float *in = x;
    float *out = buf[0];
    int done = 0;
    DG_MODEL_OPS(DG_RUN_OP)
    memcpy(probs, in, DG_MODEL_N_OUT * sizeof *probs);
    /* The engine reports probabilities: the converter decided whether the model's own
     * outputs need a softmax for that (DG_MODEL_ADD_SOFTMAX, see header_emit.c). */
#if DG_MODEL_ADD_SOFTMAX
    dg_softmax(probs, DG_MODEL_N_OUT);
#endif
}
