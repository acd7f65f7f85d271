/* engine.c: the compiled-in model's public entry points and the per-ISA dispatch.
 * The weights are defined here, once (DG_MODEL_DEFINE_WEIGHTS); the per-ISA builds of
 * engine_fast.c only declare them.  The ISA is checked on every call instead of being
 * cached in a global: __builtin_cpu_supports reads libgcc's CPU model, which is cheap. */
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

#ifdef DG_ENGINE_X86
int dg_engine_isa_supported(const char *isa)
{
    __builtin_cpu_init();
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f");
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return strcmp(isa, "generic") == 0;
}

/* The kernel set dg_engine_use_isa chose (a benchmark's, never the worker's): 0 none,
 * 1 avx512, 2 avx2, 3 generic. */
static int chosen;

int dg_engine_use_isa(const char *isa)
{
    if (!dg_engine_isa_supported(isa))
        return -1;
    chosen = strcmp(isa, "avx512") == 0 ? 1 : strcmp(isa, "avx2") == 0 ? 2 : 3;
    return 0;
}

const char *dg_engine_isa(void)
{
    __builtin_cpu_init();
    if (chosen)
        return chosen == 1 ? "avx512" : chosen == 2 ? "avx2" : "generic";
    if (__builtin_cpu_supports("avx512f"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "avx2";
    return "generic";
}

static void forward(const float *x, float *probs, float *features)
{
    if (chosen ? chosen == 1 : __builtin_cpu_supports("avx512f"))
        dg_engine_forward_avx512(x, probs, features);
    else if (chosen ? chosen == 2 : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        dg_engine_forward_avx2(x, probs, features);
    else
        dg_engine_forward_generic(x, probs, features);
}
#else /* not x86 (engine.cmake): the portable kernels are the only build */
int dg_engine_use_isa(const char *isa)
{
    return strcmp(isa, "generic") == 0 ? 0 : -1;
}

int dg_engine_isa_supported(const char *isa)
{
    return strcmp(isa, "generic") == 0;
}

const char *dg_engine_isa(void)
{
    return "generic";
}

static void forward(const float *x, float *probs, float *features)
{
    dg_engine_forward_generic(x, probs, features);
}
#endif

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
