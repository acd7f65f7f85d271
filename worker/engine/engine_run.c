/* engine_run.c: the runtime path, any struct dg_model with dimensions read at run time.
 * Used by tests and for models built in memory (digitd-convert's loader); the compiled-in
 * model goes through engine.c instead.  The same kernels as the compiled-in path (dg_step),
 * built once per ISA (engine_run_isa.c) and picked here as engine.c picks its own;
 * activations ping-pong between two buffers of the caller's scratch, laid out as model_ops.h
 * says, so nothing is allocated here. */
#include <string.h>

#include "engine.h"
#include "engine_isa.h"

void dg_engine_run_generic(const struct dg_model *m, const float *x, float *y, float *scratch,
                           size_t stride);
#ifdef DG_ENGINE_AVX512
void dg_engine_run_avx512(const struct dg_model *m, const float *x, float *y, float *scratch,
                          size_t stride);
#endif
#ifdef DG_ENGINE_X86
void dg_engine_run_avx2(const struct dg_model *m, const float *x, float *y, float *scratch,
                        size_t stride);
#endif

static size_t shape_floats(struct dg_shape s)
{
    return (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

/* Floats of the largest activation, the input and every op's input and output. */
static size_t largest_act(const struct dg_model *m)
{
    size_t big = shape_floats(m->input);
    for (int i = 0; i < m->n_ops; i++) {
        size_t in = shape_floats(m->ops[i].in), out = shape_floats(m->ops[i].out);
        big = in > big ? in : big;
        big = out > big ? out : big;
    }
    return big;
}

size_t dg_engine_op_pad_floats(const struct dg_op *op)
{
    return (size_t)dg_pad_floats(op);
}

size_t dg_engine_pad_floats(const struct dg_model *m)
{
    size_t pad = 0;
    for (int i = 0; i < m->n_ops; i++) {
        size_t p = dg_engine_op_pad_floats(&m->ops[i]);
        pad = p > pad ? p : pad;
    }
    return pad;
}

size_t dg_engine_scratch_floats(const struct dg_model *m)
{
    return 2 * DG_ACT_STRIDE(largest_act(m)) + dg_engine_pad_floats(m);
}

/* The kernel set dg_engine_use_isa chose (a benchmark's or a test's, never the worker's):
 * DG_SET_* + 1, or 0 for none. */
static int chosen;

static const char *const set_names[] = {"avx512", "avx2", "generic"}; /* enum dg_engine_set */

/* 1 if this build and CPU run kernel set s. */
static int set_runs(enum dg_engine_set s)
{
#ifdef DG_ENGINE_X86
    __builtin_cpu_init();
    switch (s) {
#ifdef DG_ENGINE_AVX512
    case DG_SET_AVX512: return __builtin_cpu_supports("avx512f");
#else
    case DG_SET_AVX512: return 0; /* not built (-DDG_ENGINE_AVX512=OFF) */
#endif
    case DG_SET_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 1;
    }
#else /* not x86 (worker/engine/CMakeLists.txt): the portable kernels are the only build */
    return s == DG_SET_GENERIC;
#endif
}

/* The set called isa, or -1. */
static int set_named(const char *isa)
{
    for (int s = 0; s < (int)(sizeof set_names / sizeof *set_names); s++)
        if (strcmp(isa, set_names[s]) == 0)
            return s;
    return -1;
}

int dg_engine_isa_supported(const char *isa)
{
    int s = set_named(isa);
    return s >= 0 && set_runs((enum dg_engine_set)s);
}

enum dg_engine_set dg_engine_set(void)
{
    if (chosen)
        return (enum dg_engine_set)(chosen - 1);
    return set_runs(DG_SET_AVX512) ? DG_SET_AVX512
           : set_runs(DG_SET_AVX2) ? DG_SET_AVX2 : DG_SET_GENERIC;
}

int dg_engine_use_isa(const char *isa)
{
    if (!dg_engine_isa_supported(isa))
        return -1;
    chosen = 1 + set_named(isa);
    return 0;
}

const char *dg_engine_isa(void)
{
    return set_names[dg_engine_set()];
}

void dg_engine_run(const struct dg_model *m, const float *x, float *y, float *scratch)
{
    const size_t stride = DG_ACT_STRIDE(largest_act(m));
    if (m->n_ops == 0) {
        memmove(y, x, (size_t)m->n_out * sizeof *y);
        return;
    }
    switch (dg_engine_set()) {
#ifdef DG_ENGINE_AVX512
    case DG_SET_AVX512: dg_engine_run_avx512(m, x, y, scratch, stride); break;
#endif
#ifdef DG_ENGINE_X86
    case DG_SET_AVX2: dg_engine_run_avx2(m, x, y, scratch, stride); break;
#endif
    default: dg_engine_run_generic(m, x, y, scratch, stride); break;
    }
}
