/* input_strokes_path: the stroke path draws the path it was sent, after its simplification.
 * A stroke that doubles back along itself (a 1 drawn up and back down, a bar drawn out and
 * half-way back) has its turn on the line through its two ends: measured to that line, as
 * a plain Douglas-Peucker does, the turn is 0 away and is dropped, and the far part of the
 * stroke with it. Each such stroke, the way back laid at most a pixel beside the way out,
 * must give the 28x28 that the straight stroke from its start to its turn gives: the same
 * ink, the same box.
 *   input_strokes_path */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "strokes.h"

static int to_input(const float *xy, uint32_t n, float out[784])
{
    const uint32_t ends[1] = {n};
    struct dg_strokes s = {.xy = xy, .ends = ends, .n_strokes = 1, .n_points = n,
                           .width = 20.f, .side = 280.f};
    return dg_strokes_to_input(&s, out);
}

/* The largest pixel difference of a and b, b moved by the whole pixels that make it least:
 * the centre of mass places a digit to the pixel, so ink a fraction of a pixel off may move
 * the whole frame by one. */
static float shifted_diff(const float a[784], const float b[784])
{
    float best = INFINITY;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            float worst = 0.f;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) {
                    int sx = x + dx, sy = y + dy;
                    float v = sx >= 0 && sy >= 0 && sx < 28 && sy < 28 ? b[sy * 28 + sx] : 0.f;
                    worst = fmaxf(worst, fabsf(a[y * 28 + x] - v));
                }
            best = fminf(best, worst);
        }
    return best;
}

static float ink(const float x[784])
{
    float m = 0.f;
    for (int i = 0; i < 784; i++)
        m += x[i];
    return m;
}

int main(void)
{
    /* from (40, 240) by (ux, uy) * 200 px and back to fraction `back` of the way, offset
     * `off` px across */
    static const float dirs[3][2] = {{0.f, -1.f}, {1.f, 0.f}, {0.70710678f, -0.70710678f}};
    static const float backs[3] = {0.5f, 0.25f, 0.1f}, offs[3] = {0.f, 0.3f, 1.f};
    for (int d = 0; d < 3; d++)
        for (int b = 0; b < 3; b++)
            for (int o = 0; o < 3; o++) {
                float ux = dirs[d][0], uy = dirs[d][1], len = 200.f;
                float x0 = 40.f, y0 = 240.f, x1 = x0 + ux * len, y1 = y0 + uy * len;
                float ret = len * backs[b]; /* where the way back ends, from the start */
                const float straight[4] = {x0, y0, x1, y1};
                const float doubled[6] = {x0, y0, x1, y1, x0 + ux * ret - uy * offs[o],
                                          y0 + uy * ret + ux * offs[o]};
                float want[784], got[784];
                int rc1 = to_input(straight, 2, want), rc2 = to_input(doubled, 3, got);
                CHECK(rc1 == DG_INPUT_OK && rc2 == DG_INPUT_OK, "direction %d: %d, %d", d, rc1, rc2);
                float worst = shifted_diff(want, got);
                /* the way back only adds ink within a pixel of the way out */
                CHECK(worst < 0.5f && fabsf(ink(got) - ink(want)) < 0.1f * ink(want),
                      "direction %d, back to %g, %g px across: the 28x28 differs from the straight "
                      "stroke's by up to %.3f, ink %.1f against %.1f",
                      d, backs[b], offs[o], worst, ink(got), ink(want));
            }
    if (!failures)
        printf("input_strokes_path: a stroke that doubles back keeps its turn\n");
    return failures ? 1 : 0;
}
