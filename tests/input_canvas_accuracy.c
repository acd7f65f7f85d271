/* input_canvas_accuracy: the canvas test set, offline. The MNIST test digits are drawn as a
 * person draws them (bench/render.h), encoded as PNG, decoded and preprocessed as the worker
 * does, and classified by the compiled-in engine; the same PNGs through the seed app's
 * preprocessing are measured for comparison.
 *   input_canvas_accuracy MNIST_DIR [N [MIN_PERCENT]]
 * Fails if our accuracy is below MIN_PERCENT (default 99.0). */
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "idx.h"
#include "input.h"
#include "render.h"

static int argmax(const float *p)
{
    int best = 0;
    for (int i = 1; i < DG_N_CLASSES; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: input_canvas_accuracy MNIST_DIR [N [MIN_PERCENT]]\n");
        return 2;
    }
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
    double min_pct = argc > 3 ? atof(argv[3]) : 99.0;
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
    size_t ours[3] = {0}, seed[3] = {0}, per_look[3] = {0}, raw = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        dg_render_params_for(1, i, &p);
        uint8_t *png;
        size_t len;
        struct dg_canvas c;
        float x[784], prob[DG_N_CLASSES];
        if (dg_render_png(im.pixels + i * 784, &p, &png, &len) ||
            dg_png_decode(png, len, &lim, &c)) {
            fprintf(stderr, "image %zu: render or decode failed\n", i);
            return 1;
        }
        free(png);
        per_look[p.look]++;
        if (dg_preprocess(&c, x, NULL) == DG_INPUT_OK) {
            dg_engine_forward(x, prob);
            ours[p.look] += argmax(prob) == lb.labels[i];
        } else {
            bad++;
        }
        dg_preprocess_seed(&c, x);
        dg_engine_forward(x, prob);
        seed[p.look] += argmax(prob) == lb.labels[i];
        free(c.rgba);
        for (int k = 0; k < 784; k++)
            x[k] = im.pixels[i * 784 + k] / 255.f;
        dg_engine_forward(x, prob);
        raw += argmax(prob) == lb.labels[i];
    }
    static const char *const looks[3] = {"dark on white", "white on black", "transparent"};
    size_t o = 0, s = 0;
    printf("model %s, %zu canvas digits (%zu not preprocessed)\n", dg_engine_model()->name, n, bad);
    for (int l = 0; l < 3; l++) {
        printf("  %-15s ours %6.2f %%  seed %6.2f %%\n", looks[l],
               per_look[l] ? 100.0 * ours[l] / per_look[l] : 0, per_look[l] ? 100.0 * seed[l] / per_look[l] : 0);
        o += ours[l];
        s += seed[l];
    }
    double pct = 100.0 * o / n;
    printf("canvas accuracy: ours %.2f %%, seed preprocessing %.2f %%, plain MNIST %.2f %%\n", pct,
           100.0 * s / n, 100.0 * raw / n);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    if (pct < min_pct) {
        fprintf(stderr, "canvas accuracy %.2f %% is below %.2f %%\n", pct, min_pct);
        return 1;
    }
    return 0;
}
