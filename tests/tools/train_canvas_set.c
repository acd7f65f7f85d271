/* train_canvas_set.c: the canvas test set as IDX files, for measuring what augmentation
 * does (digitd-train --extra-eval DIR). Each MNIST test digit is drawn on a canvas
 * (worker/input/render.h), encoded as PNG, decoded and preprocessed exactly as the worker does
 * (worker/input/input.h), and the 28x28 the model would see is stored (rounded to 8 bits).
 *   train_canvas_set MNIST_DIR OUT_DIR [N] [--pen|--world] [--train] [--seed-preprocess]
 * writes OUT_DIR/images-idx3-ubyte and OUT_DIR/labels-idx1-ubyte (OUT_DIR made if missing).
 * --seed-preprocess uses the seed app's preprocessing instead (resize the whole canvas), for
 * comparison; --pen draws the pen style (render.h) instead of the scan's own stroke, --world
 * the world-styles series (render.h's dg_render_world_params). --train draws the first N
 * *training* digits instead, with the same series: material to decide preprocessing rules
 * on, so that the test split only checks them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h"
#include "input.h"
#include "render.h"
#include "seed_preprocess.h"

static int write_be32(FILE *f, unsigned v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static int write_idx(const char *path, unsigned magic, const unsigned *dims, int nd,
                     const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int bad = !f || write_be32(f, magic);
    for (int i = 0; !bad && i < nd; i++)
        bad = write_be32(f, dims[i]);
    bad = bad || fwrite(data, 1, n, f) != n;
    if (f && fclose(f))
        bad = 1;
    if (bad)
        perror(path);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: train_canvas_set MNIST_DIR OUT_DIR [N] [--pen|--world] [--train] [--seed-preprocess]\n");
        return 2;
    }
    if (mkdir(argv[2], 0777) != 0 && errno != EEXIST) { /* before a minute of drawing */
        fprintf(stderr, "train_canvas_set: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    dg_input_heap_setup(); /* a canvas drawn and decoded per digit */
    size_t limit = argc > 3 && argv[3][0] != '-' ? strtoul(argv[3], NULL, 10) : 0;
    int seed_prep = 0, pen = 0, world = 0, train = 0;
    for (int a = 3; a < argc; a++)
        seed_prep |= !strcmp(argv[a], "--seed-preprocess"), pen |= !strcmp(argv[a], "--pen"),
        world |= !strcmp(argv[a], "--world"), train |= !strcmp(argv[a], "--train");
    char ip[4096], lp[4096], err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], train ? "train" : "t10k", &im, &lb, err, sizeof(err))) {
        fprintf(stderr, "train_canvas_set: %s\n", err);
        return 1;
    }
    size_t n = limit && limit < im.count ? limit : im.count, blank = 0;
    unsigned char *out = calloc(n, 784);
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    for (size_t i = 0; out && i < n; i++) {
        struct dg_render_params p;
        uint8_t *png;
        size_t len;
        float x[784];
        if (world)
            dg_render_world_params(1, i, lb.labels[i], &p);
        else
            dg_render_params_for(1, i, pen ? DG_STYLE_PEN : DG_STYLE_SCAN, &p);
        if (dg_render_png(im.pixels + i * 784, &p, &png, &len)) {
            fprintf(stderr, "train_canvas_set: render failed for image %zu\n", i);
            return 1;
        }
        struct dg_canvas c;
        int rc = dg_png_decode(png, len, &lim, &c);
        if (rc == DG_INPUT_OK) {
            if (seed_prep)
                dg_preprocess_seed(&c, x);
            else
                rc = dg_preprocess(&c, x, NULL);
            free(c.rgba);
        }
        free(png);
        if (rc != DG_INPUT_OK) {
            blank++;
            memset(x, 0, sizeof(x));
        }
        for (int k = 0; k < 784; k++)
            out[i * 784 + k] = (unsigned char)lrintf(fminf(fmaxf(x[k], 0.0f), 1.0f) * 255.0f);
    }
    unsigned idims[3] = {(unsigned)n, 28, 28}, ldims[1] = {(unsigned)n};
    snprintf(ip, sizeof(ip), "%s/images-idx3-ubyte", argv[2]);
    snprintf(lp, sizeof(lp), "%s/labels-idx1-ubyte", argv[2]);
    int rc = !out || write_idx(ip, 0x803, idims, 3, out, n * 784) ||
             write_idx(lp, 0x801, ldims, 1, lb.labels, n);
    if (!rc)
        fprintf(stderr, "train_canvas_set: %zu canvas digits of the %s split (%s preprocessing, "
                "%zu unreadable) in %s\n", n, train ? "training" : "test",
                seed_prep ? "seed" : "MNIST", blank, argv[2]);
    free(out);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return rc ? 1 : 0;
}
