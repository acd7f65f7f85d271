/* input_mkcorpus: writes the PNG regression corpus (tests/corpus/png), small files named
 * <expected class>-<what>.png, as the digitd-fuzz-input --check test reads them, and the
 * canvas corpus (tests/corpus/canvas) in digitd-fuzz-preprocess's format (see
 * tests/fuzz/fuzz_preprocess.c), read by its --check test.
 *   input_mkcorpus PNG_DIR [CANVAS_DIR]
 * The committed corpus was made with it; libFuzzer crashers are added beside, renamed. */
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "png_encode.h"

static const char *out_dir;
static int failed;

static void put(const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "%s: cannot write\n", path);
        failed = 1;
    }
}

/* A w x h image with a dark bar on white (or the pattern the caller puts in raw), encoded. */
static uint8_t *encode(uint32_t w, uint32_t h, int ct, int bd, int interlace, const void *raw,
                       size_t rawlen, size_t *len)
{
    static const struct spng_plte plte = {.n_entries = 2,
                                          .entries = {{255, 255, 255, 255}, {0, 0, 0, 255}}};
    const struct dg_png_format f = {.width = w, .height = h, .bit_depth = (uint8_t)bd,
                                    .color_type = (uint8_t)ct, .interlace = (uint8_t)interlace,
                                    .plte = ct == SPNG_COLOR_TYPE_INDEXED ? &plte : NULL};
    uint8_t *png = dg_png_encode(&f, raw, rawlen, len);
    if (!png) {
        fprintf(stderr, "encode ct %d bd %d failed\n", ct, bd);
        exit(1);
    }
    return png;
}

/* Recomputes the CRC of the chunk starting at off (its length field). */
static void fix_crc(uint8_t *png, size_t off)
{
    uint32_t n = (uint32_t)png[off] << 24 | png[off + 1] << 16 | png[off + 2] << 8 | png[off + 3];
    uint32_t crc = (uint32_t)crc32(0, png + off + 4, n + 4);
    for (int i = 0; i < 4; i++)
        png[off + 8 + n + i] = (uint8_t)(crc >> (24 - 8 * i));
}

/* A w x h grey canvas, white, with a dark line along its longer side through the middle of
 * the shorter one, over the central 40 %: the extreme aspect ratios whose canvas side is
 * shorter than a component-grid cell (once a heap overflow in digit_box). */
static uint8_t *line_png(uint32_t w, uint32_t h, size_t *len)
{
    uint8_t *g = malloc((size_t)w * h);
    if (!g)
        exit(1);
    memset(g, 255, (size_t)w * h);
    int wide = w >= h;
    uint32_t n = wide ? w : h, mid = (wide ? h : w) / 2;
    for (uint32_t i = n * 3 / 10; i < n * 7 / 10; i++)
        g[wide ? (size_t)mid * w + i : (size_t)i * w + mid] = 0;
    uint8_t *png = encode(w, h, 0, 8, 0, g, (size_t)w * h, len);
    free(g);
    return png;
}

static void be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Offset of the first chunk of this type, or 0. */
/* A copy of the PNG base (len bytes, into b) whose IHDR claims w x h (0: keep that side),
 * CRC fixed: only the header lies about the size. */
static void put_resized(const char *name, const uint8_t *base, size_t len, uint8_t *b, uint32_t w,
                        uint32_t h)
{
    memcpy(b, base, len);
    if (w)
        be32(b + 16, w);
    if (h)
        be32(b + 20, h);
    fix_crc(b, 8);
    put(name, b, len);
}

static size_t find_chunk(const uint8_t *png, size_t len, const char *type)
{
    for (size_t off = 8; off + 12 <= len;) {
        uint32_t n = (uint32_t)png[off] << 24 | png[off + 1] << 16 | png[off + 2] << 8 | png[off + 3];
        if (!memcmp(png + off + 4, type, 4))
            return off;
        off += 12 + (size_t)n;
    }
    return 0;
}

/* One canvas file: width - 1 and height - 1 (16-bit little-endian), then the first n pixels;
 * digitd-fuzz-preprocess fills the rest of the canvas with copies of the first pixel. */
