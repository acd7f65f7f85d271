/* engine.h: the CNN inference engine.
 *
 * Two entry points over the same kernels:
 *  - the compiled-in model (the generated header from digitd-convert), with dimensions
 *    known at compile time and a fast path per ISA picked at run time (AVX-512, AVX2+FMA,
 *    portable C);
 *  - a runtime path that runs any struct dg_model (tests; models built in memory).
 * No heap allocation per call and no shared mutable state: the compiled-in path works in a
 * per-thread scratch buffer of the size the generated header states (DG_MODEL_SCRATCH_FLOATS,
 * bounded by the converter), the runtime path in the caller's.  Safe in any thread or
 * forked child.
 */
#ifndef DIGITD_ENGINE_H
#define DIGITD_ENGINE_H

#include <stddef.h>

#include "model_ops.h"

#define DG_INPUT_H 28
#define DG_INPUT_W 28
#define DG_INPUT_PIXELS (DG_INPUT_H * DG_INPUT_W)
#define DG_N_CLASSES 10

/* The compiled-in model's description (name, SHA-256, layers, parameter count). */
const struct dg_model *dg_engine_model(void);

/* One image, 784 floats in model scale (0 = background, 1 = ink), row-major, to 10
 * probabilities: the model's softmax, or a softmax of its outputs when it ends otherwise
 * (logits; sigmoid/tanh scores keep their ranking): dg_model_adds_softmax, model_ops.h. */
void dg_engine_forward(const float *x, float *probs);

/* The model's features: what its classifier head reads, the input of its first Dense op
 * (the seed's model: the 5x5x64 flattened after the second pooling), as floats; 0 if it has
 * no Dense op. */
size_t dg_engine_features(void);

/* dg_engine_forward, and the features copied to features[] when they fit in room floats.
 * Returns dg_engine_features(): the features were written if it is <= room (and not 0). */
size_t dg_engine_forward_features(const float *x, float *probs, float *features, size_t room);

/* n images, x = n * 784 floats, probs = n * 10 floats. */
void dg_engine_forward_batch(const float *x, size_t n, float *probs);

/* Runs the compiled-in model once on a fixed input (a drawn stroke) and checks that the
 * answer is a probability distribution: every value finite and in [0, 1], summing to 1.
 * Returns 0 if so, -1 if not. A child runs it before it reports ready, so a model that
 * cannot run on this machine never takes traffic (nor wins a USR2 hand-over). */
int dg_engine_selftest(void);

/* Which kernel set dg_engine_forward uses on this CPU: "avx512", "avx2" or "generic". */
const char *dg_engine_isa(void);

/* For benchmarks and tests: every later dg_engine_forward* and dg_engine_run in this process
 * uses the named kernel set instead of the widest this CPU has (called before any thread
 * runs the engine; the worker never calls it). Returns 0, or -1 if this build or CPU has no
 * such set. */
int dg_engine_use_isa(const char *isa);

/* Runtime path: floats of scratch dg_engine_run needs for model m (layout: model_ops.h).
 * digitd-convert writes it into the header as DG_MODEL_SCRATCH_FLOATS. */
size_t dg_engine_scratch_floats(const struct dg_model *m);

/* The part of it that holds the largest zero-padded convolution input (DG_MODEL_PAD_FLOATS),
 * and the floats of op's own (0 when it reads its input unpadded). */
size_t dg_engine_pad_floats(const struct dg_model *m);
size_t dg_engine_op_pad_floats(const struct dg_op *op);

/* Runs model m on one input (m->input.h * w * c floats) into m->n_out outputs (the model's
 * own outputs, no softmax added). scratch holds dg_engine_scratch_floats(m) floats. */
void dg_engine_run(const struct dg_model *m, const float *x, float *y, float *scratch);

#endif
