/* photo_input: the JPEG decoder's orientation and scaling, and the photo path's choice.
 *  - a JPEG with each EXIF orientation 1..8 decodes to the picture as it was taken: the
 *    stored image's first row and column land where the EXIF specification puts them;
 *  - a 12 MP JPEG decodes at a DCT scale: within the limits, no smaller than the work needs;
 *  - no drawn canvas (every look, style, pen and read-back noise of the renderer) is taken
 *    for a photo, so the canvas path and its accuracy are untouched; an evenly noisy sheet
 *    with a lighting gradient is a photo;
 *  - a photo of blank paper (light falling off, noise, no ink) is blank, not a digit;
 *  - a 0 written with a marker (a stroke a quarter of its height, several of the light
 *    estimate's blocks wide) is found whole, not as the outline of its stroke, and comes
 *    out with MNIST's thick-end stroke weight and its hole open.
 * usage: photo_input MNIST_DIR */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "check.h"
#include "idx.h"
#include "input.h"
#include "jpeg.h"
#include "photo.h"
#include "render.h"

/* JPEG of an RGB image (quality 100, 4:4:4), with an APP1 Exif orientation if o > 0. */
static uint8_t *make_jpeg(const uint8_t *rgb, int w, int h, int o, size_t *len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *j = NULL;
    unsigned long n = 0;
    if (!tj || tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &j, &n, TJSAMP_444, 100, 0))
        return NULL;
    tjDestroy(tj);
    static const uint8_t exif[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0,
                                   8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                   0, 0, 0, 0};
    size_t en = o > 0 ? sizeof exif : 0;
    uint8_t *out = malloc(n + en);
    if (out) {
        memcpy(out, j, 2);
        memcpy(out + 2, exif, en);
        if (en)
            out[2 + 28] = (uint8_t)o; /* little-endian SHORT value */
        memcpy(out + 2 + en, j + 2, n - 2);
        *len = n + en;
    }
    tjFree(j);
    return out;
}

static unsigned grey_at(const struct dg_canvas *c, uint32_t x, uint32_t y)
{
    return c->rgba[((size_t)y * c->w + x) * 4];
}

