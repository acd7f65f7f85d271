/* render.c: an MNIST scan redrawn as a pen stroke on a web canvas (see render.h).
 *
 * The 28x28 grey scan is enlarged with a cubic filter into a smooth field; thresholding
 * that field gives the stroke's shape (a lower threshold, a thicker pen), and the distance
 * to the threshold in units of the field's local gradient gives a one-pixel anti-aliased
 * edge, as a canvas draws it.
 *
 * The pen style goes one step further, towards what a browser's round-capped lineTo makes:
 * the thresholded shape is thinned to its one-pixel skeleton (the path the pen took), and
 * every pixel is inked by its distance to that path, so the stroke has one width
 * everywhere, whatever the scan's pen pressure was. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edt.h"
#include "pen.h"
#include "png_encode.h"
#include "render.h"
#include "rng.h"

#define SCAN 28
#define MARGIN 4.f /* canvas pixels kept free around the digit */
#define PATH_LEVEL 0.45f /* the pen style's path: the skeleton of the field's shape at this level */

/* Uniform in [lo, hi) from 24 bits of h starting at bit shift. */
static float uniform(uint64_t h, int shift, float lo, float hi)
{
    return lo + (hi - lo) * (float)((h >> shift) & 0xffffff) / 16777216.f;
}

void dg_render_params_for(uint64_t seed, size_t index, enum dg_render_style style,
                          struct dg_render_params *p)
{
    uint64_t h = dg_splitmix64(dg_splitmix64(seed) ^ (uint64_t)index);
    uint64_t h2 = dg_splitmix64(h);
    *p = (struct dg_render_params){.canvas = 280}; /* no mark, full ink */
    p->digit_height = uniform(h, 0, 90.f, 230.f);
    p->thickness = uniform(h, 24, 0.65f, 1.8f);
    if (style == DG_STYLE_MIX)
        style = (h2 >> 60) & 1 ? DG_STYLE_PEN : DG_STYLE_SCAN;
    /* the page's stroke slider spans 8 to 40 px, 20 by default; log-uniform 8..32 */
    p->pen_width = style == DG_STYLE_PEN ? 8.f * expf(uniform(dg_splitmix64(h2), 0, 0.f, logf(4.f))) : 0.f;
    float half = p->digit_height / 2 + 8.f;
    p->cx = uniform(h2, 0, half, 280.f - half);
    p->cy = uniform(h2, 24, half, 280.f - half);
    p->look = (enum dg_render_look)((index + seed) % 3);
    p->noise = (h2 >> 48) % 3 == 0 ? 1 + (int)((h2 >> 52) & 1) : 0;
}

/* Mitchell-Netravali cubic (B = C = 1/3): smooth, little ringing. */
static float cubic(float x)
{
    x = fabsf(x);
    if (x < 1.f)
        return (7.f * x * x * x - 12.f * x * x + 16.f / 3.f) / 6.f;
    if (x < 2.f)
        return (-7.f / 3.f * x * x * x + 12.f * x * x - 20.f * x + 32.f / 3.f) / 6.f;
    return 0.f;
}

/* The 4 taps of the cubic at (fractional) scan index u along one axis: the scan's indices
 * i0 + lo .. i0 + hi - 1 (outside the scan is 0) and their weights. One set serves a whole
 * row or column of the canvas, which all sample the scan at the same u. */
struct taps {
    int i0, lo, hi;
    float w[4];
};

static struct taps taps_at(float u)
{
    struct taps t = {(int)floorf(u) - 1, 4, 0, {0.f}};
    for (int k = 0; k < 4; k++)
        if (t.i0 + k >= 0 && t.i0 + k < SCAN) {
            t.w[k] = cubic(u - (float)(t.i0 + k));
            t.lo = k < t.lo ? k : t.lo;
            t.hi = k + 1;
        }
    return t;
}

/* The scan's value at the taps' u, from v (scan index i at v[i * stride]). */
static float sample1(const float *v, int stride, const struct taps *t)
{
    float s = 0.f;
    for (int k = t->lo; k < t->hi; k++)
        s += t->w[k] * v[(t->i0 + k) * stride];
    return s;
}

struct box { int x0, y0, x1, y1; };

/* The box [x0, x1) x [y0, y1) of m's non-zero pixels (rows `side` apart), all of which lie
 * in `in`; empty: x1 <= x0. */
static struct box mask_box(const uint8_t *m, int side, struct box in)
{
    struct box b = {side, side, 0, 0};
    for (int y = in.y0; y < in.y1; y++)
        for (int x = in.x0; x < in.x1; x++)
            if (m[(size_t)y * side + x]) {
                b.x0 = x < b.x0 ? x : b.x0;
                b.y0 = y < b.y0 ? y : b.y0;
                b.x1 = x + 1 > b.x1 ? x + 1 : b.x1;
                b.y1 = y + 1 > b.y1 ? y + 1 : b.y1;
            }
    return b;
}

