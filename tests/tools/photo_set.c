/* photo_set: synthetic phone photos of MNIST test digits written on paper, for the photo
 * tests and the bench; and the bad-JPEG corpus.
 *
 *   photo_set MNIST_DIR OUT_DIR jpeg|png FIRST COUNT [WIDTH HEIGHT]
 *       photos FIRST .. FIRST + COUNT - 1 of the series as OUT_DIR/<label>_<index>.<ext>
 *       (photo k shows MNIST test digit k * 7919 mod 10000; OUT_DIR is made if it is
 *       missing); without WIDTH HEIGHT the sizes vary over phone resolutions (2-3 MP; PNG
 *       at most 2048 a side). The tests use photos from 5000 on; 0-999 were looked at
 *       while the photo path was written.
 *   photo_set --corpus OUT_DIR
 *       bad and good JPEGs named by the class the decoder must give (tests/corpus/jpeg).
 *
 * A photo: a sheet (a card to A5; plain, ruled with a margin line, or squared) lies rotated
 * on a darker table, seen in slight perspective; the digit (worker/input/render.h's pen or
 * scan stroke, as coverage) is written on it in a dark pen, with a few small digits at the
 * sheet's top margin as other writing; the light falls off across the frame, sometimes a
 * soft shadow crosses it; then blur, sensor noise, and JPEG at a phone's quality (a
 * quarter of them stored rotated with an EXIF orientation, as phones do). Deterministic
 * for given arguments. Every parameter range is what such photos show, not fitted to the
 * preprocessing. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "idx.h"
#include "render.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t s;
};

static double uni(struct rng *r, double lo, double hi)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return lo + (hi - lo) * (double)(mix64(r->s) >> 11) / 9007199254740992.0;
}

/* fminf and fmaxf, inlined: the libm calls were a tenth of a photo's cost (no NaN here). */
static inline float min2f(float a, float b)
{
    return a < b ? a : b;
}

static inline float max2f(float a, float b)
{
    return a > b ? a : b;
}

/* Hash noise in [-1, 1] at lattice point (i, j). */
static float lattice(int64_t i, int64_t j, uint64_t seed)
{
    uint64_t h = mix64(seed ^ mix64((uint64_t)i * 0x9e3779b97f4a7c15ull ^ (uint64_t)j));
    return (float)(h >> 40) / 8388608.f - 1.f;
}

/* The lattice values at the corners of the cell value_noise last looked in, for one noise
 * field (one seed): neighbouring pixels mostly fall in the same cell, and hashing its four
 * corners is most of what the noise costs. valid 0: nothing kept yet. */
struct noise_cell {
    int64_t i, j;
    float a, b, c, d;
    int valid;
};

/* Smooth value noise at (x, y) in lattice units. */
static float value_noise(float x, float y, uint64_t seed, struct noise_cell *cell)
{
    float fx = floorf(x), fy = floorf(y), tx = x - fx, ty = y - fy;
    int64_t i = (int64_t)fx, j = (int64_t)fy;
    tx = tx * tx * (3 - 2 * tx), ty = ty * ty * (3 - 2 * ty);
    if (!cell->valid || cell->i != i || cell->j != j) {
        cell->a = lattice(i, j, seed), cell->b = lattice(i + 1, j, seed);
        cell->c = lattice(i, j + 1, seed), cell->d = lattice(i + 1, j + 1, seed);
        cell->i = i, cell->j = j, cell->valid = 1;
    }
    const float a = cell->a, b = cell->b, c = cell->c, d = cell->d;
    return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
}

/* Ink written on the sheet: a 280x280 coverage map placed at (u0, v0) mm, scale mm/px. */
struct stamp {
    uint8_t alpha[280 * 280];
    float u0, v0, mm_per_px;
    float u1, v1; /* far corner, mm */
};

