/* preprocess.c: a drawn canvas to the 28x28 input MNIST models expect.
 *
 * MNIST's recipe (LeCun et al.): the digit's bounding box is scaled so its longer side is
 * 20 px, keeping the aspect ratio, with area averaging (which makes the grey edge levels),
 * and placed in a 28x28 frame so its centre of mass lands on the centre. Before that we
 * must find the ink: the web page's canvas may be dark on white, white on black, or
 * transparent with the strokes only in the alpha channel; browsers may add faint read-back
 * noise to every pixel; and people leave specks and stray pen taps away from the digit,
 * which would stretch the box and shift the centre of mass if they were kept.
 *
 * Steps: background and polarity -> ink map (0 = paper) -> a coarse grid of "clearly ink"
 * cells -> connected components, keeping the digit and what belongs to it -> box, centroid,
 * area averaging. Every pass over the full canvas is a simple loop the compiler vectorises
 * (this runs on every request: a 280x280 canvas takes a few tens of microseconds). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edt.h"
#include "input.h"
#include "photo.h"

#define OUT_SIDE 28
#define COM_TARGET 14.f   /* centre of mass, in pixel-index coordinates */
#define MIN_CONTRAST 24   /* grey levels of ink below which the canvas counts as blank */
#define NOISE_LEVELS 8    /* deviations from the paper up to this are read-back noise */
#define GRID_MAX 64       /* the component grid has at most this many cells a side */
#define SPECK_PIXELS 5    /* a component with fewer clearly-ink pixels is a speck */
/* Which separate parts belong to the digit (belongs()), as fractions of its size: */
#define GROW_DIV 5        /* a part sticking out of its box by at most 1/5 of it, */
#define LIFT_DIV 10       /* one within 1/10 of it (a pen lift), */
#define BIG_DIV 2         /* and a stroke 1/2 of it */
#define FAR_DIV 2         /* up to 1/2 of it away */
#define MAX_SIDE 16384    /* larger is refused: keeps the 16- and 32-bit sums below exact */
/* Stroke width in the 28x28 frame (dg_stroke_width()): the thinnest tenth of MNIST's training
 * digits lie below this; a thinner stroke (a pencil line, a thin pen on a large drawing) is
 * thickened to it instead of reaching the model as a hairline. */
#define MNIST_MIN_WIDTH 1.75f
/* A stroke wider than this (the thickest hundredth of MNIST's training digits lie above it)
 * is thinned to DG_MNIST_MAX_WIDTH (input.h): ink so thick is a marker or a wide pen on a
 * small digit, and no longer a thick MNIST stroke. */
#define MNIST_THICK_WIDTH 4.6f
#define THIN_PLANE 128 /* the thinning's plane: at most this many pixels a side */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DG_HOT_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define DG_HOT_LOOP
#endif

/* Luminance (ITU-R BT.601 weights in 8.8 fixed point). */
static inline unsigned luma(const uint8_t *p)
{
    return (77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8;
}

/* The paper is whatever dominates the canvas border (people draw in the middle): mostly
 * transparent means the ink is in the alpha channel; otherwise *bg is its grey level. */
static int border_background(const struct dg_canvas *c, unsigned *bg)
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
    unsigned mode = 0;
    for (unsigned v = 1; v < 256; v++)
        if (hist[v] > hist[mode])
            mode = v;
    *bg = mode;
    return 2 * transparent > n;
}

/* grey[i] = pixel i's luminance composited over the paper's grey bg. All in 16 bits (every
 * intermediate is at most 255 * 255 + 383), so that it runs 8 or 16 pixels a step; the
 * AVX2 clone is picked at load time where the CPU has it. */
DG_HOT_LOOP static void composite_grey(const uint8_t *p, size_t n, uint16_t bg, uint8_t *grey)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *q = p + i * 4;
        uint16_t r = q[0], g = q[1], b = q[2], a = q[3];
        uint16_t l = (uint16_t)((uint16_t)(77 * r) + (uint16_t)(150 * g) + (uint16_t)(29 * b) + 128) >> 8;
        uint16_t x = (uint16_t)((uint16_t)(l * a) + (uint16_t)(bg * (uint16_t)(255 - a)) + 128);
        grey[i] = (uint8_t)((uint16_t)(x + (x >> 8)) >> 8);
    }
}

static inline uint8_t sat_sub(uint8_t a, uint8_t b)
{
    return (uint8_t)(a > b ? a - b : 0);
}

/* Sum over n <= 256 grey levels of their deviation from the paper bg, darker or lighter,
 * noise excluded. 16-bit lanes (256 * 255 fits); one direction per loop, or gcc does not
 * vectorise it. */
DG_HOT_LOOP static uint32_t deviation_sum(const uint8_t *g, uint32_t n, uint8_t bg, int darker)
{
    uint16_t s = 0;
    if (darker)
        for (uint32_t i = 0; i < n; i++) {
            uint8_t v = sat_sub(bg, g[i]);
            s = (uint16_t)(s + (v > NOISE_LEVELS ? v : 0));
        }
    else
        for (uint32_t i = 0; i < n; i++) {
            uint8_t v = sat_sub(g[i], bg);
            s = (uint16_t)(s + (v > NOISE_LEVELS ? v : 0));
        }
    return s;
}