/* b widened by e on each side, within [0, side). */
static struct box widen(struct box b, int e, int side)
{
    b.x0 = b.x0 - e > 0 ? b.x0 - e : 0;
    b.y0 = b.y0 - e > 0 ? b.y0 - e : 0;
    b.x1 = b.x1 + e < side ? b.x1 + e : side;
    b.y1 = b.y1 + e < side ? b.y1 + e : side;
    return b;
}

/* The scan's ink box; the whole scan when it has no ink. */
static struct box scan_bbox(const uint8_t *px)
{
    struct box b = mask_box(px, SCAN, (struct box){0, 0, SCAN, SCAN});
    return b.x1 > b.x0 ? b : (struct box){0, 0, SCAN, SCAN};
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Keeps [c - half, c + half] on the canvas. */
static float fit(float c, float half, float side)
{
    if (c - half < MARGIN)
        c = MARGIN + half;
    if (c + half > side - MARGIN)
        c = side - MARGIN - half;
    return c;
}

/* Where the scan lands on the canvas: scan coordinate u (pixel i spans [i, i + 1)) is canvas
 * coordinate cx + (warp^-1(u) - scx) * k, and likewise for y; warp (ax, ay) keeps the box. */
struct placement {
    struct box b;
    float bw, bh, k, cx, cy, scx, scy, ax, ay;
};

/* The proportions' warp of the box's span [lo, lo + len): t = (u - lo) / len goes to
 * t + a t (1 - t), whose slope is 1 + a at the box's start and 1 - a at its end, and on
 * outside the box with those slopes; increasing for |a| < 1. warp_back is its inverse. */
static float warp(float u, float lo, float len, float a)
{
    float t = (u - lo) / len;
    t = t < 0.f ? (1.f + a) * t : t > 1.f ? 1.f + (1.f - a) * (t - 1.f) : t + a * t * (1.f - t);
    return lo + t * len;
}

static float warp_back(float u, float lo, float len, float a)
{
    float s = (u - lo) / len;
    if (s < 0.f)
        s /= 1.f + a;
    else if (s > 1.f)
        s = 1.f + (s - 1.f) / (1.f - a);
    else if (fabsf(a) > 1e-6f)
        s = (1.f + a - sqrtf((1.f + a) * (1.f + a) - 4.f * a * s)) / (2.f * a);
    return lo + s * len;
}

static struct placement place_scan(const uint8_t *px, const struct dg_render_params *p)
{
    struct placement q;
    int side = p->canvas;
    q.b = scan_bbox(px);
    float bw = (float)(q.b.x1 - q.b.x0), bh = (float)(q.b.y1 - q.b.y0);
    float k = p->digit_height / bh;                    /* canvas px per scan px */
    float room = (float)side - 2.f * MARGIN;
    if ((bw + 2.f) * k > room) k = room / (bw + 2.f);  /* +2: the stroke may reach a scan */
    if ((bh + 2.f) * k > room) k = room / (bh + 2.f);  /* pixel beyond the box each side */
    q.bw = bw, q.bh = bh, q.k = k;
    q.cx = fit(p->cx, (bw / 2 + 1.f) * k, (float)side);
    q.cy = fit(p->cy, (bh / 2 + 1.f) * k, (float)side);
    q.scx = (float)(q.b.x0 + q.b.x1) / 2, q.scy = (float)(q.b.y0 + q.b.y1) / 2;
    q.ax = clampf(p->warp_x, -DG_RENDER_MAX_WARP, DG_RENDER_MAX_WARP);
    q.ay = clampf(p->warp_y, -DG_RENDER_MAX_WARP, DG_RENDER_MAX_WARP);
    return q;
}

/* The smooth field on the canvas, field = side * side floats. Returns the box outside which
 * it is 0, which the passes over the field keep to. */
static struct box enlarge(const uint8_t *px, const struct dg_render_params *p, float *field)
{
    int side = p->canvas;
    struct placement q = place_scan(px, p);
    float bw = q.bw, bh = q.bh, k = q.k, cx = q.cx, cy = q.cy, scx = q.scx, scy = q.scy;
    float ux = (float)q.b.x0, uy = (float)q.b.y0;

