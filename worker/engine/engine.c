/* engine.c: the compiled-in model's public entry points and the per-ISA dispatch.
 * The weights are defined here, once (DG_MODEL_DEFINE_WEIGHTS); the per-ISA builds of
 * engine_fast.c only declare them.  The kernel set is asked for on every call
 * (dg_engine_set, engine_run.c), not cached here. */
#include <math.h>
#include <string.h>

#include "engine.h"
#include "engine_isa.h"

#define DG_MODEL_DEFINE_WEIGHTS
#include "model_weights.h"

#ifndef DG_MODEL_SCRATCH_FLOATS
#error "model_weights.h comes from an older digitd-convert: regenerate it"
#endif

_Thread_local float dg_engine_scratch[DG_MODEL_SCRATCH_FLOATS] __attribute__((aligned(64)));

const struct dg_model *dg_engine_model(void)
{
    return &dg_model_desc;
}

static void forward(const float *x, float *probs, float *features)
{
    switch (dg_engine_set()) {
#ifdef DG_ENGINE_AVX512
    case DG_SET_AVX512: dg_engine_forward_avx512(x, probs, features); break;
#endif
#ifdef DG_ENGINE_X86
    case DG_SET_AVX2: dg_engine_forward_avx2(x, probs, features); break;
#endif
    default: dg_engine_forward_generic(x, probs, features); break;
    }
}

void dg_engine_forward(const float *x, float *probs)
{
    forward(x, probs, NULL);
}

size_t dg_engine_features(void)
{
    for (int i = 0; i < DG_MODEL_N_OPS; i++)
        if (dg_model_ops[i].kind == DG_OP_DENSE)
            return (size_t)dg_model_ops[i].in.h * (size_t)dg_model_ops[i].in.w *
                   (size_t)dg_model_ops[i].in.c;
    return 0;
}

size_t dg_engine_forward_features(const float *x, float *probs, float *features, size_t room)
{
    size_t n = dg_engine_features();
    forward(x, probs, n <= room ? features : NULL);
    return n;
}

void dg_engine_forward_batch(const float *x, size_t n, float *probs)
{
    for (size_t i = 0; i < n; i++)
        dg_engine_forward(x + i * DG_INPUT_PIXELS, probs + i * DG_N_CLASSES);
}

int dg_engine_selftest(void)
{
    static float x[DG_INPUT_PIXELS]; /* zeroed: a vertical bar, as a drawn 1 */
    for (int r = 4; r < 24; r++)
        for (int c = 13; c < 16; c++)
            x[r * DG_INPUT_W + c] = 1.f;
    float p[DG_N_CLASSES];
    dg_engine_forward(x, p);
    double sum = 0;
    for (int i = 0; i < DG_N_CLASSES; i++) {
        if (!isfinite(p[i]) || p[i] < 0.f || p[i] > 1.f)
            return -1;
        sum += p[i];
    }
    return fabs(sum - 1.0) <= 1e-3 ? 0 : -1;
}
