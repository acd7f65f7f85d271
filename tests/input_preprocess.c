/* input_preprocess: the preprocessing's promises, on MNIST test digits drawn by the canvas
 * renderer and on synthetic canvases:
 *  - polarity: dark on white, white on black and ink-in-alpha are told apart, with and
 *    without read-back noise, and give (nearly) the same 28x28;
 *  - MNIST's frame: the ink fits 20x20 with the longer side 20, the centre of mass is within
 *    0.5 px of (14,14), values are 0..1;
 *  - blank canvases (also with noise) are DG_INPUT_BLANK;
 *  - moving the drawing on the canvas changes nothing; isolated specks and stray pen taps
 *    away from the digit do not move the box; a detached part of the digit is kept; a tap or
 *    a short stray stroke beside a digit is dropped, and the parts of digits drawn in
 *    separate strokes (a 5's bar, a 4's two strokes, a 1's foot or flag, a 7's crossbar, a
 *    0's dot) are kept;
 *  - dark ink on grey paper is dark on light, light ink on grey paper light on dark;
 *  - canvases of extreme aspect ratio (4000x3, 200x1: a side shorter than a grid cell);
 *  - an ink plane (dg_preprocess_ink) gives what the transparent canvas of it gives.
 *   input_preprocess MNIST_DIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "input.h"
#include "render.h"

#include "check.h"

static struct dg_input_limits lim;

static int render(const uint8_t *px, const struct dg_render_params *p, struct dg_canvas *c)
{
    uint8_t *png;
    size_t len;
    if (dg_render_png(px, p, &png, &len))
        return -1;
    int rc = dg_png_decode(png, len, &lim, c);
    free(png);
    return rc;
}

static double mean_abs_diff(const float *a, const float *b)
{
    double d = 0;
    for (int i = 0; i < 784; i++)
        d += fabs(a[i] - b[i]);
    return d / 784;
}

/* Checks MNIST's frame on one output. */
static void check_frame(const float *x, size_t idx)
{
    int x0 = 28, y0 = 28, x1 = 0, y1 = 0;
    double sum = 0, sx = 0, sy = 0;
    for (int y = 0; y < 28; y++)
        for (int i = 0; i < 28; i++) {
            float v = x[y * 28 + i];
            CHECK(v >= 0.f && v <= 1.f, "digit %zu: value %g out of 0..1", idx, v);
            sum += v, sx += v * i, sy += v * y;
            if (v >= 0.25f) { /* the stroke, not the faint rim of a thickened one */
                x0 = i < x0 ? i : x0, x1 = i + 1 > x1 ? i + 1 : x1;
                y0 = y < y0 ? y : y0, y1 = y + 1 > y1 ? y + 1 : y1;
            }
        }
    int bw = x1 - x0, bh = y1 - y0;
    /* 21: a stroke thickened to MNIST's weight may round a pixel over */
    CHECK(bw <= 21 && bh <= 21 && (bw >= 19 || bh >= 19), "digit %zu: ink box %dx%d", idx, bw, bh);
    CHECK(fabs(sx / sum - 14) <= 0.5 && fabs(sy / sum - 14) <= 0.5, "digit %zu: centre of mass %.2f,%.2f",
          idx, sx / sum, sy / sum);
}

/* The same drawing in the three looks gives the same 28x28, with read-back noise too. In
 * the pen style the noise is left out: its one-pixel rims are as sharp as a browser's, and
 * +-2 grey levels there can move the ink box by a pixel, a 1 % change of scale. */
static void test_looks(const struct dg_idx_images *im, size_t n, enum dg_render_style style)
{
    static const int want_pol[3] = {DG_POL_DARK_ON_LIGHT, DG_POL_LIGHT_ON_DARK, DG_POL_ALPHA};
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        dg_render_params_for(7, i, style, &p);
        float ref[784], x[784];
        for (int look = 0; look < 3; look++) {
            for (int noise = 0; noise <= (style == DG_STYLE_PEN ? 0 : 2); noise += 2) {
                struct dg_canvas c;
                struct dg_prep_info info;
                p.look = (enum dg_render_look)look;
                p.noise = noise;
                CHECK(render(im->pixels + i * 784, &p, &c) == 0, "render %zu", i);
                int rc = dg_preprocess(&c, look || noise ? x : ref, &info);
                free(c.rgba);
                CHECK(rc == DG_INPUT_OK, "digit %zu look %d noise %d: %s", i, look, noise, dg_input_strerror(rc));
                CHECK(info.polarity == want_pol[look], "digit %zu look %d noise %d: polarity %d", i, look,
                      noise, info.polarity);
                check_frame(look || noise ? x : ref, i);
                if (look || noise) {
                    double d = mean_abs_diff(ref, x);
                    worst = d > worst ? d : worst;
                    CHECK(d < 0.02, "digit %zu look %d noise %d: differs from dark-on-white by %.4f", i,
                          look, noise, d);
                }
            }
        }
    }
    printf("%zu digits x 3 looks%s, %s style: worst mean difference between looks %.4f\n", n,
           style == DG_STYLE_PEN ? "" : " x noise", style == DG_STYLE_PEN ? "pen" : "scan", worst);
}

