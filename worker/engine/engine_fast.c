/* engine_fast.c: the compiled-in model, unrolled op by op from the generated header's
 * DG_MODEL_OPS X-macro.  Each kernel receives &dg_model_ops[i], a static const, so every
 * dimension folds to a constant.  Compiled once per ISA (worker/engine/CMakeLists.txt sets
 * -DDG_ISA=name and the target flags); engine.c picks one at run time. */
#include <string.h>

#include "engine_isa.h"
#include "kernels_vec.h"
#include "model_weights.h"

#if !defined(DG_MODEL_ADD_SOFTMAX) || !defined(DG_MODEL_SCRATCH_FLOATS)
#error "model_weights.h comes from an older digitd-convert: regenerate it"
#endif

/* The scratch layout of model_ops.h; the converter sized DG_MODEL_SCRATCH_FLOATS by it. */
#define DG_STRIDE DG_ACT_STRIDE(DG_MODEL_MAX_ACT)
_Static_assert(DG_MODEL_SCRATCH_FLOATS == 2 * DG_STRIDE + DG_MODEL_PAD_FLOATS,
               "model_weights.h: scratch size and layout disagree");

#define DG_CAT2(a, b) a##b
#define DG_CAT(a, b) DG_CAT2(a, b)

void DG_CAT(dg_engine_forward_, DG_ISA)(const float *x, float *probs, float *features);

/* The op whose input is the model's features (engine.h): its first Dense, or none. A loop
 * over a static const array, folded at compile time. */
static inline int feature_op(void)
{
    for (int i = 0; i < DG_MODEL_N_OPS; i++)
        if (dg_model_ops[i].kind == DG_OP_DENSE)
            return i;
    return -1;
}

#define DG_OP_IN_FLOATS(i) \
    ((size_t)dg_model_ops[i].in.h * (size_t)dg_model_ops[i].in.w * (size_t)dg_model_ops[i].in.c)
#define DG_NEXT_OP(i) ((i) + 1 < DG_MODEL_N_OPS ? &dg_model_ops[(i) + 1] : NULL)

/* One X-macro step: ops already consumed by a fusion are skipped (folded at compile time). */
#define DG_RUN_OP(i, kind)                                                      \
    if ((i) >= done) {                                                          \
        if (features && (i) == feature_op())                                    \
            memcpy(features, in, DG_OP_IN_FLOATS(i) * sizeof *in);                \
        done = (i) + dg_step(&dg_model_ops[i], DG_NEXT_OP(i), in, out, pad);    \
        in = out;                                                               \
        out = out == buf0 ? buf1 : buf0;                                        \
    }

void DG_CAT(dg_engine_forward_, DG_ISA)(const float *x, float *probs, float *features)
{
    float *const buf0 = dg_engine_scratch, *const buf1 = dg_engine_scratch + DG_STRIDE;
    float *const pad = dg_engine_scratch + 2 * DG_STRIDE;
    const float *in = x;
    float *out = buf0;
    int done = 0;
    DG_MODEL_OPS(DG_RUN_OP)
    memcpy(probs, in, DG_MODEL_N_OUT * sizeof *probs);
    /* The engine reports probabilities: the converter decided whether the model's own
     * outputs need a softmax for that (DG_MODEL_ADD_SOFTMAX, see header_emit.c). */
#if DG_MODEL_ADD_SOFTMAX
    dg_softmax(probs, DG_MODEL_N_OUT);
#endif
}