static void put_canvas(const char *name, uint32_t w, uint32_t h, const uint8_t paper[4],
                       const uint8_t ink[4], size_t n_ink)
{
    size_t n = 4 + 4 * (1 + n_ink);
    uint8_t *f = malloc(n);
    if (!f)
        exit(1);
    f[0] = (uint8_t)(w - 1), f[1] = (uint8_t)((w - 1) >> 8);
    f[2] = (uint8_t)(h - 1), f[3] = (uint8_t)((h - 1) >> 8);
    memcpy(f + 4, paper, 4);
    for (size_t i = 0; i < n_ink; i++)
        memcpy(f + 8 + 4 * i, ink, 4);
    put(name, f, n);
    free(f);
}

static void write_canvases(const char *dir)
{
    out_dir = dir;
    static const uint8_t clear[4] = {0, 0, 0, 0}, black[4] = {0, 0, 0, 255},
                         white[4] = {255, 255, 255, 255};
    /* the reviewer's crashers: one side shorter than a grid cell, ink in the alpha channel
     * at the start of the canvas (a bar of the first pixels after the paper pixel) */
    put_canvas("ok-wide-4000x3.canvas", 4000, 3, clear, black, 1000);
    put_canvas("ok-tall-3x4000.canvas", 3, 4000, clear, black, 900);
    put_canvas("ok-wide-200x1.canvas", 200, 1, clear, black, 40);
    put_canvas("ok-tall-1x200.canvas", 1, 200, clear, black, 40);
    put_canvas("ok-wide-4096x1.canvas", 4096, 1, clear, black, 100);
    put_canvas("ok-dark-on-white-280x280.canvas", 280, 280, white, black, 2000);
    put_canvas("blank-black-1x1.canvas", 1, 1, black, black, 0); /* all paper, no ink */
    put_canvas("blank-transparent-64x64.canvas", 64, 64, clear, black, 0);
    put_canvas("blank-white-4096x64.canvas", 4096, 64, white, black, 0);
    put_canvas("too_large-4096x4096.canvas", 4096, 4096, white, black, 0); /* not run */
    put_canvas("blank-speck-280x280.canvas", 280, 280, white, black, 1);
    put("empty-no-header.canvas", "\x01", 1);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: input_mkcorpus PNG_DIR [CANVAS_DIR]\n");
        return 2;
    }
    out_dir = argv[1];
    enum { S = 40 };
    uint8_t g8[S * S], g16[S * S * 2], rgba[S * S * 4], ga[S * S * 2], pal[S * S / 8];
    memset(pal, 0, sizeof pal);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int ink = x >= 15 && x < 22 && y >= 6 && y < 34; /* a "1" */
            int i = y * S + x;
            g8[i] = ink ? 0 : 255;
            uint16_t v = ink ? 0 : 65535;
            memcpy(g16 + i * 2, &v, 2);
            rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = 0;
            rgba[i * 4 + 3] = ink ? 255 : 0;
            ga[i * 2] = 0, ga[i * 2 + 1] = ink ? 255 : 0;
            if (ink)
                pal[i / 8] |= (uint8_t)(0x80 >> (i % 8));
        }
    size_t len;
    uint8_t *p;
