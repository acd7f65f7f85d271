/* photo.c: a photo of a digit on paper -> a clean dark-on-white canvas -> dg_preprocess.
 *
 * Steps, on a working copy whose longer side is at most WORK_SIDE (a digit that fills a
 * fair part of the frame is still well over the 20 px it becomes):
 *   grey      area-averaged lightness (see lightness_on_white);
 *   light     the paper's brightness per block (a high percentile: ink is thin and dark),
 *             median-smoothed (a block that is all ink takes its neighbours' light), and
 *             interpolated back: a shadow or a lighting gradient divides out;
 *   darkness  1 - grey / light, so the paper is 0 wherever it is and however lit;
 *   ink       Sauvola's local threshold on it, and at least a share of the darkest ink
 *             near the centre (ruled and squared lines are printed much lighter than pen);
 *   digit     8-connected components; the digit is the one nearest the centre with a
 *             digit's height, shape and stroke (not touching the frame: the sheet's edges
 *             and the table do; not a filled blob: shadows are), with the parts near it.
 * The kept ink (and its one-pixel anti-aliased rim) is drawn dark on white and handed to
 * dg_preprocess, which crops, scales and centres it as it does every canvas. If the 28x28
 * it gives has strokes thicker than MNIST's thick end, the kept ink is eroded by the width
 * that brings them there and goes through dg_preprocess again (thin_to_mnist). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "photo.h"

#define WORK_SIDE 640u       /* longer side of the working image, at most */
#define MIN_PHOTO_SIDE 64u   /* smaller images are canvases */
#define LEVEL_SHARE 200u     /* a grey level with 1/200 of the border's pixels is in use */
#define PHOTO_LEVELS 8u      /* a photo's border uses this many grey levels at least */
#define BG_BLOCKS 24u        /* light estimate: blocks along the longer side */
#define BG_PERCENTILE 90u    /* a block's paper light: this percentile of its greys */
#define BG_CLOSE 2           /* ...then closed over blocks this far: a wide stroke is not light */
#define SAUVOLA_K 0.3f
#define SAUVOLA_R 128.f
#define INK_FLOOR 40u        /* darkness (of 255) below which nothing is ink */
#define INK_REL_PERCENT 40u  /* ...nor below this share of the darkest ink near the centre */
#define INK_SURE_PERCENT 60u /* ink at this share of it is ink whatever the window says */
#define INK_MIN_CONTRAST 64u /* darkest ink near the centre fainter than this: blank */
#define DIGIT_MIN_H 0.06f    /* the digit's height, as a share of the shorter side, at least */
#define DIGIT_MAX_ASPECT 3.f /* width / height at most (ruled lines, sheet edges are wider) */
/* Stroke width / height at most: a filled blob (a shadow, a smudge) measures about 1/2; a
 * marker's digit whose loops have nearly closed up, a good third. */
#define DIGIT_MAX_STROKE 0.4f
#define NEAR_WEIGHT 16.f    /* a digit a sixteenth of the frame further out must be twice as tall */
#define PART_GAP 0.2f        /* parts within this share of the digit's height belong to it */
#define PART_GROWTH 2.f      /* ...if the box grows no taller than this (a digit in two halves) */
#define PAD 2u               /* white frame around the clean canvas */
#define CHAMFER 3            /* distance_in's unit step (a diagonal step is 4) */

