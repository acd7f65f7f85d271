/* input_canvas_vs_seed: what our preprocessing gains over the seed app's, offline. MNIST test
 * digits are drawn as a person draws them (worker/input/render.h), once in each style: the
 * scan's own stroke, and its path redrawn with one round pen width as a browser draws a
 * mouse stroke. Each is encoded as PNG, decoded as the worker does, and classified by the
 * compiled-in engine after our preprocessing and after the seed's (resize the whole canvas,
 * invert); plain MNIST is classified too, for reference.
 *   input_canvas_vs_seed MNIST_DIR [N]
 * Checks: every canvas decodes and preprocesses, and ours is right more often than the seed's
 * on each look (dark on white, white on black, transparent) of each style. The canvas
 * accuracy itself, on all 10,000 digits through the real API, is bench_canvas_fcgi's. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engine.h"
#include "idx.h"
#include "input.h"
#include "seed_preprocess.h"
#include "rank.h"
#include "render.h"

/* Per look: how many, right with our preprocessing, right with the seed's. */
struct tally {
    size_t n[3], ours[3], seed[3], bad;
};

static int right(const float x[784], int label)
{
    float prob[DG_N_CLASSES];
    dg_engine_forward(x, prob);
    return dg_argmax(prob, DG_N_CLASSES) == label;
}

static int classify(const uint8_t px[784], int label, const struct dg_render_params *p,
                    const struct dg_input_limits *lim, struct tally *t)
{
    uint8_t *png;
    size_t len;
    struct dg_canvas c;
    float x[784];
    if (dg_render_png(px, p, &png, &len) || dg_png_decode(png, len, lim, &c)) {
        free(png);
        return -1;
    }
    free(png);
    t->n[p->look]++;
    if (dg_preprocess(&c, x, NULL) == DG_INPUT_OK)
        t->ours[p->look] += right(x, label);
    else
        t->bad++;
    dg_preprocess_seed(&c, x);
    t->seed[p->look] += right(x, label);
    free(c.rgba);
    return 0;
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

static void report(const char *style, const struct tally *t)
{
    static const char *const looks[3] = {"dark on white", "white on black", "transparent"};
    size_t n = 0, o = 0, s = 0;
    printf("%s style:\n", style);
    for (int l = 0; l < 3; l++) {
        printf("  %-15s ours %6.2f %%  seed %6.2f %%  (%zu canvases)\n", looks[l],
               pct(t->ours[l], t->n[l]), pct(t->seed[l], t->n[l]), t->n[l]);
        CHECK(t->n[l] > 0, "%s style: no %s canvas among the digits drawn", style, looks[l]);
        CHECK(t->ours[l] > t->seed[l], "%s style, %s: ours (%zu right) is not above the seed's (%zu)",
              style, looks[l], t->ours[l], t->seed[l]);
        n += t->n[l], o += t->ours[l], s += t->seed[l];
    }
    printf("  all             ours %6.2f %%  seed %6.2f %%\n", pct(o, n), pct(s, n));
    CHECK(t->bad == 0, "%s style: %zu canvases not preprocessed", style, t->bad);
}

int main(int argc, char **argv)
{
    char *end = NULL;
    size_t n = argc > 2 ? strtoul(argv[2], &end, 10) : 500;
    if (argc < 2 || argc > 3 || (end && (*end || n == 0))) {
        fprintf(stderr, "usage: input_canvas_vs_seed MNIST_DIR [N (default 500)]\n");
        return 2;
    }
    char err[512];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof err)) {
        fprintf(stderr, "FAIL: %s\n", err);
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
        int failed = classify(px, lb.labels[i], &p, &lim, &scan) ||
                     classify(px, lb.labels[i], &q, &lim, &pen);
        CHECK(!failed, "image %zu: render or decode failed", i);
        float x[784];
        for (int k = 0; k < 784; k++)
            x[k] = px[k] / 255.f;
        raw += right(x, lb.labels[i]);
    }
    printf("model %s, %zu MNIST test digits drawn on a 280x280 canvas in two styles\n",
           dg_engine_model()->name, n);
    report("scan", &scan);
    report("pen", &pen);
    printf("plain MNIST (no canvas): %.2f %%\n", pct(raw, n));
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return failures ? 1 : 0;
}