    float v[SCAN * SCAN];
    for (int i = 0; i < SCAN * SCAN; i++)
        v[i] = px[i] / 255.f;
    float rows[SCAN * 512]; /* horizontal pass: each scan row at the canvas columns */
    /* the scan's ink and its filter's reach, 2 scan px beyond the box, which the warp draws
     * up to 1 / (1 - |a|) as wide on the canvas */
    float mx = 2.f / (1.f - fabsf(q.ax)), my = 2.f / (1.f - fabsf(q.ay));
    int x0 = (int)floorf(cx - (bw / 2 + mx) * k), x1 = (int)ceilf(cx + (bw / 2 + mx) * k);
    int y0 = (int)floorf(cy - (bh / 2 + my) * k), y1 = (int)ceilf(cy + (bh / 2 + my) * k);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > side ? side : x1;
    y1 = y1 > side ? side : y1;
    memset(field, 0, (size_t)side * side * sizeof(float));
    for (int x = x0; x < x1; x++) {
        /* scan pixel i's centre is i + 0.5 */
        struct taps t = taps_at(warp(((float)x + 0.5f - cx) / k + scx, ux, bw, q.ax) - 0.5f);
        for (int r = 0; r < SCAN; r++)
            rows[r * 512 + (x - x0)] = sample1(v + r * SCAN, 1, &t);
    }
    for (int y = y0; y < y1; y++) {
        struct taps t = taps_at(warp(((float)y + 0.5f - cy) / k + scy, uy, bh, q.ay) - 0.5f);
        float *out = field + (size_t)y * side + x0;
        if (t.lo == 0 && t.hi == 4) { /* inside the scan: the same sums, across columns at once */
            const float *r0 = rows + t.i0 * 512, *r1 = r0 + 512, *r2 = r1 + 512, *r3 = r2 + 512;
            for (int x = 0; x < x1 - x0; x++) {
                float s = 0.f;
                s += t.w[0] * r0[x];
                s += t.w[1] * r1[x];
                s += t.w[2] * r2[x];
                s += t.w[3] * r3[x];
                out[x] = s;
            }
        } else {
            for (int x = x0; x < x1; x++)
                out[x - x0] = sample1(rows + (x - x0), 512, &t);
        }
    }
    return (struct box){x0, y0, x1, y1};
}

/* Pen coverage 0..1 of each pixel: threshold t with an edge one pixel wide. Outside the
 * field's box fb, widened by the pixel its gradient reaches, the field and its gradient are
 * 0, below any t: no ink. */
static void stroke(const float *f, int side, float t, struct box fb, uint8_t *cov)
{
    memset(cov, 0, (size_t)side * side);
    fb = widen(fb, 1, side);
    for (int y = fb.y0; y < fb.y1; y++) {
        for (int x = fb.x0; x < fb.x1; x++) {
            size_t i = (size_t)y * side + x;
            float gx = (f[i + (x + 1 < side)] - f[i - (x > 0)]) / (float)(1 + (x > 0 && x + 1 < side));
            float gy = (f[i + (y + 1 < side ? side : 0)] - f[i - (y > 0 ? side : 0)]) /
                       (float)(1 + (y > 0 && y + 1 < side));
            float g = sqrtf(gx * gx + gy * gy);
            float d = (f[i] - t) / (g > 1e-4f ? g : 1e-4f) + 0.5f; /* signed distance, px */
            d = d < 0.f ? 0.f : d > 1.f ? 1.f : d;
            cov[i] = (uint8_t)(d * 255.f + 0.5f);
        }
    }
}

/* Whether Zhang-Suen's sub-iteration (second: the second one) removes ink pixel c of a mask
 * with rows `side` apart: a contour pixel whose removal keeps the shape connected. */
static int thin_removes(const uint8_t *c, int side, int second)
{
    /* neighbours clockwise from north: p2 .. p9 */
    int p[8] = {c[-side], c[-side + 1], c[1], c[side + 1], c[side], c[side - 1], c[-1], c[-side - 1]};
    int n = 0, a = 0;
    for (int k = 0; k < 8; k++)
        n += p[k], a += !p[k] && p[(k + 1) % 8];
    if (n < 2 || n > 6 || a != 1)
        return 0;
    return second ? !((p[0] && p[2] && p[6]) || (p[0] && p[4] && p[6]))
                  : !((p[0] && p[2] && p[4]) || (p[2] && p[4] && p[6]));
}

/* The contour pixels thinning looks at: list[0..len) (indices into the mask), listed[i]
 * whether i is on it; del: room for the pixels a sub-iteration removes. */
struct contour {
    uint32_t *list, *del;
    uint8_t *listed;
    size_t len;
};

/* One Zhang-Suen sub-iteration over the contour of mask m (rows `side` apart): decides for
 * every listed pixel on the mask as it is, then removes, then lists the ink around what went
 * (the only pixels that can have joined the contour). Returns whether any pixel went. */
static int thin_step(uint8_t *m, int side, struct contour *c, int second)
{
    size_t nd = 0, kept = 0;
    for (size_t k = 0; k < c->len; k++)
        if (thin_removes(m + c->list[k], side, second))
            c->del[nd++] = c->list[k];
    for (size_t k = 0; k < nd; k++)
        m[c->del[k]] = 0, c->listed[c->del[k]] = 0;
    for (size_t k = 0; k < c->len; k++)
        if (m[c->list[k]])
            c->list[kept++] = c->list[k];
    c->len = kept;
    const long off[8] = {-side - 1, -side, -side + 1, -1, 1, side - 1, side, side + 1};
    for (size_t k = 0; k < nd; k++)
        for (int j = 0; j < 8; j++) {
            size_t q = (size_t)((long)c->del[k] + off[j]);
            if (m[q] && !c->listed[q])
                c->list[c->len++] = (uint32_t)q, c->listed[q] = 1;
        }
    return nd > 0;
}

/* Zhang-Suen thinning of mask m (side x side, 1 = ink, 0 on the canvas's edge and outside
 * box b) to its one-pixel skeleton. Ink with ink on all four sides fails both
 * sub-iterations' last test, so only the contour can go: the sub-iterations look at a list
 * of contour pixels, not at the plane. The result is the plane scan's, pixel for pixel.
 * Returns 0, or -1 on allocation failure. */
static int thin(uint8_t *m, int side, struct box b)
{
    size_t n = (size_t)side * side;
    struct contour c = {malloc(n * sizeof *c.list), malloc(n * sizeof *c.del), calloc(n, 1), 0};
    int rc = c.list && c.del && c.listed ? 0 : -1;
    for (int y = b.y0; rc == 0 && y < b.y1; y++)
        for (int x = b.x0; x < b.x1; x++) {
            size_t i = (size_t)y * side + x;
            const uint8_t *p = m + i;
            if (*p && !(p[-side] && p[1] && p[side] && p[-1]))
                c.list[c.len++] = (uint32_t)i, c.listed[i] = 1;
        }
    while (rc == 0 && (thin_step(m, side, &c, 0) | thin_step(m, side, &c, 1)))
        ;
    free(c.list);
    free(c.del);
    free(c.listed);
    return rc;
}

/* m = the one-pixel skeleton of the field's shape at threshold t > 0 (the field is 0
 * outside box fb). Returns 0, or -1 on allocation failure. */
static int skeleton(const float *f, int side, float t, struct box fb, uint8_t *m)
{
    memset(m, 0, (size_t)side * side);
    for (int y = fb.y0; y < fb.y1; y++)
        for (int x = fb.x0; x < fb.x1; x++) {
            int edge = x == 0 || y == 0 || x == side - 1 || y == side - 1;
            m[(size_t)y * side + x] = !edge && f[(size_t)y * side + x] >= t;
        }
    return thin(m, side, fb);
}

/* Coverage 0..1 of each pixel for a round pen of the given width moved along the skeleton
 * of the field's shape at threshold t: 1 within width/2 of the path, a one-pixel
 * anti-aliased rim. Returns 0, or -1 on allocation failure. */
static int pen_stroke(const float *f, int side, float t, struct box fb, float width, uint8_t *cov)
{
    size_t n = (size_t)side * side;
    uint8_t *m = malloc(n);
    float *g = malloc(n * sizeof *g), *line = malloc(((size_t)side * 3 + 1) * sizeof *line);
    int *v = malloc((size_t)side * sizeof *v);
    int rc = -1;
    if (m && g && line && v && skeleton(f, side, t, fb, m) == 0) {
        memset(cov, 0, n);
        /* The pen inks nothing beyond width / 2 + 0.5 of the path: distances are needed only
         * in the path's box widened by that, and there they are exact (every target is in it). */
        struct box b = mask_box(m, side, fb);
        b = b.x1 > b.x0 ? widen(b, (int)ceilf(width / 2 + 0.5f) + 1, side) : (struct box){0};
        for (int y = b.y0; y < b.y1; y++)
            for (int x = b.x0; x < b.x1; x++)
                g[(size_t)y * side + x] = m[(size_t)y * side + x] ? 0.f : DG_EDT_FAR;
        if (b.x1 > b.x0)
            dg_edt(g + (size_t)b.y0 * side + b.x0, b.x1 - b.x0, b.y1 - b.y0, side, line, v);
        for (int y = b.y0; y < b.y1; y++)
            for (int x = b.x0; x < b.x1; x++) {
                size_t i = (size_t)y * side + x;
                cov[i] = (uint8_t)(dg_pen_coverage(sqrtf(g[i]), width / 2) * 255.f + 0.5f);
            }
        rc = 0;
    }
    free(m);
    free(g);
    free(line);
    free(v);
    return rc;
}

static uint8_t noisy(uint8_t v, int amp, uint64_t h)
{
    /* amp is 1 or 2 (dg_render_params_for): the constant divisors compile to multiplications,
     * where a 64-bit division by a variable, three or four per pixel, was most of paint(). */
    uint64_t m = (uint64_t)(2 * amp + 1);
    int n = (int)(m == 3 ? h % 3 : m == 5 ? h % 5 : h % m) - amp;
    int r = v + n;
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

static void paint(const uint8_t *cov, const struct dg_render_params *p, uint8_t *rgba)
{
    /* Copied out of *p: the byte stores below may alias it, and the compiler would read them
     * again for every pixel. The paper first (a loop the compiler vectorises), then the noise. */
    const size_t n = (size_t)p->canvas * p->canvas;
    const enum dg_render_look look = p->look;
    const int amp = p->noise;
    if (look == DG_LOOK_TRANSPARENT) {
        for (size_t i = 0; i < n; i++) { /* black pen; the canvas stores unpremultiplied RGBA */
            rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0;
            rgba[4 * i + 3] = cov[i];
        }
    } else {
        const uint8_t flip = look == DG_LOOK_WHITE_ON_BLACK ? 0 : 255; /* 255 - c = c ^ 255 */
        for (size_t i = 0; i < n; i++) {
            rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = (uint8_t)(cov[i] ^ flip);
            rgba[4 * i + 3] = 255;
        }
    }
    if (!amp)
        return;
    const uint64_t salt = (uint64_t)p->canvas << 40;
    for (size_t i = 0; i < n; i++) {
        uint8_t *o = rgba + i * 4;
        uint64_t h = dg_splitmix64(i ^ salt);
        for (int ch = 0; ch < 3; ch++, h >>= 8)
            o[ch] = noisy(o[ch], amp, h & 0xff);
        if (look == DG_LOOK_TRANSPARENT)
            o[3] = noisy(o[3], amp, h);
    }
}

static int encode(const uint8_t *rgba, int side, uint8_t **png, size_t *len)
{
    /* As Chromium encodes a canvas (toBlob, toDataURL): zlib level 1, every row filtered Up
     * (see bench/payloads/7_chromium-canvas.png). The filter and level decide what decoding
     * costs: adaptive filters at level 6 take twice as long to decode here. */
    const struct dg_png_format f = {.width = (uint32_t)side, .height = (uint32_t)side,
                                    .color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, .level = 1,
                                    .filter = SPNG_FILTER_CHOICE_UP};
    *png = dg_png_encode(&f, rgba, (size_t)side * side * 4, len);
    return *png ? 0 : -1;
}

/* ---- The world's ways of writing: marks drawn with the digit's pen, and the pencil. ---- */

enum dg_render_mark dg_render_mark_for(int label, float u)
{
    int convention = label == 0 || label == 1 || label == 7 || label == 9;
    if (convention && u < 0.6f) {
        switch (label) {
        case 0:
            return u < 0.3f ? DG_MARK_SLASH : DG_MARK_DOT;
        case 1:
            return u < 0.3f ? DG_MARK_FLAG : DG_MARK_FLAG_FOOT;
        case 7:
            return DG_MARK_CROSSBAR;
        default:
            return DG_MARK_HOOK;
        }
    }
    if (convention)
        u = (u - 0.6f) / 0.4f;
    return u < 0.5f ? DG_MARK_TAP : DG_MARK_STRAY;
}

void dg_render_world_params(uint64_t seed, size_t index, int label, struct dg_render_params *p)
{
    dg_render_params_for(seed, index, DG_STYLE_PEN, p);
    uint64_t h = dg_splitmix64(dg_splitmix64(seed ^ 0x776f726c64ull) ^ (uint64_t)index);
    p->mark = dg_render_mark_for(label, uniform(h, 0, 0.f, 1.f));
    p->mark_seed = dg_splitmix64(h);
    if ((h >> 56) % 3 == 0) { /* a pencil: thin and grey */
        p->pen_width = 1.5f * expf(uniform(h, 24, 0.f, logf(4.f / 1.5f)));
        p->fade = uniform(dg_splitmix64(p->mark_seed), 0, 0.4f, 0.75f);
    }
}

struct pt {
    float x, y;
};

/* Scan point (u, v), in scan pixel units, on the canvas. */
static struct pt on_canvas(const struct placement *q, float u, float v)
{
    u = warp_back(u, (float)q->b.x0, q->bw, q->ax);
    v = warp_back(v, (float)q->b.y0, q->bh, q->ay);
    return (struct pt){q->cx + (u - q->scx) * q->k, q->cy + (v - q->scy) * q->k};
}

/* Ink-weighted mean column (pixel centres) of scan rows [y0, y1), or the box's middle. */
static float row_centre(const uint8_t *px, int y0, int y1, const struct box *b)
{
    double s = 0, sx = 0;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < SCAN; y++)
        for (int x = 0; x < SCAN; x++)
            s += px[y * SCAN + x], sx += px[y * SCAN + x] * (x + 0.5);
    return s > 0 ? (float)(sx / s) : (float)(b->x0 + b->x1) / 2;
}

/* A round-capped pen stroke of the given width from a to b (kept on the canvas), with a
 * one-pixel anti-aliased rim as pen_stroke draws the digit, added to cov. */
static void segment(uint8_t *cov, int side, struct pt a, struct pt b, float width)
{
    float r = width / 2 + 0.5f, lo = MARGIN + width / 2, hi = (float)side - lo;
    a.x = clampf(a.x, lo, hi), a.y = clampf(a.y, lo, hi);
    b.x = clampf(b.x, lo, hi), b.y = clampf(b.y, lo, hi);
    int x0 = (int)clampf(floorf((a.x < b.x ? a.x : b.x) - r), 0.f, (float)side);
    int x1 = (int)clampf(ceilf((a.x > b.x ? a.x : b.x) + r), 0.f, (float)side);
    int y0 = (int)clampf(floorf((a.y < b.y ? a.y : b.y) - r), 0.f, (float)side);
    int y1 = (int)clampf(ceilf((a.y > b.y ? a.y : b.y) + r), 0.f, (float)side);
    float dx = b.x - a.x, dy = b.y - a.y, l2 = dx * dx + dy * dy;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            float px = (float)x + 0.5f - a.x, py = (float)y + 0.5f - a.y;
            float t = l2 > 0.f ? clampf((px * dx + py * dy) / l2, 0.f, 1.f) : 0.f;
            float ex = px - t * dx, ey = py - t * dy;
            float c = clampf(r - sqrtf(ex * ex + ey * ey), 0.f, 1.f);
            uint8_t v = (uint8_t)(c * 255.f + 0.5f), *o = cov + (size_t)y * side + x;
            *o = v > *o ? v : *o;
        }
}