static void fill(struct dg_canvas *c, uint8_t r, uint8_t g, uint8_t b, uint8_t a, int noise)
{
    for (size_t i = 0; i < (size_t)c->w * c->h; i++) {
        uint8_t *p = c->rgba + i * 4;
        int n = noise ? (int)((i * 2654435761u) >> 13) % (2 * noise + 1) - noise : 0;
        p[0] = (uint8_t)(r + n < 0 ? 0 : r + n > 255 ? 255 : r + n);
        p[1] = g, p[2] = b;
        p[3] = (uint8_t)(a + n < 0 ? 0 : a + n > 255 ? 255 : a + n);
    }
}

static void test_blank(void)
{
    struct dg_canvas c = {malloc(280 * 280 * 4), 280, 280};
    float x[784];
    fill(&c, 255, 255, 255, 255, 0);
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "white canvas");
    fill(&c, 255, 255, 255, 255, 2);
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "white canvas with noise");
    fill(&c, 0, 0, 0, 255, 2);
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "black canvas with noise");
    fill(&c, 0, 0, 0, 0, 0);
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "transparent canvas");
    fill(&c, 0, 0, 0, 0, 2);
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "transparent canvas with alpha noise");
    /* one isolated dark pixel is a speck, not a digit */
    fill(&c, 255, 255, 255, 255, 0);
    memset(c.rgba + (140 * 280 + 140) * 4, 0, 3);
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "one speck");
    free(c.rgba);
}

/* The digit moved by whole pixels on the canvas, and specks added far from it. */
static void test_translation(const struct dg_idx_images *im, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        dg_render_params_for(3, i, DG_STYLE_MIX, &p);
        p.digit_height = 100.f, p.cx = 100.f, p.cy = 110.f, p.noise = 1;
        struct dg_canvas c, m;
        float a[784], b[784];
        struct dg_prep_info ia, ib;
        CHECK(render(im->pixels + i * 784, &p, &c) == 0, "render %zu", i);
        m.w = c.w, m.h = c.h, m.rgba = malloc((size_t)c.w * c.h * 4);
        const int dx = 57, dy = 31;
        int bg = p.look == DG_LOOK_DARK_ON_WHITE ? 255 : 0, alpha = p.look == DG_LOOK_TRANSPARENT ? 0 : 255;
        fill(&m, (uint8_t)bg, (uint8_t)bg, (uint8_t)bg, (uint8_t)alpha, 0);
        for (uint32_t y = 0; y + dy < c.h; y++)
            memcpy(m.rgba + ((y + dy) * c.w + dx) * 4, c.rgba + y * c.w * 4, (c.w - dx) * 4);
        CHECK(dg_preprocess(&c, a, &ia) == DG_INPUT_OK, "digit %zu", i);
        CHECK(dg_preprocess(&m, b, &ib) == DG_INPUT_OK, "moved digit %zu", i);
        CHECK(ib.x0 == ia.x0 + dx && ib.y0 == ia.y0 + dy && ib.x1 == ia.x1 + dx, "moved box %zu", i);
        CHECK(mean_abs_diff(a, b) < 1e-5, "digit %zu: moved gives another image (%.6f)", i, mean_abs_diff(a, b));
        /* isolated single-pixel specks in the corners must not extend the box */
        uint8_t ink[4] = {(uint8_t)(255 - bg), (uint8_t)(255 - bg), (uint8_t)(255 - bg), 255};
        memcpy(m.rgba + (5 * m.w + 5) * 4, ink, 4);
        memcpy(m.rgba + (270 * m.w + 3) * 4, ink, 4);
        memcpy(m.rgba + (2 * m.w + 275) * 4, ink, 4);
        CHECK(dg_preprocess(&m, b, &ib) == DG_INPUT_OK && ib.x0 == ia.x0 + dx && ib.y1 == ia.y1 + dy,
              "digit %zu: specks moved the box", i);
        CHECK(mean_abs_diff(a, b) < 1e-5, "digit %zu: specks changed the image", i);
        free(c.rgba);
        free(m.rgba);
    }
}

