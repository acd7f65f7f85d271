/* input_decode: every PNG colour type, bit depth, palette, tRNS and interlacing, written by
 * dg_png_encode (libspng's encoder), decodes to the RGBA8 pixels we expect; the size limits refuse a PNG from
 * its header (before the image is allocated: a 2^30-square image must give TOO_LARGE, not
 * NOMEM); the 28x28 input PNG round-trips. */
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "png_encode.h"

#define W 13 /* odd sizes exercise bit packing and every interlace pass */
#define H 7

#include "check.h"

static int channels(int ct)
{
    switch (ct) {
    case SPNG_COLOR_TYPE_GRAYSCALE: return 1;
    case SPNG_COLOR_TYPE_TRUECOLOR: return 3;
    case SPNG_COLOR_TYPE_INDEXED: return 1;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return 2;
    default: return 4;
    }
}

/* Sample in spng's SPNG_FMT_PNG layout: packed MSB first below 8 bits, host-endian at 16. */
static void put_sample(uint8_t *row, int idx, int bd, unsigned v)
{
    if (bd == 16) {
        uint16_t s = (uint16_t)v;
        memcpy(row + idx * 2, &s, 2);
    } else if (bd == 8) {
        row[idx] = (uint8_t)v;
    } else {
        int per = 8 / bd, shift = 8 - bd * (idx % per + 1);
        row[idx / per] |= (uint8_t)(v << shift);
    }
}

static uint8_t to8(unsigned v, int bd)
{
    return bd == 16 ? (uint8_t)(v >> 8) : (uint8_t)(v * 255u / ((1u << bd) - 1));
}

struct variant { int ct, bd, interlace, trns; };