/* Where a tap or a stray stroke of the given reach (px from its middle) lands beside the
 * digit's canvas box [x0, x1] x [y0, y1]: a gap of 0.25 to 0.6 of the digit's height from
 * it, on a side with room for that (the roomiest when none has), anywhere along it. */
static struct pt beside(const struct placement *q, int side, float reach, uint64_t h)
{
    struct pt a = on_canvas(q, (float)q->b.x0, (float)q->b.y0);
    struct pt b = on_canvas(q, (float)q->b.x1, (float)q->b.y1);
    float room[4] = {a.x - MARGIN, (float)side - MARGIN - b.x, a.y - MARGIN, (float)side - MARGIN - b.y};
    float gap = q->bh * q->k * uniform(h, 0, 0.25f, 0.6f) + reach;
    int s = (int)((h >> 24) % 4), best = s;
    for (int i = 0; i < 4; i++) {
        int k = (s + i) % 4;
        if (room[k] >= gap) {
            best = k;
            break;
        }
        best = room[k] > room[best] ? k : best;
    }
    gap = gap < room[best] ? gap : room[best] > reach ? room[best] : reach;
    float along = uniform(h, 32, -0.2f, 1.2f);
    if (best < 2)
        return (struct pt){best == 0 ? a.x - gap : b.x + gap, a.y + along * (b.y - a.y)};
    return (struct pt){a.x + along * (b.x - a.x), best == 2 ? a.y - gap : b.y + gap};
}