/* Renders an MNIST digit as coverage and fits its ink box to height h_mm centred at (u, v). */
static int make_stamp(const uint8_t *pix, uint64_t seed, size_t idx, float u, float v, float h_mm,
                      struct stamp *s)
{
    struct dg_render_params p;
    dg_render_params_for(seed, idx, DG_STYLE_MIX, &p);
    p.look = DG_LOOK_TRANSPARENT;
    p.noise = 0;
    static uint8_t rgba[280 * 280 * 4];
    if (dg_render_rgba(pix, &p, rgba) != 0)
        return -1;
    int x0 = 280, y0 = 280, x1 = -1, y1 = -1;
    for (int y = 0; y < 280; y++)
        for (int x = 0; x < 280; x++) {
            uint8_t a = rgba[(y * 280 + x) * 4 + 3];
            s->alpha[y * 280 + x] = a;
            if (a > 64)
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
        }
    if (x1 < 0)
        return -1;
    s->mm_per_px = h_mm / (float)(y1 - y0 + 1);
    s->u0 = u - s->mm_per_px * (float)(x0 + x1 + 1) / 2;
    s->v0 = v - s->mm_per_px * (float)(y0 + y1 + 1) / 2;
    s->u1 = s->u0 + 280 * s->mm_per_px, s->v1 = s->v0 + 280 * s->mm_per_px;
    return 0;
}

static float stamp_at(const struct stamp *s, float u, float v)
{
    if (u < s->u0 || v < s->v0 || u >= s->u1 || v >= s->v1)
        return 0.f;
    float x = (u - s->u0) / s->mm_per_px - 0.5f, y = (v - s->v0) / s->mm_per_px - 0.5f;
    int ix = (int)floorf(x), iy = (int)floorf(y);
    float tx = x - (float)ix, ty = y - (float)iy, acc = 0.f;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int px = ix + dx, py = iy + dy;
            if (px < 0 || py < 0 || px >= 280 || py >= 280)
                continue;
            acc += (dx ? tx : 1 - tx) * (dy ? ty : 1 - ty) * (float)s->alpha[py * 280 + px];
        }
    return acc / 255.f;
}

#define MAX_STAMPS 5

struct scene {
    int w, h;
    double cx, cy, s, cth, sth, g, hh, du, dv; /* photo -> sheet mm: a homography */
    float sw, sh;                              /* sheet size, mm */
    int lines;                                 /* 0 plain, 1 ruled, 2 squared */
    float paper[3], table[3], ink[3], ink_opacity;
    float grad_a, grad_dx, grad_dy;            /* light falls off by grad_a across the frame */
    float shadow, sh_nx, sh_ny, sh_c, sh_soft; /* a soft half-plane shadow (depth 0: none) */
    float noise;
    int blur;
    uint64_t seed;
    struct stamp st[MAX_STAMPS];
    int nst;
};

/* Coverage of lines of width wd every `step` mm (offset off) at coordinate t, for a pixel
 * of size px mm. */
static float line_cov(float t, float step, float off, float wd, float px)
{
    float d = fabsf(fmodf(t - off + 1000 * step, step));
    d = d > step / 2 ? step - d : d;
    float c = (wd / 2 - d) / px + 0.5f;
    return c < 0 ? 0 : c > 1 ? 1 : c;
}

static void blend(float *c, const float *to, float a)
{
    for (int k = 0; k < 3; k++)
        c[k] += (to[k] - c[k]) * a;
}

/* The colour of photo pixel (x, y); cells: the scene's three noise fields' (table grain,
 * its fine grain, paper), kept from pixel to pixel. */
