/* input_strokes_scale: a drawn digit reads the same whatever its size on the page and
 * whichever pen the page's slider gives (8 to 40 px). Each of the first N MNIST test digits
 * is traced into strokes once (pen style, sketch.h), then scaled so that its path's longer
 * side spans each case's sizes (canvas px, varied per digit), placed on the page's 280 px
 * area and drawn with the case's pen, and read through the stroke path, or with --png as
 * the page's PNG of the same strokes (dg_input_from_png). Small digits of a wide pen are
 * where a drawing loses its loops (an 8 or a 9 a blob): each case must reach MIN %.
 *   input_strokes_scale MNIST_DIR N MIN [--png] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine.h"
#include "idx.h"
#include "rank.h"
#include "sketch.h"

struct scale_case {
    float lo, hi, pen; /* the path's longer side from lo to hi px, the pen's width */
    size_t right, blank;
};

/* Sketch sk's strokes with their path's longer side `size` px, centred on the page, into xy
 * (room for sk's points); s describes them. */
static void scaled(const struct dg_sketch *sk, float size, float pen, float *xy,
                   struct dg_strokes *s)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (uint32_t i = 0; i < sk->s.n_points; i++) {
        x0 = fminf(x0, sk->s.xy[2 * i]), x1 = fmaxf(x1, sk->s.xy[2 * i]);
        y0 = fminf(y0, sk->s.xy[2 * i + 1]), y1 = fmaxf(y1, sk->s.xy[2 * i + 1]);
    }
    float k = size / fmaxf(fmaxf(x1 - x0, y1 - y0), 1.f), page = sk->s.side;
    for (uint32_t i = 0; i < sk->s.n_points; i++) {
        xy[2 * i] = page / 2 + (sk->s.xy[2 * i] - (x0 + x1) / 2) * k;
        xy[2 * i + 1] = page / 2 + (sk->s.xy[2 * i + 1] - (y0 + y1) / 2) * k;
    }
    *s = sk->s;
    s->xy = xy;
    s->width = pen;
}

/* The drawing's 28x28 through the stroke path, or through the PNG path as the page's PNG. */
static int read_drawing(const struct dg_strokes *s, int png, const struct dg_input_limits *lim,
                        float x[784])
{
    if (!png)
        return dg_strokes_to_input(s, x);
    uint8_t *bytes;
    size_t len;
    if (dg_sketch_page_png(s, (uint32_t)s->side, &bytes, &len))
        return DG_INPUT_NOMEM;
    int rc = dg_input_from_png(bytes, len, lim, x, NULL);
    free(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: input_strokes_scale MNIST_DIR N MIN [--png]\n");
        return 2;
    }
    size_t n = strtoul(argv[2], NULL, 10);
    double min = atof(argv[3]);
    int png = argc > 4 && !strcmp(argv[4], "--png");
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    char err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    n = n < im.count ? n : im.count;
    /* the page's default pen on small and middling digits, its widest and narrowest pens */
    struct scale_case cases[] = {{40, 60, 20, 0, 0}, {60, 90, 20, 0, 0}, {150, 220, 20, 0, 0},
                                 {60, 120, 40, 0, 0}, {25, 40, 8, 0, 0}};
    const size_t n_cases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        struct dg_sketch sk;
        dg_render_params_for(1, i, DG_STYLE_PEN, &p);
        if (dg_sketch_digit(im.pixels + i * 784, &p, &sk)) {
            fprintf(stderr, "digit %zu: tracing failed\n", i);
            return 1;
        }
        float *xy = malloc(2 * sizeof(float) * sk.s.n_points);
        for (size_t c = 0; xy && c < n_cases; c++) {
            struct scale_case *sc = &cases[c];
            float size = sc->lo + (sc->hi - sc->lo) * (float)((i * 7919) % 1000) / 1000.f;
            struct dg_strokes s;
            float x[784], prob[DG_N_CLASSES];
            scaled(&sk, size, sc->pen, xy, &s);
            if (read_drawing(&s, png, &lim, x) != DG_INPUT_OK) {
                sc->blank++;
                continue;
            }
            dg_engine_forward(x, prob);
            sc->right += dg_argmax(prob, DG_N_CLASSES) == lb.labels[i];
        }
        CHECK(xy, "out of memory");
        free(xy);
        dg_sketch_free(&sk);
    }
    for (size_t c = 0; c < n_cases; c++) {
        const struct scale_case *sc = &cases[c];
        double acc = 100.0 * (double)sc->right / (double)n;
        printf("%zu test digits %g-%g px with a %g px pen, as %s: %.2f %% right (%zu blank)\n",
               n, sc->lo, sc->hi, sc->pen, png ? "the page's PNG" : "strokes", acc, sc->blank);
        CHECK(acc >= min, "%g-%g px with a %g px pen: %.2f %% < %.2f %%", sc->lo, sc->hi,
              sc->pen, acc, min);
    }
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return failures ? 1 : 0;
}