/* A nine's tail curled to the left, as writers who end a nine in a hook draw it: from the
 * foot of the ink, the tail's own heading (the ink's middle four rows above the foot against
 * the foot's) turns clockwise on the screen through 60 to 150 degrees on a circle of 0.1 to
 * 0.35 of the digit's height, then runs on straight for up to 0.35 of it (u0, u1, u2 uniform
 * in [0, 1) choose the three). */
static void hook(const uint8_t *px, const struct placement *q, int side, float u0, float u1,
                 float u2, float w, uint8_t *cov)
{
    const struct box *b = &q->b;
    float fx = row_centre(px, b->y1 - 2, b->y1, b), fy = (float)b->y1 - 0.5f;
    float heading = atan2f(4.f, fx - row_centre(px, b->y1 - 6, b->y1 - 4, b));
    float r = (0.1f + 0.25f * u0) * q->bh, sweep = (60.f + 90.f * u1) * (float)M_PI / 180.f;
    float cx = fx + r * cosf(heading + (float)M_PI_2), cy = fy + r * sinf(heading + (float)M_PI_2);
    float ex = fx, ey = fy;
    struct pt at = on_canvas(q, fx, fy);
    for (int i = 1; i <= 12; i++) {
        float a = heading + sweep * (float)i / 12.f - (float)M_PI_2;
        ex = cx + r * cosf(a), ey = cy + r * sinf(a);
        struct pt next = on_canvas(q, ex, ey);
        segment(cov, side, at, next, w);
        at = next;
    }
    float run = 0.35f * u2 * q->bh, end = heading + sweep;
    segment(cov, side, at, on_canvas(q, ex + run * cosf(end), ey + run * sinf(end)), w);
}