/* A filled disc of radius r at (cx, cy) in the given RGBA colour: a pen tap. */
static void disc(struct dg_canvas *c, int cx, int cy, int r, const uint8_t rgba[4])
{
    for (int y = cy - r; y <= cy + r; y++)
        for (int x = cx - r; x <= cx + r; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r && x >= 0 && y >= 0 &&
                x < (int)c->w && y < (int)c->h)
                memcpy(c->rgba + ((size_t)y * c->w + (size_t)x) * 4, rgba, 4);
}

/* A pen tap (a 12 px dot, as the page draws a click) far from the digit is a stray mark:
 * the box and the 28x28 stay as they were. A tap alone is still a drawing, not blank. */
static void test_stray_tap(const struct dg_idx_images *im, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        dg_render_params_for(5, i, DG_STYLE_MIX, &p);
        p.digit_height = 110.f, p.cx = 90.f, p.cy = 90.f;
        struct dg_canvas c;
        float a[784], b[784];
        struct dg_prep_info ia, ib;
        CHECK(render(im->pixels + i * 784, &p, &c) == 0, "render %zu", i);
        CHECK(dg_preprocess(&c, a, &ia) == DG_INPUT_OK, "digit %zu", i);
        uint8_t ink[4] = {0, 0, 0, 255};
        if (p.look == DG_LOOK_WHITE_ON_BLACK)
            memset(ink, 255, 4);
        disc(&c, 240, 250, 6, ink);
        CHECK(dg_preprocess(&c, b, &ib) == DG_INPUT_OK, "digit %zu with a tap", i);
        CHECK(ib.x0 == ia.x0 && ib.y0 == ia.y0 && ib.x1 == ia.x1 && ib.y1 == ia.y1,
              "digit %zu look %d: a far tap moved the box to %u,%u-%u,%u", i, p.look, ib.x0, ib.y0,
              ib.x1, ib.y1);
        CHECK(mean_abs_diff(a, b) < 1e-6, "digit %zu: a far tap changed the image", i);
        free(c.rgba);
    }
    struct dg_canvas c = {malloc(280 * 280 * 4), 280, 280};
    float x[784];
    fill(&c, 255, 255, 255, 255, 0);
    disc(&c, 140, 140, 6, (const uint8_t[4]){0, 0, 0, 255});
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_BLANK, "a tap alone is no digit");
    free(c.rgba);
}

/* A 5 drawn as two strokes that do not touch: the small bar is part of the digit. */
static void test_detached_part(void)
{
    struct dg_canvas c = {malloc(280 * 280 * 4), 280, 280};
    const uint8_t black[4] = {0, 0, 0, 255};
    fill(&c, 255, 255, 255, 255, 0);
    for (int y = 100; y < 200; y += 2) /* the body: a thick vertical stroke */
        disc(&c, 120, y, 7, black);
    for (int x = 140; x < 185; x += 2) /* the bar: 14 px right of it, a third of its mass */
        disc(&c, x, 95, 7, black);
    float x[784];
    struct dg_prep_info info;
    CHECK(dg_preprocess(&c, x, &info) == DG_INPUT_OK, "two strokes");
    CHECK(info.x0 <= 113 && info.x1 >= 190 && info.y0 <= 88, "detached bar dropped: box %u,%u-%u,%u",
          info.x0, info.y0, info.x1, info.y1);
    free(c.rgba);
}

/* A transparent canvas and its alpha plane alone give the same 28x28 and box: the stroke
 * path hands its plane to dg_preprocess_ink without building a canvas. */
static void test_ink_plane(const struct dg_idx_images *im, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        dg_render_params_for(11, i, i % 2 ? DG_STYLE_PEN : DG_STYLE_SCAN, &p);
        p.look = DG_LOOK_TRANSPARENT, p.noise = (int)(i % 3 == 0);
        struct dg_canvas c;
        float a[784], b[784];
        struct dg_prep_info ia, ib;
        CHECK(render(im->pixels + i * 784, &p, &c) == 0, "render %zu", i);
        size_t np = (size_t)c.w * c.h;
        uint8_t *plane = malloc(np);
        CHECK(plane != NULL, "plane %zu", i);
        for (size_t k = 0; plane && k < np; k++)
            plane[k] = c.rgba[k * 4 + 3];
        int ra = dg_preprocess(&c, a, &ia), rb = plane ? dg_preprocess_ink(plane, c.w, c.h, b, &ib) : -1;
        CHECK(ra == DG_INPUT_OK && rb == ra, "digit %zu: canvas %d, plane %d", i, ra, rb);
        CHECK(!memcmp(a, b, sizeof a) && !memcmp(&ia, &ib, sizeof ia), "digit %zu: the plane differs", i);
        free(plane);
        free(c.rgba);
    }
    float x[784];
    uint8_t empty[64] = {0};
    CHECK(dg_preprocess_ink(empty, 8, 8, x, NULL) == DG_INPUT_BLANK, "an empty plane");
}