static inline unsigned luma(const uint8_t *p)
{
    return (77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8;
}

/* The lightness the ink is looked for in, of an RGBA pixel over white (a photo is opaque;
 * a PNG may not be): the mean of its luminance and its brightest channel. Pen ink is dark
 * in every channel (a red or green pen still in its luminance); lines printed on paper in
 * a light colour (blue rules, a red margin, a squared grid) are bright in one channel at
 * least, and come out at about half their luminance's darkness. */
static inline unsigned lightness_on_white(const uint8_t *p)
{
    unsigned hi = p[0] > p[1] ? p[0] : p[1];
    hi = hi > p[2] ? hi : p[2];
    unsigned l = (luma(p) + hi + 1) / 2;
    return (l * p[3] + 255u * (255u - p[3]) + 127u) / 255u;
}

int dg_photo_detect(const struct dg_canvas *c)
{
    if (!c->rgba || c->w < MIN_PHOTO_SIDE || c->h < MIN_PHOTO_SIDE)
        return 0;
    uint32_t hist[256] = {0}, n = 0, transparent = 0;
    for (uint32_t y = 0; y < c->h; y++) {
        uint32_t step = (y == 0 || y == c->h - 1) ? 1 : c->w - 1;
        for (uint32_t x = 0; x < c->w; x += step) {
            const uint8_t *p = c->rgba + ((size_t)y * c->w + x) * 4;
            transparent += p[3] < 250;
            hist[luma(p)]++;
            n++;
        }
    }
    if (transparent)
        return 0; /* a canvas that keeps its strokes in the alpha channel */
    /* a canvas's border is its fill (a level or two of read-back noise either side) and ink
     * where a stroke runs off the edge, with only the stroke's thin anti-aliased rim in
     * between; a photo's spreads over many levels: paper texture, sensor noise, the light
     * falling off, the table */
    unsigned levels = 0;
    for (unsigned v = 0; v < 256; v++)
        levels += (uint64_t)hist[v] * LEVEL_SHARE >= n;
    return levels >= PHOTO_LEVELS;
}

/* The working image: grey, then darkness (in place of a copy), ink labels. */
struct work {
    uint32_t w, h, f;   /* size, and the factor it was reduced by */
    uint8_t *grey;      /* w * h */
    uint8_t *dark;      /* w * h: 0 paper .. 255 black, relative to the local light */
    int32_t *label;     /* w * h: -1 not ink, else the component */
    int32_t *queue;     /* w * h */
};

/* grey = c area-averaged by f x f blocks (the last row and column of blocks may be short). */
static void reduce_grey(const struct dg_canvas *c, struct work *wk, uint32_t *acc)
{
    const uint32_t f = wk->f;
    for (uint32_t oy = 0; oy < wk->h; oy++) {
        memset(acc, 0, wk->w * sizeof *acc);
        uint32_t y0 = oy * f, y1 = y0 + f < c->h ? y0 + f : c->h;
        for (uint32_t y = y0; y < y1; y++) {
            const uint8_t *row = c->rgba + (size_t)y * c->w * 4;
            for (uint32_t x = 0; x < c->w; x++)
                acc[x / f] += lightness_on_white(row + (size_t)x * 4);
        }
        for (uint32_t ox = 0; ox < wk->w; ox++) {
            uint32_t x0 = ox * f, x1 = x0 + f < c->w ? x0 + f : c->w, area = (x1 - x0) * (y1 - y0);
            wk->grey[(size_t)oy * wk->w + ox] = (uint8_t)((acc[ox] + area / 2) / area);
        }
    }
}

static uint8_t median9(uint8_t *v)
{
    for (int i = 1; i < 9; i++) /* insertion sort of nine */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint8_t t = v[j];
            v[j] = v[j - 1], v[j - 1] = t;
        }
    return v[4];
}

/* dst = the brightest (or darkest) of src within r blocks along one axis (step apart). */
static void extreme_1d(const uint8_t *src, uint8_t *dst, uint32_t gw, uint32_t gh, int along_x,
                       int brightest)
{
    for (uint32_t gy = 0; gy < gh; gy++)
        for (uint32_t gx = 0; gx < gw; gx++) {
            uint32_t at = along_x ? gx : gy, n = along_x ? gw : gh;
            uint32_t lo = at > BG_CLOSE ? at - BG_CLOSE : 0, hi = at + BG_CLOSE < n ? at + BG_CLOSE : n - 1;
            uint8_t v = src[gy * gw + gx];
            for (uint32_t i = lo; i <= hi; i++) {
                uint8_t u = along_x ? src[gy * gw + i] : src[i * gw + gx];
                v = brightest ? (u > v ? u : v) : (u < v ? u : v);
            }
            dst[gy * gw + gx] = v;
        }
}

/* A morphological closing of the light over blocks: the brightest within BG_CLOSE blocks,
 * then the darkest of that. A stroke so wide that the median's neighbours are ink too (a
 * marker, a thick felt pen) is narrower than the window and takes the paper's light around
 * it; a shadow, a lighting gradient (closing leaves a linear ramp as it is) and the table
 * around the sheet are wider, and stay. tmp: gw * gh. */
