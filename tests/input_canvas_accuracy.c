/* input_canvas_accuracy: the canvas test sets, offline. The MNIST test digits are drawn as a
 * person draws them (worker/input/render.h), once in each style: the scan's own stroke, and its
 * path redrawn with one round pen width as a browser draws a mouse stroke. Each is encoded
 * as PNG, decoded and preprocessed as the worker does, and classified by the compiled-in
 * engine; the same PNGs through the seed app's preprocessing are measured for comparison.
 *   input_canvas_accuracy MNIST_DIR [N [MIN_SCAN [MIN_PEN]]]
 * Fails if our accuracy is below MIN_SCAN (default 99.0) on the scan-style set or below
 * MIN_PEN (default 98.0) on the pen-style set. */
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "idx.h"
#include "input.h"
#include "render.h"
#include "seed_preprocess.h"

static int argmax(const float *p)
{
    int best = 0;
    for (int i = 1; i < DG_N_CLASSES; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

/* Per look: how many, right with our preprocessing, right with the seed's. */
struct tally {
    size_t n[3], ours[3], seed[3], bad;
};

static int classify(const uint8_t px[784], int label, const struct dg_render_params *p,
                    const struct dg_input_limits *lim, struct tally *t)
{
    uint8_t *png;
    size_t len;
    struct dg_canvas c;
    float x[784], prob[DG_N_CLASSES];
    if (dg_render_png(px, p, &png, &len) || dg_png_decode(png, len, lim, &c)) {
        free(png);
        return -1;
    }
    free(png);
    t->n[p->look]++;
    if (dg_preprocess(&c, x, NULL) == DG_INPUT_OK) {
        dg_engine_forward(x, prob);
        t->ours[p->look] += argmax(prob) == label;
    } else {
        t->bad++;
    }
    dg_preprocess_seed(&c, x);
    dg_engine_forward(x, prob);
    t->seed[p->look] += argmax(prob) == label;
    free(c.rgba);
    return 0;
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

/* Prints the style's figures; returns our accuracy in percent. */
static double report(const char *style, const struct tally *t)
{
    static const char *const looks[3] = {"dark on white", "white on black", "transparent"};
    size_t n = 0, o = 0, s = 0;
    printf("%s style (%zu not preprocessed):\n", style, t->bad);
    for (int l = 0; l < 3; l++) {
        printf("  %-15s ours %6.2f %%  seed %6.2f %%\n", looks[l], pct(t->ours[l], t->n[l]),
               pct(t->seed[l], t->n[l]));
        n += t->n[l], o += t->ours[l], s += t->seed[l];
    }
    printf("  all             ours %6.2f %%  seed %6.2f %%\n", pct(o, n), pct(s, n));
    return pct(o, n);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: input_canvas_accuracy MNIST_DIR [N [MIN_SCAN [MIN_PEN]]]\n");
        return 2;
    }
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
    double min_scan = argc > 3 ? atof(argv[3]) : 99.0, min_pen = argc > 4 ? atof(argv[4]) : 98.0;
    char ipath[4096], lpath[4096], err[512];
    snprintf(ipath, sizeof ipath, "%s/t10k-images-idx3-ubyte.gz", argv[1]);
    snprintf(lpath, sizeof lpath, "%s/t10k-labels-idx1-ubyte.gz", argv[1]);
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_pair(ipath, lpath, &im, &lb, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    n = n < im.count ? n : im.count;
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    struct tally scan = {0}, pen = {0};
    size_t raw = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *px = im.pixels + i * 784;
        struct dg_render_params p, q;
        dg_render_params_for(1, i, DG_STYLE_SCAN, &p);
        dg_render_params_for(1, i, DG_STYLE_PEN, &q);
        if (classify(px, lb.labels[i], &p, &lim, &scan) || classify(px, lb.labels[i], &q, &lim, &pen)) {
            fprintf(stderr, "image %zu: render or decode failed\n", i);
            return 1;
        }
        float x[784], prob[DG_N_CLASSES];
        for (int k = 0; k < 784; k++)
            x[k] = px[k] / 255.f;
        dg_engine_forward(x, prob);
        raw += argmax(prob) == lb.labels[i];
    }
    printf("model %s, %zu MNIST test digits drawn on a 280x280 canvas in two styles\n",
           dg_engine_model()->name, n);
    double s = report("scan", &scan), p = report("pen", &pen);
    printf("canvas accuracy: scan style %.2f %%, pen style %.2f %%; plain MNIST %.2f %%\n", s, p,
           pct(raw, n));
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    int rc = 0;
    if (s < min_scan)
        fprintf(stderr, "scan-style canvas accuracy %.2f %% is below %.2f %%\n", s, min_scan), rc = 1;
    if (p < min_pen)
        fprintf(stderr, "pen-style canvas accuracy %.2f %% is below %.2f %%\n", p, min_pen), rc = 1;
    return rc;
}