/* The largest of n ink levels. */
DG_HOT_LOOP static unsigned max_ink(const uint8_t *ink, size_t n)
{
    uint8_t m = 0;
    for (size_t i = 0; i < n; i++)
        m = ink[i] > m ? ink[i] : m;
    return m;
}

/* In place: grey level -> its distance from the paper bg towards the ink; returns the max.
 * Separate loops: fused, gcc does not vectorise them. */
DG_HOT_LOOP static unsigned ink_from_grey(uint8_t *g, size_t n, uint8_t bg, int darker)
{
    if (darker)
        for (size_t i = 0; i < n; i++)
            g[i] = sat_sub(bg, g[i]);
    else
        for (size_t i = 0; i < n; i++)
            g[i] = sat_sub(g[i], bg);
    return max_ink(g, n);
}

/* ink[i] = how far pixel i is from the paper towards the ink, 0..255; returns the max and
 * sets info->polarity. On an opaque canvas the ink is on the side of the paper's grey where
 * the canvas deviates most (dark ink on grey paper is still dark on light); what little
 * alpha there is is composited over the paper. Each loop has one element type and no
 * branch, so that it vectorises. */
static unsigned ink_map(const struct dg_canvas *c, struct dg_prep_info *info, uint8_t *ink)
{
    const size_t n = (size_t)c->w * c->h;
    const uint8_t *p = c->rgba;
    unsigned bg;
    if (border_background(c, &bg)) {
        info->polarity = DG_POL_ALPHA;
        for (size_t i = 0; i < n; i++)
            ink[i] = p[i * 4 + 3];
        return max_ink(ink, n);
    }
    composite_grey(p, n, (uint16_t)bg, ink);
    const uint8_t b = (uint8_t)bg;
    uint64_t darker = 0, lighter = 0;
    for (size_t i = 0; i < n; i += 256) {
        uint32_t m = n - i < 256 ? (uint32_t)(n - i) : 256;
        darker += deviation_sum(ink + i, m, b, 1);
        lighter += deviation_sum(ink + i, m, b, 0);
    }
    info->polarity = darker >= lighter ? DG_POL_DARK_ON_LIGHT : DG_POL_LIGHT_ON_DARK;
    return ink_from_grey(ink, n, b, info->polarity == DG_POL_DARK_ON_LIGHT);
}

/* The coarse grid: cell (cx, cy) covers cs x cs canvas pixels; per cell the number of
 * clearly-ink pixels (>= thr, the measure of how much is drawn there); then its component
 * label. */
struct grid {
    uint32_t cs, gw, gh;
    uint32_t *count;
    uint16_t *colcnt;           /* one band's per-column counts, w */
    uint32_t *colsum;           /* the box's column sums, w */
    int32_t *label;   /* -1: no clearly-ink pixel; else the component's index */
    int32_t *queue;   /* flood-fill work list */
};

struct comp {
    uint32_t count;
    uint32_t x0, y0, x1, y1; /* cells, inclusive */
    int keep;
};

/* One band row's clearly-ink pixels added to the per-column counts (16 bits: a band has at
 * most MAX_SIDE / GRID_MAX = 256 rows). */
DG_HOT_LOOP static void band_add(const uint8_t *row, uint32_t w, uint8_t thr, uint16_t *cnt)
{
    for (uint32_t x = 0; x < w; x++)
        cnt[x] = (uint16_t)(cnt[x] + (row[x] >= thr));
}

/* Per band of cs rows, per-column counts first, then the cs columns of each cell. */
static void grid_fill(struct grid *g, const uint8_t *ink, uint32_t w, uint32_t h, unsigned thr)
{
    for (uint32_t cy = 0; cy < g->gh; cy++) {
        memset(g->colcnt, 0, w * sizeof *g->colcnt);
        for (uint32_t y = cy * g->cs; y < (cy + 1) * g->cs && y < h; y++)
            band_add(ink + (size_t)y * w, w, (uint8_t)thr, g->colcnt);
        uint32_t *cnt = g->count + (size_t)cy * g->gw;
        for (uint32_t cx = 0, x = 0; cx < g->gw; cx++) {
            uint32_t end = x + g->cs < w ? x + g->cs : w, nc = 0;
            for (; x < end; x++)
                nc += g->colcnt[x];
            cnt[cx] = nc;
        }
    }
}

