/* strokes.c: pen strokes -> the model's input (see strokes.h).
 *
 * The drawing's ink box (the path's box widened by the pen's radius) is drawn with its longer
 * side PLANE_BOX pixels long: a few plane pixels for each pixel of the 20-px box MNIST
 * scales a digit to, so that the area averaging that follows still makes the grey edge
 * levels a canvas would. dg_preprocess_ink then does what dg_preprocess does for a canvas
 * (specks, box, centre of mass, scaling) on that plane of a few thousand pixels: it is the
 * ink map a transparent canvas of it would give, so there is no canvas to build or search
 * for a background. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pen.h"
#include "strokes.h"

#define PLANE_BOX 64    /* plane pixels along the ink box's longer side */
#define PLANE_MARGIN 2  /* plane pixels around it: the pen's anti-aliased rim, clear paper */
#define PLANE_REACH 1048576.f /* plane pixels the drawing may span before the area's clip: only
                               * an area a sixteen-thousandth of the drawing comes near it */
#define SIMPLIFY_PX 0.5f /* plane pixels a simplified path may stray from the one sent: a
                         * fraction of a pixel of the 28x28 input (bench/RESULTS.md) */

static int in_range(float v, float lo, float hi)
{
    return v >= lo && v <= hi; /* false for NaN */
}

int dg_strokes_check(const struct dg_strokes *s, const char **why)
{
    if (s->n_strokes > DG_STROKES_MAX_STROKES || s->n_points > DG_STROKES_MAX_POINTS) {
        *why = s->n_strokes > DG_STROKES_MAX_STROKES ? "too many strokes" : "too many points";
        return DG_INPUT_TOO_LARGE;
    }
    *why = "pen width out of range";
    if (!(s->width > 0.f) || !in_range(s->width, 0.f, DG_STROKES_MAX_COORD))
        return DG_INPUT_BAD_REQUEST;
    *why = "side out of range";
    if (!in_range(s->side, 0.f, DG_STROKES_MAX_COORD))
        return DG_INPUT_BAD_REQUEST;
    *why = "malformed strokes";
    for (uint32_t k = 0, prev = 0; k < s->n_strokes; prev = s->ends[k++])
        if (s->ends[k] < prev || s->ends[k] > s->n_points)
            return DG_INPUT_BAD_REQUEST;
    if (s->n_strokes ? s->ends[s->n_strokes - 1] != s->n_points : s->n_points != 0)
        return DG_INPUT_BAD_REQUEST;
    *why = "coordinate out of range";
    for (uint32_t i = 0; i < 2 * s->n_points; i++)
        if (!in_range(s->xy[i], -DG_STROKES_MAX_COORD, DG_STROKES_MAX_COORD))
            return DG_INPUT_BAD_REQUEST;
    *why = NULL;
    return DG_INPUT_OK;
}

