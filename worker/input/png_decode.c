/* png_decode.c: PNG bytes -> RGBA8 pixels with libspng, under the caller's size limits.
 *
 * Decoding goes through spng for every colour type, bit depth, palette, tRNS and
 * interlacing, always to RGBA8. Sizes are checked against struct dg_input_limits (and for
 * overflow) from the IHDR alone, before the output buffer is allocated. */
#include <spng.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

/* The default limits: the page always sends 280x280, and 2048 a side leaves room for any
 * canvas a person draws on. A decompression bomb at the limit (7 KB of PNG) costs a child
 * ~20 MiB and a quarter of what one at 4096 does (24 KB of PNG: ~80 MiB, 0.3 s of CPU). */
#define DEFAULT_MAX_SIDE 2048u

static const char *const errstr[DG_INPUT_ERR_COUNT] = {
    [DG_INPUT_OK] = "ok",
    [DG_INPUT_EMPTY] = "empty image",
    [DG_INPUT_NOT_PNG] = "not a PNG image",
    [DG_INPUT_CORRUPT] = "corrupt or truncated PNG",
    [DG_INPUT_TOO_LARGE] = "image too large",
    [DG_INPUT_NOMEM] = "out of memory",
    [DG_INPUT_BLANK] = "blank image: nothing is drawn",
    [DG_INPUT_BAD_REQUEST] = "malformed drawing",
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
    lim->max_chunk_size = (size_t)1 << 20;
    lim->max_cache_size = (size_t)4 << 20;
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
    e = spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, size);
    if (e)
        return map_spng_err(e);
    if (*size != (size_t)pixels * 4) /* spng and we must agree on the layout we index */
        return DG_INPUT_CORRUPT;
    return DG_INPUT_OK;
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
    struct spng_ihdr ihdr;
    size_t size = 0;
    if (!rc)
        rc = check_header(ctx, lim, &ihdr, &size);
    uint8_t *buf = NULL;
    if (!rc && !(buf = malloc(size)))
        rc = DG_INPUT_NOMEM;
    if (!rc)
        rc = map_spng_err(spng_decode_image(ctx, buf, size, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS));
    struct spng_plte plte;
    if (!rc && ihdr.color_type == SPNG_COLOR_TYPE_INDEXED && (spng_get_plte(ctx, &plte) || plte.n_entries == 0))
        rc = DG_INPUT_CORRUPT; /* spng 0.7 decodes a palette image that has no PLTE */
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
