/* preprocess.c: a drawn canvas to the 28x28 input MNIST models expect.
 *
 * MNIST's recipe (LeCun et al.): the digit's bounding box is scaled so its longer side is
 * 20 px, keeping the aspect ratio, with area averaging (which makes the grey edge levels),
 * and placed in a 28x28 frame so its centre of mass lands on the centre. Before that we
 * must find the ink: the web page's canvas may be dark on white, white on black, or
 * transparent with the strokes only in the alpha channel, and browsers may add faint
 * read-back noise to every pixel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

#define OUT_SIDE 28
#define BOX_SIDE 20     /* longer side of the digit in the frame */
#define COM_TARGET 14.f /* centre of mass, in pixel-index coordinates */
#define MIN_CONTRAST 24 /* grey levels of ink below which the canvas counts as blank */

/* Luminance (ITU-R BT.601 weights in 8.8 fixed point). */
static inline unsigned luma(const uint8_t *p)
{
    return (77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8;
}

/* The background is whatever dominates the canvas border (people draw in the middle), so
 * its alpha says whether the ink is in the alpha channel, and its grey the polarity. */
static int find_background(const struct dg_canvas *c, unsigned *bg)
{
    uint32_t hist[256] = {0};
    uint32_t transparent = 0, n = 0;
    for (uint32_t y = 0; y < c->h; y++) {
        uint32_t step = (y == 0 || y == c->h - 1) ? 1 : (c->w > 1 ? c->w - 1 : 1);
        for (uint32_t x = 0; x < c->w; x += step) {
            const uint8_t *p = c->rgba + ((size_t)y * c->w + x) * 4;
            transparent += p[3] < 128;
            hist[luma(p)]++;
            n++;
        }
    }
    if (2 * transparent > n) {
        *bg = 0;
        return DG_POL_ALPHA;
    }
    unsigned mode = 0;
    for (unsigned v = 1; v < 256; v++)
        if (hist[v] > hist[mode])
            mode = v;
    *bg = mode;
    return mode >= 128 ? DG_POL_DARK_ON_LIGHT : DG_POL_LIGHT_ON_DARK;
}

/* x / 255 rounded, exact for x <= 65535 (a multiply, so the loops below vectorise). */
static inline unsigned div255(unsigned x)
{
    x += 128;
    return (x + (x >> 8)) >> 8;
}

/* ink[i] = how far pixel i is from the background towards the ink, 0..255; returns the max.
 * On an opaque canvas what little alpha there is is composited over the background. One
 * loop per polarity, free of branches, so the compiler vectorises it. */
static unsigned ink_map(const struct dg_canvas *c, int pol, unsigned bg, uint8_t *ink)
{
    size_t n = (size_t)c->w * c->h;
    const uint8_t *p = c->rgba;
    unsigned max = 0;
    if (pol == DG_POL_ALPHA) {
        for (size_t i = 0; i < n; i++) {
            ink[i] = p[i * 4 + 3];
            max = ink[i] > max ? ink[i] : max;
        }
    } else if (pol == DG_POL_DARK_ON_LIGHT) {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *q = p + i * 4;
            unsigned g = div255(luma(q) * q[3] + bg * (255u - q[3]));
            unsigned v = g < bg ? bg - g : 0;
            ink[i] = (uint8_t)v;
            max = v > max ? v : max;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *q = p + i * 4;
            unsigned g = div255(luma(q) * q[3] + bg * (255u - q[3]));
            unsigned v = g > bg ? g - bg : 0;
            ink[i] = (uint8_t)v;
            max = v > max ? v : max;
        }
    }
    return max;
}

/* A pixel counts for the bounding box if it is clearly ink and not an isolated speck:
 * at least two of its eight neighbours are clearly ink too. */
static int in_stroke(const uint8_t *ink, uint32_t w, uint32_t h, uint32_t x, uint32_t y,
                     unsigned thr)
{
    int nb = 0;
    for (int dy = -1; dy <= 1; dy++) {
        for (int dx = -1; dx <= 1; dx++) {
            int64_t xx = (int64_t)x + dx, yy = (int64_t)y + dy;
            if ((dx || dy) && xx >= 0 && yy >= 0 && xx < w && yy < h &&
                ink[(size_t)yy * w + (size_t)xx] >= thr)
                nb++;
        }
    }
    return nb >= 2;
}