static void close_light(uint8_t *light, uint8_t *tmp, uint32_t gw, uint32_t gh)
{
    extreme_1d(light, tmp, gw, gh, 1, 1);
    extreme_1d(tmp, light, gw, gh, 0, 1);
    extreme_1d(light, tmp, gw, gh, 1, 0);
    extreme_1d(tmp, light, gw, gh, 0, 0);
}

/* The paper's light per block of b x b: BG_PERCENTILE of its greys, then a 3x3 median
 * (a lone block of ink or writing takes its neighbours' light), then close_light. */
static void block_light(const struct work *wk, uint32_t b, uint32_t gw, uint32_t gh, uint8_t *raw,
                        uint8_t *light)
{
    for (uint32_t gy = 0; gy < gh; gy++)
        for (uint32_t gx = 0; gx < gw; gx++) {
            uint32_t hist[256] = {0}, n = 0;
            for (uint32_t y = gy * b; y < (gy + 1) * b && y < wk->h; y++)
                for (uint32_t x = gx * b; x < (gx + 1) * b && x < wk->w; x++, n++)
                    hist[wk->grey[(size_t)y * wk->w + x]]++;
            uint32_t want = n * BG_PERCENTILE / 100, seen = 0;
            unsigned v = 0;
            while (v < 255 && seen + hist[v] <= want)
                seen += hist[v++];
            raw[gy * gw + gx] = (uint8_t)v;
        }
    for (uint32_t gy = 0; gy < gh; gy++)
        for (uint32_t gx = 0; gx < gw; gx++) {
            uint8_t v[9];
            int k = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int64_t y = (int64_t)gy + dy, x = (int64_t)gx + dx; /* clamped to the grid */
                    y = y < 0 ? 0 : y >= gh ? gh - 1 : y;
                    x = x < 0 ? 0 : x >= gw ? gw - 1 : x;
                    v[k++] = raw[y * gw + x];
                }
            light[gy * gw + gx] = median9(v);
        }
    close_light(light, raw, gw, gh);
}

/* Interpolation weights of block centres along one axis for coordinate p. */
static void lerp_at(uint32_t p, uint32_t b, uint32_t n, uint32_t *i0, uint32_t *i1, float *t)
{
    float g = ((float)p + 0.5f) / (float)b - 0.5f;
    g = g < 0.f ? 0.f : g > (float)(n - 1) ? (float)(n - 1) : g;
    *i0 = (uint32_t)g;
    *i1 = *i0 + 1 < n ? *i0 + 1 : *i0;
    *t = g - (float)*i0;
}

/* dark = how much darker than the interpolated paper light each pixel is, 0..255. */
static void darkness(struct work *wk, uint32_t b, uint32_t gw, uint32_t gh, const uint8_t *light)
{
    for (uint32_t y = 0; y < wk->h; y++) {
        uint32_t gy0, gy1;
        float ty;
        lerp_at(y, b, gh, &gy0, &gy1, &ty);
        for (uint32_t x = 0; x < wk->w; x++) {
            uint32_t gx0, gx1;
            float tx;
            lerp_at(x, b, gw, &gx0, &gx1, &tx);
            float top = light[gy0 * gw + gx0] * (1 - tx) + light[gy0 * gw + gx1] * tx;
            float bot = light[gy1 * gw + gx0] * (1 - tx) + light[gy1 * gw + gx1] * tx;
            float l = top * (1 - ty) + bot * ty, g = wk->grey[(size_t)y * wk->w + x];
            float d = l > g && l >= 1.f ? 255.f * (l - g) / l : 0.f;
            wk->dark[(size_t)y * wk->w + x] = (uint8_t)(d + 0.5f);
        }
    }
}

/* The darkness that counts as ink at the least: INK_REL_PERCENT of the 99.5th percentile
 * of the darkness in the central half of the frame (where the digit is), INK_FLOOR at the
 * least; *sure = INK_SURE_PERCENT of it. 0 if even that percentile is fainter than
 * INK_MIN_CONTRAST: nothing is written. */