/* Labels the 8-connected components of cells with clearly-ink pixels; returns how many. */
static uint32_t grid_label(struct grid *g, struct comp *comps)
{
    const uint32_t ncell = g->gw * g->gh;
    uint32_t n = 0;
    for (uint32_t i = 0; i < ncell; i++)
        g->label[i] = g->count[i] ? INT32_MAX : -1;
    for (uint32_t seed = 0; seed < ncell; seed++) {
        if (g->label[seed] != INT32_MAX)
            continue;
        struct comp *k = &comps[n];
        *k = (struct comp){0, g->gw, g->gh, 0, 0, 0};
        uint32_t head = 0, tail = 0;
        g->label[seed] = (int32_t)n;
        g->queue[tail++] = (int32_t)seed;
        while (head < tail) {
            uint32_t i = (uint32_t)g->queue[head++], cx = i % g->gw, cy = i / g->gw;
            k->count += g->count[i];
            k->x0 = cx < k->x0 ? cx : k->x0, k->x1 = cx > k->x1 ? cx : k->x1;
            k->y0 = cy < k->y0 ? cy : k->y0, k->y1 = cy > k->y1 ? cy : k->y1;
            /* the 3 x 3 neighbourhood clipped to the grid, in raster order */
            uint32_t x0 = cx ? cx - 1 : 0, x1 = cx + 1 < g->gw ? cx + 1 : cx;
            uint32_t y0 = cy ? cy - 1 : 0, y1 = cy + 1 < g->gh ? cy + 1 : cy;
            for (uint32_t j0 = y0 * g->gw; j0 <= y1 * g->gw; j0 += g->gw)
                for (uint32_t j = j0 + x0; j <= j0 + x1; j++)
                    if (g->label[j] == INT32_MAX) {
                        g->label[j] = (int32_t)n;
                        g->queue[tail++] = (int32_t)j;
                    }
        }
        n++;
    }
    return n;
}

static uint32_t gap(uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
    return b0 > a1 ? b0 - a1 : a0 > b1 ? a0 - b1 : 0;
}

/* How far part k sticks out of box b (cells: the largest of its four overhangs). */
static uint32_t overhang(const struct comp *b, const struct comp *k)
{
    uint32_t o = k->x0 < b->x0 ? b->x0 - k->x0 : 0;
    o = k->x1 > b->x1 && k->x1 - b->x1 > o ? k->x1 - b->x1 : o;
    o = k->y0 < b->y0 && b->y0 - k->y0 > o ? b->y0 - k->y0 : o;
    return k->y1 > b->y1 && k->y1 - b->y1 > o ? k->y1 - b->y1 : o;
}

/* Whether part k belongs to the digit: b is the box of what is kept so far and side its
 * longer side (cells; one cell of slack throughout, the grid is coarse). A part
 * kept sets the crop, the scale and the centre of mass with the digit, so what counts is
 * where it lies and how big it is against the digit, not its ink (a wide pen's tap has as
 * much as a 1's stem):
 *  - one that sticks out of the box by at most 1/GROW_DIV of the digit's size adds little to
 *    it: a dot or a bar inside it, a foot under a 1, the other end of a broken stroke;
 *  - one within 1/LIFT_DIV of the digit's size is where the pen was lifted and put down
 *    again: a 1's flag or foot, a 5's bar drawn apart;
 *  - a stroke 1/BIG_DIV of the digit's size (a 5's bar, a 4's second stroke) up to
 *    1/FAR_DIV of its size away.
 * What is left is small and stands clear of the digit: a tap of the pen, a short stray
 * stroke, a speck. */
static int belongs(const struct comp *b, uint32_t side, const struct comp *k)
{
    if ((uint64_t)overhang(b, k) * GROW_DIV <= side + GROW_DIV)
        return 1;
    uint32_t d = gap(b->x0, b->x1, k->x0, k->x1), dy = gap(b->y0, b->y1, k->y0, k->y1);
    d = dy > d ? dy : d; /* the gap, along the axis it is wider on */
    if ((uint64_t)d * LIFT_DIV <= side + LIFT_DIV)
        return 1;
    uint32_t ext = k->x1 - k->x0 > k->y1 - k->y0 ? k->x1 - k->x0 : k->y1 - k->y0;
    return (uint64_t)(ext + 1) * BIG_DIV >= side && (uint64_t)d * FAR_DIV <= side + FAR_DIV;
}

/* Keeps the digit: the component with the most ink, then the parts that belong to it
 * (belongs()), the heaviest first: each is judged against the box of what is kept, so a
 * 5's bar is in the box before a small stroke under the 5 is measured against it. Specks
 * never. Returns the number kept; box = their cells' bounding box. */
static int select_digit(struct comp *comps, uint32_t n, struct comp *box)
{
    int main_ = -1;
    for (uint32_t i = 0; i < n; i++)
        if (comps[i].count >= SPECK_PIXELS && (main_ < 0 || comps[i].count > comps[main_].count))
            main_ = (int)i;
    if (main_ < 0)
        return 0;
    *box = comps[main_];
    comps[main_].keep = 1;
    int kept = 1;
    for (;;) {
        uint32_t side = box->x1 - box->x0 > box->y1 - box->y0 ? box->x1 - box->x0 : box->y1 - box->y0;
        struct comp *k = NULL;
        for (uint32_t i = 0; i < n; i++)
            if (!comps[i].keep && comps[i].count >= SPECK_PIXELS && (!k || comps[i].count > k->count) &&
                belongs(box, side, &comps[i]))
                k = &comps[i];
        if (!k)
            return kept;
        k->keep = 1, kept++;
        box->x0 = k->x0 < box->x0 ? k->x0 : box->x0, box->x1 = k->x1 > box->x1 ? k->x1 : box->x1;
        box->y0 = k->y0 < box->y0 ? k->y0 : box->y0, box->y1 = k->y1 > box->y1 ? k->y1 : box->y1;
    }
}