/* [lo, hi) of the pixels whose centres may lie within reach of [a, b], inside [0, n). */
static void pixel_span(float a, float b, float reach, uint32_t n, uint32_t *lo, uint32_t *hi)
{
    float l = fminf(a, b) - reach, h = fmaxf(a, b) + reach + 1.f;
    l = l < 0.f ? 0.f : l > (float)n ? (float)n : l;
    h = h < 0.f ? 0.f : h > (float)n ? (float)n : h;
    *lo = (uint32_t)l;
    *hi = (uint32_t)h;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DG_HOT_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define DG_HOT_LOOP
#endif

/* One row of a segment's pixels, x in [x0, x1): branch-free, so that it runs 8 pixels a
 * step (see CMakeLists.txt for the flags it needs). */
DG_HOT_LOOP static void segment_row(uint8_t *row, uint32_t x0, uint32_t x1, float px0, float py,
                                    float dx, float dy, float inv, float r)
{
    for (uint32_t x = x0; x < x1; x++) {
        float px = px0 + (float)(x - x0), t = (px * dx + py * dy) * inv;
        t = t > 0.f ? t : 0.f;
        t = t < 1.f ? t : 1.f;
        float ex = px - t * dx, ey = py - t * dy;
        uint8_t c = (uint8_t)(dg_pen_coverage(sqrtf(ex * ex + ey * ey), r) * 255.f + 0.5f);
        row[x] = c > row[x] ? c : row[x];
    }
}

static inline float min_f(float a, float b)
{
    return a < b ? a : b; /* fminf is a libm call where math may trap */
}

static inline float max_f(float a, float b)
{
    return a > b ? a : b;
}

/* The x interval [*lo, *hi) where row y (pixel centres at yc) meets the capsule of radius
 * R around a-b: the union of the two end discs and the band between them, one interval as
 * the capsule is convex. Returns 0 if the row misses it. */
static int capsule_row(float ax, float ay, float bx, float by, float R, float yc, float *lo,
                       float *hi)
{
    float l = INFINITY, h = -INFINITY, dx = bx - ax, dy = by - ay, len = sqrtf(dx * dx + dy * dy);
    const float ends[2][2] = {{ax, ay}, {bx, by}};
    for (int e = 0; e < 2; e++) {
        float v = yc - ends[e][1], q = R * R - v * v;
        if (q > 0.f)
            l = min_f(l, ends[e][0] - sqrtf(q)), h = max_f(h, ends[e][0] + sqrtf(q));
    }
    if (len > 0.f && dy != 0.f) { /* the band: 0 <= along <= len, |across| < R, linear in x */
        float ux = dx / len, uy = dy / len, v = yc - ay;
        /* along = (x - ax) ux + v uy; across = -(x - ax) uy + v ux */
        float a0 = (v * ux - R) / uy, a1 = (v * ux + R) / uy; /* across = -+R at x - ax = */
        float bl = min_f(a0, a1), bh = max_f(a0, a1);
        if (ux != 0.f) {
            float s0 = -v * uy / ux, s1 = (len - v * uy) / ux; /* along = 0, len */
            bl = max_f(bl, min_f(s0, s1)), bh = min_f(bh, max_f(s0, s1));
        } else if (v * uy < 0.f || v * uy > len) {
            bh = bl - 1.f; /* vertical segment: the row is above or below it */
        }
        if (bh > bl)
            l = min_f(l, ax + bl), h = max_f(h, ax + bh);
    } else if (len > 0.f && fabsf(yc - ay) < R) { /* horizontal segment: the band is ends' hull */
        l = min_f(l, min_f(ax, bx)), h = max_f(h, max_f(ax, bx));
    }
    *lo = l, *hi = h;
    return h > l;
}

/* Pixels [lo, hi) of n whose centres may lie in the plane interval (l, h). */
static void centres_in(float l, float h, uint32_t n, uint32_t *lo, uint32_t *hi)
{
    l = max_f(l - 0.5f, 0.f), h = min_f(h + 0.5f, (float)n);
    *lo = l < h ? (uint32_t)l : 0;
    *hi = l < h ? (uint32_t)ceilf(h) : 0;
    *hi = *hi > n ? n : *hi;
}

/* The round pen of radius r moved from a to b (plane units): each pixel within reach gets
 * the coverage of its centre's distance to the segment, kept if more than it has. Pixels
 * well inside the stroke are full ink without a distance; only the rim is computed. */
static void draw_segment(float ax, float ay, float bx, float by, float r, uint8_t *cov,
                         uint32_t w, uint32_t h)
{
    float reach = r + 0.5f, inner = r - 0.5f - 1e-3f, dx = bx - ax, dy = by - ay;
    float l2 = dx * dx + dy * dy, inv = l2 > 0.f ? 1.f / l2 : 0.f;
    uint32_t y0, y1;
    pixel_span(ay, by, reach, h, &y0, &y1);
    for (uint32_t y = y0; y < y1; y++) {
        float yc = (float)y + 0.5f, ol, oh, il, ih;
        if (!capsule_row(ax, ay, bx, by, reach, yc, &ol, &oh))
            continue;
        uint32_t x0, x1, i0 = 0, i1 = 0;
        centres_in(ol, oh, w, &x0, &x1);
        if (inner > 0.f && capsule_row(ax, ay, bx, by, inner, yc, &il, &ih)) {
            /* centres strictly inside, clamped to [x0, x1] before the conversion, so no
             * scale a caller draws at (dg_strokes_draw takes any k) overflows uint32_t */
            float fl = (float)x0, fh = (float)x1;
            i0 = (uint32_t)min_f(max_f(ceilf(il - 0.5f), fl), fh);
            i1 = (uint32_t)min_f(max_f(floorf(ih - 0.5f) + 1.f, (float)i0), fh);
        } else {
            i0 = i1 = x1;
        }
        uint8_t *row = cov + (size_t)y * w;
        segment_row(row, x0, i0, (float)x0 + 0.5f - ax, yc - ay, dx, dy, inv, r);
        memset(row + i0, 255, i1 - i0);
        segment_row(row, i1, x1, (float)i1 + 0.5f - ax, yc - ay, dx, dy, inv, r);
    }
}

void dg_simplify_path(const float *xy, float k, uint32_t a, uint32_t b, float tol, uint8_t *keep)
{
    keep[a] = keep[b] = 1;
    while (b > a + 1) {
        float ax = xy[2 * a], ay = xy[2 * a + 1], dx = xy[2 * b] - ax, dy = xy[2 * b + 1] - ay;
        float l2 = dx * dx + dy * dy, worst = 0.f;
        uint32_t at = a;
        for (uint32_t i = a + 1; i < b; i++) {
            float px = xy[2 * i] - ax, py = xy[2 * i + 1] - ay, qx = px - dx, qy = py - dy;
            float c = px * dy - py * dx, along = px * dx + py * dy;
            float d2 = l2 <= 0.f || along < 0.f ? px * px + py * py /* before a, or a = b */
                       : along > l2             ? qx * qx + qy * qy /* beyond b */
                                                : c * c / l2;
            if (d2 > worst)
                worst = d2, at = i;
        }
        if (worst * k * k <= tol * tol)
            return;
        keep[at] = 1;
        dg_simplify_path(xy, k, a, at, tol, keep); /* the first half recursively, the second in place */
        a = at;
    }
}

/* Draws the strokes; keep (NULL: every point) names the points to draw through. */
static void draw(const struct dg_strokes *s, const uint8_t *keep, float k, float ox, float oy,
                 uint8_t *cov, uint32_t w, uint32_t h)
{
    float r = s->width / 2 * k;
    for (uint32_t j = 0, first = 0; j < s->n_strokes; first = s->ends[j++]) {
        uint32_t prev = first;
        for (uint32_t i = first; i < s->ends[j]; i++) { /* a one-point stroke is a dot */
            if ((i == first && s->ends[j] - first > 1) || (keep && !keep[i]))
                continue;
            const float *a = s->xy + 2 * (size_t)prev, *b = s->xy + 2 * (size_t)i;
            draw_segment((a[0] - ox) * k, (a[1] - oy) * k, (b[0] - ox) * k, (b[1] - oy) * k, r,
                         cov, w, h);
            prev = i;
        }
    }
}

void dg_strokes_draw(const struct dg_strokes *s, float k, float ox, float oy, uint8_t *cov,
                     uint32_t w, uint32_t h)
{
    draw(s, NULL, k, ox, oy, cov, w, h);
}

struct box {
    float x0, y0, x1, y1;
};

/* The path's box; returns 0 if the drawing has no extent (no points, or one spot). */
static int path_box(const struct dg_strokes *s, struct box *b)
{
    *b = (struct box){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = 0; i < s->n_points; i++) {
        float x = s->xy[2 * i], y = s->xy[2 * i + 1];
        b->x0 = fminf(b->x0, x), b->x1 = fmaxf(b->x1, x);
        b->y0 = fminf(b->y0, y), b->y1 = fmaxf(b->y1, y);
    }
    return s->n_points && (b->x1 > b->x0 || b->y1 > b->y0);
}

/* Pixels [*lo, *hi) of n whose centres lie in [a, b], exactly (centres_in may take more):
 * an interval, since centres increase with the index. */
static void centres_within(float a, float b, uint32_t n, uint32_t *lo, uint32_t *hi)
{
    uint32_t i = 0;
    while (i < n && (float)i + 0.5f < a)
        i++;
    *lo = i;
    while (i < n && !((float)i + 0.5f > b))
        i++;
    *hi = i;
}

/* Zeroes the plane's pixels whose centres lie outside the drawing area, columns [xl, xh]
 * and rows [yl, yh] (plane units: the area is square on the page, not on the plane, whose
 * origin is the ink box's corner), as the canvas never holds them: whole rows and the ends
 * of the others, not a test per pixel. */
static void clip_area(uint8_t *cov, uint32_t w, uint32_t h, float xl, float xh, float yl,
                      float yh)
{
    uint32_t x0, x1, y0, y1;
    centres_within(xl, xh, w, &x0, &x1);
    centres_within(yl, yh, h, &y0, &y1);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *row = cov + (size_t)y * w;
        if (y < y0 || y >= y1) {
            memset(row, 0, w);
        } else {
            memset(row, 0, x0);
            memset(row + x1, 0, w - x1);
        }
    }
}