static unsigned ink_floor(const struct work *wk, unsigned *sure)
{
    uint32_t hist[256] = {0}, n = 0;
    for (uint32_t y = wk->h / 4; y < wk->h - wk->h / 4; y++)
        for (uint32_t x = wk->w / 4; x < wk->w - wk->w / 4; x++, n++)
            hist[wk->dark[(size_t)y * wk->w + x]]++;
    uint32_t above = 0, want = n / 200 + 1;
    unsigned v = 255;
    while (v > 0 && above + hist[v] < want)
        above += hist[v--];
    if (v < INK_MIN_CONTRAST)
        return 0;
    unsigned rel = v * INK_REL_PERCENT / 100;
    *sure = v * INK_SURE_PERCENT / 100;
    return rel > INK_FLOOR ? rel : INK_FLOOR;
}

/* Summed-area tables of brightness (255 - dark) and its square, (w + 1) x (h + 1). */
static void integrals(const struct work *wk, uint32_t *s1, uint64_t *s2)
{
    const uint32_t W = wk->w + 1;
    memset(s1, 0, W * sizeof *s1);
    memset(s2, 0, W * sizeof *s2);
    for (uint32_t y = 0; y < wk->h; y++) {
        uint32_t r1 = 0;
        uint64_t r2 = 0;
        s1[(size_t)(y + 1) * W] = 0, s2[(size_t)(y + 1) * W] = 0;
        for (uint32_t x = 0; x < wk->w; x++) {
            uint32_t v = 255u - wk->dark[(size_t)y * wk->w + x];
            r1 += v, r2 += (uint64_t)v * v;
            s1[(size_t)(y + 1) * W + x + 1] = s1[(size_t)y * W + x + 1] + r1;
            s2[(size_t)(y + 1) * W + x + 1] = s2[(size_t)y * W + x + 1] + r2;
        }
    }
}

/* label = 0 where ink, -1 elsewhere. Ink is at least floor_ dark, and either sure-dark or
 * darker than Sauvola's threshold m (1 + k (s / R - 1)) over a window of radius r (inside
 * a stroke wider than the window the window is all ink, and Sauvola's threshold falls
 * below it: the sure level keeps such a stroke whole). */
static void threshold(struct work *wk, uint32_t r, unsigned floor_, unsigned sure,
                      const uint32_t *s1, const uint64_t *s2)
{
    const uint32_t W = wk->w + 1;
    for (uint32_t y = 0; y < wk->h; y++) {
        uint32_t ya = y > r ? y - r : 0, yb = y + r + 1 < wk->h ? y + r + 1 : wk->h;
        for (uint32_t x = 0; x < wk->w; x++) {
            size_t i = (size_t)y * wk->w + x;
            wk->label[i] = -1;
            if (wk->dark[i] < floor_)
                continue;
            if (wk->dark[i] >= sure) {
                wk->label[i] = 0;
                continue;
            }
            uint32_t xa = x > r ? x - r : 0, xb = x + r + 1 < wk->w ? x + r + 1 : wk->w;
            float n = (float)((xb - xa) * (yb - ya));
            float m = (float)(s1[(size_t)yb * W + xb] - s1[(size_t)ya * W + xb] -
                              s1[(size_t)yb * W + xa] + s1[(size_t)ya * W + xa]) / n;
            float q = (float)(s2[(size_t)yb * W + xb] - s2[(size_t)ya * W + xb] -
                              s2[(size_t)yb * W + xa] + s2[(size_t)ya * W + xa]) / n;
            float sd = sqrtf(q > m * m ? q - m * m : 0.f);
            if ((float)(255u - wk->dark[i]) < m * (1.f + SAUVOLA_K * (sd / SAUVOLA_R - 1.f)))
                wk->label[i] = 0;
        }
    }
}

struct blob {
    uint32_t count, boundary;    /* ink pixels, and those with a 4-neighbour not ink */
    uint32_t x0, y0, x1, y1;     /* inclusive */
    uint64_t near2;              /* squared distance of its nearest pixel to the centre, x4 */
    int border, keep;            /* touches the frame; part of the digit */
};

static int is_ink(const struct work *wk, int64_t x, int64_t y)
{
    return x >= 0 && y >= 0 && x < wk->w && y < wk->h && wk->label[(size_t)y * wk->w + x] >= 0;
}

