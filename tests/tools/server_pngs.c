/* server_pngs: writes the first N MNIST test digits as canvas PNGs (worker/input/render.h, varied
 * size, position, thickness and look) for the server's FastCGI tests.
 * usage: server_pngs MNIST_DIR OUT_DIR N   ->  OUT_DIR/<index>_<label>.png */
#include <stdio.h>
#include <stdlib.h>

#include "idx.h"
#include "render.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MNIST_DIR OUT_DIR N\n", argv[0]);
        return 2;
    }
    char err[256];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    size_t n = strtoul(argv[3], NULL, 10);
    for (size_t i = 0; i < n && i < im.count; i++) {
        struct dg_render_params p;
        dg_render_params_for(4, i, DG_STYLE_MIX, &p);
        uint8_t *png;
        size_t len;
        char path[4096];
        snprintf(path, sizeof path, "%s/%zu_%d.png", argv[2], i, lb.labels[i]);
        FILE *f = NULL;
        if (dg_render_png(im.pixels + i * 784, &p, &png, &len) != 0 ||
            !(f = fopen(path, "wb")) || fwrite(png, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "%s: cannot write\n", path);
            return 1;
        }
        free(png);
    }
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return 0;
}