/* A pen stroke from (x0, y0) to (x1, y1), width 2r: discs a pixel apart. */
static void line(struct dg_canvas *c, float x0, float y0, float x1, float y1, int r)
{
    int n = (int)ceilf(hypotf(x1 - x0, y1 - y0)) + 1;
    for (int i = 0; i < n; i++) {
        float t = n > 1 ? (float)i / (float)(n - 1) : 0.f;
        disc(c, (int)lrintf(x0 + t * (x1 - x0)), (int)lrintf(y0 + t * (y1 - y0)), r,
             (const uint8_t[4]){0, 0, 0, 255});
    }
}

/* A tap of the pen and a short underline beside a digit, clear of it by a fifth and a
 * quarter of its height (where a small part stayed before), and a wide pen's tap (a tenth
 * of the digit's ink or more) three tenths of its height away: dropped, the 28x28 is the
 * digit's alone. */
static void test_near_marks(const struct dg_idx_images *im, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int mark = 0; mark < 3; mark++) {
            struct dg_render_params p;
            dg_render_params_for(11, i, DG_STYLE_PEN, &p);
            p.digit_height = 120.f, p.cx = p.cy = 140.f, p.noise = 0, p.look = DG_LOOK_DARK_ON_WHITE;
            p.pen_width = mark == 2 ? 28.f : 14.f;
            struct dg_canvas c;
            float a[784], b[784];
            struct dg_prep_info ia, ib;
            CHECK(render(im->pixels + i * 784, &p, &c) == 0, "render %zu", i);
            CHECK(dg_preprocess(&c, a, &ia) == DG_INPUT_OK, "digit %zu", i);
            float h = (float)(ia.y1 - ia.y0), my = (float)(ia.y0 + ia.y1) / 2, mx = (float)(ia.x0 + ia.x1) / 2;
            int r = (int)(p.pen_width * (mark == 2 ? 0.75f : 0.6f));
            if (mark == 0) /* a tap right of it */
                disc(&c, (int)(ia.x1 + 0.2f * h) + r, (int)my, r, (const uint8_t[4]){0, 0, 0, 255});
            else if (mark == 1) /* a short underline */
                line(&c, mx - 0.12f * h, ia.y1 + 0.25f * h + r, mx + 0.12f * h, ia.y1 + 0.25f * h + r, r);
            else /* a wide pen's tap left of it */
                disc(&c, (int)(ia.x0 - 0.3f * h) - r, (int)my, r, (const uint8_t[4]){0, 0, 0, 255});
            CHECK(dg_preprocess(&c, b, &ib) == DG_INPUT_OK, "digit %zu mark %d", i, mark);
            CHECK(ib.x0 == ia.x0 && ib.y0 == ia.y0 && ib.x1 == ia.x1 && ib.y1 == ia.y1,
                  "digit %zu mark %d kept: box %u,%u-%u,%u, without it %u,%u-%u,%u", i, mark, ib.x0,
                  ib.y0, ib.x1, ib.y1, ia.x0, ia.y0, ia.x1, ia.y1);
            CHECK(mean_abs_diff(a, b) < 1e-6, "digit %zu mark %d changed the image", i, mark);
            free(c.rgba);
        }
}

/* Digits people draw in separate strokes, as polylines in a unit box (y down): the strokes
 * before `part` are the body, the rest one part drawn apart from it, 0.12 of the height
 * away where it comes closest (a pen lifted and put down a little off). */
struct drawn {
    const char *name;
    int n_lines, part;
    int len[4];
    float xy[32];
};

static const struct drawn multi[] = {
    {"5 with its bar drawn apart", 2, 1, {7, 2},
     {0.25f, 0.15f, 0.2f, 0.45f, 0.5f, 0.38f, 0.72f, 0.5f, 0.72f, 0.78f, 0.5f, 0.95f, 0.2f, 0.88f,
      0.3f, 0.03f, 0.85f, 0.03f}},
    {"4 in two strokes, open top", 2, 1, {3, 2},
     {0.3f, 0.f, 0.05f, 0.62f, 0.58f, 0.62f, 0.7f, 0.15f, 0.7f, 1.f}},
    {"1 with a foot drawn apart", 3, 2, {2, 2, 2},
     {0.5f, 0.f, 0.5f, 0.88f, 0.5f, 0.f, 0.3f, 0.2f, 0.25f, 1.f, 0.75f, 1.f}},
    {"1 with a flag drawn apart", 2, 1, {2, 2},
     {0.55f, 0.f, 0.55f, 1.f, 0.43f, 0.05f, 0.2f, 0.3f}},
    {"7 with a crossbar that misses the stem", 2, 1, {3, 2},
     {0.1f, 0.f, 0.9f, 0.f, 0.4f, 1.f, 0.2f, 0.55f, 0.46f, 0.55f}},
    {"0 with a dot", 2, 1, {9, 2},
     {0.5f, 0.f, 0.85f, 0.15f, 0.95f, 0.5f, 0.85f, 0.85f, 0.5f, 1.f, 0.15f, 0.85f, 0.05f, 0.5f,
      0.15f, 0.15f, 0.5f, 0.f, 0.5f, 0.5f, 0.51f, 0.5f}},
};