/* Floods the component at seed with label id; its statistics in *k. */
static void flood(struct work *wk, uint32_t seed, int32_t id, struct blob *k)
{
    *k = (struct blob){0, 0, wk->w, wk->h, 0, 0, UINT64_MAX, 0, 0};
    uint32_t head = 0, tail = 0;
    wk->label[seed] = id;
    wk->queue[tail++] = (int32_t)seed;
    while (head < tail) {
        uint32_t i = (uint32_t)wk->queue[head++], x = i % wk->w, y = i / wk->w;
        k->count++;
        int64_t dx = 2 * (int64_t)x + 1 - wk->w, dy = 2 * (int64_t)y + 1 - wk->h; /* doubled */
        uint64_t d2 = (uint64_t)(dx * dx + dy * dy);
        k->near2 = d2 < k->near2 ? d2 : k->near2;
        k->boundary += !is_ink(wk, (int64_t)x - 1, y) || !is_ink(wk, (int64_t)x + 1, y) ||
                       !is_ink(wk, x, (int64_t)y - 1) || !is_ink(wk, x, (int64_t)y + 1);
        k->x0 = x < k->x0 ? x : k->x0, k->x1 = x > k->x1 ? x : k->x1;
        k->y0 = y < k->y0 ? y : k->y0, k->y1 = y > k->y1 ? y : k->y1;
        for (uint32_t ny = y ? y - 1 : 0; ny <= y + 1 && ny < wk->h; ny++)
            for (uint32_t nx = x ? x - 1 : 0; nx <= x + 1 && nx < wk->w; nx++) {
                size_t j = (size_t)ny * wk->w + nx;
                if (wk->label[j] == 0) {
                    wk->label[j] = id;
                    wk->queue[tail++] = (int32_t)j;
                }
            }
    }
    k->border = k->x0 == 0 || k->y0 == 0 || k->x1 == wk->w - 1 || k->y1 == wk->h - 1;
}

/* Labels every component (ids from 1; 0 is "ink, not yet labelled"); returns how many,
 * blobs[id - 1] being component id. */
static uint32_t components(struct work *wk, struct blob *blobs)
{
    uint32_t n = 0;
    for (size_t i = 0; i < (size_t)wk->w * wk->h; i++)
        if (wk->label[i] == 0) {
            flood(wk, (uint32_t)i, (int32_t)n + 1, &blobs[n]);
            n++;
        }
    return n;
}

/* A digit on its own: tall enough, not too wide, strokes rather than a filled shape (a 1
 * fills its box: the stroke's width, not the fill, tells it from a blob). */
static int digit_like(const struct blob *k, uint32_t short_side)
{
    float bw = (float)(k->x1 - k->x0 + 1), bh = (float)(k->y1 - k->y0 + 1);
    float stroke = k->boundary ? 2.f * (float)k->count / (float)k->boundary : bh;
    return !k->border && bh >= DIGIT_MIN_H * (float)short_side && bw <= DIGIT_MAX_ASPECT * bh &&
           stroke <= DIGIT_MAX_STROKE * bh;
}

static float box_gap(const struct blob *a, const struct blob *b)
{
    float dx = b->x0 > a->x1 ? (float)(b->x0 - a->x1) : a->x0 > b->x1 ? (float)(a->x0 - b->x1) : 0.f;
    float dy = b->y0 > a->y1 ? (float)(b->y0 - a->y1) : a->y0 > b->y1 ? (float)(a->y0 - b->y1) : 0.f;
    return dx > dy ? dx : dy;
}

/* The digit: the digit-like component whose ink comes nearest the centre (taller ones win
 * at a similar distance; a sheet lying wholly in the frame is ringed by the table, dark as
 * ink next to the paper's light, but its ink is the sheet's edge, far from the centre), then every part within PART_GAP of its height that does not
 * touch the frame and leaves the box digit-shaped. Returns 0 if there is none; *box = the
 * kept parts' box. */