#define OK(name, ...)                                                                              \
    p = encode(__VA_ARGS__, &len);                                                                 \
    put(name, p, len);                                                                             \
    free(p)
    OK("ok-grey8.png", S, S, 0, 8, 0, g8, sizeof g8);
    OK("ok-grey16.png", S, S, 0, 16, 0, g16, sizeof g16);
    OK("ok-grey16-interlaced.png", S, S, 0, 16, 1, g16, sizeof g16);
    OK("ok-palette1.png", S, S, 3, 1, 0, pal, sizeof pal);
    OK("ok-palette1-interlaced.png", S, S, 3, 1, 1, pal, sizeof pal);
    OK("ok-grey-alpha.png", S, S, 4, 8, 0, ga, sizeof ga);
    OK("ok-rgba-transparent.png", S, S, 6, 8, 1, rgba, sizeof rgba);
    memset(g8, 255, sizeof g8);
    OK("blank-white.png", S, S, 0, 8, 0, g8, sizeof g8);
    memset(rgba, 0, sizeof rgba);
    OK("blank-transparent.png", S, S, 6, 8, 0, rgba, sizeof rgba);

    /* broken variants of a valid grey image */
    for (int i = 0; i < S * S; i++)
        g8[i] = (uint8_t)(i * 7);
    uint8_t *base = encode(S, S, 0, 8, 0, g8, sizeof g8, &len);
    uint8_t *b = malloc(len + 64);
    put("corrupt-truncated-half.png", base, len / 2);
    put("corrupt-signature-only.png", base, 8);
    put("ok-no-iend.png", base, len - 12); /* the image is complete; like browsers, accept it */
    size_t idat = find_chunk(base, len, "IDAT");
    memcpy(b, base, len);
    b[idat + 10] ^= 0x55; /* data changed, CRC not */
    put("corrupt-bad-crc.png", b, len);
    memcpy(b, base, len);
    b[idat + 8] = 0xff, b[idat + 9] = 0xff, b[idat + 10] ^= 0x55; /* bad zlib, good CRC */
    fix_crc(b, idat);
    put("corrupt-bad-zlib.png", b, len);
    memcpy(b, base, len);
    b[24] = 3; /* IHDR bit depth 3 */
    fix_crc(b, 8);
    put("corrupt-bit-depth-3.png", b, len);
    memcpy(b, base, len);
    be32(b + 16, 0);
    fix_crc(b, 8);
    put("corrupt-zero-width.png", b, len);
    memcpy(b, base, len);
    b[25] = 3; /* indexed colour, but no PLTE */
    fix_crc(b, 8);
    put("corrupt-indexed-no-plte.png", b, len);
    memcpy(b, base, 33); /* signature + IHDR + IEND: no image data */
    memcpy(b + 33, base + len - 12, 12);
    put("corrupt-no-idat.png", b, 45);
    put_resized("too_large-huge-ihdr.png", base, len, b, 1u << 30, 1u << 30);
    put_resized("too_large-width-5000.png", base, len, b, 5000, 0);
    put_resized("too_large-height-4097.png", base, len, b, 4000, 4097);
    /* an ancillary chunk declaring 2 MiB (over the 1 MiB chunk limit) after IHDR */
    memcpy(b, base, 33);
    be32(b + 33, 2u << 20);
    memcpy(b + 37, "tEXt", 4);
    memcpy(b + 41, "Comment\0x", 9);
    put("corrupt-oversized-chunk-truncated.png", b, 50); /* input_decode tests a real one */
    put("empty-zero.png", "", 0);
    put("not_png-text.png", "hello, world\n", 13);
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0};
    put("not_png-jpeg.png", jpeg, sizeof jpeg);
    put("not_png-short.png", base, 5);
    /* over the default 2048 limit by one, in either direction (checked from IHDR alone) */
    put_resized("too_large-width-2049.png", base, len, b, 2049, 0);
    put_resized("too_large-height-2049.png", base, len, b, 0, 2049);
    /* the decoding budget, from IHDR alone: 2048 x 2048 at 16-bit RGBA, or interlaced */
    memcpy(b, base, len);
    b[24] = 16, b[25] = 6; /* RGBA16 */
    put_resized("too_large-budget-rgba16-2048.png", b, len, b, 2048, 2048);
    memcpy(b, base, len);
    b[25] = 6, b[28] = 1; /* RGBA8, interlaced */
    put_resized("too_large-budget-rgba8-interlaced-2048.png", b, len, b, 2048, 2048);
    /* the last IDAT's CRC, data intact: read only after the image data */
    memcpy(b, base, len);
    b[idat + 8 + (base[idat + 3] | base[idat + 2] << 8)] ^= 0x01;
    put("corrupt-stale-last-idat-crc.png", b, len);
    free(base);
    free(b);
    /* a palette index past the palette: the format's error, not a blank image */
    uint8_t ix[S * S];
    for (int i = 0; i < S * S; i++)
        ix[i] = (uint8_t)(i % S > S / 2 ? 1 : 0);
    ix[S * S / 2] = 200;
    OK("corrupt-palette-index.png", S, S, 3, 8, 0, ix, sizeof ix);
    /* every 8-bit image up to 2048 a side is within the budget */
    p = line_png(2048, 2048, &len);
    put("ok-grey8-2048x2048.png", p, len);
    free(p);

    /* canvas sides shorter than a grid cell; 4000x3 is over the default limits now (it
     * reaches the preprocessing through the canvas corpus below) */
    static const uint32_t lines[][2] = {{2000, 3}, {3, 2000}, {1000, 3}, {3, 1000}, {200, 1},
                                        {1, 200}, {2048, 1}};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char name[64];
        uint32_t w = lines[i][0], h = lines[i][1];
        snprintf(name, sizeof name, "ok-%s-%ux%u.png", w >= h ? "wide" : "tall", w, h);
        p = line_png(w, h, &len);
        put(name, p, len);
        free(p);
    }
    p = line_png(4000, 3, &len);
    put("too_large-wide-4000x3.png", p, len);
    free(p);
    if (argc > 2)
        write_canvases(argv[2]);
    return failed;
}
