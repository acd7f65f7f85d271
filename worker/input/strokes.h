/* strokes.h: a drawing sent as pen strokes (the page's vectors) -> the 28x28 model input.
 *
 *   points + pen width --dg_strokes_draw (round pen, pen.h)--> ink plane at the scale the
 *   MNIST recipe needs --dg_preprocess's centring--> 784 floats
 *
 * The strokes are drawn straight at a few times the 20-px box MNIST scales a digit to, so a
 * request never builds a full-size canvas nor decodes one. Coordinates and the pen width are
 * in one unit, whatever the client's (the page's: canvas pixels). */
#ifndef DIGITD_STROKES_H
#define DIGITD_STROKES_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

/* What a request may hold; the parser checks these before anything is drawn. */
#define DG_STROKES_MAX_STROKES 256u
#define DG_STROKES_MAX_POINTS 2048u   /* all strokes together */
#define DG_STROKES_MAX_COORD 16384.f  /* |x|, |y|, the pen width and the side at most this */

struct dg_strokes {
    const float *xy;         /* n_points (x, y) pairs, stroke after stroke */
    const uint32_t *ends;    /* stroke k is points [k ? ends[k - 1] : 0, ends[k]) */
    uint32_t n_strokes, n_points;
    float width;             /* pen width, > 0 */
    float side;              /* > 0: ink outside the drawing area [0, side]^2 is clipped, as
                              * the page's canvas clips it; 0: no area */
};

/* Checks s against the limits above (counts, finite numbers, ranges, ends ascending):
 * DG_INPUT_OK, DG_INPUT_TOO_LARGE (counts) or DG_INPUT_BAD_REQUEST, with *why set. */
int dg_strokes_check(const struct dg_strokes *s, const char **why);

/* Draws the strokes' ink (coverage 0..255, the maximum where strokes cross) on the w x h
 * plane cov, a point (x, y) landing at ((x - ox) * k, (y - oy) * k) and the pen's radius at
 * width / 2 * k: the same geometry at any scale (k = 1, o = 0: the page's canvas). Ink is
 * added with max, so cov must start zeroed. */
void dg_strokes_draw(const struct dg_strokes *s, float k, float ox, float oy, uint8_t *cov,
                     uint32_t w, uint32_t h);

/* Marks in keep the points of the path xy[a..b] (pairs, a <= b) that Douglas-Peucker keeps
 * at tolerance tol after scaling by k: a and b always, and any point further than tol from the
 * chord. A point beyond either end of the chord is as far as that end: a stroke that doubles
 * back along itself (a 1 drawn up and back down) keeps its turn, which is on the chord's
 * line. keep[a + 1 .. b - 1] must start at 0. */
void dg_simplify_path(const float *xy, float k, uint32_t a, uint32_t b, float tol, uint8_t *keep);

/* A checked drawing -> 784 floats, as dg_input_from_png gives for the canvas: no ink (no
 * points, all points on one spot, all outside the area, or an ink box too small to scale
 * in floats), or a tap of the pen alone in the area (dg_is_tap), is DG_INPUT_BLANK. A pen
 * wider than MNIST's thickest strokes at the drawing's scale (DG_MNIST_MAX_WIDTH) draws it
 * at that width. */
int dg_strokes_to_input(const struct dg_strokes *s, float out[784]);

#endif