/* The mark p->mark added to cov with width w, placed by the scan's shape. */
static void add_mark(const uint8_t *px, const struct dg_render_params *p, float w, uint8_t *cov)
{
    struct placement q = place_scan(px, p);
    const struct box *b = &q.b;
    float bh = q.bh, H = q.bh * q.k;
    uint64_t h = p->mark_seed, h1 = dg_splitmix64(h);
    float u0 = uniform(h, 0, 0.f, 1.f), u1 = uniform(h, 24, 0.f, 1.f);
    float u2 = uniform(h1, 0, 0.f, 1.f), u3 = uniform(h1, 24, 0.f, 1.f);
    double m = 0, mu = 0, mv = 0; /* the ink's centroid: where a slash crosses, a dot sits */
    for (int i = 0; i < SCAN * SCAN; i++)
        m += px[i], mu += px[i] * (i % SCAN + 0.5), mv += px[i] * (i / SCAN + 0.5);
    float cu = m > 0 ? (float)(mu / m) : q.scx, cv = m > 0 ? (float)(mv / m) : q.scy;
    switch (p->mark) {
    case DG_MARK_SLASH: { /* top right to bottom left, 20 to 45 degrees off vertical */
        float an = (20.f + 25.f * u0) * (float)M_PI / 180.f, r = (0.55f + 0.15f * u1) * bh;
        segment(cov, p->canvas, on_canvas(&q, cu + sinf(an) * r, cv - cosf(an) * r),
                on_canvas(&q, cu - sinf(an) * r, cv + cosf(an) * r), w);
        break;
    }
    case DG_MARK_DOT: {
        struct pt c = on_canvas(&q, cu + (u1 - 0.5f) * 0.15f * q.bw, cv + (u2 - 0.5f) * 0.15f * bh);
        segment(cov, p->canvas, c, (struct pt){c.x + 0.5f, c.y}, w * (1.f + 0.5f * u0));
        break;
    }
    case DG_MARK_FLAG_FOOT:
    case DG_MARK_FLAG: {
        if (p->mark == DG_MARK_FLAG_FOOT) {
            float bx = row_centre(px, b->y1 - 2, b->y1, b), by = (float)b->y1 - 0.5f;
            segment(cov, p->canvas, on_canvas(&q, bx - (0.15f + 0.15f * u2) * bh, by),
                    on_canvas(&q, bx + (0.15f + 0.15f * u3) * bh, by), w);
        }
        float tx = row_centre(px, b->y0, b->y0 + 2, b), ty = (float)b->y0 + 0.5f;
        segment(cov, p->canvas, on_canvas(&q, tx, ty),
                on_canvas(&q, tx - (0.2f + 0.25f * u0) * bh, ty + (0.1f + 0.25f * u1) * bh), w);
        break;
    }
    case DG_MARK_HOOK:
        hook(px, &q, p->canvas, u0, u1, u2, w, cov);
        break;
    case DG_MARK_CROSSBAR: {
        float y = (float)b->y0 + (0.45f + 0.25f * u0) * bh;
        float x = row_centre(px, (int)y - 1, (int)y + 2, b), r = (0.15f + 0.17f * u1) * bh;
        float tilt = (u2 - 0.5f) * 0.2f * r;
        segment(cov, p->canvas, on_canvas(&q, x - r, y + tilt), on_canvas(&q, x + r, y - tilt), w);
        break;
    }
    case DG_MARK_TAP:
        segment(cov, p->canvas, beside(&q, p->canvas, w, h1), beside(&q, p->canvas, w, h1), w * (1.f + 0.5f * u0));
        break;
    case DG_MARK_STRAY: {
        float r = (0.05f + 0.08f * u0) * H, an = u1 * (float)M_PI;
        struct pt c = beside(&q, p->canvas, r + w, h1);
        segment(cov, p->canvas, (struct pt){c.x - cosf(an) * r, c.y - sinf(an) * r},
                (struct pt){c.x + cosf(an) * r, c.y + sinf(an) * r}, w);
        break;
    }
    default:
        break;
    }
}