/* The pen width the drawing is drawn with: the request's, but at most MNIST's thickest
 * strokes at the digit's scale. The path's longer side L and the pen make an ink box of
 * L + w, scaled to DG_MNIST_BOX, where the stroke is w DG_MNIST_BOX / (L + w) wide: at most
 * DG_MNIST_MAX_WIDTH for w <= L MAX / (BOX - MAX) (path: L). A small digit drawn with the
 * page's pen is otherwise a blob whose loops are closed; its path is here to draw it again. */
static float mnist_pen(float width, float path)
{
    float most = path * DG_MNIST_MAX_WIDTH / ((float)DG_MNIST_BOX - DG_MNIST_MAX_WIDTH);
    return width < most ? width : most;
}

int dg_strokes_to_input(const struct dg_strokes *request, float out[784])
{
    memset(out, 0, 784 * sizeof(float));
    struct box b;
    if (!path_box(request, &b))
        return DG_INPUT_BLANK;
    /* a small mark of a wide pen, alone in the drawing area, is a tap, as on a canvas */
    float path = fmaxf(b.x1 - b.x0, b.y1 - b.y0), pen = request->width;
    if (request->side > 0.f && dg_is_tap(path + pen, request->side, pen))
        return DG_INPUT_BLANK;
    struct dg_strokes drawn = *request, *s = &drawn;
    drawn.width = mnist_pen(pen, path);
    float r = s->width / 2;
    b.x0 -= r, b.y0 -= r, b.x1 += r, b.y1 += r;
    float whole = fmaxf(b.x1 - b.x0, b.y1 - b.y0); /* before the area's clip */
    if (s->side > 0.f) {
        b.x0 = fmaxf(b.x0, 0.f), b.y0 = fmaxf(b.y0, 0.f);
        b.x1 = fminf(b.x1, s->side), b.y1 = fminf(b.y1, s->side);
        if (!(b.x1 > b.x0 && b.y1 > b.y0))
            return DG_INPUT_BLANK;
    }
    /* The whole drawing, clipped ink and pen included, spans at most PLANE_REACH plane
     * pixels, so every plane coordinate is a finite float whatever the units. A box too
     * small for its scale to be a float (below about 1e-37 units) is blank at any scale. */
    float k = fminf(PLANE_BOX / fmaxf(b.x1 - b.x0, b.y1 - b.y0), PLANE_REACH / whole);
    if (!(k < INFINITY))
        return DG_INPUT_BLANK;
    float ox = b.x0 - PLANE_MARGIN / k, oy = b.y0 - PLANE_MARGIN / k;
    uint32_t w = (uint32_t)ceilf((b.x1 - b.x0) * k) + 2 * PLANE_MARGIN;
    uint32_t h = (uint32_t)ceilf((b.y1 - b.y0) * k) + 2 * PLANE_MARGIN;
    w = w > PLANE_BOX + 2 * PLANE_MARGIN + 1 ? PLANE_BOX + 2 * PLANE_MARGIN + 1 : w;
    h = h > PLANE_BOX + 2 * PLANE_MARGIN + 1 ? PLANE_BOX + 2 * PLANE_MARGIN + 1 : h;
    size_t n = (size_t)w * h;
    /* the ink plane, the points kept */
    uint8_t *mem = calloc(n + s->n_points, 1);
    if (!mem)
        return DG_INPUT_NOMEM;
    uint8_t *cov = mem, *keep = mem + n;
    /* A pointer reports a point every few pixels; on the plane, a path that stays within
     * SIMPLIFY_PX of the drawn one looks the same at a fraction of the segments. */
    for (uint32_t j = 0, first = 0; j < s->n_strokes; first = s->ends[j++])
        if (s->ends[j] > first)
            dg_simplify_path(s->xy, k, first, s->ends[j] - 1, SIMPLIFY_PX, keep);
    draw(s, keep, k, ox, oy, cov, w, h);
    if (s->side > 0.f)
        clip_area(cov, w, h, -ox * k, (s->side - ox) * k, -oy * k, (s->side - oy) * k);
    int rc = dg_preprocess_ink(cov, w, h, out, NULL);
    free(mem);
    return rc;
}
