/* digitd-eval: runs the compiled-in model over an MNIST IDX pair and prints the accuracy,
 * each class's, the confusion matrix, the median batch-1 latency and the kernel set used.
 * usage: digitd-eval IMAGES LABELS [--probs FILE] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "engine.h"
#include "eval_report.h"
#include "idx.h"
#include "rank.h"

#define TIMING_BATCH 100   /* images per timed batch; the median over batches is reported */
#define TIMING_IMAGES 2000 /* the first this many images are timed ... */
#define TIMING_ROUNDS 5    /* ... this many times over */

/* Median us/image over batches of TIMING_BATCH single-image calls; -1 if out of memory. */
static double median_us(const float *x, size_t n)
{
    n = n < TIMING_IMAGES ? n : TIMING_IMAGES;
    size_t batches = (n + TIMING_BATCH - 1) / TIMING_BATCH * TIMING_ROUNDS, k = 0;
    double *t = calloc(batches, sizeof *t), med;
    float probs[DG_N_CLASSES];
    if (!t)
        return -1;
    for (int r = 0; r < TIMING_ROUNDS; r++)
        for (size_t b = 0; b < n; b += TIMING_BATCH) {
            size_t len = n - b < TIMING_BATCH ? n - b : TIMING_BATCH;
            int64_t t0 = dg_now_ns();
            for (size_t i = 0; i < len; i++)
                dg_engine_forward(x + (b + i) * DG_INPUT_PIXELS, probs);
            t[k++] = (double)(dg_now_ns() - t0) / 1e3 / (double)len;
        }
    med = dg_median(t, k);
    free(t);
    return med;
}

int main(int argc, char **argv)
{
    const char *probs_path = NULL, *paths[2] = { NULL, NULL };
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    char err[1024];
    int np = 0, rc = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--probs") == 0 && i + 1 < argc)
            probs_path = argv[++i];
        else if (argv[i][0] != '-' && np < 2)
            paths[np++] = argv[i];
        else
            np = 3;
    }
    if (np != 2) {
        fprintf(stderr, "usage: digitd-eval IMAGES LABELS [--probs FILE]\n");
        return 2;
    }
    if (dg_idx_load_pair(paths[0], paths[1], &im, &lb, err, sizeof err) != 0) {
        fprintf(stderr, "digitd-eval: %s\n", err);
        return 1;
    }
    if (im.rows != DG_INPUT_H || im.cols != DG_INPUT_W) {
        fprintf(stderr, "%s: images are %dx%d, the model takes %dx%d\n", paths[0], im.rows,
                im.cols, DG_INPUT_H, DG_INPUT_W);
        goto out;
    }
    float *x = NULL, *probs = NULL;
    if (im.count <= SIZE_MAX / sizeof(float) / DG_INPUT_PIXELS) {
        x = malloc(im.count * DG_INPUT_PIXELS * sizeof *x);
        probs = malloc(im.count * DG_N_CLASSES * sizeof *probs);
    }
    if (!x || !probs) {
        fprintf(stderr, "%s: %zu images: out of memory\n", paths[0], im.count);
        goto out_free;
    }
    for (size_t i = 0; i < im.count * DG_INPUT_PIXELS; i++)
        x[i] = im.pixels[i] / 255.0f; /* model scale: 0..1, ink = 1 */
    dg_engine_forward_batch(x, im.count, probs);
    dg_eval_report(&lb, probs, NULL);
    printf("median: %.2f us/image (batch 1, isa %s)\n", median_us(x, im.count), dg_engine_isa());
    rc = probs_path && dg_eval_write_probs(probs_path, probs, im.count) != 0;
out_free:
    free(x);
    free(probs);
out:
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return rc;
}