static int pick_digit(const struct work *wk, struct blob *blobs, uint32_t n, struct blob *box)
{
    uint32_t short_side = wk->w < wk->h ? wk->w : wk->h;
    float best = 0.f;
    int main_ = -1;
    for (uint32_t i = 0; i < n; i++) {
        const struct blob *k = &blobs[i];
        if (!digit_like(k, short_side))
            continue;
        float d = sqrtf((float)k->near2) / 2 / (float)short_side;
        float score = (float)(k->y1 - k->y0 + 1) / (1.f + NEAR_WEIGHT * d);
        if (score > best)
            best = score, main_ = (int)i;
    }
    if (main_ < 0)
        return 0;
    *box = blobs[main_];
    blobs[main_].keep = 1;
    const float h = (float)(box->y1 - box->y0 + 1);
    for (int grew = 1; grew;) {
        grew = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct blob *k = &blobs[i], u = *box;
            if (k->keep || k->border || box_gap(box, k) > PART_GAP * h)
                continue;
            u.x0 = k->x0 < u.x0 ? k->x0 : u.x0, u.x1 = k->x1 > u.x1 ? k->x1 : u.x1;
            u.y0 = k->y0 < u.y0 ? k->y0 : u.y0, u.y1 = k->y1 > u.y1 ? k->y1 : u.y1;
            float uw = (float)(u.x1 - u.x0 + 1), uh = (float)(u.y1 - u.y0 + 1);
            if (uh > PART_GROWTH * h || uw > DIGIT_MAX_ASPECT * uh)
                continue;
            *box = u, k->keep = 1, grew = 1;
        }
    }
    return 1;
}

/* Ink of a kept component, or within one pixel of one (its anti-aliased rim). */
static int kept_near(const struct work *wk, const struct blob *blobs, uint32_t x, uint32_t y)
{
    for (uint32_t ny = y ? y - 1 : 0; ny <= y + 1 && ny < wk->h; ny++)
        for (uint32_t nx = x ? x - 1 : 0; nx <= x + 1 && nx < wk->w; nx++) {
            int32_t l = wk->label[(size_t)ny * wk->w + nx];
            if (l > 0 && blobs[l - 1].keep)
                return 1;
        }
    return 0;
}

/* The part of the working image the clean canvas shows: the box plus a margin. */
struct region {
    uint32_t x0, y0, x1, y1; /* inclusive */
};

static struct region around(const struct work *wk, const struct blob *box)
{
    uint32_t m = (box->y1 - box->y0) / 8 + 1;
    return (struct region){box->x0 > m ? box->x0 - m : 0, box->y0 > m ? box->y0 - m : 0,
                           box->x1 + m < wk->w ? box->x1 + m : wk->w - 1,
                           box->y1 + m < wk->h ? box->y1 + m : wk->h - 1};
}

/* The kept ink, dark on white, in a canvas of the region and a white frame; (*ox, *oy) =
 * where the canvas's (0, 0) lies in the working image. dist NULL: the ink as found, with
 * its rim. Else the ink eroded by `erode` pixels: a kept pixel's ink is scaled by how far
 * its distance to the paper (dist, in CHAMFER units) lies past that, up to one pixel, so
 * the new edge stays anti-aliased. */
static int clean_canvas(const struct work *wk, const struct blob *blobs, struct region r,
                        const int32_t *dist, float erode, struct dg_canvas *out, int64_t *ox,
                        int64_t *oy)
{
    out->w = r.x1 - r.x0 + 1 + 2 * PAD, out->h = r.y1 - r.y0 + 1 + 2 * PAD;
    out->rgba = malloc((size_t)out->w * out->h * 4);
    if (!out->rgba)
        return DG_INPUT_NOMEM;
    memset(out->rgba, 255, (size_t)out->w * out->h * 4);
    for (uint32_t y = r.y0; y <= r.y1; y++)
        for (uint32_t x = r.x0; x <= r.x1; x++) {
            size_t i = (size_t)y * wk->w + x;
            float a = 1.f;
            if (dist) {
                a = (float)dist[i] / CHAMFER - erode;
                if (a <= 0.f)
                    continue;
                a = a > 1.f ? 1.f : a;
            } else if (!kept_near(wk, blobs, x, y)) {
                continue;
            }
            uint8_t *p = out->rgba + ((size_t)(y - r.y0 + PAD) * out->w + (x - r.x0 + PAD)) * 4;
            p[0] = p[1] = p[2] = (uint8_t)(255.5f - a * (float)wk->dark[i]);
        }
    *ox = (int64_t)r.x0 - PAD, *oy = (int64_t)r.y0 - PAD;
    return DG_INPUT_OK;
}

/* dist = each kept ink pixel's distance to the nearest pixel that is not (0 there), in
 * CHAMFER units per pixel, over the region (whose outside counts as paper): the 3-4
 * chamfer distance, two passes, within 8 % of the Euclidean. */
