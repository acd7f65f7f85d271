/* header_emit.c: the generated model header and the --summary text (see header_emit.h).
 *
 * The weights are declared extern and defined only where DG_MODEL_DEFINE_WEIGHTS is set, so
 * that the per-ISA builds of the engine share one copy in the binary's read-only pages.  The
 * op table is static const so every dimension folds to a constant in the kernels. */
#include "header_emit.h"

#include <string.h>

#include "engine.h"

static const char *kind_name[] = {"DG_OP_CONV2D", "DG_OP_MAXPOOL", "DG_OP_AVGPOOL", "DG_OP_GAP",
                                  "DG_OP_DENSE",  "DG_OP_AFFINE",  "DG_OP_ACT"};
static const char *act_name[] = {"DG_ACT_LINEAR", "DG_ACT_RELU",  "DG_ACT_SIGMOID", "DG_ACT_TANH",
                                 "DG_ACT_SOFTMAX", "DG_ACT_ELU",   "DG_ACT_SELU",    "DG_ACT_GELU",
                                 "DG_ACT_SWISH",   "DG_ACT_SOFTPLUS", "DG_ACT_LEAKY"};
static const char *act_short[] = {"linear", "relu", "sigmoid", "tanh",     "softmax", "elu",
                                  "selu",   "gelu", "swish",   "softplus", "leaky_relu"};

static void shape_text(char *s, size_t n, struct dg_shape sh)
{
    if (sh.h == 0)
        snprintf(s, n, "(None, %d)", sh.c);
    else
        snprintf(s, n, "(None, %d, %d, %d)", sh.h, sh.w, sh.c);
}

/* "1,234,567" as Keras prints parameter counts. */
static void thousands(char *s, size_t n, long v)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%ld", v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            s[o++] = ',';
        s[o++] = d[i];
    }
    s[o] = 0;
}

static void op_text(char *s, size_t n, const struct dg_op *op)
{
    static const char *kind_short[] = {"conv2d", "maxpool", "avgpool", "gap",
                                       "dense",  "affine",  "act"};
    int o = snprintf(s, n, "%-8s %-24s", kind_short[op->kind], op->name);
    if (op->kind == DG_OP_CONV2D || op->kind == DG_OP_MAXPOOL || op->kind == DG_OP_AVGPOOL)
        o += snprintf(s + o, n - (size_t)o, " %dx%d/%dx%d pad %d,%d", op->kh, op->kw, op->sh,
                      op->sw, op->pt, op->pl);
    snprintf(s + o, n - (size_t)o, " %dx%dx%d -> %dx%dx%d %s", op->in.h, op->in.w, op->in.c,
             op->out.h, op->out.w, op->out.c, act_short[op->act]);
}

/* What the service reports for this model (dg_model_adds_softmax), in words. */
static const char *output_note(const struct dg_model *m)
{
    switch (m->n_ops ? m->ops[m->n_ops - 1].act : DG_ACT_LINEAR) { /* as dg_model_adds_softmax */
    case DG_ACT_SOFTMAX: return "the model's softmax, reported as the probabilities";
    case DG_ACT_SIGMOID:
    case DG_ACT_TANH:
        return "the model ends in sigmoid/tanh scores, not probabilities: the service "
               "reports a softmax of them (same ranking, so the same answer; the values are "
               "not the model's own outputs)";
    default: return "the model outputs logits (it does not end in softmax): the service "
                    "applies softmax to report probabilities";
    }
}

/* What the model receives (dg_input_spec), in words, and where that was decided. */
static void input_note(FILE *f, const struct dg_keras_model *km, const char *pre)
{
    const struct dg_input_spec *in = &km->input;
    fprintf(f, "%sInput: %s (input scale \"%s\", %s): ", pre,
            in->scale == 1 && in->mean == 0 && in->std == 1 ? "pixels 0..1 as the service gives "
                                                               "them, 0 background, 1 ink"
                                                             : "the service's pixels p (0..1)",
            km->input_text, km->input_from);
    if (in->mean == 0 && in->std == 1)
        fprintf(f, "the model receives p * %g, 0..%g\n", in->scale, in->scale);
    else
        fprintf(f, "the model receives (p * %g - %g) / %g\n", in->scale, in->mean, in->std);
}

static void summary_lines(FILE *f, const struct dg_keras_model *km, const char *pre)
{
    char shape[64], num[32], lt[160];
    fprintf(f, "%s%-40s %-22s %12s\n", pre, "Layer (type)", "Output Shape", "Param #");
    for (int i = 0; i < km->n_layers; i++) {
        const struct dg_keras_layer *l = &km->layers[i];
        if (strcmp(l->type, "InputLayer") == 0)
            continue; /* Keras's summary leaves it out too */
        snprintf(lt, sizeof lt, "%s (%s)", l->name, l->type);
        shape_text(shape, sizeof shape, l->out);
        thousands(num, sizeof num, l->params);
        fprintf(f, "%s%-40s %-22s %12s\n", pre, lt, shape, num);
    }
    thousands(num, sizeof num, km->model.params);
    fprintf(f, "%sTotal params: %s\n", pre, num);
    input_note(f, km, pre);
    fprintf(f, "%sOutput: %s\n%sEngine ops (after folding):\n", pre, output_note(&km->model),
            pre);
    for (int i = 0; i < km->model.n_ops; i++) {
        op_text(lt, sizeof lt, &km->model.ops[i]);
        fprintf(f, "%s  %2d %s\n", pre, i, lt);
    }
}

void dg_summary_print(FILE *f, const struct dg_keras_model *km)
{
    fprintf(f, "Model: \"%s\" from %s (Keras %s)\nsha256 %s\n", km->name, km->source,
            km->keras_version, km->sha256);
    summary_lines(f, km, "");
}