/* First index in [a, b) of a value >= thr in v (stride apart), or b. */
static uint32_t first_at_least(const uint8_t *v, size_t stride, uint32_t a, uint32_t b, uint8_t thr)
{
    while (a < b && v[(size_t)a * stride] < thr)
        a++;
    return a;
}

/* Last index + 1 in [a, b) of a value >= thr, or a. */
static uint32_t last_at_least(const uint8_t *v, size_t stride, uint32_t a, uint32_t b, uint8_t thr)
{
    while (b > a && v[(size_t)(b - 1) * stride] < thr)
        b--;
    return b;
}

/* Clears the cells of dropped components in the ink map, then finds the pixel bounding box
 * of the clearly-ink pixels. Only kept cells hold such pixels now, so each edge of the box
 * lies in the band of cells on that edge of the kept cells' box: only those are scanned. */
static void digit_box(const struct grid *g, const struct comp *comps, const struct comp *cells,
                      uint8_t *ink, uint32_t w, uint32_t h, unsigned thr, struct dg_prep_info *b)
{
    for (uint32_t cy = 0; cy < g->gh; cy++)
        for (uint32_t cx = 0; cx < g->gw; cx++) {
            int32_t l = g->label[cy * g->gw + cx];
            if (l < 0 || comps[l].keep)
                continue;
            for (uint32_t y = cy * g->cs; y < (cy + 1) * g->cs && y < h; y++)
                for (uint32_t x = cx * g->cs; x < (cx + 1) * g->cs && x < w; x++)
                    ink[(size_t)y * w + x] = 0;
        }
    const uint8_t t = (uint8_t)thr;
    uint32_t xa = cells->x0 * g->cs, ya = cells->y0 * g->cs;
    uint32_t xb = (cells->x1 + 1) * g->cs < w ? (cells->x1 + 1) * g->cs : w;
    uint32_t yb = (cells->y1 + 1) * g->cs < h ? (cells->y1 + 1) * g->cs : h;
    /* xb - cs wraps when the canvas is narrower than a cell (a 2000x3 canvas has 32-pixel
     * cells): compare before subtracting. */
    uint32_t xa_end = xa + g->cs < xb ? xa + g->cs : xb, xb_start = xb > xa + g->cs ? xb - g->cs : xa;
    uint32_t ya_end = ya + g->cs < yb ? ya + g->cs : yb, yb_start = yb > ya + g->cs ? yb - g->cs : ya;
    b->x0 = xa_end, b->x1 = xb_start, b->y0 = ya_end, b->y1 = yb_start;
    for (uint32_t y = ya; y < yb; y++) { /* left and right bands */
        const uint8_t *row = ink + (size_t)y * w;
        uint32_t l = first_at_least(row, 1, xa, xa_end, t), r = last_at_least(row, 1, xb_start, xb, t);
        b->x0 = l < b->x0 ? l : b->x0, b->x1 = r > b->x1 ? r : b->x1;
    }
    for (uint32_t x = xa; x < xb; x++) { /* top and bottom bands, a column at a time */
        const uint8_t *col = ink + x;
        uint32_t top = first_at_least(col, w, ya, ya_end, t), bot = last_at_least(col, w, yb_start, yb, t);
        b->y0 = top < b->y0 ? top : b->y0, b->y1 = bot > b->y1 ? bot : b->y1;
    }
}

/* In place over n pixels: ink above the noise floor becomes ink - floor, the rest 0; the
 * column sums gain the result, and the row's sum is returned (n <= 2^24: fits). */
DG_HOT_LOOP static uint32_t lift_row(uint8_t *row, uint32_t n, uint8_t floor_, uint32_t *colsum)
{
    for (uint32_t x = 0; x < n; x++)
        row[x] = sat_sub(row[x], floor_);
    uint32_t s = 0;
    for (uint32_t x = 0; x < n; x++) {
        colsum[x] += row[x];
        s += row[x];
    }
    return s;
}

/* Lifts the box's ink above the floor and returns its centroid in box pixel units (pixel
 * centres at i + 0.5), from row and column sums: integer, exact. colsum: bw scratch. */