/* The writer's additions to the drawn digit: the mark, then the pencil's lighter ink. */
static void world_style(const uint8_t *px, const struct dg_render_params *p, uint8_t *cov)
{
    if (p->mark > DG_MARK_NONE && p->mark < DG_MARK_COUNT)
        add_mark(px, p, p->pen_width > 0.f ? p->pen_width : 0.08f * p->digit_height, cov);
    if (p->fade > 0.f) {
        float keep = 1.f - clampf(p->fade, 0.f, 1.f);
        for (size_t i = 0; i < (size_t)p->canvas * p->canvas; i++)
            cov[i] = (uint8_t)((float)cov[i] * keep + 0.5f);
    }
}

int dg_render_strokes(const float *xy, const int *len, int n_lines, const struct dg_render_params *p,
                      uint8_t *rgba)
{
    if (p->canvas < 32 || p->canvas > 512 || !(p->digit_height > 0.f) || n_lines < 0)
        return -1;
    size_t n = (size_t)p->canvas * p->canvas;
    uint8_t *cov = calloc(n, 1);
    if (!cov)
        return -1;
    float w = p->pen_width > 1.f ? p->pen_width : 1.f, k = p->digit_height;
    for (int l = 0, at = 0; l < n_lines; at += len[l++])
        for (int i = 0; i < len[l]; i++) {
            const float *a = xy + 2 * (at + (i > 0 ? i - 1 : 0)), *b = xy + 2 * (at + i);
            segment(cov, p->canvas, (struct pt){p->cx + (a[0] - 0.5f) * k, p->cy + (a[1] - 0.5f) * k},
                    (struct pt){p->cx + (b[0] - 0.5f) * k, p->cy + (b[1] - 0.5f) * k}, w);
        }
    struct dg_render_params q = *p;
    q.mark = DG_MARK_NONE; /* world_style: only the fade */
    world_style(NULL, &q, cov);
    paint(cov, p, rgba);
    free(cov);
    return 0;
}