static void shade(const struct scene *sc, int x, int y, float rgb[3], struct noise_cell cells[3])
{
    double X = x + 0.5 - sc->cx, Y = y + 0.5 - sc->cy, q = 1 + sc->g * X + sc->hh * Y;
    float u = (float)(sc->du + sc->s * (sc->cth * X - sc->sth * Y) / q);
    float v = (float)(sc->dv + sc->s * (sc->sth * X + sc->cth * Y) / q);
    float px = (float)(sc->s / q);
    /* the table: wood-like streaks */
    float inside = min2f(min2f(u, sc->sw - u), min2f(v, sc->sh - v)) / px + 0.5f;
    memcpy(rgb, sc->table, 3 * sizeof *rgb);
    if (inside < 1) {
        float grain =
            0.12f * value_noise((float)x / 40.f, (float)y / 400.f, sc->seed ^ 7, &cells[0]) +
            0.04f * value_noise((float)x / 6.f, (float)y / 60.f, sc->seed ^ 8, &cells[1]);
        for (int k = 0; k < 3; k++)
            rgb[k] = sc->table[k] * (1 + grain);
    }
    /* the sheet, its edge anti-aliased */
    if (inside > 0) {
        float paper[3], tex = 0.025f * value_noise(u / 0.6f, v / 0.6f, sc->seed ^ 9, &cells[2]);
        for (int k = 0; k < 3; k++)
            paper[k] = sc->paper[k] * (1 + tex);
        static const float blue[3] = {150, 185, 225}, red[3] = {225, 120, 125}, grid[3] = {165, 180, 210};
        if (sc->lines == 1) {
            blend(paper, blue, line_cov(v, 8.f, 3.f, 0.28f, px));
            blend(paper, red, line_cov(u, 1000.f, 22.f, 0.35f, px));
        } else if (sc->lines == 2) {
            blend(paper, grid, max2f(line_cov(v, 5.f, 1.f, 0.2f, px), line_cov(u, 5.f, 1.f, 0.2f, px)));
        }
        float ink = 0.f;
        for (int i = 0; i < sc->nst; i++)
            ink = max2f(ink, stamp_at(&sc->st[i], u, v));
        blend(paper, sc->ink, ink * sc->ink_opacity);
        blend(rgb, paper, inside > 1 ? 1 : inside);
    }
    /* the light */
    float t = ((float)x * sc->grad_dx + (float)y * sc->grad_dy) / (float)(sc->w > sc->h ? sc->w : sc->h);
    float light = 1.f - sc->grad_a * (t < 0 ? 0 : t > 1 ? 1 : t);
    if (sc->shadow > 0) {
        float d = ((float)x * sc->sh_nx + (float)y * sc->sh_ny - sc->sh_c) / sc->sh_soft;
        float a = d < -1 ? 0 : d > 1 ? 1 : 0.5f + 0.5f * sinf(d * 1.5707963f);
        light *= 1.f - sc->shadow * a;
    }
    for (int k = 0; k < 3; k++)
        rgb[k] *= light;
}

static void setup(struct scene *sc, struct rng *r, const struct dg_idx_images *im, size_t idx, int w, int h)
{
    memset(sc, 0, sizeof *sc);
    sc->w = w, sc->h = h, sc->seed = r->s;
    double shortside = w < h ? w : h, D = uni(r, 14, 30), frac = uni(r, 0.22, 0.5);
    sc->s = D / (frac * shortside);
    double th = uni(r, -12, 12) * M_PI / 180;
    sc->cth = cos(th), sc->sth = sin(th);
    sc->g = uni(r, -0.12, 0.12) / shortside, sc->hh = uni(r, -0.12, 0.12) / shortside;
    sc->cx = w / 2.0, sc->cy = h / 2.0;
    sc->sw = (float)uni(r, 90, 150), sc->sh = (float)uni(r, 70, 210);
    float u = sc->sw / 2 + (float)uni(r, -0.15, 0.15) * sc->sw, v = sc->sh / 2 + (float)uni(r, -0.15, 0.15) * sc->sh;
    u = fmaxf((float)D, fminf(sc->sw - (float)D, u)), v = fmaxf((float)D, fminf(sc->sh - (float)D, v));
    double off = 0.08 * shortside * sc->s; /* the digit a little off the frame's centre */
    sc->du = u + uni(r, -off, off), sc->dv = v + uni(r, -off, off);
    sc->lines = (int)uni(r, 0, 3);
    float e = (float)uni(r, 0.85, 1.0);
    sc->paper[0] = e * (float)uni(r, 232, 252), sc->paper[1] = e * (float)uni(r, 228, 246);
    sc->paper[2] = e * (float)uni(r, 212, 238);
    float tb = (float)uni(r, 0.35, 0.65);
    sc->table[0] = tb * (float)uni(r, 150, 230), sc->table[1] = tb * (float)uni(r, 110, 170);
    sc->table[2] = tb * (float)uni(r, 70, 140);
    static const float inks[3][3] = {{25, 35, 110}, {22, 22, 28}, {35, 55, 150}};
    memcpy(sc->ink, inks[(int)uni(r, 0, 3)], sizeof sc->ink);
    sc->ink_opacity = (float)uni(r, 0.85, 1.0);
    double ga = uni(r, 0, 2 * M_PI);
    sc->grad_a = (float)uni(r, 0.1, 0.45), sc->grad_dx = (float)cos(ga), sc->grad_dy = (float)sin(ga);
    if (uni(r, 0, 1) < 0.5) {
        double sa = uni(r, 0, 2 * M_PI);
        sc->shadow = (float)uni(r, 0.15, 0.4), sc->sh_nx = (float)cos(sa), sc->sh_ny = (float)sin(sa);
        sc->sh_c = (float)(sc->sh_nx * w * uni(r, 0.2, 0.8) + sc->sh_ny * h * uni(r, 0.2, 0.8));
        sc->sh_soft = (float)(shortside * uni(r, 0.05, 0.15));
    }
    sc->noise = (float)uni(r, 1.5, 4);
    sc->blur = (int)uni(r, 0, 3);
    if (make_stamp(im->pixels + idx * 784, 11, idx, u, v, (float)D, &sc->st[0]) == 0)
        sc->nst = 1;
    int others = (int)uni(r, 0, MAX_STAMPS);
    for (int i = 0; i < others; i++) { /* other writing along the top margin */
        size_t j = (idx * 31 + 7 * (size_t)i + 1) % im->count;
        float hu = (float)uni(r, 3.5, 6), pu = 10 + (float)i * 9 + (float)uni(r, 0, 4);
        if (make_stamp(im->pixels + j * 784, 12, j, pu, (float)uni(r, 5, 9), hu, &sc->st[sc->nst]) == 0)
            sc->nst++;
    }
}