/* One weight array as exact hex floats, 6 to a line. */
static void emit_array(FILE *f, int id, const float *p, size_t n)
{
    fprintf(f, "const float dg_w%d[%zu] __attribute__((aligned(64))) = {", id, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%a,", i % 6 ? " " : "\n    ", (double)p[i]);
    fprintf(f, "\n};\n");
}

static void emit_weights(FILE *f, const struct dg_model *m)
{
    int id = 0;
    for (int i = 0; i < m->n_ops; i++) {
        size_t nw = dg_op_weight_floats(&m->ops[i]), nb = dg_op_bias_floats(&m->ops[i]);
        if (nw)
            fprintf(f, "extern const float dg_w%d[%zu];\n", id++, nw);
        if (nb)
            fprintf(f, "extern const float dg_w%d[%zu];\n", id++, nb);
    }
    fprintf(f, "\n#ifdef DG_MODEL_DEFINE_WEIGHTS\n");
    id = 0;
    for (int i = 0; i < m->n_ops; i++) {
        const struct dg_op *op = &m->ops[i];
        size_t nw = dg_op_weight_floats(op), nb = dg_op_bias_floats(op);
        if (nw)
            emit_array(f, id++, op->weight, nw);
        if (nb)
            emit_array(f, id++, op->bias, nb);
    }
    fprintf(f, "#endif /* DG_MODEL_DEFINE_WEIGHTS */\n\n");
}

static void emit_ops(FILE *f, const struct dg_model *m)
{
    int id = 0;
    fprintf(f, "__attribute__((unused)) static const struct dg_op dg_model_ops[DG_MODEL_N_OPS] "
               "= {\n");
    for (int i = 0; i < m->n_ops; i++) {
        const struct dg_op *o = &m->ops[i];
        char w[32] = "0", b[32] = "0";
        if (dg_op_weight_floats(o))
            snprintf(w, sizeof w, "dg_w%d", id++);
        if (dg_op_bias_floats(o))
            snprintf(b, sizeof b, "dg_w%d", id++);
        fprintf(f,
                "    {.kind = %s, .name = \"%s\", .in = {%d, %d, %d}, .out = {%d, %d, %d},\n"
                "     .kh = %d, .kw = %d, .sh = %d, .sw = %d, .pt = %d, .pl = %d, .act = %s,\n"
                "     .alpha = %a, .weight = %s, .bias = %s},\n",
                kind_name[o->kind], o->name, o->in.h, o->in.w, o->in.c, o->out.h, o->out.w,
                o->out.c, o->kh, o->kw, o->sh, o->sw, o->pt, o->pl, act_name[o->act],
                (double)o->alpha, w, b);
    }
    fprintf(f, "};\n\n/* The op sequence, for unrolling at compile time: X(index, kind). */\n"
               "#define DG_MODEL_OPS(X)");
    for (int i = 0; i < m->n_ops; i++)
        fprintf(f, " \\\n    X(%d, %s)", i, kind_name[m->ops[i].kind]);
    fprintf(f, "\n\n");
}

int dg_header_write(FILE *f, const struct dg_keras_model *km)
{
    const struct dg_model *m = &km->model;
    fprintf(f, "/* model_weights.h: generated by digitd-convert; do not edit.\n"
               " * source %s (Keras %s, model \"%s\")\n * sha256 %s\n *\n",
            km->source, km->keras_version, km->name, km->sha256);
    summary_lines(f, km, " * ");
    fprintf(f, " */\n#ifndef DIGITD_MODEL_WEIGHTS_H\n#define DIGITD_MODEL_WEIGHTS_H\n\n"
               "#include \"model_ops.h\"\n\n");
    fprintf(f, "#define DG_MODEL_NAME \"%s\"\n#define DG_MODEL_SOURCE \"%s\"\n"
               "#define DG_MODEL_SHA256 \"%s\"\n#define DG_MODEL_KERAS_VERSION \"%s\"\n"
               "#define DG_MODEL_INPUT_SCALE \"%s\" /* folded into the ops (see Input) */\n"
               "#define DG_MODEL_PARAMS %ld\n#define DG_MODEL_N_OPS %d\n"
               "#define DG_MODEL_MAX_ACT %ld\n#define DG_MODEL_N_OUT %d\n"
               "#define DG_MODEL_ADD_SOFTMAX %d /* the engine adds a softmax (see Output) */\n"
               "/* The engine's scratch per thread, laid out as model_ops.h says. */\n"
               "#define DG_MODEL_PAD_FLOATS %zu\n#define DG_MODEL_SCRATCH_FLOATS %zu\n\n",
            km->name, km->source, km->sha256, km->keras_version, km->input_text, m->params,
            m->n_ops, m->max_act, m->n_out, dg_model_adds_softmax(m), dg_engine_pad_floats(m),
            dg_engine_scratch_floats(m));
    emit_weights(f, m);
    emit_ops(f, m);
    fprintf(f, "__attribute__((unused)) static const struct dg_model dg_model_desc = {\n"
               "    .name = DG_MODEL_NAME, .source = DG_MODEL_SOURCE,\n"
               "    .source_sha256 = DG_MODEL_SHA256, .keras_version = DG_MODEL_KERAS_VERSION,\n"
               "    .params = DG_MODEL_PARAMS, .input = {%d, %d, %d}, .n_out = DG_MODEL_N_OUT,\n"
               "    .n_ops = DG_MODEL_N_OPS, .ops = dg_model_ops, .max_act = DG_MODEL_MAX_ACT,\n"
               "    .input_scale = DG_MODEL_INPUT_SCALE};\n"
               "\n#endif\n",
            m->input.h, m->input.w, m->input.c);
    return ferror(f) ? -1 : 0;
}
