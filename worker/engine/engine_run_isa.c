/* engine_run_isa.c: the run-time path's op loop (dg_engine_run, any struct dg_model) for one
 * kernel set. Compiled once per ISA like engine_fast.c (worker/engine/CMakeLists.txt sets
 * -DDG_ISA=name and the target flags); engine_run.c picks one at run time. The scratch layout
 * does not depend on the vector width (model_ops.h), so every build reads the same one. */
#include <string.h>

#include "engine.h"
/* With run-time dimensions GCC cannot see that dg_conv_tile reads only the accumulators it
 * zeroed (the same bound, nvb and R * P, limits both loops): a false "may be used
 * uninitialized" on every tile element. clang has no such warning (and would warn of
 * the unknown name). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define DG_RUNTIME_DIMS
#include "kernels_vec.h"

#define DG_CAT2(a, b) a##b
#define DG_CAT(a, b) DG_CAT2(a, b)

/* stride: floats of each activation buffer (DG_ACT_STRIDE of the largest activation). */
void DG_CAT(dg_engine_run_, DG_ISA)(const struct dg_model *m, const float *x, float *y,
                                     float *scratch, size_t stride);

void DG_CAT(dg_engine_run_, DG_ISA)(const struct dg_model *m, const float *x, float *y,
                                     float *scratch, size_t stride)
{
    float *const buf[2] = {scratch, scratch + stride}, *pad = scratch + 2 * stride;
    const float *in = x;
    float *out = buf[0];
    for (int i = 0; i < m->n_ops;) {
        i += dg_step(&m->ops[i], i + 1 < m->n_ops ? &m->ops[i + 1] : NULL, in, out, pad);
        in = out;
        out = out == buf[0] ? buf[1] : buf[0];
    }
    memcpy(y, in, (size_t)m->n_out * sizeof *y);
}