static void distance_in(const struct work *wk, const struct blob *blobs, struct region r,
                        int32_t *dist)
{
    const int32_t far = INT32_MAX / 2, D = CHAMFER, E = CHAMFER + 1;
    const size_t w = wk->w;
    for (uint32_t y = r.y0; y <= r.y1; y++)
        for (uint32_t x = r.x0; x <= r.x1; x++) {
            size_t i = y * w + x;
            int32_t l = wk->label[i], d = l > 0 && blobs[l - 1].keep ? far : 0;
            if (d) {
                int32_t up = y > r.y0 ? dist[i - w] : 0, left = x > r.x0 ? dist[i - 1] : 0;
                int32_t ul = y > r.y0 && x > r.x0 ? dist[i - w - 1] : 0;
                int32_t ur = y > r.y0 && x < r.x1 ? dist[i - w + 1] : 0;
                d = up + D < d ? up + D : d, d = left + D < d ? left + D : d;
                d = ul + E < d ? ul + E : d, d = ur + E < d ? ur + E : d;
            }
            dist[i] = d;
        }
    for (uint32_t y = r.y1 + 1; y-- > r.y0;)
        for (uint32_t x = r.x1 + 1; x-- > r.x0;) {
            size_t i = y * w + x;
            int32_t d = dist[i];
            if (!d)
                continue;
            int32_t dn = y < r.y1 ? dist[i + w] : 0, rt = x < r.x1 ? dist[i + 1] : 0;
            int32_t dr = y < r.y1 && x < r.x1 ? dist[i + w + 1] : 0;
            int32_t dl = y < r.y1 && x > r.x0 ? dist[i + w - 1] : 0;
            d = dn + D < d ? dn + D : d, d = rt + D < d ? rt + D : d;
            d = dr + E < d ? dr + E : d, d = dl + E < d ? dl + E : d;
            dist[i] = d;
        }
}

/* Scratch of the steps, beside the working image. */
struct scratch {
    uint32_t *acc;      /* w: a row of block sums */
    uint32_t *s1;       /* (w + 1) * (h + 1): summed-area tables */
    uint64_t *s2;
    struct blob *blobs; /* w * h / 2 + 1: more than 8-connected components can number */
};

/* One allocation for the working image and the scratch; sizes bounded by the canvas's. */
static void *work_alloc(const struct dg_canvas *c, struct work *wk, struct scratch *s)
{
    uint32_t side = c->w > c->h ? c->w : c->h;
    wk->f = (side + WORK_SIDE - 1) / WORK_SIDE;
    wk->w = (c->w + wk->f - 1) / wk->f, wk->h = (c->h + wk->f - 1) / wk->f;
    size_t n = (size_t)wk->w * wk->h, nb = n / 2 + 1, ni = (size_t)(wk->w + 1) * (wk->h + 1);
    size_t bytes = n * (2 + 2 * sizeof(int32_t)) + nb * sizeof(struct blob) +
                   ni * (sizeof(uint32_t) + sizeof(uint64_t)) + (size_t)wk->w * sizeof(uint32_t);
    uint8_t *mem = malloc(bytes); /* w, h <= WORK_SIDE: a few MiB at most */
    if (!mem)
        return NULL;
    s->s2 = (uint64_t *)(void *)mem;
    s->blobs = (struct blob *)(void *)(s->s2 + ni);
    wk->label = (int32_t *)(void *)(s->blobs + nb);
    wk->queue = wk->label + n;
    s->s1 = (uint32_t *)(void *)(wk->queue + n);
    s->acc = s->s1 + ni;
    wk->grey = (uint8_t *)(s->acc + wk->w);
    wk->dark = wk->grey + n;
    return mem;
}

/* The steps up to the digit's components (kept in s->blobs) and their box;
 * DG_INPUT_BLANK if no digit is found. */
