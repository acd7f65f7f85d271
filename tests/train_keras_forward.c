/* train_keras_forward.c: the trainer's forward pass has Keras's semantics (kernel
 * layouts, HWC flatten order, pooling floor): a real Keras model of the seed architecture
 * (trained by Keras, read by the converter's loader), copied into the trainer's parameter
 * buffer, scores on MNIST t10k what Keras's own forward pass scores.
 *   train_keras_forward SEEDARCH.h5 MNIST_DIR EXPECTED_ACCURACY
 * (seedarch_keras3.8.0_keshavagr273.h5: 99.22 % per shared/keras-models/README.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "idx.h"
#include "keras_load.h"
#include "train_net.h"

/* The model's CONV2D/DENSE ops in order are exactly the net's 4 weighted layers. */
static int copy_weights(const struct dg_model *m, struct tn_net *net)
{
    int t = 0;
    for (int i = 0; i < m->n_ops; i++) {
        const struct dg_op *op = &m->ops[i];
        if (op->kind != DG_OP_CONV2D && op->kind != DG_OP_DENSE)
            continue;
        if (t + 1 >= TN_N_TENSORS || !op->bias)
            return -1;
        size_t nw = tn_tensors[t].size, nb = tn_tensors[t + 1].size;
        size_t got = op->kind == DG_OP_CONV2D
                         ? (size_t)op->kh * op->kw * op->in.c * op->out.c
                         : (size_t)op->in.c * op->out.c;
        if (got != nw || (size_t)op->out.c != nb)
            return -1;
        memcpy(tn_tensor_ptr(net->params, t), op->weight, nw * sizeof(float));
        memcpy(tn_tensor_ptr(net->params, t + 1), op->bias, nb * sizeof(float));
        t += 2;
    }
    return t == TN_N_TENSORS ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: train_keras_forward SEEDARCH.h5 MNIST_DIR EXPECTED_ACCURACY\n");
        return 2;
    }
    double expected = atof(argv[3]);
    char err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[2], "t10k", &im, &lb, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct dg_keras_model km;
    if (dg_keras_load(argv[1], &km, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct tn_net net;
    if (tn_init(&net, 500, 2, 1)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if (copy_weights(&km.model, &net)) {
        fprintf(stderr, "%s: not the seed architecture\n", argv[1]);
        return 1;
    }
    float *x = malloc(im.count * 784 * sizeof(float));
    if (!x)
        return 1;
    for (size_t i = 0; i < im.count * 784; i++)
        x[i] = im.pixels[i] * (1.0f / 255.0f);
    long ok = 0;
    tn_predict(&net, x, lb.labels, im.count, NULL, &ok);
    double acc = (double)ok / (double)im.count;
    printf("%s through the trainer's forward pass: %.4f on %zu images (Keras: %.4f)\n", argv[1],
           acc, im.count, expected);
    free(x);
    tn_free(&net);
    dg_keras_free(&km);
    dg_idx_free_images(&im), dg_idx_free_labels(&lb);
    /* the same function computed in another order: at most a couple of borderline images */
    CHECK(fabs(acc - expected) <= 0.0003, "accuracy %.4f, Keras's %.4f", acc, expected);
    return failures ? 1 : 0;
}
