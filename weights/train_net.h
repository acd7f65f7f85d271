/* train_net.h: the seed network, its parameters and one training step, built from the
 * layer kernels in worker/nn.h.
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

/* Adam (Keras 2.x: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t), eps added to sqrt(v)). */
void tn_adam_step(struct tn_net *net, float lr, float beta1, float beta2, float eps);

/* Inference (no dropout): x [n][784] -> probs [n][10], any n (done in max_batch chunks,
 * threads over the chunk). Returns the summed loss if labels != NULL and counts *correct. */
double tn_predict(struct tn_net *net, const float *x, const uint8_t *labels, size_t n,
                  float *probs, long *correct);

/* The tf.keras 2.15 Sequential model_config JSON for this net (malloc'd, cJSON_free). */
char *tn_model_config_json(const struct tn_net *net);

/* Writes params (tn_n_params() floats, e.g. net->params or a saved best copy) to path as
 * tf.keras 2.x model.save() does (weights/keras_h5.h). Returns 0, or -1 with err set. */
int tn_save_h5(const struct tn_net *net, const float *params, const char *path, char *err,
               size_t errlen);

#endif