/* The mean of c taps summing to s, rounded: c is 3 or 5 (radius 1 or 2, setup()), and a
 * division by a constant compiles to a multiplication where one by a variable, two per
 * byte of a 2-3 MP photo, was the blur's cost. */
static inline uint8_t tap_mean(int s, int c)
{
    return (uint8_t)(c == 3 ? (s + 1) / 3 : c == 5 ? (s + 2) / 5 : (s + c / 2) / c);
}

/* The sum of a line's taps at element x (elements stride bytes apart from base, n of
 * them), the line's ends repeated past its edges. */
static inline int taps_clamped(const uint8_t *base, size_t stride, int n, int x, int r)
{
    int s = 0;
    for (int d = -r; d <= r; d++) {
        int t = x + d < 0 ? 0 : x + d >= n ? n - 1 : x + d;
        s += base[(size_t)t * stride];
    }
    return s;
}

/* Separable box blur of radius r over an RGB image, in place, edges clamped; tmp holds the
 * image in between. Both passes walk the image row by row: down a column, each step would
 * stride a whole row of a 2-3 MP photo. Inlined with r a constant (box_blur), away from
 * the edges the taps need no clamping and the loops vectorise. */
static inline void box_blur_r(uint8_t *img, int w, int h, const int r, uint8_t *tmp)
{
    const int c = 2 * r + 1;
    const size_t row = (size_t)w * 3;
    for (int y = 0; y < h; y++) { /* along the rows: img -> tmp */
        const uint8_t *src = img + (size_t)y * row;
        uint8_t *dst = tmp + (size_t)y * row;
        for (size_t i = 0; i < row; i++) {
            int x = (int)(i / 3), s = 0;
            if (x < r || x >= w - r)
                s = taps_clamped(src + i % 3, 3, w, x, r);
            else
                for (int d = -r; d <= r; d++)
                    s += src[(ptrdiff_t)i + 3 * d];
            dst[i] = tap_mean(s, c);
        }
    }
    for (int y = 0; y < h; y++) { /* down the columns: tmp -> img */
        uint8_t *dst = img + (size_t)y * row;
        if (y < r || y >= h - r) {
            for (size_t i = 0; i < row; i++)
                dst[i] = tap_mean(taps_clamped(tmp + i, row, h, y, r), c);
            continue;
        }
        const uint8_t *mid = tmp + (size_t)y * row;
        for (size_t i = 0; i < row; i++) {
            int s = 0;
            for (int d = -r; d <= r; d++)
                s += mid[(ptrdiff_t)i + (ptrdiff_t)d * (ptrdiff_t)row];
            dst[i] = tap_mean(s, c);
        }
    }
}

static void box_blur(uint8_t *img, int w, int h, int r, uint8_t *tmp)
{
    if (r == 1)
        box_blur_r(img, w, h, 1, tmp);
    else if (r == 2)
        box_blur_r(img, w, h, 2, tmp);
    else if (r > 0)
        box_blur_r(img, w, h, r, tmp);
}

