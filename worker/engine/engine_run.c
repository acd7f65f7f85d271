/* engine_run.c: the runtime path, any struct dg_model with dimensions read at run time.
 * Used by tests and for models built in memory (digitd-convert's loader); the compiled-in
 * model goes through engine.c instead.  The same kernels as the compiled-in path (dg_step),
 * built for the portable vector width; activations ping-pong between two buffers of the
 * caller's scratch, laid out as model_ops.h says, so nothing is allocated here. */
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

void dg_engine_run(const struct dg_model *m, const float *x, float *y, float *scratch)
{
    const size_t stride = DG_ACT_STRIDE(largest_act(m));
    float *const buf[2] = {scratch, scratch + stride}, *pad = scratch + 2 * stride;
    const float *in = x;
    float *out = buf[0];
    if (m->n_ops == 0) {
        memmove(y, x, (size_t)m->n_out * sizeof *y);
        return;
    }
    for (int i = 0; i < m->n_ops;) {
        i += dg_step(&m->ops[i], i + 1 < m->n_ops ? &m->ops[i + 1] : NULL, in, out, pad);
        in = out;
        out = out == buf[0] ? buf[1] : buf[0];
    }
    memcpy(y, in, (size_t)m->n_out * sizeof *y);
}