/* Per row only the leftmost and rightmost stroke pixels can widen the box, so the
 * neighbour test runs on a few pixels per row, scanning in from both ends. */
static int ink_bbox(const uint8_t *ink, uint32_t w, uint32_t h, unsigned thr,
                    struct dg_prep_info *b)
{
    b->x0 = w;
    b->y0 = h;
    b->x1 = b->y1 = 0;
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *row = ink + (size_t)y * w;
        uint32_t l = 0, r = w;
        while (l < w && (row[l] < thr || !in_stroke(ink, w, h, l, y, thr)))
            l++;
        if (l == w)
            continue;
        while (r > l + 1 && (row[r - 1] < thr || !in_stroke(ink, w, h, r - 1, y, thr)))
            r--;
        b->x0 = l < b->x0 ? l : b->x0;
        b->x1 = r > b->x1 ? r : b->x1;
        b->y0 = y < b->y0 ? y : b->y0;
        b->y1 = y + 1;
    }
    return b->x1 > b->x0;
}

/* Output cells [o, o+1) overlapped by source pixel i, which covers [off + i*s, off + (i+1)*s):
 * adds v * overlap into acc (the exact box filter, one axis). */
static void splat(float *acc, int n, float off, float s, int i, float v)
{
    float a = off + (float)i * s, b = a + s;
    int o = (int)floorf(a);
    for (o = o < 0 ? 0 : o; o < n && (float)o < b; o++) {
        float lo = a > (float)o ? a : (float)o, hi = b < (float)(o + 1) ? b : (float)(o + 1);
        if (hi - lo > 1e-4f) /* float slivers would widen the 20 px box by a cell */
            acc[o] += v * (hi - lo);
    }
}

/* Area-averages the box (ink above floor, rescaled to 0..1) into out at scale s with the
 * integer offsets ox, oy. */
static void resample(const uint8_t *ink, uint32_t w, const struct dg_prep_info *b, unsigned floor_,
                     float norm, float s, int ox, int oy, float out[784])
{
    memset(out, 0, 784 * sizeof(float));
    float row[OUT_SIDE];
    for (uint32_t y = b->y0; y < b->y1; y++) {
        const uint8_t *src = ink + (size_t)y * w;
        int any = 0;
        memset(row, 0, sizeof row);
        for (uint32_t x = b->x0; x < b->x1; x++) {
            if (src[x] > floor_) {
                splat(row, OUT_SIDE, (float)ox, s, (int)(x - b->x0), (float)(src[x] - floor_) * norm);
                any = 1;
            }
        }
        if (!any)
            continue;
        float col[OUT_SIDE] = {0};
        splat(col, OUT_SIDE, (float)oy, s, (int)(y - b->y0), 1.f);
        for (int o = 0; o < OUT_SIDE; o++)
            if (col[o] > 0.f)
                for (int x = 0; x < OUT_SIDE; x++)
                    out[o * OUT_SIDE + x] += col[o] * row[x];
    }
}

/* Intensity-weighted centroid of the box's ink, in box pixel units (pixel centres at i+0.5). */
static void centroid(const uint8_t *ink, uint32_t w, const struct dg_prep_info *b, unsigned floor_,
                     double *cx, double *cy)
{
    double sx = 0, sy = 0, sum = 0;
    for (uint32_t y = b->y0; y < b->y1; y++) {
        const uint8_t *src = ink + (size_t)y * w;
        double rs = 0, rx = 0;
        for (uint32_t x = b->x0; x < b->x1; x++) {
            if (src[x] > floor_) {
                double v = src[x] - floor_;
                rs += v;
                rx += v * (x - b->x0 + 0.5);
            }
        }
        sum += rs;
        sx += rx;
        sy += rs * (y - b->y0 + 0.5);
    }
    *cx = sum > 0 ? sx / sum : 0;
    *cy = sum > 0 ? sy / sum : 0;
}

/* Integer offset that puts the centroid c (box units) at the target, box kept in the frame. */
static int place(double c, float s, float extent)
{
    int off = (int)lround(COM_TARGET + 0.5 - c * s); /* pixel index i has centre i + 0.5 */
    int hi = (int)floorf((float)OUT_SIDE - extent);
    off = off > hi ? hi : off;
    return off < 0 ? 0 : off;
}

static int fits(int off, float extent)
{
    return off >= 0 && (float)off + extent <= (float)OUT_SIDE + 1e-3f;
}

