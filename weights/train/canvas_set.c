/* canvas_set.c: the validation digits drawn on a canvas (see canvas_set.h). */
#include "canvas_set.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "render.h"

int aug_canvas_set(const uint8_t *in, size_t n, uint64_t seed, int threads, uint8_t *out)
{
    int failed = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16) reduction(| : failed)
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params rp;
        dg_render_params_for(seed, i, DG_STYLE_MIX, &rp);
        size_t side = (size_t)rp.canvas;
        uint8_t *rgba = malloc(side * side * 4);
        struct dg_canvas c = {rgba, (uint32_t)side, (uint32_t)side};
        float x[784] = {0};
        int ok = rgba && dg_render_rgba(in + i * 784, &rp, rgba) == 0;
        if (ok && dg_preprocess(&c, x, NULL) != DG_INPUT_OK)
            memset(x, 0, sizeof x); /* drawn but blank: counts as a wrong answer */
        free(rgba);
        failed |= !ok;
        for (int k = 0; k < 784; k++)
            out[i * 784 + k] = (uint8_t)lrintf(x[k] * 255.f);
    }
    return failed ? -1 : 0;
}