static void test_variant(struct variant v)
{
    int ch = channels(v.ct);
    size_t stride = ((size_t)W * ch * v.bd + 7) / 8;
    uint8_t raw[H * 128] = {0}, want[W * H * 4];
    unsigned maxv = (1u << v.bd) - 1, tgrey = maxv / 3, trgb[3] = {maxv, 0, maxv / 2};
    struct spng_plte plte = {.n_entries = 1u << (v.bd < 8 ? v.bd : 8)};
    struct spng_trns trns = {0};
    for (uint32_t i = 0; i < plte.n_entries; i++) {
        plte.entries[i] = (struct spng_plte_entry){(uint8_t)(i * 37), (uint8_t)(255 - i), (uint8_t)(i * 11), 255};
        trns.type3_alpha[i] = (uint8_t)(255 - i * 5);
    }
    trns.n_type3_entries = plte.n_entries;
    trns.gray = (uint16_t)tgrey;
    trns.red = (uint16_t)trgb[0], trns.green = (uint16_t)trgb[1], trns.blue = (uint16_t)trgb[2];
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            unsigned s[4];
            for (int c = 0; c < ch; c++)
                s[c] = (unsigned)(x * 7919 + y * 104729 + c * 31337) % (maxv + 1);
            if (v.trns && (x + y) % 4 == 0) { /* make some pixels hit the tRNS colour */
                if (v.ct == SPNG_COLOR_TYPE_GRAYSCALE) s[0] = tgrey;
                if (v.ct == SPNG_COLOR_TYPE_TRUECOLOR) memcpy(s, trgb, sizeof trgb);
            }
            if (v.ct == SPNG_COLOR_TYPE_INDEXED)
                s[0] %= plte.n_entries;
            for (int c = 0; c < ch; c++)
                put_sample(raw + y * stride, x * ch + c, v.bd, s[c]);
            uint8_t *o = want + (y * W + x) * 4;
            switch (v.ct) {
            case SPNG_COLOR_TYPE_GRAYSCALE:
                o[0] = o[1] = o[2] = to8(s[0], v.bd);
                o[3] = v.trns && s[0] == tgrey ? 0 : 255;
                break;
            case SPNG_COLOR_TYPE_TRUECOLOR:
                for (int c = 0; c < 3; c++) o[c] = to8(s[c], v.bd);
                o[3] = v.trns && !memcmp(s, trgb, sizeof trgb) ? 0 : 255;
                break;
            case SPNG_COLOR_TYPE_INDEXED:
                o[0] = plte.entries[s[0]].red, o[1] = plte.entries[s[0]].green;
                o[2] = plte.entries[s[0]].blue;
                o[3] = v.trns ? trns.type3_alpha[s[0]] : 255;
                break;
            case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
                o[0] = o[1] = o[2] = to8(s[0], v.bd);
                o[3] = to8(s[1], v.bd);
                break;
            default:
                for (int c = 0; c < 4; c++) o[c] = to8(s[c], v.bd);
            }
        }
    }
    const struct dg_png_format f = {.width = W, .height = H, .bit_depth = (uint8_t)v.bd,
                                    .color_type = (uint8_t)v.ct, .interlace = (uint8_t)v.interlace,
                                    .plte = v.ct == SPNG_COLOR_TYPE_INDEXED ? &plte : NULL,
                                    .trns = v.trns ? &trns : NULL};
    size_t len = 0;
    void *png = dg_png_encode(&f, raw, stride * H, &len);
    CHECK(png, "ct %d bd %d interlace %d: encoding failed", v.ct, v.bd, v.interlace);
    if (!png)
        return;
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    struct dg_canvas c;
    int rc = dg_png_decode(png, len, &lim, &c);
    CHECK(rc == DG_INPUT_OK && c.w == W && c.h == H, "ct %d bd %d: decode: %s", v.ct, v.bd,
          dg_input_strerror(rc));
    if (rc == DG_INPUT_OK) {
        int bad = -1;
        for (int i = 0; i < W * H * 4 && bad < 0; i++)
            if (c.rgba[i] != want[i]) bad = i;
        CHECK(bad < 0, "ct %d bd %d interlace %d trns %d: byte %d is %d, want %d", v.ct, v.bd,
              v.interlace, v.trns, bad, bad < 0 ? 0 : c.rgba[bad], bad < 0 ? 0 : want[bad]);
        free(c.rgba);
    }
    /* the same bytes cut short must be refused as corrupt, never crash */
    rc = dg_png_decode(png, len - 20, &lim, &c);
    CHECK(rc == DG_INPUT_CORRUPT, "truncated ct %d bd %d: got %s", v.ct, v.bd, dg_input_strerror(rc));
    free(png);
}

static void test_all_formats(void)
{
    static const struct { int ct, bds[5], n; } types[] = {
        {SPNG_COLOR_TYPE_GRAYSCALE, {1, 2, 4, 8, 16}, 5},
        {SPNG_COLOR_TYPE_TRUECOLOR, {8, 16}, 2},
        {SPNG_COLOR_TYPE_INDEXED, {1, 2, 4, 8}, 4},
        {SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, {8, 16}, 2},
        {SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, {8, 16}, 2},
    };
    int n = 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (int b = 0; b < types[t].n; b++)
            for (int il = 0; il < 2; il++)
                for (int tr = 0; tr < 2; tr++) {
                    if (tr && types[t].ct >= SPNG_COLOR_TYPE_GRAYSCALE_ALPHA)
                        continue; /* tRNS is not allowed with an alpha channel */
                    test_variant((struct variant){types[t].ct, types[t].bds[b], il, tr});
                    n++;
                }
    printf("decoded %d colour type / bit depth / interlace / tRNS variants\n", n);
}

