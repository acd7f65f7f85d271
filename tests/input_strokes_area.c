/* input_strokes_area: a stroke request's drawing area (its "side") clips what the page's
 * canvas would not hold, and nothing else, wherever on the canvas the digit is drawn.
 *  1. A drawing whose ink lies inside the area gives the very 28x28 it gives with no area,
 *     at every corner, edge and the middle of the canvas, three sizes, three pens (the plane
 *     starts at the ink box's corner, so the area is square on the page but not on the
 *     plane: its rows and columns are clipped each at their own offset).
 *  2. A drawing that crosses an edge loses what lies beyond it, and the same drawing
 *     mirrored across the diagonal (x and y swapped), crossing the other edge, gives the
 *     mirrored 28x28: rows are clipped as columns are.
 *   input_strokes_area */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "strokes.h"

#define SIDE 280.f

/* A crossed seven in a unit box (y down), two strokes, scaled by size and moved to (x, y);
 * swap: x and y exchanged (mirrored across the diagonal). */
static void seven(float size, float x, float y, int swap, float xy[12])
{
    static const float unit[12] = {0.f, 0.f, 0.7f, 0.f, 0.25f, 1.f, /* top bar, stem */
                                   0.2f, 0.5f, 0.6f, 0.5f};         /* crossbar */
    for (int i = 0; i < 5; i++) {
        float u = x + unit[2 * i] * size, v = y + unit[2 * i + 1] * size;
        xy[2 * i] = swap ? v : u;
        xy[2 * i + 1] = swap ? u : v;
    }
}

static int to_input(const float *xy, float width, float side, float out[784])
{
    static const uint32_t ends[2] = {3, 5};
    struct dg_strokes s = {.xy = xy, .ends = ends, .n_strokes = 2, .n_points = 5,
                           .width = width, .side = side};
    return dg_strokes_to_input(&s, out);
}

/* 1: inside the area, the area changes nothing. */
static void inside(void)
{
    static const float sizes[] = {60.f, 150.f, 190.f}, pens[] = {8.f, 20.f, 32.f};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            float size = sizes[a], pen = pens[b], r = pen / 2 + 1.f;
            /* the ink box: [x - r, x + 0.7 size + r] x [y - r, y + size + r] */
            float xs[3] = {r, (SIDE - 0.7f * size) / 2, SIDE - 0.7f * size - r};
            float ys[3] = {r, (SIDE - size) / 2, SIDE - size - r};
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) {
                    float xy[12], clipped[784], whole[784];
                    seven(size, xs[i], ys[j], 0, xy);
                    int rc1 = to_input(xy, pen, SIDE, clipped), rc2 = to_input(xy, pen, 0.f, whole);
                    CHECK(rc1 == DG_INPUT_OK && rc2 == DG_INPUT_OK,
                          "size %g pen %g at (%g, %g): %d, %d", size, pen, xs[i], ys[j], rc1, rc2);
                    CHECK(!memcmp(clipped, whole, sizeof whole),
                          "size %g pen %g at (%g, %g), inside the area: the area changed the input",
                          size, pen, xs[i], ys[j]);
                }
        }
}

/* 2: across an edge, clipped, and rows as columns. */
static void across(void)
{
    static const float beyond[] = {0.2f, 0.4f}; /* of the drawing past the edge */
    for (int a = 0; a < 2; a++)
        for (int lead = 0; lead < 2; lead++) { /* crossing the far edge, or the near one */
            float size = 150.f, pen = 20.f, along = 40.f + 30.f * (float)lead;
            float over = lead ? SIDE - (1.f - beyond[a]) * 0.7f * size : -beyond[a] * 0.7f * size;
            float xy[12], t[12], out[784], whole[784], mirrored[784];
            seven(size, over, along, 0, xy); /* crossing a vertical edge */
            seven(size, over, along, 1, t);  /* the mirror: crossing a horizontal edge */
            int rc = to_input(xy, pen, SIDE, out) | to_input(xy, pen, 0.f, whole) |
                     to_input(t, pen, SIDE, mirrored);
            CHECK(rc == DG_INPUT_OK, "crossing %g at %g: %d", beyond[a], over, rc);
            CHECK(memcmp(out, whole, sizeof out), "crossing %g at %g: nothing clipped",
                  beyond[a], over);
            float worst = 0.f;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    worst = fmaxf(worst, fabsf(out[y * 28 + x] - mirrored[x * 28 + y]));
            CHECK(worst < 1e-4f, "crossing %g at %g: the mirrored drawing's input differs by %g",
                  beyond[a], over, worst);
        }
}

int main(void)
{
    inside();
    across();
    if (!failures)
        printf("input_strokes_area: the drawing area clips only what lies outside it\n");
    return failures ? 1 : 0;
}