static uint8_t *render_photo(const struct scene *sc, struct rng *r)
{
    size_t n = (size_t)sc->w * sc->h * 3;
    uint8_t *img = malloc(n), *tmp = malloc(n);
    if (!img || !tmp) {
        free(img), free(tmp);
        return NULL;
    }
    uint64_t ns = r->s | 1;
    struct noise_cell cells[3] = {{0}};
    for (int y = 0; y < sc->h; y++)
        for (int x = 0; x < sc->w; x++) {
            float rgb[3];
            shade(sc, x, y, rgb, cells);
            for (int k = 0; k < 3; k++) {
                ns ^= ns << 13, ns ^= ns >> 7, ns ^= ns << 17; /* xorshift: sensor noise */
                float v = rgb[k] + sc->noise * ((float)(ns >> 40) / 8388608.f - 1.f);
                img[((size_t)y * sc->w + x) * 3 + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
            }
        }
    box_blur(img, sc->w, sc->h, sc->blur, tmp);
    free(tmp);
    return img;
}

/* An APP1 Exif segment with only IFD0's Orientation (big-endian TIFF). */
static size_t exif_segment(uint8_t *b, int orientation)
{
    static const uint8_t seg[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42,
                                  0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0,
                                  0, 0, 0, 0};
    memcpy(b, seg, sizeof seg);
    b[28] = 0, b[29] = (uint8_t)orientation;
    return sizeof seg;
}

/* The photo as stored by a phone held sideways: pixels rotated so that orientation 6 (or
 * 8, 3) shows them upright again. */
static uint8_t *store_rotated(const uint8_t *img, int w, int h, int o, int *sw, int *sh)
{
    *sw = o == 3 ? w : h, *sh = o == 3 ? h : w;
    uint8_t *out = malloc((size_t)w * h * 3);
    if (!out)
        return NULL;
    for (int y = 0; y < *sh; y++)
        for (int x = 0; x < *sw; x++) {
            int dx, dy; /* displayed pixel that stored (x, y) shows */
            if (o == 6)
                dx = w - 1 - y, dy = x;
            else if (o == 8)
                dx = y, dy = h - 1 - x;
            else
                dx = w - 1 - x, dy = h - 1 - y;
            memcpy(out + ((size_t)y * *sw + x) * 3, img + ((size_t)dy * w + dx) * 3, 3);
        }
    return out;
}

static int write_file(const char *path, const void *a, size_t an, const void *b, size_t bn)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(a, 1, an, f) == an && (!bn || fwrite(b, 1, bn, f) == bn);
    int err = errno;
    if (f && fclose(f) != 0)
        ok = 0, err = errno;
    if (!ok)
        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(err));
    return ok ? 0 : -1;
}

/* JPEG bytes of an RGB image (malloc'd by TurboJPEG: tjFree). */
static int jpeg_encode(const uint8_t *img, int w, int h, int quality, int flags, int sub,
                       unsigned char **out, unsigned long *len)
{
    tjhandle tj = tjInitCompress();
    *out = NULL, *len = 0;
    int rc = tj ? tjCompress2(tj, img, w, 0, h, TJPF_RGB, out, len, sub, quality, flags) : -1;
    if (tj)
        tjDestroy(tj);
    return rc;
}

static int write_jpeg(const char *path, const uint8_t *img, int w, int h, int quality, int orientation)
{
    int sw = w, sh = h;
    uint8_t *stored = orientation > 1 ? store_rotated(img, w, h, orientation, &sw, &sh) : NULL;
    unsigned char *jpg;
    unsigned long len;
    int rc = jpeg_encode(stored ? stored : img, sw, sh, quality, 0, TJSAMP_420, &jpg, &len);
    free(stored);
    if (rc) {
        fprintf(stderr, "%s: JPEG encoding failed: %s\n", path, tjGetErrorStr());
        return -1;
    }
    uint8_t head[66] = {0xFF, 0xD8}; /* SOI, the Exif segment; then the rest */
    size_t en = orientation > 1 ? exif_segment(head + 2, orientation) : 0;
    rc = write_file(path, head, 2 + en, jpg + 2, len - 2);
    tjFree(jpg);
    return rc;
}

