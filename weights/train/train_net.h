/* train_net.h: the seed network, its parameters and one training step, built from the
 * layer kernels in weights/train/nn.c.
 *
 *   x [28][28][1] -> conv2d 3x3x32 relu [26][26][32] -> max_pooling2d [13][13][32]
 *   -> dropout .25 -> conv2d_1 3x3x64 relu [11][11][64] -> max_pooling2d_1 [5][5][64]
 *   -> dropout_1 .25 -> flatten [1600] -> dense 64 relu -> dropout_2 .5 -> dense_1 10
 *   -> softmax
 *
 * All parameters live in one flat buffer (and one each for gradients, Adam m and v), in
 * the order conv2d kernel, bias, conv2d_1 kernel, bias, dense kernel, bias, dense_1
 * kernel, bias; each in Keras's layout, so they save to .h5 as they are.
 * A step splits the batch into one contiguous slice per thread; each thread accumulates
 * its own gradient buffer and the buffers are summed in thread order, so a seed and a
 * thread count give bit-identical results. */
#ifndef DIGITD_TRAIN_NET_H
#define DIGITD_TRAIN_NET_H

#include <stddef.h>
#include <stdint.h>

enum { TN_CONV1_W, TN_CONV1_B, TN_CONV2_W, TN_CONV2_B, TN_DENSE1_W, TN_DENSE1_B, TN_DENSE2_W,
       TN_DENSE2_B, TN_N_TENSORS };

#define TN_PIXELS 784
#define TN_CLASSES 10
#define TN_HIDDEN 64
#define TN_FLAT 1600 /* 5 * 5 * 64 */

struct tn_tensor {
    const char *layer; /* Keras layer name: "conv2d", ... */
    const char *name;  /* "kernel:0" / "bias:0" */
    int rank;
    size_t dims[4];
    size_t offset; /* into the flat buffers */
    size_t size;
};

/* The parameter tensors, in buffer order. */
extern const struct tn_tensor tn_tensors[TN_N_TENSORS];
size_t tn_n_params(void); /* 121930 */

struct tn_workspace;

struct tn_net {
    float *params, *grads, *adam_m, *adam_v; /* tn_n_params() floats each */
    long adam_t;                             /* Adam steps taken */
    int threads, max_batch;
    float drop[3];                           /* dropout rates: .25, .25, .5 */
    float *wt;                               /* transposed kernels for the backward pass */
    float **tgrads;                          /* per-thread gradient buffers */
    struct tn_workspace **ws;                /* per-thread activations */
};

/* Allocates a net for batches of up to max_batch images on threads threads and
 * initialises it like Keras (Glorot-uniform kernels, zero biases) from seed.
 * Returns 0, or -1 if out of memory (nothing to free then). */
int tn_init(struct tn_net *net, int max_batch, int threads, uint64_t seed);
void tn_free(struct tn_net *net);

/* Pointer to tensor t's parameters (or gradients: tn_tensor_ptr(net->grads, t)). */
float *tn_tensor_ptr(float *buf, int t);

/* Forward + backward over a batch: x [n][784] (0..1), labels [n]; fills net->grads with
 * the gradient of the batch-mean loss. dropout_key seeds the dropout masks (image i of
 * the batch gets its own stream, whatever the thread split). Returns the summed loss;
 * *correct += images predicted right. n <= max_batch. */
double tn_forward_backward(struct tn_net *net, const float *x, const uint8_t *labels, int n,
                           uint64_t dropout_key, long *correct);

/* The dropout mask tn_forward_backward(net, .., dropout_key, ..) applies to image `image`
 * of its batch at dropout layer `layer` (0: after max_pooling2d, 1: after
 * max_pooling2d_1, 2: after dense): tn_dropout_size(layer) floats, each 0 or
 * 1 / (1 - rate). For tests that recompute the network on their own. */
size_t tn_dropout_size(int layer);
void tn_dropout_mask(const struct tn_net *net, uint64_t dropout_key, int layer, int image,
                     float *mask);

/* How many threads a parallel step really gets when `requested` are asked for: 1 in a
 * build without OpenMP, fewer under OMP_THREAD_LIMIT. *why says which, for a warning.
 * The batch is still split into net->threads slices, so the results do not change, only
 * the speed. */
int tn_threads_running(int requested, const char **why);

/* Adam (Keras 2.x: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t), eps added to sqrt(v)). */
void tn_adam_step(struct tn_net *net, float lr, float beta1, float beta2, float eps);

/* Inference (no dropout): x [n][784] -> probs [n][10], any n (done in max_batch chunks,
 * threads over the chunk). Returns the summed loss if labels != NULL and counts *correct. */
double tn_predict(struct tn_net *net, const float *x, const uint8_t *labels, size_t n,
                  float *probs, long *correct);

/* Adam's hyperparameters besides the learning rate: Keras's defaults. */
#define TN_ADAM_BETA1 0.9
#define TN_ADAM_BETA2 0.999
#define TN_ADAM_EPSILON 1e-7

enum tn_lr_schedule { TN_LR_CONSTANT, TN_LR_COSINE, TN_LR_STEP };

/* How the weights are trained: Adam at base rate lr, changed per step by the schedule:
 * cosine to 0 over the run, or step (x0.1 at 50 % and again at 75 % of the epochs). Also
 * what the .h5's training_config states: steps and boundaries describe the same rates in
 * Keras's terms (optimizer iterations counted from 0). tn_training_init fills it. */
struct tn_training {
    double lr;
    enum tn_lr_schedule schedule;
    int epochs;
    long steps_per_epoch;
    long steps;         /* of the whole run: CosineDecay's decay_steps */
    long boundaries[2]; /* TN_LR_STEP: the last step at lr, and the last at lr * 0.1
                         * (PiecewiseConstantDecay's boundaries) */
};

/* epochs >= 1, steps_per_epoch >= 1 (batches per epoch, the last one possibly short). */
void tn_training_init(struct tn_training *t, double lr, enum tn_lr_schedule schedule, int epochs,
                      long steps_per_epoch);
/* The learning rate of step s (0-based) of epoch `epoch`. */
double tn_lr_at(const struct tn_training *t, int epoch, long s);

/* The tf.keras 2.15 Sequential model_config JSON for this net (malloc'd, cJSON_free). */
char *tn_model_config_json(const struct tn_net *net);

/* The training_config JSON (compile()'s arguments: loss, metrics, optimizer_config) for a
 * model trained as t says (malloc'd, cJSON_free; NULL if out of memory). */
char *tn_training_config_json(const struct tn_training *t);

/* Writes params (tn_n_params() floats, e.g. net->params or a saved best copy) to path as
 * tf.keras 2.x model.save() does for a compiled model (weights/keras_h5.h); training NULL:
 * as for an uncompiled one, without training_config. Returns 0, or -1 with err set. */
int tn_save_h5(const struct tn_net *net, const float *params, const struct tn_training *training,
               const char *path, char *err, size_t errlen);

#endif