/* A valid PNG signature + IHDR claiming w x h, then IEND: nothing but the header. */
static size_t header_only(uint32_t w, uint32_t h, uint8_t *out)
{
    uint8_t px[1] = {0};
    size_t len = 0;
    uint8_t *png = dg_png_encode(&(struct dg_png_format){.width = 1, .height = 1}, px, 1, &len);
    if (!png || len > 256) {
        free(png);
        return 0;
    }
    memcpy(out, png, len);
    free(png);
    /* patch IHDR's width/height (bytes 16..23) and its CRC (bytes 29..32) */
    for (int i = 0; i < 4; i++) {
        out[16 + i] = (uint8_t)(w >> (24 - 8 * i));
        out[20 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    uint32_t crc = 0xffffffffu;
    for (int i = 12; i < 29; i++) {
        crc ^= out[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    crc ^= 0xffffffffu;
    for (int i = 0; i < 4; i++)
        out[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    return len;
}

static void test_limits(void)
{
    uint8_t png[256];
    struct dg_input_limits lim;
    struct dg_canvas c;
    dg_input_default_limits(&lim);
    size_t len = header_only(1u << 30, 1u << 30, png);
    CHECK(len > 0, "could not build a header-only PNG");
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_TOO_LARGE, "2^30 square not refused");
    /* the default limits are 2048 a side (a bomb at 4096 costs a child 4 times the memory) */
    CHECK(lim.max_width == 2048 && lim.max_height == 2048 && lim.max_pixels == 2048u * 2048,
          "default limits %ux%u, %llu pixels", lim.max_width, lim.max_height,
          (unsigned long long)lim.max_pixels);
    len = header_only(2049, 10, png);
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_TOO_LARGE, "width 2049 > 2048 not refused");
    len = header_only(10, 2049, png);
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_TOO_LARGE, "height 2049 > 2048 not refused");
    len = header_only(2048, 2048, png); /* at the limits: only now is the (missing) data read */
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_CORRUPT, "header-only 2048x2048 is not corrupt");
    lim.max_pixels = 1000;
    len = header_only(100, 11, png);
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_TOO_LARGE, "1100 pixels > 1000 not refused");
    len = header_only(100, 10, png); /* within the limits: only now is the (missing) data read */
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_CORRUPT, "header-only 100x10 is not corrupt");
    len = header_only(0, 10, png);
    CHECK(dg_png_decode(png, len, &lim, &c) == DG_INPUT_CORRUPT, "zero width is not corrupt");
    CHECK(dg_png_decode(png, 0, &lim, &c) == DG_INPUT_EMPTY, "empty body");
    CHECK(dg_png_decode("GIF89a..", 8, &lim, &c) == DG_INPUT_NOT_PNG, "GIF is not refused");
    CHECK(dg_png_decode(png, 5, &lim, &c) == DG_INPUT_NOT_PNG, "5 bytes is not refused");
    for (int i = 0; i <= DG_INPUT_ERR_COUNT; i++)
        CHECK(dg_input_strerror(i) && *dg_input_strerror(i), "strerror(%d)", i);
}

/* A valid image with a chunk of the given type and n data bytes (NULL: zeros) inserted
 * after IHDR. */
