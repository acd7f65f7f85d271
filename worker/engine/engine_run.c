/* engine_run.c: the runtime path, any struct dg_model with dimensions read at run time.
 * Used by tests and for models built in memory (digitd-convert's loader); the compiled-in
 * model goes through engine.c instead.  Activations ping-pong between two halves of the
 * caller's scratch, so nothing is allocated here. */
#include <string.h>

#include "engine.h"
#include "kernels_generic.h"

static size_t shape_floats(struct dg_shape s)
{
    return (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

size_t dg_engine_scratch_floats(const struct dg_model *m)
{
    size_t big = shape_floats(m->input);
    for (int i = 0; i < m->n_ops; i++) {
        size_t in = shape_floats(m->ops[i].in), out = shape_floats(m->ops[i].out);
        big = in > big ? in : big;
        big = out > big ? out : big;
    }
    return 2 * big;
}

void dg_engine_run(const struct dg_model *m, const float *x, float *y, float *scratch)
{
    const size_t half = dg_engine_scratch_floats(m) / 2;
    const float *in = x;
    float *out = scratch;
    if (m->n_ops == 0) {
        memmove(y, x, (size_t)m->n_out * sizeof *y);
        return;
    }
    for (int i = 0; i < m->n_ops; i++) {
        dg_op_generic(&m->ops[i], in, out);
        in = out;
        out = out == scratch ? scratch + half : scratch;
    }
    memcpy(y, in, (size_t)m->n_out * sizeof *y);
}