int dg_render_rgba(const uint8_t pixels[784], const struct dg_render_params *p, uint8_t *rgba)
{
    if (p->canvas < 32 || p->canvas > 512 || !(p->digit_height > 0.f) || !(p->thickness > 0.f))
        return -1;
    size_t n = (size_t)p->canvas * p->canvas;
    float *field = malloc(n * sizeof(float));
    uint8_t *cov = malloc(n);
    int rc = -1;
    if (field && cov) {
        struct box fb = enlarge(pixels, p, field);
        float t = 0.45f / p->thickness; /* thicker pen: lower threshold on the field */
        if (p->pen_width > 0.f)
            rc = pen_stroke(field, p->canvas, PATH_LEVEL, fb, p->pen_width, cov);
        else
            stroke(field, p->canvas, t < 0.15f ? 0.15f : t > 0.75f ? 0.75f : t, fb, cov), rc = 0;
        if (rc == 0) {
            world_style(pixels, p, cov);
            paint(cov, p, rgba);
        }
    }
    free(field);
    free(cov);
    return rc;
}

int dg_render_path(const uint8_t pixels[784], const struct dg_render_params *p, uint8_t *mask)
{
    if (p->canvas < 32 || p->canvas > 512 || !(p->digit_height > 0.f))
        return -1;
    size_t n = (size_t)p->canvas * p->canvas;
    float *field = malloc(n * sizeof(float));
    int rc = -1;
    if (field) {
        rc = skeleton(field, p->canvas, PATH_LEVEL, enlarge(pixels, p, field), mask);
    }
    free(field);
    return rc;
}

int dg_render_png(const uint8_t pixels[784], const struct dg_render_params *p, uint8_t **png,
                  size_t *len)
{
    *png = NULL;
    *len = 0;
    if (p->canvas < 32 || p->canvas > 512)
        return -1;
    uint8_t *rgba = malloc((size_t)p->canvas * p->canvas * 4);
    int rc = rgba ? dg_render_rgba(pixels, p, rgba) : -1;
    if (rc == 0)
        rc = encode(rgba, p->canvas, png, len);
    free(rgba);
    return rc;
}

int dg_render_strokes_png(const float *xy, const int *len, int n_lines,
                          const struct dg_render_params *p, uint8_t **png, size_t *png_len)
{
    *png = NULL;
    *png_len = 0;
    if (p->canvas < 32 || p->canvas > 512)
        return -1;
    uint8_t *rgba = malloc((size_t)p->canvas * p->canvas * 4);
    int rc = rgba ? dg_render_strokes(xy, len, n_lines, p, rgba) : -1;
    if (rc == 0)
        rc = encode(rgba, p->canvas, png, png_len);
    free(rgba);
    return rc;
}
