/* engine_ops: every op kind of model_ops.h through dg_engine_run, in every kernel set this
 * CPU runs (dg_engine_use_isa), against the naive reference (engine_ref.h) on hand-built
 * one-op models with awkward shapes: odd sizes, strides, 'same' padding, non-square kernels,
 * channel counts like 50 and 30.
 * Max abs difference <= 1e-5.  Also one hand-computed value of Keras's 'same' average. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engine.h"
#include "engine_ref.h"

#define TOL 1e-5

static float *rand_floats(long n, float lo, float hi)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (long i = 0; p && i < n; i++)
        p[i] = lo + (hi - lo) * (float)rand() / (float)RAND_MAX;
    return p;
}

static long floats(struct dg_shape s)
{
    return (long)s.h * s.w * s.c;
}

/* 'same' padding as the converter computes it: total = max((ceil(in/s)-1)*s + k - in, 0). */
static int same_pad(int in, int k, int s, int *out)
{
    int total;
    *out = (in + s - 1) / s;
    total = (*out - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

/* Runs a one-op model through both paths; returns 1 on mismatch. */
static void check_op(const char *what, struct dg_op op)
{
    long nin = floats(op.in), nout = floats(op.out);
    long weights = op.kind == DG_OP_CONV2D ? (long)op.kh * op.kw * op.in.c * op.out.c
                   : op.kind == DG_OP_DENSE ? nin * op.out.c
                                            : op.in.c;
    float *w = rand_floats(weights, -0.5f, 0.5f), *b = rand_floats(op.out.c, -0.5f, 0.5f);
    float *x = rand_floats(nin, -1.0f, 1.0f), *ref = malloc((size_t)nout * sizeof *ref);
    float *got = malloc((size_t)nout * sizeof *got);
    struct dg_model m = { .name = what, .input = op.in, .n_ops = 1, .ops = &op };
    m.n_out = (int)nout;
    m.max_act = nin > nout ? nin : nout;
    if (op.kind == DG_OP_CONV2D || op.kind == DG_OP_DENSE || op.kind == DG_OP_AFFINE)
        op.weight = w;
    if (op.name == NULL) /* name doubles as "has bias" in this table: NULL = bias */
        op.bias = b;
    float *scratch = malloc(dg_engine_scratch_floats(&m) * sizeof *scratch);
    if (w && b && x && ref && got && scratch && ref_model(&m, x, ref) == 0) {
        static const char *const isas[] = {"avx512", "avx2", "generic"};
        for (size_t k = 0; k < sizeof isas / sizeof *isas; k++) {
            if (dg_engine_use_isa(isas[k]) != 0)
                continue; /* not built or not on this CPU; generic always is */
            double d = 0;
            dg_engine_run(&m, x, got, scratch);
            for (long i = 0; i < nout; i++)
                d = fmax(d, fabs((double)ref[i] - got[i]));
            printf("%-40s %-7s max abs diff %.3g\n", what, isas[k], d);
            CHECK(d <= TOL, "%s (%s): max abs diff %.3g over %g", what, isas[k], d, TOL);
        }
    } else {
        CHECK(0, "%s: out of memory", what);
    }
    free(w), free(b), free(x), free(ref), free(got), free(scratch);
}

static struct dg_op conv(int h, int w, int c, int oc, int kh, int kw, int s, int same,
                         enum dg_act act)
{
    struct dg_op op = { .kind = DG_OP_CONV2D, .in = { h, w, c }, .kh = kh, .kw = kw,
                        .sh = s, .sw = s, .act = act };
    op.out.c = oc;
    if (same) {
        op.pt = same_pad(h, kh, s, &op.out.h);
        op.pl = same_pad(w, kw, s, &op.out.w);
    } else {
        op.out.h = (h - kh) / s + 1;
        op.out.w = (w - kw) / s + 1;
    }
    return op;
}

static struct dg_op pool(enum dg_op_kind kind, int h, int w, int c, int k, int s, int same)
{
    struct dg_op op = conv(h, w, c, c, k, k, s, same, DG_ACT_LINEAR);
    op.kind = kind;
    return op;
}

/* Keras 'same' AveragePooling2D divides by the cells inside the image: a 2x2/2 pool of a
 * 3x3 image has a bottom-right output that is the corner pixel alone. */
static void check_avg_corner(void)
{
    struct dg_op op = pool(DG_OP_AVGPOOL, 3, 3, 1, 2, 2, 1);
    struct dg_model m = { .input = op.in, .n_out = 4, .n_ops = 1, .ops = &op, .max_act = 9 };
    float x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, y[4], scratch[64];
    CHECK(dg_engine_scratch_floats(&m) <= 64, "avgpool corner: scratch over 64 floats");
    if (dg_engine_scratch_floats(&m) > 64)
        return;
    dg_engine_run(&m, x, y, scratch);
    CHECK(y[0] == 3.0f && y[1] == 4.5f && y[2] == 7.5f && y[3] == 9.0f,
          "same avgpool 3x3 -> %g %g %g %g, want 3 4.5 7.5 9", y[0], y[1], y[2], y[3]);
}

int main(void)
{
    struct dg_op op;
    srand(7);
    check_op("conv 3x3 valid 9x7x3->50 relu", conv(9, 7, 3, 50, 3, 3, 1, 0, DG_ACT_RELU));
    check_op("conv 5x5 same s2 11x10x4->30", conv(11, 10, 4, 30, 5, 5, 2, 1, DG_ACT_LINEAR));
    check_op("conv 3x3 same 28x28x1->50 relu", conv(28, 28, 1, 50, 3, 3, 1, 1, DG_ACT_RELU));
    check_op("conv 2x3 valid s2 8x9x5->17 tanh", conv(8, 9, 5, 17, 2, 3, 2, 0, DG_ACT_TANH));
    op = conv(6, 5, 7, 30, 1, 1, 1, 0, DG_ACT_SIGMOID);
    op.name = "no bias";
    check_op("conv 1x1 6x5x7->30 sigmoid, no bias", op);
    check_op("conv 3x3 same 5x5x3->12 softmax", conv(5, 5, 3, 12, 3, 3, 1, 1, DG_ACT_SOFTMAX));
    check_op("maxpool 2x2/2 valid 11x11x30", pool(DG_OP_MAXPOOL, 11, 11, 30, 2, 2, 0));
    check_op("maxpool 3x3/2 same 7x7x5", pool(DG_OP_MAXPOOL, 7, 7, 5, 3, 2, 1));
    check_op("avgpool 2x2/2 same 7x7x3", pool(DG_OP_AVGPOOL, 7, 7, 3, 2, 2, 1));
    check_op("avgpool 3x3/1 same 6x5x50", pool(DG_OP_AVGPOOL, 6, 5, 50, 3, 1, 1));
    check_op("avgpool 2x2/2 valid 9x9x4", pool(DG_OP_AVGPOOL, 9, 9, 4, 2, 2, 0));
    op = (struct dg_op){ .kind = DG_OP_GAP, .in = { 5, 5, 50 }, .out = { 1, 1, 50 } };
    check_op("gap 5x5x50", op);
    op = (struct dg_op){ .kind = DG_OP_DENSE, .in = { 1, 1, 50 }, .out = { 1, 1, 30 },
                         .act = DG_ACT_SOFTMAX };
    check_op("dense 50->30 softmax", op);
    op = (struct dg_op){ .kind = DG_OP_DENSE, .in = { 3, 3, 7 }, .out = { 1, 1, 17 },
                         .act = DG_ACT_RELU };
    check_op("dense 3x3x7->17 relu", op);
    op = (struct dg_op){ .kind = DG_OP_AFFINE, .in = { 4, 4, 30 }, .out = { 4, 4, 30 },
                         .act = DG_ACT_RELU };
    check_op("affine 4x4x30 relu", op);
    op = (struct dg_op){ .kind = DG_OP_ACT, .in = { 3, 3, 12 }, .out = { 3, 3, 12 },
                         .act = DG_ACT_SOFTMAX };
    check_op("act softmax 3x3x12", op);
    op.act = DG_ACT_TANH;
    check_op("act tanh 3x3x12", op);
    /* the activations beyond relu/sigmoid/tanh, element-wise and after a conv and a dense */
    static const struct {
        enum dg_act act;
        float alpha;
        const char *name;
    } acts[] = {{DG_ACT_ELU, 1.0f, "elu"},           {DG_ACT_ELU, 0.5f, "elu alpha 0.5"},
                {DG_ACT_SELU, 0, "selu"},            {DG_ACT_GELU, 0, "gelu"},
                {DG_ACT_SWISH, 0, "swish"},          {DG_ACT_SOFTPLUS, 0, "softplus"},
                {DG_ACT_LEAKY, 0.3f, "leaky_relu 0.3"}};
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) {
        char what[80];
        op = (struct dg_op){ .kind = DG_OP_ACT, .in = { 5, 4, 7 }, .out = { 5, 4, 7 },
                             .act = acts[i].act, .alpha = acts[i].alpha };
        snprintf(what, sizeof what, "act %s 5x4x7", acts[i].name);
        check_op(what, op);
        op = conv(9, 8, 3, 13, 3, 3, 1, 1, acts[i].act);
        op.alpha = acts[i].alpha;
        snprintf(what, sizeof what, "conv 3x3 same 9x8x3->13 %s", acts[i].name);
        check_op(what, op);
        op = (struct dg_op){ .kind = DG_OP_DENSE, .in = { 1, 1, 40 }, .out = { 1, 1, 11 },
                             .act = acts[i].act, .alpha = acts[i].alpha };
        snprintf(what, sizeof what, "dense 40->11 %s", acts[i].name);
        check_op(what, op);
    }
    check_avg_corner();
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
