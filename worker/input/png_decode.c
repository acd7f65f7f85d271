/* png_decode.c: PNG bytes -> RGBA8 pixels with libspng, under the caller's size limits.
 *
 * Decoding goes through spng for every colour type, bit depth, palette, tRNS and
 * interlacing, always to RGBA8 (a palette index past the palette is refused). Sizes and the decoding budget are
 * checked against struct dg_input_limits (and for overflow) from the IHDR alone, before
 * anything is allocated or inflated. Every chunk's CRC is checked, the last IDAT's too. */
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

/* The default limits: the page always sends 280x280, and 2048 a side leaves room for any
 * canvas a person draws on. A decompression bomb at the limit (7 KB of PNG) costs a child
 * ~20 MiB and a quarter of what one at 4096 does (24 KB of PNG: ~80 MiB, 0.3 s of CPU). */
#define DEFAULT_MAX_SIDE 2048u
/* What a decode may cost: every 8-bit image up to 2048 x 2048 (a phone photo scaled for the
 * web, any drawing); a 16-bit or interlaced one only at about half that pixel count. The
 * 2048x2048 RGBA16 PNG of 32 KB that once took a child 0.2 s is refused from its header. */
#define DEFAULT_MAX_DECODE ((uint64_t)32 << 20)

static const char *const errstr[DG_INPUT_ERR_COUNT] = {
    [DG_INPUT_OK] = "ok",
    [DG_INPUT_EMPTY] = "empty image",
    [DG_INPUT_NOT_PNG] = "not a PNG image",
    [DG_INPUT_CORRUPT] = "corrupt or truncated PNG",
    [DG_INPUT_TOO_LARGE] = "image too large",
    [DG_INPUT_NOMEM] = "out of memory",
    [DG_INPUT_BLANK] = "blank image: nothing is drawn",
    [DG_INPUT_BAD_REQUEST] = "malformed drawing",
    [DG_INPUT_CORRUPT_JPEG] = "corrupt or truncated JPEG",
    [DG_INPUT_UNSUPPORTED] = "unsupported JPEG: only 8-bit greyscale or colour",
};

const char *dg_input_strerror(int err)
{
    if (err < 0 || err >= DG_INPUT_ERR_COUNT)
        return "unknown input error";
    return errstr[err];
}

void dg_input_default_limits(struct dg_input_limits *lim)
{
    lim->max_width = DEFAULT_MAX_SIDE;
    lim->max_height = DEFAULT_MAX_SIDE;
    lim->max_pixels = (uint64_t)DEFAULT_MAX_SIDE * DEFAULT_MAX_SIDE;
    lim->max_decode = DEFAULT_MAX_DECODE;
    /* Metadata never refuses an image a body can carry (2 MiB by default): an ICC profile,
     * which spng 0.7 always inflates, up to 4 MiB inflated. */
    lim->max_chunk_size = (size_t)4 << 20;
    lim->max_cache_size = (size_t)8 << 20;
}

/* spng's error codes in our classes: limits hit -> TOO_LARGE, the rest is the file's fault. */
static int map_spng_err(int e)
{
    switch (e) {
    case SPNG_OK: return DG_INPUT_OK;
    case SPNG_ESIGNATURE: return DG_INPUT_NOT_PNG;
    case SPNG_EMEM: return DG_INPUT_NOMEM;
    case SPNG_EUSER_WIDTH:
    case SPNG_EUSER_HEIGHT:
    case SPNG_ECHUNK_LIMITS:
    case SPNG_EOVERFLOW: return DG_INPUT_TOO_LARGE;
    default: return DG_INPUT_CORRUPT;
    }
}

/* spng takes 32-bit limits capped at 2^31 - 1. */
static uint32_t spng_dim_limit(uint32_t v)
{
    return v > INT32_MAX ? INT32_MAX : v;
}

/* Bytes a decode touches: the RGBA8 output and the inflated rows (filter byte + samples),
 * the latter twice when interlaced (seven passes, then placed). Under 2^70: no overflow. */
static uint64_t decode_cost(const struct spng_ihdr *h)
{
    static const unsigned channels[7] = {1, 0, 3, 1, 2, 0, 4}; /* by colour type */
    unsigned ch = h->color_type < 7 ? channels[h->color_type] : 4;
    uint64_t row = 1 + ((uint64_t)h->width * ch * h->bit_depth + 7) / 8;
    uint64_t raw = row * h->height * (h->interlace_method ? 2 : 1);
    return (uint64_t)h->width * h->height * 4 + raw;
}

/* Reads the IHDR and checks the size against lim; *size = RGBA8 bytes to allocate. */
static int check_header(spng_ctx *ctx, const struct dg_input_limits *lim, struct spng_ihdr *ihdr,
                        size_t *size)
{
    int e = spng_get_ihdr(ctx, ihdr);
    if (e)
        return map_spng_err(e);
    if (ihdr->width == 0 || ihdr->height == 0)
        return DG_INPUT_CORRUPT;
    if (ihdr->width > lim->max_width || ihdr->height > lim->max_height)
        return DG_INPUT_TOO_LARGE;
    uint64_t pixels = (uint64_t)ihdr->width * ihdr->height; /* cannot overflow: 2 x 32 bits */
    if (pixels > lim->max_pixels || pixels > SIZE_MAX / 4)
        return DG_INPUT_TOO_LARGE;
    if (decode_cost(ihdr) > lim->max_decode)
        return DG_INPUT_TOO_LARGE;
    e = spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, size);
    if (e)
        return map_spng_err(e);
    if (*size != (size_t)pixels * 4) /* spng and we must agree on the layout we index */
        return DG_INPUT_CORRUPT;
    return DG_INPUT_OK;
}

