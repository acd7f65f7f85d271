/* input_samples: writes a few MNIST test digits as rendered canvas PNGs, with the 28x28
 * our preprocessing and the seed's make of each, to look at (not a test).
 *   input_samples MNIST_DIR OUT_DIR [N [world]]
 * (world: the world-styles series, render.h's dg_render_world_params)
 * OUT_DIR/<i>-canvas.png, <i>-ours.png, <i>-seed.png */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "input.h"
#include "render.h"
#include "seed_preprocess.h"

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f))
        ok = 0;
    if (!ok)
        fprintf(stderr, "%s: cannot write\n", path);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: input_samples MNIST_DIR OUT_DIR [N]\n");
        return 2;
    }
    size_t n = argc > 3 ? strtoul(argv[3], NULL, 10) : 12;
    char path[4096], err[512];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    for (size_t i = 0; i < n && i < im.count; i++) {
        struct dg_render_params p;
        if (argc > 4 && !strcmp(argv[4], "world"))
            dg_render_world_params(1, i, lb.labels[i], &p);
        else
            dg_render_params_for(1, i, DG_STYLE_MIX, &p);
        uint8_t *png;
        size_t len;
        if (dg_render_png(im.pixels + i * 784, &p, &png, &len))
            return 1;
        snprintf(path, sizeof path, "%s/%zu-canvas.png", argv[2], i);
        write_file(path, png, len);
        struct dg_canvas c;
        float x[784];
        uint8_t small[2048];
        struct dg_prep_info info = {0};
        int rc = dg_png_decode(png, len, &lim, &c);
        free(png);
        if (rc)
            return 1;
        rc = dg_preprocess(&c, x, &info);
        printf("%zu: label %d look %d h %.0f thick %.2f pen %.1f mark %d fade %.2f noise %d -> %s polarity %d bbox %u,%u-%u,%u\n",
               i, lb.labels[i], p.look, p.digit_height, p.thickness, p.pen_width, p.mark, p.fade, p.noise, dg_input_strerror(rc),
               info.polarity, info.x0, info.y0, info.x1, info.y1);
        snprintf(path, sizeof path, "%s/%zu-ours.png", argv[2], i);
        write_file(path, small, dg_png_encode_input(x, small, sizeof small));
        dg_preprocess_seed(&c, x);
        snprintf(path, sizeof path, "%s/%zu-seed.png", argv[2], i);
        write_file(path, small, dg_png_encode_input(x, small, sizeof small));
        free(c.rgba);
    }
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return 0;
}
