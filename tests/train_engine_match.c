/* train_engine_match.c: the .h5 digitd-train wrote, read back by the converter's loader
 * and run through the engine (dg_engine_run), gives the trainer's own probabilities.
 *   train_engine_match MODEL.h5 PREDICTIONS MNIST_DIR N [MIN_ACCURACY]
 * PREDICTIONS is digitd-train --predictions output for the first N test images (float32
 * [N][10]). Checks: max |engine - trainer| <= 1e-5, the same predicted digit for every
 * image, and accuracy >= MIN_ACCURACY (default 0.95; engine outputs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engine.h"
#include "idx.h"
#include "keras_load.h"
#include "rank.h"

#define TOL 1e-5

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: train_engine_match MODEL.h5 PREDICTIONS MNIST_DIR N [MIN_ACCURACY]\n");
        return 2;
    }
    size_t n = strtoul(argv[4], NULL, 10);
    double min_acc = argc == 6 ? strtod(argv[5], NULL) : 0.95;
    char err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[3], "t10k", &im, &lb, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (n == 0 || n > im.count) {
        fprintf(stderr, "N must be 1..%zu\n", im.count);
        return 2;
    }
    float *want = malloc(n * 10 * sizeof(float));
    FILE *f = fopen(argv[2], "rb");
    if (!want || !f || fread(want, sizeof(float), n * 10, f) != n * 10) {
        fprintf(stderr, "%s: cannot read %zu x 10 floats\n", argv[2], n);
        return 1;
    }
    fclose(f);

    struct dg_keras_model km;
    if (dg_keras_load(argv[1], &km, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct dg_model *m = &km.model;
    if (m->n_out != 10) {
        fprintf(stderr, "%s: %d outputs, expected 10\n", argv[1], m->n_out);
        return 1;
    }
    float *scratch = malloc(dg_engine_scratch_floats(m) * sizeof(float));
    double maxdiff = 0;
    size_t same = 0, correct = 0;
    for (size_t i = 0; scratch && i < n; i++) {
        float x[784], y[10];
        for (int p = 0; p < 784; p++)
            x[p] = im.pixels[i * 784 + p] * (1.0f / 255.0f); /* as digitd-train scales */
        dg_engine_run(m, x, y, scratch);
        for (int c = 0; c < 10; c++) {
            double d = fabs((double)y[c] - want[i * 10 + c]);
            maxdiff = d > maxdiff ? d : maxdiff;
        }
        int be = dg_argmax(y, 10);
        same += be == dg_argmax(want + i * 10, 10);
        correct += be == lb.labels[i];
    }
    double acc = (double)correct / (double)n;
    printf("%zu images: max |engine - trainer| = %.3g (limit %g), same digit %zu/%zu, "
           "accuracy %.4f (limit %.2f)\n",
           n, maxdiff, TOL, same, n, acc, min_acc);
    CHECK(scratch != NULL, "out of memory");
    CHECK(maxdiff <= TOL, "max |engine - trainer| %.3g over %g", maxdiff, TOL);
    CHECK(same == n, "%zu of %zu images give another digit", n - same, n);
    CHECK(acc >= min_acc, "accuracy %.4f below %.2f", acc, min_acc);
    free(scratch), free(want);
    dg_keras_free(&km);
    dg_idx_free_images(&im), dg_idx_free_labels(&lb);
    return failures ? 1 : 0;
}
