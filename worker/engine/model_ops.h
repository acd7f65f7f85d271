/* model_ops.h: the description of a network that the engine runs.
 *
 * This is the contract between digitd-convert (which writes a generated header of these
 * descriptors from a Keras .h5) and the engine (which runs them).  The same structures
 * describe a model built in memory by the converter library, so tests can run any
 * converted model through the engine's runtime path without compiling a header.
 *
 * Memory layout of every activation: channels-last (HWC), row-major, float32, exactly
 * Keras's channels_last layout.  Flatten and Reshape are therefore no-ops and never
 * appear as ops.  A Dense input of n features is the shape {1, 1, n}.
 */
#ifndef DIGITD_MODEL_OPS_H
#define DIGITD_MODEL_OPS_H

enum dg_op_kind {
    DG_OP_CONV2D,  /* out = act(conv(in, weight) + bias); weight [kh][kw][in.c][out.c] (HWIO) */
    DG_OP_MAXPOOL, /* window kh x kw, stride sh x sw, padding pt/pl ('same' pads with -inf) */
    DG_OP_AVGPOOL, /* like Keras: the average over the window cells inside the image only */
    DG_OP_GAP,     /* global average pooling: {h, w, c} -> {1, 1, c} */
    DG_OP_DENSE,   /* out = act(in @ weight + bias); weight [in.c][out.c], in is {1,1,n} */
    DG_OP_AFFINE,  /* per-channel out = act(in * weight[c] + bias[c]) (unfoldable BatchNorm) */
    DG_OP_ACT      /* out = act(in), element-wise, or softmax over the last axis */
};

enum dg_act {
    DG_ACT_LINEAR,
    DG_ACT_RELU,
    DG_ACT_SIGMOID,
    DG_ACT_TANH,
    DG_ACT_SOFTMAX, /* over the channel (last) axis of each pixel, as Keras does */
    DG_ACT_ELU,     /* x > 0 ? x : alpha * (exp(x) - 1) */
    DG_ACT_SELU,    /* 1.0507 * (x > 0 ? x : 1.67326 * (exp(x) - 1)), Keras's constants */
    DG_ACT_GELU,    /* x * Phi(x), the exact (erf) form, Keras's default */
    DG_ACT_SWISH,   /* x * sigmoid(x), also called silu */
    DG_ACT_SOFTPLUS, /* log(1 + exp(x)) */
    DG_ACT_LEAKY    /* x > 0 ? x : alpha * x (LeakyReLU) */
};

struct dg_shape {
    int h, w, c;
};

struct dg_op {
    enum dg_op_kind kind;
    const char *name;       /* Keras layer name this op came from (the first, if fused) */
    struct dg_shape in, out;
    int kh, kw;             /* kernel / pool window */
    int sh, sw;             /* strides */
    int pt, pl;             /* padding before the first row / column ('same' = floor(total/2)) */
    enum dg_act act;        /* applied after the op */
    float alpha;            /* ELU's alpha, LeakyReLU's negative slope */
    const float *weight;    /* CONV2D: [kh][kw][in.c][out.c]; DENSE: [in.c][out.c]; AFFINE: [c] */
    const float *bias;      /* [out.c], or NULL for no bias */
};

struct dg_model {
    const char *name;          /* Keras model name, e.g. "sequential" */
    const char *source;        /* base name of the .h5 it came from */
    const char *source_sha256; /* hex SHA-256 of that file */
    const char *keras_version; /* as the file states it */
    long params;               /* parameter count as Keras counts it (before BN folding) */
    struct dg_shape input;     /* always {28, 28, 1} */
    int n_out;                 /* number of classes, 10 */
    int n_ops;
    const struct dg_op *ops;
    long max_act;              /* floats in the largest activation (input and outputs included) */
    const char *input_scale;   /* what the model was converted for (digitd-convert
                                  --input-scale: "unit", "raw", "S,MEAN,STD"); the engine
                                  always takes pixels 0..1, the scale is folded into the ops */
};

/* The converter refuses a model with an activation, or a zero-padded convolution input,
 * larger than this many floats (1 MiB: a 28x28 'same' convolution of up to 256 filters).
 * It bounds the engine's scratch (see below), which is allocated once per thread. */
#define DG_MAX_ACT_FLOATS (1L << 18)

/* The engine's scratch for a model (dg_engine_scratch_floats, and DG_MODEL_SCRATCH_FLOATS in
 * the generated header): two activation buffers of DG_ACT_STRIDE(largest activation) floats
 * each (a multiple of 16, so each starts 64-byte aligned), then the largest zero-padded
 * convolution input. */
#define DG_ACT_STRIDE(n) (((n) + 15) / 16 * 16)

/* The padded input a conv reads: the rows and columns its windows cover. */
static inline void dg_pad_dims(const struct dg_op *op, int *ph, int *pw)
{
    *ph = (op->out.h - 1) * op->sh + op->kh;
    *pw = (op->out.w - 1) * op->sw + op->kw;
}

/* Floats of zero-padded input op needs (0: none, it reads its input as it is): the last part
 * of the scratch, the same for every kernel set. */
static inline long dg_pad_floats(const struct dg_op *op)
{
    int ph, pw;
    if (op->kind != DG_OP_CONV2D)
        return 0;
    dg_pad_dims(op, &ph, &pw);
    if (op->pt == 0 && op->pl == 0 && ph <= op->in.h && pw <= op->in.w)
        return 0;
    return (long)ph * pw * op->in.c;
}

/* What the engine reports for m: ten probabilities.  A model ending in softmax gives them
 * as they are; any other end (logits from a linear Dense, relu, sigmoid or tanh scores) gets
 * a softmax added, which keeps the model's ranking, so the answer is the model's own; for a
 * sigmoid or tanh end the reported values are then not the model's outputs (header comment
 * and --summary say so). */
static inline int dg_model_adds_softmax(const struct dg_model *m)
{
    return m->n_ops == 0 || m->ops[m->n_ops - 1].act != DG_ACT_SOFTMAX;
}

#endif