/* Palette images: spng 0.7 gives an index past the palette a colour, where the format
 * makes it an error. The palette is padded to every index the bit depth allows with a colour
 * none of its entries has; a pixel of that colour after decoding had such an index. */
static int pad_palette(spng_ctx *ctx, const struct spng_ihdr *h, uint8_t mark[3], int *padded)
{
    *padded = 0;
    struct spng_plte plte;
    if (spng_get_plte(ctx, &plte) || plte.n_entries == 0)
        return DG_INPUT_CORRUPT; /* spng 0.7 decodes a palette image that has no PLTE */
    uint32_t full = 1u << (h->bit_depth < 8 ? h->bit_depth : 8), v = 0;
    if (plte.n_entries >= full)
        return DG_INPUT_OK;
    for (int taken = 1; taken; v++) { /* at most 256 entries: one of the first 257 is free */
        taken = 0;
        for (uint32_t k = 0; k < plte.n_entries; k++)
            taken |= plte.entries[k].red == 0 && plte.entries[k].green == (v >> 8) &&
                     plte.entries[k].blue == (v & 255);
    }
    v--;
    mark[0] = 0, mark[1] = (uint8_t)(v >> 8), mark[2] = (uint8_t)v;
    const struct spng_plte_entry pad = {mark[0], mark[1], mark[2], 255};
    for (uint32_t k = plte.n_entries; k < full && k < 256; k++) /* full <= 256 */
        memcpy(&plte.entries[k], &pad, sizeof pad);
    plte.n_entries = full;
    *padded = 1;
    return map_spng_err(spng_set_plte(ctx, &plte));
}

static int has_mark(const uint8_t *rgba, size_t pixels, const uint8_t mark[3])
{
    for (size_t i = 0; i < pixels; i++)
        if (rgba[i * 4] == mark[0] && rgba[i * 4 + 1] == mark[1] && rgba[i * 4 + 2] == mark[2])
            return 1;
    return 0;
}

/* The chunks after the image data: the last IDAT's CRC is only read here. A file that ends
 * right after its image data (no IEND) is accepted, as every decoder does. */
static int check_trailer(spng_ctx *ctx)
{
    int e = spng_decode_chunks(ctx);
    return e == SPNG_IO_EOF ? DG_INPUT_OK : map_spng_err(e);
}

/* A context for png under lim's limits. */
static int open_png(spng_ctx *ctx, const void *png, size_t len, const struct dg_input_limits *lim)
{
    int rc = map_spng_err(spng_set_image_limits(ctx, spng_dim_limit(lim->max_width),
                                                spng_dim_limit(lim->max_height)));
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Fuzz builds only: use chunks whatever their CRC, or the fuzzer's mutations would
     * nearly all stop at the CRC check and never reach the decoder behind it. */
    if (!rc)
        rc = map_spng_err(spng_set_crc_action(ctx, SPNG_CRC_USE, SPNG_CRC_USE));
#endif
    if (!rc)
        rc = map_spng_err(spng_set_chunk_limits(ctx, lim->max_chunk_size, lim->max_cache_size));
    if (!rc)
        rc = map_spng_err(spng_set_png_buffer(ctx, png, len));
    return rc;
}

const char *dg_png_decoder(void)
{
    static char s[64];
#ifdef DG_SPNG_FROM_SOURCE
    const char *how = "-O3, from Debian's source";
#else
    const char *how = "system";
#endif
    snprintf(s, sizeof s, "libspng %s (%s)", spng_version_string(), how);
    return s;
}

int dg_png_decode(const void *png, size_t len, const struct dg_input_limits *lim,
                  struct dg_canvas *out)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    out->rgba = NULL;
    out->w = out->h = 0;
    if (len == 0)
        return DG_INPUT_EMPTY;
    if (len < sizeof sig || memcmp(png, sig, sizeof sig))
        return DG_INPUT_NOT_PNG;

    /* The zlib stream's Adler-32 re-checks what the chunk CRCs already checked, and costs
     * as much as the inflating itself (zlib 1.2's adler32 is scalar): skip it. */
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_IGNORE_ADLER32);
    if (!ctx)
        return DG_INPUT_NOMEM;
    int rc = open_png(ctx, png, len, lim);
    struct spng_ihdr ihdr;
    size_t size = 0;
    if (!rc)
        rc = check_header(ctx, lim, &ihdr, &size);
    uint8_t *buf = NULL;
    if (!rc && !(buf = malloc(size)))
        rc = DG_INPUT_NOMEM;
    uint8_t mark[3];
    int padded = 0;
    if (!rc && ihdr.color_type == SPNG_COLOR_TYPE_INDEXED)
        rc = pad_palette(ctx, &ihdr, mark, &padded);
    if (!rc)
        rc = map_spng_err(spng_decode_image(ctx, buf, size, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS));
    if (!rc && padded && has_mark(buf, size / 4, mark))
        rc = DG_INPUT_CORRUPT;
    if (!rc)
        rc = check_trailer(ctx);
    spng_ctx_free(ctx);
    if (rc) {
        free(buf);
        return rc;
    }
    out->rgba = buf;
    out->w = ihdr.width;
    out->h = ihdr.height;
    return DG_INPUT_OK;
}

int dg_input_from_png(const void *png, size_t len, const struct dg_input_limits *lim,
                      float out[784], struct dg_prep_info *info)
{
    struct dg_canvas c;
    int rc = dg_png_decode(png, len, lim, &c);
    if (rc)
        return rc;
    rc = dg_preprocess(&c, out, info);
    free(c.rgba);
    return rc;
}