static void lift_and_centroid(uint8_t *ink, uint32_t w, const struct dg_prep_info *b, unsigned floor_,
                              uint32_t *colsum, double *cx, double *cy)
{
    uint32_t bw = b->x1 - b->x0;
    uint64_t sum = 0, sx = 0, sy = 0;
    memset(colsum, 0, bw * sizeof *colsum);
    for (uint32_t y = b->y0; y < b->y1; y++) {
        uint32_t rs = lift_row(ink + (size_t)y * w + b->x0, bw, (uint8_t)floor_, colsum);
        sum += rs, sy += (uint64_t)rs * (y - b->y0);
    }
    for (uint32_t x = 0; x < bw; x++)
        sx += (uint64_t)colsum[x] * x;
    *cx = sum ? (double)sx / (double)sum + 0.5 : 0;
    *cy = sum ? (double)sy / (double)sum + 0.5 : 0;
}

/* One axis of the box filter: output cell o in [0, 28) covers source pixels first..last
 * (source pixel i spans [off + i*s, off + (i+1)*s) in output units); the end pixels overlap
 * it by wf and wl, the ones between lie wholly inside (weight s). first > last: empty. */
struct span {
    int first, last;
    float wf, wl;
};

static float overlap(int i, int o, float off, float s)
{
    float a = off + (float)i * s, b = a + s;
    float lo = a > (float)o ? a : (float)o, hi = b < (float)(o + 1) ? b : (float)(o + 1);
    return hi - lo > 1e-4f ? hi - lo : 0.f; /* float slivers would widen the box by a cell */
}

static void spans(struct span sp[OUT_SIDE], int n, float off, float s)
{
    for (int o = 0; o < OUT_SIDE; o++) {
        int first = (int)floorf(((float)o - off) / s), last = (int)floorf(((float)o + 1 - off) / s);
        first = first < 0 ? 0 : first;
        last = last > n - 1 ? n - 1 : last;
        while (first <= last && overlap(first, o, off, s) == 0.f)
            first++;
        while (last >= first && overlap(last, o, off, s) == 0.f)
            last--;
        sp[o] = (struct span){first, last, 0.f, 0.f};
        if (first <= last)
            sp[o].wf = overlap(first, o, off, s), sp[o].wl = overlap(last, o, off, s);
    }
}

static float span_sum(const struct span *sp, const uint8_t *v, size_t stride, float s)
{
    if (sp->first > sp->last)
        return 0.f;
    if (sp->first == sp->last)
        return sp->wf * v[(size_t)sp->first * stride];
    uint32_t mid = 0;
    for (int i = sp->first + 1; i < sp->last; i++)
        mid += v[(size_t)i * stride];
    return sp->wf * v[(size_t)sp->first * stride] + sp->wl * v[(size_t)sp->last * stride] +
           s * (float)mid;
}

/* Area-averages the bw x bh plane src (row stride `stride`) into out, at scales sx, sy and
 * integer offsets ox, oy: each box row is reduced to 28 cells, then added to the output
 * rows it overlaps. A row on the boundary of two output rows is the last of one and the
 * first of the next: it is reduced once. out is in the plane's units times the cell area
 * covered. */