/* Draws lines [from, to) of d on a white canvas. */
static void draw(const struct drawn *d, int from, int to, const struct dg_render_params *p, struct dg_canvas *c)
{
    int at = 0;
    for (int l = 0; l < from; l++)
        at += d->len[l];
    c->w = c->h = (uint32_t)p->canvas;
    c->rgba = malloc((size_t)p->canvas * p->canvas * 4);
    CHECK(c->rgba && dg_render_strokes(d->xy + 2 * at, d->len + from, to - from, p, c->rgba) == 0,
          "%s: draw", d->name);
}

/* Ink pixel box of a white canvas; empty (x0 > x1) if none. */
static void ink_box(const struct dg_canvas *c, int box[4])
{
    box[0] = box[1] = INT32_MAX, box[2] = box[3] = -1;
    for (int y = 0; y < (int)c->h; y++)
        for (int x = 0; x < (int)c->w; x++)
            if (c->rgba[((size_t)y * c->w + (size_t)x) * 4] < 128) {
                box[0] = x < box[0] ? x : box[0], box[2] = x > box[2] ? x : box[2];
                box[1] = y < box[1] ? y : box[1], box[3] = y > box[3] ? y : box[3];
            }
}

/* The nearest two ink pixels of a and b, in pixels along the wider axis (Chebyshev), up to
 * `limit`. */
static int ink_gap(const struct dg_canvas *a, const struct dg_canvas *b, int limit)
{
    int best = limit, w = (int)a->w, h = (int)a->h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (a->rgba[((size_t)y * w + x) * 4] == 255)
                continue;
            for (int v = y - best < 0 ? 0 : y - best; v <= y + best && v < h; v++)
                for (int u = x - best < 0 ? 0 : x - best; u <= x + best && u < w; u++)
                    if (b->rgba[((size_t)v * w + u) * 4] < 255) {
                        int d = abs(u - x) > abs(v - y) ? abs(u - x) : abs(v - y);
                        best = d < best ? d : best;
                    }
        }
    return best;
}

/* Each multi-stroke digit, at two sizes and pens: its part is drawn apart (more than two
 * 5-px component-grid cells from the body, so it is a separate part), and it is kept: the
 * box takes it in and the 28x28 differs from the body's alone. */
static void test_multi_part(void)
{
    static const float sizes[][2] = {{160.f, 8.f}, {240.f, 12.f}};
    for (size_t k = 0; k < sizeof multi / sizeof multi[0]; k++)
        for (int s = 0; s < 2; s++) {
            const struct drawn *d = &multi[k];
            struct dg_render_params p = {.canvas = 280, .digit_height = sizes[s][0], .cx = 140.f,
                                         .cy = 140.f, .thickness = 1.f, .pen_width = sizes[s][1]};
            struct dg_canvas all, body, part;
            draw(d, 0, d->n_lines, &p, &all);
            draw(d, 0, d->part, &p, &body);
            draw(d, d->part, d->n_lines, &p, &part);
            int g = ink_gap(&body, &part, 12), pb[4];
            CHECK(g > 10, "%s at %g px: the part is %d px from the body, not apart", d->name, sizes[s][0], g);
            ink_box(&part, pb);
            float x[784], y[784];
            struct dg_prep_info info;
            CHECK(dg_preprocess(&all, x, &info) == DG_INPUT_OK && dg_preprocess(&body, y, NULL) == DG_INPUT_OK,
                  "%s at %g px", d->name, sizes[s][0]);
            CHECK((int)info.x0 <= pb[0] && (int)info.y0 <= pb[1] && (int)info.x1 > pb[2] && (int)info.y1 > pb[3],
                  "%s at %g px: part %d,%d-%d,%d dropped (box %u,%u-%u,%u)", d->name, sizes[s][0], pb[0],
                  pb[1], pb[2], pb[3], info.x0, info.y0, info.x1, info.y1);
            CHECK(mean_abs_diff(x, y) > 1e-3, "%s at %g px: the part left the 28x28 as it was", d->name,
                  sizes[s][0]);
            free(all.rgba), free(body.rgba), free(part.rgba);
        }
}