/* Integer shift that brings the output's centroid nearest the target. */
static void out_shift(const float out[784], int *dx, int *dy)
{
    double sx = 0, sy = 0, sum = 0;
    for (int y = 0; y < OUT_SIDE; y++)
        for (int x = 0; x < OUT_SIDE; x++) {
            double v = out[y * OUT_SIDE + x];
            sum += v, sx += v * x, sy += v * y;
        }
    *dx = sum > 0 ? (int)lround(COM_TARGET - sx / sum) : 0;
    *dy = sum > 0 ? (int)lround(COM_TARGET - sy / sum) : 0;
}

int dg_preprocess(const struct dg_canvas *c, float out[784], struct dg_prep_info *info)
{
    struct dg_prep_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    memset(out, 0, 784 * sizeof(float));
    if (!c->rgba || !c->w || !c->h)
        return DG_INPUT_BLANK;
    uint8_t *ink = malloc((size_t)c->w * c->h); /* w * h was bounded by the decoder's limits */
    if (!ink)
        return DG_INPUT_NOMEM;
    unsigned bg;
    info->polarity = find_background(c, &bg);
    unsigned max = ink_map(c, info->polarity, bg, ink);
    /* Noise is a few grey levels; strokes reach max. The floor removes the noise, the
     * threshold decides what is clearly ink (the anti-aliased rim lies between). */
    unsigned floor_ = max / 16 > 3 ? max / 16 : 3;
    unsigned thr = max / 4 > floor_ + 1 ? max / 4 : floor_ + 1;
    if (max < MIN_CONTRAST || !ink_bbox(ink, c->w, c->h, thr, info)) {
        free(ink);
        return DG_INPUT_BLANK;
    }
    uint32_t bw = info->x1 - info->x0, bh = info->y1 - info->y0;
    float s = (float)BOX_SIDE / (float)(bw > bh ? bw : bh);
    double cx, cy;
    centroid(ink, c->w, info, floor_, &cx, &cy);
    float ew = (float)bw * s, eh = (float)bh * s, norm = 1.f / (float)(max - floor_);
    int ox = place(cx, s, ew), oy = place(cy, s, eh);
    resample(ink, c->w, info, floor_, norm, s, ox, oy, out);
    /* Area averaging moves the centroid a little off the source's; if that leaves it more
     * than half a pixel from the centre, one more integer step fixes it. */
    int dx, dy;
    out_shift(out, &dx, &dy);
    if ((dx || dy) && fits(ox + dx, ew) && fits(oy + dy, eh))
        resample(ink, c->w, info, floor_, norm, s, ox + dx, oy + dy, out);
    free(ink);

    /* MNIST strokes reach full intensity; thin pen strokes shrunk by area averaging do
     * not, so stretch the result to a maximum of 1. */
    float m = 0.f;
    for (int i = 0; i < 784; i++)
        m = out[i] > m ? out[i] : m;
    if (m <= 0.f)
        return DG_INPUT_BLANK;
    for (int i = 0; i < 784; i++)
        out[i] = out[i] / m > 1.f ? 1.f : out[i] / m;
    return DG_INPUT_OK;
}

/* The seed app: PIL's convert('L') (alpha ignored), resize of the whole canvas to 28x28
 * (area averaging stands in for its Lanczos), then 255 - x. */
void dg_preprocess_seed(const struct dg_canvas *c, float out[784])
{
    memset(out, 0, 784 * sizeof(float));
    if (!c->rgba || !c->w || !c->h)
        return;
    float sx = 28.f / (float)c->w, sy = 28.f / (float)c->h;
    for (uint32_t y = 0; y < c->h; y++) {
        float row[OUT_SIDE] = {0}, col[OUT_SIDE] = {0};
        const uint8_t *p = c->rgba + (size_t)y * c->w * 4;
        for (uint32_t x = 0; x < c->w; x++, p += 4)
            splat(row, OUT_SIDE, 0.f, sx, (int)x, (float)luma(p) / 255.f);
        splat(col, OUT_SIDE, 0.f, sy, (int)y, 1.f);
        for (int o = 0; o < OUT_SIDE; o++)
            if (col[o] > 0.f)
                for (int x = 0; x < OUT_SIDE; x++)
                    out[o * OUT_SIDE + x] += col[o] * row[x];
    }
    for (int i = 0; i < 784; i++)
        out[i] = 1.f - out[i];
}
