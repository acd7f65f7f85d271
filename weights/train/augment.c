/* augment.c: random pen redraw or stroke width, then an affine map, for MNIST digits (see
 * augment.h). */
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "nn.h"
#include "rng.h"
#include "render.h"

#define SIDE 28

void aug_default_params(struct aug_params *p)
{
    p->max_rotate_deg = 12.0f;
    p->max_shear = 0.2f;
    p->max_scale = 0.1f;
    p->max_aspect = 0.15f;
    p->max_shift = 1.5f;
    p->p_thickness = 0.5f;
    p->max_dilate = 1.0f;
    p->max_erode = 0.6f;
    p->p_pen = 0.3f;
    p->pen_min = 0.03f;
    p->pen_max = 0.4f;
    p->p_mark = 0.5f;
    p->p_pencil = 0.2f;
    p->p_warp = 0.5f;
    p->max_warp = DG_RENDER_MAX_WARP; /* all the renderer draws */
}

static float uniform_pm(uint64_t *rng, float r) /* U(-r, r) */
{
    return (2.0f * nn_uniform(rng) - 1.0f) * r;
}

#define PEN_CANVAS 96 /* big enough for a smooth path, small enough to be cheap per image */

/* The digit redrawn as a web canvas draws a stroke and brought back to 28x28 by the
 * worker's own preprocessing: what a digit drawn on the page looks like to the model.
 * Returns 0, or -1 (out of memory: the caller keeps the scan). */
static int pen_redraw(float out[784], const uint8_t in[784], int label, const struct aug_params *p,
                      uint64_t *rng)
{
    struct dg_render_params rp = {.canvas = PEN_CANVAS, .thickness = 1.f,
                                  .look = DG_LOOK_DARK_ON_WHITE};
    rp.digit_height = 56.f + 24.f * nn_uniform(rng);
    rp.cx = rp.cy = PEN_CANVAS / 2.f;
    float lo = logf(p->pen_min), hi = logf(p->pen_max);
    rp.pen_width = rp.digit_height * expf(lo + (hi - lo) * nn_uniform(rng));
    if (nn_uniform(rng) < p->p_mark) {
        rp.mark = dg_render_mark_for(label, nn_uniform(rng));
        rp.mark_seed = dg_splitmix64_next(rng);
    }
    if (nn_uniform(rng) < p->p_pencil) { /* the world-styles pencil: 1.5-4 px of 90-230 */
        rp.pen_width = rp.digit_height * expf(logf(0.008f) + logf(4.f) * nn_uniform(rng));
        rp.fade = 0.4f + 0.35f * nn_uniform(rng);
    }
    if (nn_uniform(rng) < p->p_warp) {
        rp.warp_x = uniform_pm(rng, p->max_warp);
        rp.warp_y = uniform_pm(rng, p->max_warp);
    }
    uint8_t *rgba = malloc(PEN_CANVAS * PEN_CANVAS * 4);
    struct dg_canvas c = {rgba, PEN_CANVAS, PEN_CANVAS};
    int rc = rgba && dg_render_rgba(in, &rp, rgba) == 0 && dg_preprocess(&c, out, NULL) == DG_INPUT_OK;
    free(rgba);
    return rc ? 0 : -1;
}

/* out = s + alpha * (op(s) - s), op = max (dilate) or min (erode) over the pixel and its
 * 4 neighbours: a fraction of a pixel of stroke width added or removed on every edge. */
static void thickness(float *out, const float *s, int dilate, float alpha)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            float v = s[y * SIDE + x], m = v;
            const int dx[4] = {-1, 1, 0, 0}, dy[4] = {0, 0, -1, 1};
            for (int k = 0; k < 4; k++) {
                int u = x + dx[k], w = y + dy[k];
                float n = (u >= 0 && u < SIDE && w >= 0 && w < SIDE) ? s[w * SIDE + u] : 0.0f;
                m = dilate ? (n > m ? n : m) : (n < m ? n : m);
            }
            out[y * SIDE + x] = v + alpha * (m - v);
        }
}

static float sample(const float *s, float x, float y) /* bilinear, zero outside */
{
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    float fx = x - (float)x0, fy = y - (float)y0, acc = 0.0f;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int u = x0 + i, v = y0 + j;
            if (u < 0 || u >= SIDE || v < 0 || v >= SIDE)
                continue;
            acc += s[v * SIDE + u] * (i ? fx : 1.0f - fx) * (j ? fy : 1.0f - fy);
        }
    return acc;
}

void aug_image(float out[784], const uint8_t in[784], int label, const struct aug_params *p,
               uint64_t *rng)
{
    float a[784], b[784];
    for (int i = 0; i < 784; i++)
        a[i] = in[i] * (1.0f / 255.0f);
    const float *src = a;
    if (nn_uniform(rng) < p->p_pen && pen_redraw(b, in, label, p, rng) == 0) {
        src = b;
    } else if (nn_uniform(rng) < p->p_thickness) {
        int dilate = nn_uniform(rng) < 0.5f;
        float alpha = nn_uniform(rng) * (dilate ? p->max_dilate : p->max_erode);
        thickness(b, a, dilate, alpha);
        src = b;
    }
    /* centre of mass: the point MNIST's preprocessing centres, so the map keeps it fixed */
    double m = 0, mx = 0, my = 0;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            m += src[y * SIDE + x];
            mx += src[y * SIDE + x] * x;
            my += src[y * SIDE + x] * y;
        }
    float cx = m > 0 ? (float)(mx / m) : 13.5f, cy = m > 0 ? (float)(my / m) : 13.5f;
    float th = uniform_pm(rng, p->max_rotate_deg) * (float)(M_PI / 180.0);
    float sh = uniform_pm(rng, p->max_shear);
    float sc = 1.0f + uniform_pm(rng, p->max_scale);
    float asp = sqrtf(1.0f + uniform_pm(rng, p->max_aspect));
    float tx = uniform_pm(rng, p->max_shift), ty = uniform_pm(rng, p->max_shift);
    /* forward map A = R(th) [1 sh; 0 1] diag(sc*asp, sc/asp); we need A^-1 */
    float sx = sc * asp, sy = sc / asp, c = cosf(th), s = sinf(th);
    float a00 = c * sx, a01 = (c * sh - s) * sy, a10 = s * sx, a11 = (s * sh + c) * sy;
    float det = a00 * a11 - a01 * a10;
    float i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            float dx = (float)x - cx - tx, dy = (float)y - cy - ty;
            float v = sample(src, cx + i00 * dx + i01 * dy, cy + i10 * dx + i11 * dy);
            out[y * SIDE + x] = v > 1.0f ? 1.0f : v;
        }
}