/* Paper need not be white or black: ink darker than mid-grey paper is dark on light, ink
 * lighter than it light on dark, and both give the digit the white canvas gives. */
static void test_grey_paper(const struct dg_idx_images *im, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        dg_render_params_for(7, i, DG_STYLE_MIX, &p);
        p.look = DG_LOOK_DARK_ON_WHITE, p.noise = 0;
        struct dg_canvas c;
        float ref[784], x[784];
        struct dg_prep_info info;
        CHECK(render(im->pixels + i * 784, &p, &c) == 0, "render %zu", i);
        CHECK(dg_preprocess(&c, ref, NULL) == DG_INPUT_OK, "digit %zu", i);
        const int paper = 110, inks[2] = {30, 200}, want[2] = {DG_POL_DARK_ON_LIGHT, DG_POL_LIGHT_ON_DARK};
        uint8_t *orig = malloc((size_t)c.w * c.h * 4);
        memcpy(orig, c.rgba, (size_t)c.w * c.h * 4);
        for (int k = 0; k < 2; k++) {
            for (size_t j = 0; j < (size_t)c.w * c.h * 4; j++) /* white -> paper, black -> ink */
                if (j % 4 != 3)
                    c.rgba[j] = (uint8_t)(inks[k] + (orig[j] * (paper - inks[k]) + 127) / 255);
            CHECK(dg_preprocess(&c, x, &info) == DG_INPUT_OK, "digit %zu on grey paper, ink %d", i, inks[k]);
            CHECK(info.polarity == want[k], "digit %zu ink %d on paper %d: polarity %d", i, inks[k], paper,
                  info.polarity);
            CHECK(mean_abs_diff(ref, x) < 0.02, "digit %zu ink %d: differs from white paper by %.4f", i,
                  inks[k], mean_abs_diff(ref, x));
        }
        free(orig);
        free(c.rgba);
    }
}

/* A tall bar keeps its aspect ratio: 10x100 px becomes 2x20. */
static void test_aspect(void)
{
    struct dg_canvas c = {malloc(280 * 280 * 4), 280, 280};
    fill(&c, 255, 255, 255, 255, 0);
    for (int y = 90; y < 190; y++)
        for (int x = 50; x < 60; x++)
            memset(c.rgba + (y * 280 + x) * 4, 0, 3);
    float x[784];
    CHECK(dg_preprocess(&c, x, NULL) == DG_INPUT_OK, "bar");
    int cols = 0, rows = 0;
    for (int i = 0; i < 28; i++) {
        int col = 0, row = 0;
        for (int k = 0; k < 28; k++)
            col |= x[k * 28 + i] > 0.5f, row |= x[i * 28 + k] > 0.5f;
        cols += col, rows += row;
    }
    CHECK(cols == 2 && rows == 20, "10x100 bar became %dx%d", cols, rows);
    check_frame(x, 0);
    free(c.rgba);
}

/* Canvases with a side shorter than a component-grid cell (64 cells a side: a 4000x3
 * canvas has 63-pixel cells) once made the box search run off the heap. A line along the
 * long side is found exactly and framed like any digit. */
static void test_thin_canvases(void)
{
    static const uint32_t sizes[][2] = {{4000, 3}, {3, 4000}, {200, 1}, {1, 200}, {2048, 1},
                                        {65, 1}, {DG_INPUT_MAX_SIDE, 1}, {1, DG_INPUT_MAX_SIDE}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t w = sizes[k][0], h = sizes[k][1], n = w > h ? w : h, mid = (w > h ? h : w) / 2;
        struct dg_canvas c = {malloc((size_t)w * h * 4), w, h};
        fill(&c, 255, 255, 255, 255, 0);
        uint32_t a = n * 3 / 10, b = n * 7 / 10;
        for (uint32_t i = a; i < b; i++)
            memset(c.rgba + (w > h ? (size_t)mid * w + i : (size_t)i * w + mid) * 4, 0, 3);
        float x[784];
        struct dg_prep_info info;
        int rc = dg_preprocess(&c, x, &info);
        CHECK(rc == DG_INPUT_OK, "%ux%u line: %s", w, h, dg_input_strerror(rc));
        uint32_t want[4] = {a, mid, b, mid + 1}; /* x0, y0, x1, y1 */
        if (w < h)
            want[0] = mid, want[1] = a, want[2] = mid + 1, want[3] = b;
        CHECK(info.x0 == want[0] && info.y0 == want[1] && info.x1 == want[2] && info.y1 == want[3],
              "%ux%u line: box %u,%u-%u,%u, want %u,%u-%u,%u", w, h, info.x0, info.y0, info.x1,
              info.y1, want[0], want[1], want[2], want[3]);
        if (rc == DG_INPUT_OK)
            check_frame(x, k);
        free(c.rgba);
    }
}