static uint8_t *with_chunk(const char *type, const uint8_t *data, size_t n, size_t *len)
{
    uint8_t px[4] = {0, 0, 0, 255};
    size_t blen = 0;
    const struct dg_png_format f = {.width = 1, .height = 1,
                                    .color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA};
    uint8_t *base = dg_png_encode(&f, px, 4, &blen);
    uint8_t *out = base ? calloc(1, blen + n + 12) : NULL;
    if (!out) {
        free(base);
        return NULL;
    }
    memcpy(out, base, 33);
    uint8_t *c = out + 33;
    for (int i = 0; i < 4; i++)
        c[i] = (uint8_t)(n >> (24 - 8 * i));
    memcpy(c + 4, type, 4);
    if (data)
        memcpy(c + 8, data, n);
    uint32_t crc = 0xffffffffu;
    for (size_t i = 4; i < n + 8; i++) {
        crc ^= c[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    crc ^= 0xffffffffu;
    for (int i = 0; i < 4; i++)
        c[n + 8 + i] = (uint8_t)(crc >> (24 - 8 * i));
    memcpy(c + n + 12, base + 33, blen - 33);
    *len = blen + n + 12;
    free(base);
    return out;
}

/* A tEXt chunk of n bytes: keyword, then NUL and zero bytes of text. */
static uint8_t *with_text_chunk(size_t n, size_t *len)
{
    uint8_t *data = calloc(1, n > 8 ? n : 8);
    if (data)
        memcpy(data, "Comment", 7);
    uint8_t *png = data ? with_chunk("tEXt", data, n, len) : NULL;
    free(data);
    return png;
}

/* A 1.9 MB iCCP chunk (a profile of random bytes, stored: deflate cannot shrink them) is
 * metadata: the image decodes, it is not "too large". */
static void test_big_profile(void)
{
    const size_t prof = 1900000, blocks = (prof + 65534) / 65535;
    size_t n = 6 + 2 + prof + 5 * blocks + 4; /* name NUL method, zlib header, stored blocks, adler */
    uint8_t *d = malloc(n), *q = d;
    if (!d)
        return;
    memcpy(q, "icc\0\0", 5), q += 5;
    *q++ = 0x78, *q++ = 0x01;
    uint32_t a = 1, b = 0, seed = 1;
    for (size_t left = prof; left;) {
        size_t k = left > 65535 ? 65535 : left;
        left -= k;
        *q++ = (uint8_t)(left == 0), *q++ = (uint8_t)k, *q++ = (uint8_t)(k >> 8);
        *q++ = (uint8_t)~k, *q++ = (uint8_t)(~k >> 8);
        for (size_t i = 0; i < k; i++) {
            seed = seed * 1103515245u + 12345u;
            *q = (uint8_t)(seed >> 16);
            a = (a + *q++) % 65521, b = (b + a) % 65521;
        }
    }
    uint32_t adler = b << 16 | a;
    for (int i = 0; i < 4; i++)
        *q++ = (uint8_t)(adler >> (24 - 8 * i));
    n = (size_t)(q - d);
    size_t len;
    uint8_t *png = with_chunk("iCCP", d, n, &len);
    free(d);
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    struct dg_canvas c;
    int rc = png ? dg_png_decode(png, len, &lim, &c) : -1;
    CHECK(rc == DG_INPUT_OK, "image with a %zu-byte iCCP: %s", n, dg_input_strerror(rc));
    if (rc == DG_INPUT_OK)
        free(c.rgba);
    free(png);
}

static void test_chunk_limits(void)
{
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    struct dg_canvas c;
    size_t len;
    uint8_t *png = with_text_chunk(1000, &len);
    CHECK(png && dg_png_decode(png, len, &lim, &c) == DG_INPUT_OK, "1000-byte tEXt refused");
    free(png);
    if (!png)
        return;
    free(c.rgba);
    /* over the limit, libspng skips an ancillary chunk instead of storing it: the image
     * still decodes, and the chunk never costs memory */
    png = with_text_chunk(lim.max_chunk_size + 1000, &len);
    int rc = png ? dg_png_decode(png, len, &lim, &c) : -1;
    CHECK(rc == DG_INPUT_OK, "tEXt over the chunk limit: got %s", dg_input_strerror(rc));
    if (rc == DG_INPUT_OK)
        free(c.rgba);
    free(png);
}

static void test_encode_input(void)
{
    float in[784];
    for (int i = 0; i < 784; i++)
        in[i] = (float)(i % 256) / 255.f;
    uint8_t buf[2048];
    size_t n = dg_png_encode_input(in, buf, sizeof buf);
    CHECK(n > 0, "encode_input failed");
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    struct dg_canvas c;
    CHECK(dg_png_decode(buf, n, &lim, &c) == DG_INPUT_OK && c.w == 28 && c.h == 28, "decode input PNG");
    for (int i = 0; i < 784 && c.rgba; i++)
        CHECK(c.rgba[i * 4] == i % 256 && c.rgba[i * 4 + 3] == 255, "pixel %d", i);
    free(c.rgba);
    CHECK(dg_png_encode_input(in, buf, 16) == 0, "a too small buffer must give 0");
}

int main(void)
{
    test_all_formats();
    test_limits();
    test_chunk_limits();
    test_big_profile();
    test_encode_input();
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
