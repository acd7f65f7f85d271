/* sketch.c: test digits as strokes, and the page's PNG of strokes (see sketch.h).
 *
 * Tracing: from each end of the one-pixel path (a pixel with one neighbour), then from any
 * pixel left (loops, branches off a junction), walk to unvisited neighbours, straight ones
 * first; a walk that stops beside a visited pixel other than the one it came from joins it,
 * so loops close and branches meet their junction. Each walk is then thinned to the points
 * a pointer would report (Douglas-Peucker, within a fraction of a pixel). */
#include <stdlib.h>
#include <string.h>

#include "png_encode.h"
#include "sketch.h"

#define SIMPLIFY_PX 0.5f /* the polylines stay this close to the traced path */

static const int DX[8] = {0, 1, 0, -1, 1, 1, -1, -1}, DY[8] = {-1, 0, 1, 0, -1, 1, 1, -1};

struct tracer {
    const uint8_t *m;
    uint8_t *seen;
    int side;
    float *walk;              /* the current walk: its pixels' centres, pairs */
    float *xy;                /* all points so far */
    uint32_t *ends, n_points, n_strokes, cap_points, cap_strokes;
};

static int ink_at(const struct tracer *t, int x, int y)
{
    return x >= 0 && y >= 0 && x < t->side && y < t->side && t->m[(size_t)y * t->side + x];
}

static int neighbours(const struct tracer *t, uint32_t i)
{
    int x = (int)(i % (uint32_t)t->side), y = (int)(i / (uint32_t)t->side), n = 0;
    for (int d = 0; d < 8; d++)
        n += ink_at(t, x + DX[d], y + DY[d]);
    return n;
}

/* Next pixel from i: an unvisited neighbour (want_seen = 0), or a visited one other than
 * prev (want_seen = 1); UINT32_MAX if none. */
static uint32_t step(const struct tracer *t, uint32_t i, uint32_t prev, int want_seen)
{
    int x = (int)(i % (uint32_t)t->side), y = (int)(i / (uint32_t)t->side);
    for (int d = 0; d < 8; d++) {
        if (!ink_at(t, x + DX[d], y + DY[d]))
            continue;
        uint32_t j = (uint32_t)((y + DY[d]) * t->side + x + DX[d]);
        if (j != prev && !!t->seen[j] == want_seen)
            return j;
    }
    return UINT32_MAX;
}

/* Appends pixel i's centre to the walk at n; returns n + 1. */
static uint32_t walk_to(struct tracer *t, uint32_t n, uint32_t i)
{
    t->walk[2 * n] = (float)(i % (uint32_t)t->side) + 0.5f;
    t->walk[2 * n + 1] = (float)(i / (uint32_t)t->side) + 0.5f;
    return n + 1;
}

/* Walks from start (prepended by a visited neighbour, if any, to join it) and appends the
 * simplified polyline. Returns -1 if the buffers are too small. */
static int trace_from(struct tracer *t, uint32_t start, uint8_t *keep)
{
    uint32_t n = 0, prev = UINT32_MAX, cur = start;
    uint32_t join = step(t, start, UINT32_MAX, 1);
    if (join != UINT32_MAX)
        n = walk_to(t, n, join), prev = join;
    for (;;) {
        t->seen[cur] = 1;
        n = walk_to(t, n, cur);
        uint32_t next = step(t, cur, prev, 0);
        if (next == UINT32_MAX) {
            uint32_t close = n > 2 ? step(t, cur, prev, 1) : UINT32_MAX;
            if (close != UINT32_MAX)
                n = walk_to(t, n, close);
            break;
        }
        prev = cur, cur = next;
    }
    memset(keep, 0, n);
    dg_simplify_path(t->walk, 1.f, 0, n - 1, SIMPLIFY_PX, keep); /* n >= 1: start is in it */
    if (t->n_strokes >= t->cap_strokes)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        if (t->n_points >= t->cap_points)
            return -1;
        t->xy[2 * t->n_points] = t->walk[2 * i];
        t->xy[2 * t->n_points + 1] = t->walk[2 * i + 1];
        t->n_points++;
    }
    t->ends[t->n_strokes++] = t->n_points;
    return 0;
}

int dg_sketch_digit(const uint8_t pixels[784], const struct dg_render_params *p,
                    struct dg_sketch *sk)
{
    memset(sk, 0, sizeof *sk);
    if (!(p->pen_width > 0.f) || p->canvas < 32 || p->canvas > 512)
        return -1;
    size_t n = (size_t)p->canvas * p->canvas;
    struct tracer t = {.side = p->canvas, .cap_points = DG_STROKES_MAX_POINTS,
                       .cap_strokes = DG_STROKES_MAX_STROKES};
    uint8_t *m = calloc(n, 1), *keep = malloc(n + 2);
    t.m = m, t.seen = calloc(n, 1), t.walk = malloc((n + 2) * 2 * sizeof *t.walk);
    t.xy = malloc(2 * sizeof *t.xy * t.cap_points), t.ends = malloc(sizeof *t.ends * t.cap_strokes);
    int rc = m && keep && t.seen && t.walk && t.xy && t.ends ? dg_render_path(pixels, p, m) : -1;
    for (int pass = 0; pass < 2 && rc == 0; pass++) /* ends first, then what is left */
        for (uint32_t i = 0; i < n && rc == 0; i++)
            if (m[i] && !t.seen[i] && (pass || neighbours(&t, i) == 1))
                rc = trace_from(&t, i, keep);
    free(m), free(keep), free(t.seen), free(t.walk);
    if (rc) {
        free(t.xy), free(t.ends);
        return -1;
    }
    *sk = (struct dg_sketch){t.xy, t.ends, {t.xy, t.ends, t.n_strokes, t.n_points, p->pen_width,
                                            (float)p->canvas}};
    return 0;
}

void dg_sketch_free(struct dg_sketch *sk)
{
    free(sk->xy);
    free(sk->ends);
    memset(sk, 0, sizeof *sk);
}

int dg_sketch_page_png(const struct dg_strokes *s, uint32_t side, uint8_t **png, size_t *len)
{
    *png = NULL;
    size_t n = (size_t)side * side;
    uint8_t *cov = side && side <= 4096 ? calloc(n, 5) : NULL;
    if (!cov)
        return -1;
    uint8_t *rgba = cov + n;
    dg_strokes_draw(s, 1.f, 0.f, 0.f, cov, side, side);
    for (size_t i = 0; i < n; i++) {
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = (uint8_t)(255 - cov[i]);
        rgba[4 * i + 3] = 255;
    }
    /* as Chromium's toBlob encodes a canvas (see render.c) */
    const struct dg_png_format f = {.width = side, .height = side,
                                    .color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, .level = 1,
                                    .filter = SPNG_FILTER_CHOICE_UP};
    *png = dg_png_encode(&f, rgba, n * 4, len);
    free(cov);
    return *png ? 0 : -1;
}