/* DG_INPUT_MAX_SIDE is the side dg_preprocess takes (test_thin_canvases draws on it), and
 * one more pixel is refused: the limit digitd checks --max-width/--max-height against. */
static void test_over_max_side(void)
{
    static const uint32_t sizes[][2] = {{DG_INPUT_MAX_SIDE + 1, 1}, {1, DG_INPUT_MAX_SIDE + 1}};
    for (size_t k = 0; k < 2; k++) {
        struct dg_canvas c = {malloc((size_t)sizes[k][0] * sizes[k][1] * 4), sizes[k][0], sizes[k][1]};
        fill(&c, 255, 255, 255, 255, 0);
        for (size_t i = DG_INPUT_MAX_SIDE / 2; i < DG_INPUT_MAX_SIDE / 2 + 3; i++)
            memset(c.rgba + i * 4, 0, 3); /* a few black pixels: not blank */
        float x[784];
        int rc = dg_preprocess(&c, x, NULL);
        CHECK(rc == DG_INPUT_TOO_LARGE, "%ux%u: %s, want too large", c.w, c.h,
              dg_input_strerror(rc));
        free(c.rgba);
    }
}

/* Ink cells (>= 0.25) that have an ink 4-neighbour on both sides along some axis: inside a
 * stroke at least three cells wide, or two with a neighbour's grey rim. A hairline has few. */
static int thick_cells(const float *x)
{
    int n = 0;
    for (int y = 1; y < 27; y++)
        for (int i = 1; i < 27; i++) {
            const float *c = x + y * 28 + i;
            n += *c >= 0.25f && ((c[-1] >= 0.25f && c[1] >= 0.25f) || (c[-28] >= 0.25f && c[28] >= 0.25f));
        }
    return n;
}

/* A pencil: a 1.5 px grey line on a large drawing reaches the model at full strength and
 * not as a hairline: at least a third as many cells inside a stroke as the MNIST scan of the
 * same digit has. */
static void test_pencil(const struct dg_idx_images *im, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dg_render_params p;
        struct dg_canvas c;
        float thin[784], scan[784];
        for (int k = 0; k < 784; k++)
            scan[k] = im->pixels[i * 784 + k] / 255.f;
        dg_render_params_for(5, i, DG_STYLE_PEN, &p);
        p.digit_height = 220.f, p.cx = p.cy = 140.f, p.noise = 0;
        p.pen_width = 1.5f, p.fade = 0.6f;
        CHECK(render(im->pixels + i * 784, &p, &c) == 0 && dg_preprocess(&c, thin, NULL) == DG_INPUT_OK,
              "digit %zu in pencil", i);
        free(c.rgba);
        float m = 0.f;
        for (int k = 0; k < 784; k++)
            m = thin[k] > m ? thin[k] : m;
        CHECK(m == 1.f, "digit %zu in pencil: strongest ink %g", i, m);
        CHECK(3 * thick_cells(thin) >= thick_cells(scan), "digit %zu in pencil: %d cells inside a "
              "stroke, %d in the scan", i, thick_cells(thin), thick_cells(scan));
    }
}

/* A nine's hook (DG_MARK_HOOK): the digit drawn with the same pen and the hook added, which
 * only darkens (ink is added), starts at the foot (nothing added above the ink box's middle)
 * and curls to the left of where the tail ends. */