static int write_png(const char *path, const uint8_t *img, int w, int h)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    struct spng_ihdr ihdr = {.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    size_t n = 0;
    int e = ctx ? spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1) : 1;
    if (!e)
        e = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 1);
    if (!e)
        e = spng_set_ihdr(ctx, &ihdr);
    if (!e)
        e = spng_encode_image(ctx, img, (size_t)w * h * 3, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    void *png = e ? NULL : spng_get_png_buffer(ctx, &n, &e);
    spng_ctx_free(ctx);
    if (!png || e)
        fprintf(stderr, "%s: PNG encoding failed: %s\n", path, spng_strerror(e ? e : SPNG_EMEM));
    int rc = png && !e ? write_file(path, png, n, NULL, 0) : -1;
    free(png);
    return rc;
}

static int make_set(const char *mnist, const char *dir, int png, size_t first, size_t count, int fw,
                    int fh)
{
    char err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(mnist, "t10k", &im, &lb, err, sizeof err) != 0) {
        fprintf(stderr, "photo_set: %s\n", err);
        return 1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return 1;
    }
    static const int sizes[][2] = {{1600, 1200}, {2016, 1512}, {1200, 1600}, {1920, 1440}, {1512, 2016}};
    static struct scene sc;
    int rc = 0;
    for (size_t i = first; i < first + count && !rc; i++) {
        size_t idx = (i * 7919 + (png ? 5003 : 0) + (size_t)fw) % im.count;
        struct rng r = {mix64(idx * 2 + (uint64_t)png)};
        int w = fw ? fw : sizes[i % 5][0], h = fh ? fh : sizes[i % 5][1];
        setup(&sc, &r, &im, idx, w, h);
        uint8_t *pix = render_photo(&sc, &r);
        char path[4096];
        snprintf(path, sizeof path, "%s/%d_%05zu.%s", dir, lb.labels[idx], idx, png ? "png" : "jpg");
        static const int orients[4] = {1, 6, 8, 3};
        if (!pix) {
            fprintf(stderr, "%s: out of memory for a %dx%d photo\n", path, w, h);
            rc = 1;
        } else if (png)
            rc = write_png(path, pix, w, h) != 0;
        else
            rc = write_jpeg(path, pix, w, h, (int)uni(&r, 70, 93), i % 4 == 3 ? orients[1 + i / 4 % 3] : 1) != 0;
        free(pix);
    }
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return rc;
}

/* ---- the bad-JPEG corpus ---- */

/* A small test image: a dark bar on light grey (so the good ones decode to a drawing). */
static void corpus_image(uint8_t *img, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int ink = x > w / 2 - 3 && x < w / 2 + 3 && y > h / 4 && y < 3 * h / 4;
            memset(img + ((size_t)y * w + x) * 3, ink ? 20 : 230, 3);
        }
}

/* Offset of the first marker m (0xFFm) at a segment boundary, or 0. */
static size_t find_marker(const uint8_t *j, size_t n, uint8_t m)
{
    for (size_t i = 2; i + 3 < n;) {
        if (j[i] != 0xFF)
            return 0;
        if (j[i + 1] == m)
            return i;
        if (j[i + 1] == 0xDA)
            return 0;
        i += 2 + ((size_t)j[i + 2] << 8 | j[i + 3]);
    }
    return 0;
}