/* Stored 64x32: the top-left 16x16 corner black, the top-right one mid-grey, the rest white. */
static void orientation_checks(void)
{
    enum { W = 64, H = 32 };
    static uint8_t rgb[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memset(rgb + (y * W + x) * 3, y < 16 && x < 16 ? 0 : y < 16 && x >= W - 16 ? 128 : 255, 3);
    /* where the stored top-left and top-right corners are shown: 0 top-left, 1 top-right,
     * 2 bottom-right, 3 bottom-left (EXIF 2.3, tag 0x0112) */
    static const int tl[9] = {0, 0, 1, 2, 3, 0, 1, 2, 3}, tr[9] = {0, 1, 0, 3, 2, 3, 2, 1, 0};
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    for (int o = 1; o <= 8; o++) {
        size_t len = 0;
        uint8_t *j = make_jpeg(rgb, W, H, o, &len);
        struct dg_canvas c;
        CHECK(j && dg_jpeg_decode(j, len, &lim, &c) == DG_INPUT_OK, "orientation %d decodes", o);
        free(j);
        if (failures)
            return;
        CHECK(o >= 5 ? c.w == H && c.h == W : c.w == W && c.h == H, "orientation %d: %ux%u", o, c.w, c.h);
        uint32_t cx[4] = {4, c.w - 5, c.w - 5, 4}, cy[4] = {4, 4, c.h - 5, c.h - 5};
        for (int k = 0; k < 4; k++) {
            unsigned want = k == tl[o] ? 0 : k == tr[o] ? 128 : 255, got = grey_at(&c, cx[k], cy[k]);
            CHECK(got + 12 >= want && got <= want + 12, "orientation %d corner %d: %u, want %u", o, k, got, want);
        }
        free(c.rgba);
    }
}

/* A sheet: grey level base falling off by fall across the width, +-noise levels. */
static void sheet(struct dg_canvas *c, unsigned base, unsigned fall, unsigned noise, uint64_t seed)
{
    for (uint32_t y = 0; y < c->h; y++)
        for (uint32_t x = 0; x < c->w; x++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            int v = (int)base - (int)(fall * x / c->w) + (int)((seed >> 33) % (2 * noise + 1)) - (int)noise;
            uint8_t *p = c->rgba + ((size_t)y * c->w + x) * 4;
            p[0] = p[1] = p[2] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            p[3] = 255;
        }
}

static void scale_checks(void)
{
    enum { W = 4032, H = 3024 };
    struct dg_canvas c = {malloc((size_t)W * H * 4), W, H};
    uint8_t *rgb = malloc((size_t)W * H * 3);
    CHECK(c.rgba && rgb, "memory");
    if (!c.rgba || !rgb)
        return;
    sheet(&c, 230, 60, 3, 1);
    for (size_t i = 0; i < (size_t)W * H; i++)
        memcpy(rgb + i * 3, c.rgba + i * 4, 3);
    free(c.rgba);
    size_t len = 0;
    uint8_t *j = make_jpeg(rgb, W, H, 0, &len);
    free(rgb);
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    CHECK(j && dg_jpeg_decode(j, len, &lim, &c) == DG_INPUT_OK, "12 MP JPEG decodes");
    if (!failures) {
        CHECK(c.w == W / 4 && c.h == H / 4, "12 MP decoded at 1/4: %ux%u", c.w, c.h);
        CHECK(c.w >= DG_JPEG_WORK_SIDE && c.w <= lim.max_width, "decoded side %u", c.w);
        float out[784];
        CHECK(dg_photo_detect(&c), "a lit sheet is a photo");
        CHECK(dg_preprocess(&c, out, NULL) == DG_INPUT_BLANK, "blank paper is blank");
        free(c.rgba);
    }
    lim.max_pixels = (uint64_t)W * H / DG_JPEG_PIXELS_FACTOR - 1;
    CHECK(j && dg_jpeg_decode(j, len, &lim, &c) == DG_INPUT_TOO_LARGE, "pixel budget");
    free(j);
}

/* A ring of ink (grey level ink) centred on c, radii r0 < r1. */
static void ring(struct dg_canvas *c, float r0, float r1, unsigned ink)
{
    for (uint32_t y = 0; y < c->h; y++)
        for (uint32_t x = 0; x < c->w; x++) {
            float d = hypotf((float)x + 0.5f - (float)c->w / 2, (float)y + 0.5f - (float)c->h / 2);
            uint8_t *p = c->rgba + ((size_t)y * c->w + x) * 4;
            if (d >= r0 && d < r1)
                p[0] = p[1] = p[2] = (uint8_t)ink;
        }
}

/* A marker's 0 on a lit, noisy sheet, stroke r1 - r0 (hole r0): its 28x28, or an error. */
static int marker_zero(float r0, float r1, float out[784])
{
    enum { W = 800, H = 600 };
    struct dg_canvas c = {malloc((size_t)W * H * 4), W, H};
    if (!c.rgba)
        return DG_INPUT_NOMEM;
    sheet(&c, 225, 50, 3, 4);
    ring(&c, r0, r1, 40);
    int rc = dg_photo_detect(&c) ? dg_preprocess(&c, out, NULL) : -1;
    free(c.rgba);
    return rc;
}

static void marker_checks(void)
{
    float out[784];
    /* stroke 100 px: 3 blocks of the 400 px working image */
    CHECK(marker_zero(100.f, 200.f, out) == DG_INPUT_OK, "a marker's 0 is found");
    if (!failures) {
        float sw = dg_stroke_width(out), mid = 0.f;
        /* the stroke's middle: 8 px out from the centre, where the outline of an eroded
         * stroke (the paper's light taken from the ink itself) leaves a gap */
        for (int k = 0; k < 4; k++) {
            int x = 14 + (k == 0 ? 8 : k == 1 ? -8 : 0), y = 14 + (k == 2 ? 8 : k == 3 ? -8 : 0);
            mid += out[y * 28 + x] / 4.f;
        }
        CHECK(mid >= 0.5f, "the stroke is whole: %.2f in its middle", mid);
        CHECK(sw <= DG_MNIST_MAX_WIDTH + 0.3f, "stroke width %.2f brought to MNIST's", sw);
        CHECK(out[14 * 28 + 14] < 0.1f && out[13 * 28 + 13] < 0.1f, "the hole stays open");
    }
    /* stroke 0.35 of its height: the hole nearly closed up, still a digit */
    CHECK(marker_zero(60.f, 200.f, out) == DG_INPUT_OK, "a 0 with its hole nearly closed is found");
    /* a blot narrower than the light's closing (a wider one is taken for the paper, and
     * only its rim is ink: a 0) */
    CHECK(marker_zero(0.f, 60.f, out) == DG_INPUT_BLANK, "a filled disc (a blot) is no digit");
}

static void detect_checks(const char *mnist)
{
    char err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(mnist, "t10k", &im, &lb, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        return;
    }
    static uint8_t rgba[280 * 280 * 4];
    struct dg_canvas c = {rgba, 280, 280};
    size_t photos = 0, n = 0;
    for (int style = DG_STYLE_SCAN; style <= DG_STYLE_PEN; style++)
        for (size_t i = 0; i < 1500; i++, n++) {
            struct dg_render_params p;
            dg_render_params_for(21 + (uint64_t)style, i, (enum dg_render_style)style, &p);
            p.look = (enum dg_render_look)(i % 3);
            p.noise = (int)(i / 3 % 3); /* none, and the renderer's read-back noise levels */
            CHECK(dg_render_rgba(im.pixels + i * 784, &p, rgba) == 0, "render %zu", i);
            photos += (size_t)dg_photo_detect(&c);
        }
    CHECK(photos == 0, "%zu of %zu drawn canvases taken for photos", photos, n);
    sheet(&c, 235, 40, 3, 2);
    CHECK(dg_photo_detect(&c), "a noisy lit sheet is a photo");
    sheet(&c, 235, 0, 0, 3);
    CHECK(!dg_photo_detect(&c), "a flat fill is a canvas");
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MNIST_DIR\n", argv[0]);
        return 2;
    }
    orientation_checks();
    scale_checks();
    marker_checks();
    detect_checks(argv[1]);
    if (!failures)
        printf("ok: JPEG orientation and scaling, photo detection, a marker's strokes\n");
    return failures ? 1 : 0;
}
