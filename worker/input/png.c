/* png.c: PNG bytes <-> pixels with libspng, under the caller's size limits.
 *
 * Decoding goes through spng for every colour type, bit depth, palette, tRNS and
 * interlacing, always to RGBA8. Sizes are checked against struct dg_input_limits (and for
 * overflow) from the IHDR alone, before the output buffer is allocated. */
#include <spng.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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
    [DG_INPUT_CORRUPT_JPEG] = "corrupt or truncated JPEG",
    [DG_INPUT_UNSUPPORTED] = "unsupported JPEG: only 8-bit greyscale or colour",
};

const char *dg_input_strerror(int err)
{
    if (err < 0 || err >= DG_INPUT_ERR_COUNT)
        return "unknown input error";
    return errstr[err];
}

int dg_input_http_status(int err)
{
    switch (err) {
    case DG_INPUT_OK: return 200;
    case DG_INPUT_TOO_LARGE: return 413;
    case DG_INPUT_BLANK: return 422;
    case DG_INPUT_NOMEM: return 500;
    default: return 400;
    }
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

/* Every request allocates a canvas (w * h * 4 bytes: 313 KB at 280x280) and the ink map
 * (w * h), and frees both. glibc serves blocks over M_MMAP_THRESHOLD (128 KiB, raised only
 * by frees of mapped blocks) with mmap and returns the heap top above M_TRIM_THRESHOLD to the
 * kernel, so both buffers came back as fresh zero pages on every request: 73 page faults per
 * request in a child (0 now); decode 765 -> 178 us, preprocessing 290 -> 55 us for
 * tests/server_digit.png. Keep blocks up to a canvas at the default limits on the heap, and
 * up to 4 MiB of free heap (many canvases of the page's size) in the process; a rare larger
 * canvas is still given back. Once per process, for every user of this library (the
 * worker's children, digitd-bench), before its first canvas. */
#define HEAP_BLOCK_MAX ((size_t)DEFAULT_MAX_SIDE * DEFAULT_MAX_SIDE * 4 + ((size_t)1 << 20))
#define HEAP_KEEP ((size_t)4 << 20)

static void tune_malloc_once(void)
{
#ifdef __GLIBC__
    static atomic_int done;
    if (atomic_exchange(&done, 1))
        return;
    mallopt(M_MMAP_THRESHOLD, (int)HEAP_BLOCK_MAX); /* <= glibc's 32 MiB maximum */
    mallopt(M_TRIM_THRESHOLD, (int)HEAP_KEEP);
#endif
}

int dg_png_decode(const void *png, size_t len, const struct dg_input_limits *lim,
                  struct dg_canvas *out)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    tune_malloc_once();
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

size_t dg_png_encode_input(const float in[784], uint8_t *buf, size_t cap)
{
    uint8_t grey[784];
    for (int i = 0; i < 784; i++) {
        float v = in[i] < 0.f ? 0.f : in[i] > 1.f ? 1.f : in[i];
        grey[i] = (uint8_t)(v * 255.f + 0.5f);
    }
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx)
        return 0;
    struct spng_ihdr ihdr = {.width = 28, .height = 28, .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_GRAYSCALE};
    size_t n = 0;
    int e = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (!e)
        e = spng_set_ihdr(ctx, &ihdr);
    if (!e)
        e = spng_encode_image(ctx, grey, sizeof grey, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (!e) {
        void *png = spng_get_png_buffer(ctx, &n, &e); /* malloc'd, ours to free */
        if (png && !e && n <= cap)
            memcpy(buf, png, n);
        else
            n = 0;
        free(png);
    }
    spng_ctx_free(ctx);
    return e ? 0 : n;
}