static int find_digit(const struct dg_canvas *c, struct work *wk, const struct scratch *s,
                      struct blob *box)
{
    reduce_grey(c, wk, s->acc);
    uint32_t side = wk->w > wk->h ? wk->w : wk->h, b = (side + BG_BLOCKS - 1) / BG_BLOCKS;
    b = b < 4 ? 4 : b;
    uint32_t gw = (wk->w + b - 1) / b, gh = (wk->h + b - 1) / b; /* <= BG_BLOCKS */
    uint8_t raw[BG_BLOCKS * BG_BLOCKS], light[BG_BLOCKS * BG_BLOCKS];
    block_light(wk, b, gw, gh, raw, light);
    darkness(wk, b, gw, gh, light);
    unsigned sure = 0, floor_ = ink_floor(wk, &sure);
    if (!floor_)
        return DG_INPUT_BLANK;
    integrals(wk, s->s1, s->s2);
    threshold(wk, b, floor_, sure, s->s1, s->s2);
    uint32_t n = components(wk, s->blobs);
    return pick_digit(wk, s->blobs, n, box) ? DG_INPUT_OK : DG_INPUT_BLANK;
}

/* out and info are dg_preprocess's for the ink as found. If its strokes are thicker than
 * MNIST's thick end, the ink is eroded by dg_mnist_erosion working pixels a side and
 * preprocessed again. If nothing is left, the first answer stands. */
static int thin_to_mnist(const struct work *wk, const struct scratch *s, struct region r,
                         float out[784], struct dg_prep_info *info, int64_t *ox, int64_t *oy)
{
    float sw = dg_stroke_width(out);
    if (sw <= DG_MNIST_MAX_WIDTH)
        return DG_INPUT_OK;
    uint32_t bw = info->x1 - info->x0, bh = info->y1 - info->y0;
    float e = dg_mnist_erosion((float)(bw > bh ? bw : bh), sw);
    distance_in(wk, s->blobs, r, wk->queue); /* the flood's queue is free again */
    struct dg_canvas thin = {0};
    int64_t tx, ty;
    int rc = clean_canvas(wk, s->blobs, r, wk->queue, e, &thin, &tx, &ty);
    if (rc)
        return rc;
    float x[784];
    struct dg_prep_info ti;
    if (dg_preprocess(&thin, x, &ti) == DG_INPUT_OK) {
        memcpy(out, x, sizeof x);
        *info = ti, *ox = tx, *oy = ty;
    }
    free(thin.rgba);
    return DG_INPUT_OK;
}

/* find_digit, then the clean canvas through dg_preprocess (and thin_to_mnist); info's box
 * in the working image's pixels less (*ox, *oy). */
static int digit_input(const struct dg_canvas *c, struct work *wk, const struct scratch *s,
                       float out[784], struct dg_prep_info *info, int64_t *ox, int64_t *oy)
{
    struct blob box;
    int rc = find_digit(c, wk, s, &box);
    if (rc)
        return rc;
    struct region r = around(wk, &box);
    struct dg_canvas clean = {0};
    rc = clean_canvas(wk, s->blobs, r, NULL, 0.f, &clean, ox, oy);
    if (rc)
        return rc;
    rc = dg_preprocess(&clean, out, info); /* a clean canvas: not taken for a photo again */
    free(clean.rgba);
    return rc ? rc : thin_to_mnist(wk, s, r, out, info, ox, oy);
}

int dg_photo_preprocess(const struct dg_canvas *c, float out[784], struct dg_prep_info *info)
{
    struct work wk;
    struct scratch scratch;
    void *mem = work_alloc(c, &wk, &scratch);
    if (!mem)
        return DG_INPUT_NOMEM;
    int64_t ox = 0, oy = 0;
    int rc = digit_input(c, &wk, &scratch, out, info, &ox, &oy);
    uint32_t f = wk.f;
    free(mem);
    if (rc)
        return rc;
    /* the box back in the photo's pixels */
    int64_t bx0 = ((int64_t)info->x0 + ox) * f, by0 = ((int64_t)info->y0 + oy) * f;
    int64_t bx1 = ((int64_t)info->x1 + ox) * f, by1 = ((int64_t)info->y1 + oy) * f;
    info->x0 = (uint32_t)(bx0 < 0 ? 0 : bx0), info->y0 = (uint32_t)(by0 < 0 ? 0 : by0);
    info->x1 = (uint32_t)(bx1 > c->w ? c->w : bx1 < 0 ? 0 : bx1);
    info->y1 = (uint32_t)(by1 > c->h ? c->h : by1 < 0 ? 0 : by1);
    return rc;
}