static void test_hook(const struct dg_idx_images *im, const struct dg_idx_labels *lb, size_t n)
{
    size_t done = 0;
    for (size_t i = 0; i < lb->count && done < n; i++) {
        if (lb->labels[i] != 9)
            continue;
        done++;
        struct dg_render_params p;
        dg_render_params_for(13, i, DG_STYLE_PEN, &p);
        p.noise = 0, p.look = DG_LOOK_DARK_ON_WHITE, p.fade = 0.f;
        uint8_t *a = malloc((size_t)p.canvas * p.canvas * 4), *b = malloc((size_t)p.canvas * p.canvas * 4);
        CHECK(a && b && dg_render_rgba(im->pixels + i * 784, &p, a) == 0, "nine %zu drawn", i);
        p.mark = DG_MARK_HOOK, p.mark_seed = i;
        CHECK(dg_render_rgba(im->pixels + i * 784, &p, b) == 0, "nine %zu drawn with a hook", i);
        int y0 = p.canvas, y1 = -1, foot_x = 0, added = 0, added_x0 = p.canvas, added_y0 = p.canvas, lighter = 0;
        for (int y = 0; y < p.canvas; y++)
            for (int x = 0; x < p.canvas; x++)
                if (a[4 * (y * p.canvas + x)] < 128) {
                    y0 = y < y0 ? y : y0;
                    if (y >= y1)
                        y1 = y, foot_x = x;
                }
        for (int y = 0; y < p.canvas; y++)
            for (int x = 0; x < p.canvas; x++) {
                int va = a[4 * (y * p.canvas + x)], vb = b[4 * (y * p.canvas + x)];
                lighter += vb > va;
                if (vb < 128 && va >= 128) {
                    added++;
                    added_x0 = x < added_x0 ? x : added_x0;
                    added_y0 = y < added_y0 ? y : added_y0;
                }
            }
        CHECK(lighter == 0, "nine %zu: the hook lightened %d pixels", i, lighter);
        CHECK(added > 0, "nine %zu: no hook drawn", i);
        CHECK(added_y0 >= (y0 + y1) / 2, "nine %zu: hook ink at row %d, above the middle %d", i,
              added_y0, (y0 + y1) / 2);
        CHECK(added_x0 < foot_x - (int)p.pen_width / 2, "nine %zu: the hook reaches x %d, the foot is at %d",
              i, added_x0, foot_x);
        free(a);
        free(b);
    }
    CHECK(done == n, "%zu nines of %zu", done, n);
}

/* The writer's proportions (warp_x, warp_y): a cross, its bars through the middle of a scan,
 * drawn with the pen; the warp keeps the ink box and moves the bars to where t + a t (1 - t)
 * = 1/2 puts them (a = 0.5: at 0.382 of the box from its top or left, a = -0.5: 0.618). */
static void test_warp(void)
{
    uint8_t scan[784] = {0};
    for (int k = 4; k < 24; k++)
        scan[k * 28 + 13] = scan[k * 28 + 14] = scan[13 * 28 + k] = scan[14 * 28 + k] = 255;
    const float warps[3] = {0.f, -0.5f, 0.5f}, want[3] = {0.5f, 0.618f, 0.382f};
    for (int axis = 0, span = 0; axis < 2; axis++)
        for (int w = 0; w < 3; w++) {
            struct dg_render_params p = {.canvas = 280, .digit_height = 200.f, .cx = 140.f,
                                         .cy = 140.f, .thickness = 1.f, .pen_width = 12.f};
            *(axis ? &p.warp_y : &p.warp_x) = warps[w];
            uint8_t *rgba = malloc(280 * 280 * 4);
            CHECK(rgba && dg_render_rgba(scan, &p, rgba) == 0, "the cross drawn, warp %g", warps[w]);
            /* along the axis: the ink's extent, and the line across it with the most ink (the bar) */
            int lo = 280, hi = -1, bar = -1, most = 0;
            for (int i = 0; rgba && i < 280; i++) {
                int ink = 0;
                for (int j = 0; j < 280; j++)
                    ink += rgba[4 * (axis ? i * 280 + j : j * 280 + i)] < 128;
                if (ink) {
                    lo = i < lo ? i : lo, hi = i;
                    if (ink > most)
                        most = ink, bar = i;
                }
            }
            float at = (float)(bar - lo) / (float)(hi - lo);
            span = w ? span : hi - lo;
            CHECK(abs(hi - lo - span) <= 3, "warp_%c %g: the ink spans %d px, unwarped %d",
                  axis ? 'y' : 'x', warps[w], hi - lo, span);
            CHECK(fabsf(at - want[w]) < 0.03f, "warp_%c %g: the bar at %.3f of the ink, not %.3f",
                  axis ? 'y' : 'x', warps[w], at, want[w]);
            free(rgba);
        }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: input_preprocess MNIST_DIR\n");
        return 2;
    }
    dg_input_default_limits(&lim);
    char err[512];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    test_looks(&im, 100, DG_STYLE_SCAN);
    test_looks(&im, 100, DG_STYLE_PEN);
    test_blank();
    test_translation(&im, 30);
    test_aspect();
    test_thin_canvases();
    test_over_max_side();
    test_stray_tap(&im, 30);
    test_detached_part();
    test_ink_plane(&im, 60);
    test_near_marks(&im, 30);
    test_multi_part();
    test_grey_paper(&im, 30);
    test_pencil(&im, 30);
    test_hook(&im, &lb, 20);
    test_warp();
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