static void area_resample(const uint8_t *src, size_t stride, uint32_t bw, uint32_t bh, float sx,
                          float sy, int ox, int oy, float out[784])
{
    struct span xs[OUT_SIDE], ys[OUT_SIDE];
    spans(xs, (int)bw, (float)ox, sx);
    spans(ys, (int)bh, (float)oy, sy);
    memset(out, 0, 784 * sizeof(float));
    float cells[OUT_SIDE];
    int reduced = -1; /* the row cells holds */
    for (int o = 0; o < OUT_SIDE; o++) {
        for (int y = ys[o].first; y <= ys[o].last; y++) {
            float wy = y == ys[o].first ? ys[o].wf : y == ys[o].last ? ys[o].wl : sy;
            if (y != reduced)
                for (int x = 0; x < OUT_SIDE; x++)
                    cells[x] = span_sum(&xs[x], src + (size_t)y * stride, 1, sx);
            reduced = y;
            for (int x = 0; x < OUT_SIDE; x++)
                out[o * OUT_SIDE + x] += wy * cells[x];
        }
    }
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

/* Moves the frame's content by (dx, dy) whole pixels (the caller checked it stays inside). */
static void shift_frame(float out[784], int dx, int dy)
{
    float tmp[784] = {0};
    for (int y = 0; y < OUT_SIDE; y++)
        for (int x = 0; x < OUT_SIDE; x++) {
            int ty = y + dy, tx = x + dx;
            if (ty >= 0 && ty < OUT_SIDE && tx >= 0 && tx < OUT_SIDE)
                tmp[ty * OUT_SIDE + tx] = out[y * OUT_SIDE + x];
        }
    memcpy(out, tmp, sizeof tmp);
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

/* One allocation for the ink map and the grid, sizes checked. */
/* One allocation for the grid, its components and (with_ink) the w x h ink map. */
static void *prep_alloc(uint32_t w, uint32_t h, int with_ink, uint8_t **ink, struct grid *g,
                        struct comp **comps)
{
    uint32_t side = w > h ? w : h;
    g->cs = (side + GRID_MAX - 1) / GRID_MAX;
    g->gw = (w + g->cs - 1) / g->cs, g->gh = (h + g->cs - 1) / g->cs;
    size_t n = (size_t)w * h, ncell = (size_t)g->gw * g->gh; /* ncell <= 64 * 64 */
    if (n / w != h || n > SIZE_MAX - 64)
        return NULL;
    size_t ink_bytes = with_ink ? (n + 63) & ~(size_t)63 : 0;
    size_t grid_bytes = ncell * (sizeof(uint32_t) + 2 * sizeof(int32_t) + sizeof(struct comp)) +
                        (size_t)w * (sizeof(uint32_t) + sizeof(uint16_t)); /* w <= n */
    if (ink_bytes > SIZE_MAX - grid_bytes)
        return NULL;
    uint8_t *mem = malloc(ink_bytes + grid_bytes);
    if (!mem)
        return NULL;
    *ink = with_ink ? mem : NULL;
    *comps = (struct comp *)(mem + ink_bytes);
    g->count = (uint32_t *)(*comps + ncell);
    g->label = (int32_t *)(g->count + ncell);
    g->queue = g->label + ncell;
    g->colsum = (uint32_t *)(g->queue + ncell);
    g->colcnt = (uint16_t *)(g->colsum + w);
    return mem;
}

/* The mean stroke width of a grey image in pixels: twice its ink over its outline's length,
 * the outline measured by the total variation (which counts a slanted edge 4/pi too long
 * on average, hence the factor). Same measure as MNIST_MIN_WIDTH and DG_MNIST_MAX_WIDTH. */
float dg_stroke_width(const float out[784])
{
    float mass = 0.f, tv = 0.f;
    for (int y = 0; y < OUT_SIDE; y++)
        for (int x = 0; x < OUT_SIDE; x++) {
            float v = out[y * OUT_SIDE + x];
            float r = x + 1 < OUT_SIDE ? out[y * OUT_SIDE + x + 1] : 0.f;
            float d = y + 1 < OUT_SIDE ? out[(y + 1) * OUT_SIDE + x] : 0.f;
            mass += v;
            tv += fabsf(r - v) + fabsf(d - v) + (x == 0 ? v : 0.f) + (y == 0 ? v : 0.f);
        }
    return tv > 0.f ? 2.f * mass / tv * (4.f / (float)M_PI) : 0.f;
}

/* Grey dilation by the 4-neighbourhood blended by alpha: alpha pixels of width added on
 * each side of every stroke. */
static void thicken(float out[784], float alpha)
{
    float src[784];
    memcpy(src, out, sizeof src);
    for (int y = 0; y < OUT_SIDE; y++)
        for (int x = 0; x < OUT_SIDE; x++) {
            float v = src[y * OUT_SIDE + x], m = v;
            m = x > 0 && src[y * OUT_SIDE + x - 1] > m ? src[y * OUT_SIDE + x - 1] : m;
            m = x + 1 < OUT_SIDE && src[y * OUT_SIDE + x + 1] > m ? src[y * OUT_SIDE + x + 1] : m;
            m = y > 0 && src[(y - 1) * OUT_SIDE + x] > m ? src[(y - 1) * OUT_SIDE + x] : m;
            m = y + 1 < OUT_SIDE && src[(y + 1) * OUT_SIDE + x] > m ? src[(y + 1) * OUT_SIDE + x] : m;
            out[y * OUT_SIDE + x] = v + alpha * (m - v);
        }
}

/* A stroke thinner than MNIST's thin end brought up to it, a dilation at a time. */
static void mnist_weight(float out[784], float width)
{
    for (int i = 0; i < 4 && width < MNIST_MIN_WIDTH; i++) {
        float alpha = (MNIST_MIN_WIDTH - width) / 2.f;
        alpha = alpha > 1.f ? 1.f : alpha;
        thicken(out, alpha);
        width += 2.f * alpha;
    }
}

/* Scales the box so that its longer side is `box` px into the frame with its centroid at the
 * centre, stretched to a maximum of 1 (MNIST strokes reach full intensity; thin pen strokes
 * shrunk by averaging do not). Returns DG_INPUT_BLANK if nothing is left. */
static int scale_into(const uint8_t *ink, uint32_t w, const struct dg_prep_info *b, double cx,
                      double cy, float box, float out[784])
{
    uint32_t bw = b->x1 - b->x0, bh = b->y1 - b->y0;
    float s = box / (float)(bw > bh ? bw : bh), ew = (float)bw * s, eh = (float)bh * s;
    int ox = place(cx, s, ew), oy = place(cy, s, eh);
    area_resample(ink + (size_t)b->y0 * w + b->x0, w, bw, bh, s, s, ox, oy, out);
    /* Area averaging moves the centroid a little off the source's; if that leaves it more
     * than half a pixel from the centre, one more integer step fixes it. */
    int dx, dy;
    out_shift(out, &dx, &dy);
    if ((dx || dy) && fits(ox + dx, ew) && fits(oy + dy, eh))
        shift_frame(out, dx, dy);
    float m = 0.f;
    for (int i = 0; i < 784; i++)
        m = out[i] > m ? out[i] : m;
    if (m <= 0.f)
        return DG_INPUT_BLANK;
    for (int i = 0; i < 784; i++)
        out[i] = out[i] / m > 1.f ? 1.f : out[i] / m;
    return DG_INPUT_OK;
}

float dg_mnist_erosion(float side, float width)
{
    const float room = (float)DG_MNIST_BOX - DG_MNIST_MAX_WIDTH;
    return side * (width - DG_MNIST_MAX_WIDTH) / (2.f * room);
}

int dg_is_tap(double box, double canvas_side, double stroke_width)
{
    return box * 8.0 < canvas_side && stroke_width >= 0.35 * box;
}

/* MNIST's frame (scale_into at DG_MNIST_BOX). A small blob alone on the canvas is a tap of the
 * pen, not a digit: DG_INPUT_BLANK. A stroke thinner than MNIST's thin ones is thickened to
 * them, the box first shrunk by what that adds so that the digit stays DG_MNIST_BOX px. */
static int frame(const uint8_t *ink, uint32_t w, uint32_t h, const struct dg_prep_info *b, double cx,
                 double cy, float out[784])
{
    uint32_t bw = b->x1 - b->x0, bh = b->y1 - b->y0, side = w < h ? w : h;
    if (scale_into(ink, w, b, cx, cy, (float)DG_MNIST_BOX, out) != DG_INPUT_OK)
        return DG_INPUT_BLANK;
    float sw = dg_stroke_width(out);
    uint32_t longer = bw > bh ? bw : bh;
    /* sw is measured in the frame, where the box's longer side is DG_MNIST_BOX */
    if (dg_is_tap(longer, side, sw * (double)longer / DG_MNIST_BOX))
        return DG_INPUT_BLANK;
    if (sw >= MNIST_MIN_WIDTH)
        return DG_INPUT_OK;
    /* the width to add, g, at the smaller scale: sw * (BOX - g) / BOX + g = MIN */
    const float full = (float)DG_MNIST_BOX;
    float g = (MNIST_MIN_WIDTH - sw) / (1.f - sw / full), box = full - g;
    if (scale_into(ink, w, b, cx, cy, box, out) != DG_INPUT_OK)
        return DG_INPUT_BLANK;
    mnist_weight(out, sw * box / full);
    return DG_INPUT_OK;
}

/* From the ink map on (max: its largest value): the digit's parts, box, centroid, frame. */
static int from_ink(uint8_t *ink, uint32_t w, uint32_t h, unsigned max, struct grid *g,
                    struct comp *comps, struct dg_prep_info *info, float out[784])
{
    /* Noise is a few grey levels; strokes reach max. The floor removes the noise, the
     * threshold decides what is clearly ink (the anti-aliased rim lies between). */
    unsigned floor_ = max / 16 > 3 ? max / 16 : 3;
    unsigned thr = max / 4 > floor_ + 1 ? max / 4 : floor_ + 1;
    struct comp cells;
    if (max < MIN_CONTRAST)
        return DG_INPUT_BLANK;
    grid_fill(g, ink, w, h, thr);
    uint32_t n = grid_label(g, comps);
    if (!select_digit(comps, n, &cells))
        return DG_INPUT_BLANK;
    digit_box(g, comps, &cells, ink, w, h, thr, info);
    double cx, cy;
    lift_and_centroid(ink, w, info, floor_, g->colsum, &cx, &cy);
    return frame(ink, w, h, info, cx, cy, out);
}

static int preprocess_ink(uint8_t *ink, uint32_t w, uint32_t h, float out[784],
                          struct dg_prep_info *info, int thin);

/* The box b of the ink map (rows w apart) averaged over f x f blocks into plane (pw x ph:
 * the blocks, and a cell of paper around them); returns the plane's largest value. */
static unsigned block_average(const uint8_t *ink, uint32_t w, const struct dg_prep_info *b,
                              uint32_t f, uint8_t *plane, uint32_t pw)
{
    unsigned max = 0;
    for (uint32_t y0 = b->y0, py = 1; y0 < b->y1; y0 += f, py++)
        for (uint32_t x0 = b->x0, px = 1; x0 < b->x1; x0 += f, px++) {
            uint32_t sum = 0; /* f <= MAX_SIDE / THIN_PLANE: at most 128^2 pixels of 255 */
            for (uint32_t y = y0; y < y0 + f && y < b->y1; y++)
                for (uint32_t x = x0; x < x0 + f && x < b->x1; x++)
                    sum += ink[(size_t)y * w + x];
            unsigned v = (sum + f * f / 2) / (f * f);
            plane[(size_t)py * pw + px] = (uint8_t)v;
            max = v > max ? v : max;
        }
    return max;
}

/* out is from_ink's frame of the digit in box b of the ink map (rows w apart). If its strokes
 * are thicker than MNIST_THICK_WIDTH (a marker, or a wide pen on a small digit, closes up
 * the loops that tell a 9 from a 4), the ink in b, averaged down to a plane of about
 * THIN_PLANE pixels a side, is eroded by dg_mnist_erosion a side (each pixel keeps its
 * distance to the paper, less that: dg_edt) and framed again. If nothing is left, or
 * memory is short, out stands. */
static void thin_to_mnist(const uint8_t *ink, uint32_t w, const struct dg_prep_info *b,
                          float out[784])
{
    float sw = dg_stroke_width(out);
    if (!(sw > MNIST_THICK_WIDTH))
        return;
    uint32_t bw = b->x1 - b->x0, bh = b->y1 - b->y0, longer = bw > bh ? bw : bh;
    uint32_t f = (longer + THIN_PLANE - 1) / THIN_PLANE; /* pixels per plane pixel */
    float e = dg_mnist_erosion((float)longer / (float)f, sw);
    uint32_t pw = (bw + f - 1) / f + 2, ph = (bh + f - 1) / f + 2, side = pw > ph ? pw : ph;
    size_t n = (size_t)pw * ph; /* about THIN_PLANE^2 */
    float *g = malloc(n * sizeof *g), *line = malloc((3 * (size_t)side + 1) * sizeof *line);
    int *v = malloc(side * sizeof *v);
    uint8_t *plane = calloc(n, 1);
    unsigned max = plane ? block_average(ink, w, b, f, plane, pw) : 0;
    if (g && line && v && max) {
        for (size_t i = 0; i < n; i++) /* ink at or over half the strongest; paper the target */
            g[i] = 2u * plane[i] >= max ? DG_EDT_FAR : 0.f;
        dg_edt(g, (int)pw, (int)ph, (int)pw, line, v);
        /* a pixel d from the nearest paper pixel's centre lies about d - 1/2 inside the
         * edge: with the edge moved in by e, it is covered min(1, max(0, d - e)) */
        for (size_t i = 0; i < n; i++) {
            float c = sqrtf(g[i]) - e;
            plane[i] = (uint8_t)((c < 0.f ? 0.f : c > 1.f ? 1.f : c) * 255.f + 0.5f);
        }
        float x[784];
        struct dg_prep_info ti;
        if (preprocess_ink(plane, pw, ph, x, &ti, 0) == DG_INPUT_OK)
            memcpy(out, x, sizeof x);
    }
    free(g);
    free(line);
    free(v);
    free(plane);
}

/* Clears out and info; DG_INPUT_OK when a w x h image may be preprocessed. */
static int prep_start(uint32_t w, uint32_t h, float out[784], struct dg_prep_info *info)
{
    memset(info, 0, sizeof *info);
    memset(out, 0, 784 * sizeof(float));
    if (!w || !h)
        return DG_INPUT_BLANK;
    return w > MAX_SIDE || h > MAX_SIDE ? DG_INPUT_TOO_LARGE : DG_INPUT_OK;
}

int dg_preprocess(const struct dg_canvas *c, float out[784], struct dg_prep_info *info)
{
    struct dg_prep_info tmp;
    info = info ? info : &tmp;
    int rc = prep_start(c->rgba ? c->w : 0, c->h, out, info);
    if (rc != DG_INPUT_OK)
        return rc;
    if (dg_photo_detect(c))
        return dg_photo_preprocess(c, out, info);
    uint8_t *ink;
    struct grid g;
    struct comp *comps;
    void *mem = prep_alloc(c->w, c->h, 1, &ink, &g, &comps);
    if (!mem)
        return DG_INPUT_NOMEM;
    unsigned max = ink_map(c, info, ink);
    rc = from_ink(ink, c->w, c->h, max, &g, comps, info, out);
    if (rc == DG_INPUT_OK)
        thin_to_mnist(ink, c->w, info, out);
    free(mem);
    return rc;
}

/* dg_preprocess_ink, and with thin = 0 the thinned ink's second pass. */
static int preprocess_ink(uint8_t *ink, uint32_t w, uint32_t h, float out[784],
                          struct dg_prep_info *info, int thin)
{
    struct dg_prep_info tmp;
    info = info ? info : &tmp;
    int rc = prep_start(ink ? w : 0, h, out, info);
    if (rc != DG_INPUT_OK)
        return rc;
    uint8_t *unused;
    struct grid g;
    struct comp *comps;
    void *mem = prep_alloc(w, h, 0, &unused, &g, &comps);
    if (!mem)
        return DG_INPUT_NOMEM;
    info->polarity = DG_POL_ALPHA;
    rc = from_ink(ink, w, h, max_ink(ink, (size_t)w * h), &g, comps, info, out);
    if (rc == DG_INPUT_OK && thin)
        thin_to_mnist(ink, w, info, out);
    free(mem);
    return rc;
}

int dg_preprocess_ink(uint8_t *ink, uint32_t w, uint32_t h, float out[784], struct dg_prep_info *info)
{
    return preprocess_ink(ink, w, h, out, info, 1);
}