static int corpus(const char *dir)
{
    enum { W = 64, H = 64 };
    static uint8_t img[W * H * 3], cmyk[W * H * 4], buf[1 << 16];
    corpus_image(img, W, H);
    for (size_t i = 0; i < (size_t)W * H; i++) /* the same bar in CMYK (K only) */
        cmyk[i * 4] = cmyk[i * 4 + 1] = cmyk[i * 4 + 2] = 0, cmyk[i * 4 + 3] = (uint8_t)(255 - img[i * 3]);
    unsigned char *base, *prog, *cm = NULL; /* NULL: TurboJPEG allocates */
    unsigned long bn, pn, cn = 0;
    tjhandle tj = tjInitCompress();
    if (!tj || jpeg_encode(img, W, H, 90, 0, TJSAMP_420, &base, &bn) ||
        jpeg_encode(img, W, H, 90, TJFLAG_PROGRESSIVE, TJSAMP_444, &prog, &pn) ||
        tjCompress2(tj, cmyk, W, 0, H, TJPF_CMYK, &cm, &cn, TJSAMP_444, 90, 0))
        return 1;
    tjDestroy(tj);
    char p[4096];
    int rc = 0;
#define PUT(name, a, an, b, bn_) (snprintf(p, sizeof p, "%s/%s", dir, name), rc |= write_file(p, a, an, b, bn_))
    PUT("ok-baseline.jpg", base, bn, NULL, 0);
    PUT("ok-progressive.jpg", prog, pn, NULL, 0);
    size_t en = exif_segment(buf, 6);
    memcpy(buf + en, base + 2, bn - 2);
    uint8_t soi[2] = {0xFF, 0xD8};
    PUT("ok-exif-orientation-6.jpg", soi, 2, buf, en + bn - 2);
    PUT("corrupt_jpeg-truncated-half.jpg", base, bn / 2, NULL, 0);
    PUT("corrupt_jpeg-soi-only.jpg", base, 3, NULL, 0);
    PUT("corrupt_jpeg-no-eoi-header-only.jpg", base, find_marker(base, bn, 0xDA) + 4, NULL, 0);
    memcpy(buf, base, bn);
    size_t sof = find_marker(buf, bn, 0xC0);
    buf[sof + 4] = 12; /* 12-bit samples */
    PUT("unsupported-12bit.jpg", buf, bn, NULL, 0);
    memcpy(buf, base, bn);
    buf[sof + 5] = buf[sof + 6] = buf[sof + 7] = buf[sof + 8] = 0xFF; /* 65535 x 65535 */
    PUT("too_large-65535x65535.jpg", buf, bn, NULL, 0);
    memcpy(buf, base, bn);
    buf[sof + 5] = 0, buf[sof + 6] = 0; /* height 0 */
    PUT("corrupt_jpeg-zero-height.jpg", buf, bn, NULL, 0);
    PUT("unsupported-cmyk.jpg", cm, cn, NULL, 0);
    /* a progressive bomb: the last scan repeated until the scan count is far past any
     * encoder's script */
    size_t eoi = pn - 2, last = 0;
    for (size_t i = 2; i + 1 < eoi; i++)
        if (prog[i] == 0xFF && prog[i + 1] == 0xDA)
            last = i;
    size_t scan = eoi - last, at = last;
    memcpy(buf, prog, last);
    for (int k = 0; k < 200 && at + scan + 2 < sizeof buf; k++, at += scan)
        memcpy(buf + at, prog + last, scan);
    buf[at] = 0xFF, buf[at + 1] = 0xD9;
    PUT("too_large-progressive-200-scans.jpg", buf, at + 2, NULL, 0);
    /* a progressive image whose header claims 4096 x 4096: over the progressive budget */
    memcpy(buf, prog, pn);
    size_t psof = find_marker(buf, pn, 0xC2);
    buf[psof + 5] = 0x10, buf[psof + 6] = 0, buf[psof + 7] = 0x10, buf[psof + 8] = 0;
    PUT("too_large-progressive-4096x4096.jpg", buf, pn, NULL, 0);
    memcpy(buf, base, bn);
    memset(buf + bn / 2, 0x55, bn / 4); /* entropy-coded data overwritten */
    PUT("corrupt_jpeg-garbled-scan.jpg", buf, bn, NULL, 0);
#undef PUT
    tjFree(base), tjFree(prog), tjFree(cm);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--corpus"))
        return corpus(argv[2]);
    if ((argc == 6 || argc == 8) && (!strcmp(argv[3], "jpeg") || !strcmp(argv[3], "png"))) {
        int w = argc == 8 ? atoi(argv[6]) : 0, h = argc == 8 ? atoi(argv[7]) : 0;
        if (argc == 8 && (w < 64 || h < 64 || w > 16384 || h > 16384)) {
            fprintf(stderr, "%s: WIDTH and HEIGHT must be 64..16384\n", argv[0]);
            return 2;
        }
        return make_set(argv[1], argv[2], !strcmp(argv[3], "png"), strtoul(argv[4], NULL, 10),
                        strtoul(argv[5], NULL, 10), w, h);
    }
    fprintf(stderr, "usage: %s MNIST_DIR OUT_DIR jpeg|png FIRST COUNT [WIDTH HEIGHT]\n"
                    "       %s --corpus OUT_DIR\n", argv[0], argv[0]);
    return 2;
}
