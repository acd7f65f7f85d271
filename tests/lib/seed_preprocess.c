/* seed_preprocess.c: the seed app's preprocessing (see seed_preprocess.h). */
#include "seed_preprocess.h"

#include <stdlib.h>
#include <string.h>

/* Overlap of source pixel i (spanning [i * s, (i + 1) * s) in output units) with output
 * cell o. */
static double overlap(uint32_t i, int o, double s)
{
    double a = i * s, b = a + s, lo = a > o ? a : o, hi = b < o + 1 ? b : o + 1;
    return hi > lo ? hi - lo : 0;
}

void dg_preprocess_seed(const struct dg_canvas *c, float out[784])
{
    memset(out, 0, 784 * sizeof(float));
    if (!c->rgba || !c->w || !c->h || c->w > 16384 || c->h > 16384)
        return;
    double sx = 28.0 / c->w, sy = 28.0 / c->h, acc[784] = {0};
    for (uint32_t y = 0; y < c->h; y++) {
        int oy = (int)(y * sy), oy1 = (int)((y + 1) * sy);
        for (uint32_t x = 0; x < c->w; x++) {
            const uint8_t *p = c->rgba + ((size_t)y * c->w + x) * 4;
            double grey = (77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8;
            int ox = (int)(x * sx), ox1 = (int)((x + 1) * sx);
            for (int ty = oy; ty <= oy1 && ty < 28; ty++)
                for (int tx = ox; tx <= ox1 && tx < 28; tx++)
                    acc[ty * 28 + tx] += grey * overlap(y, ty, sy) * overlap(x, tx, sx);
        }
    }
    for (int i = 0; i < 784; i++)
        out[i] = (float)(1.0 - acc[i] / 255.0);
}
