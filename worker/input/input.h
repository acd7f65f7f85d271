/* input.h: from an uploaded PNG to the 28x28 input the model expects.
 *
 *   PNG bytes --dg_png_decode--> RGBA8 canvas --dg_preprocess--> 784 floats (MNIST-like)
 *
 * Errors are an enum with a strerror, as libspng does; every size is checked against the
 * caller's limits before anything is allocated. */
#ifndef DIGITD_INPUT_H
#define DIGITD_INPUT_H

#include <stddef.h>
#include <stdint.h>

enum dg_input_err {
    DG_INPUT_OK = 0,
    DG_INPUT_EMPTY,          /* zero-length body */
    DG_INPUT_NOT_PNG,        /* no PNG signature */
    DG_INPUT_CORRUPT,        /* truncated or malformed PNG (CRC, zlib, chunk order, ...) */
    DG_INPUT_TOO_LARGE,      /* width, height, pixel count or a chunk over the limits */
    DG_INPUT_NOMEM,          /* allocation failed */
    DG_INPUT_BLANK,          /* decoded, but nothing is drawn on it */
    DG_INPUT_CORRUPT_JPEG,   /* truncated or malformed JPEG */
    DG_INPUT_UNSUPPORTED,    /* a JPEG we do not decode: CMYK, 12-bit */
    DG_INPUT_ERR_COUNT
};

const char *dg_input_strerror(int err);

/* HTTP status for an error: 400, 413, 422, or 500 for NOMEM. */
int dg_input_http_status(int err);

struct dg_input_limits {
    uint32_t max_width;      /* default 2048 */
    uint32_t max_height;     /* default 2048 */
    uint64_t max_pixels;     /* default 2048 * 2048 */
    size_t max_chunk_size;   /* ancillary chunk limit for spng_set_chunk_limits, default 1 MiB */
    size_t max_cache_size;   /* spng chunk cache limit, default 4 MiB */
};

void dg_input_default_limits(struct dg_input_limits *lim);

/* A decoded canvas: 8-bit RGBA, row-major, w * h * 4 bytes, owned by the caller (free()). */
struct dg_canvas {
    uint8_t *rgba;
    uint32_t w, h;
};

/* Decodes any PNG (all colour types, bit depths, palettes, tRNS, interlacing) to RGBA8.
 * The first call in a process tunes glibc's malloc (mallopt M_MMAP_THRESHOLD and
 * M_TRIM_THRESHOLD, see png.c) so that the per-request canvas buffers stay on the heap
 * instead of being mapped and unmapped on every request. */
int dg_png_decode(const void *png, size_t len, const struct dg_input_limits *lim,
                  struct dg_canvas *out);

/* What dg_preprocess found, for the API's answer and for tests. */
struct dg_prep_info {
    int polarity;            /* DG_POL_DARK_ON_LIGHT, DG_POL_LIGHT_ON_DARK, DG_POL_ALPHA */
    uint32_t x0, y0, x1, y1; /* ink bounding box in the canvas, inclusive-exclusive */
};

enum { DG_POL_DARK_ON_LIGHT, DG_POL_LIGHT_ON_DARK, DG_POL_ALPHA };

/* MNIST's recipe: find the ink (polarity, faint noise ignored), crop to its bounding box,
 * area-average the longer side to 20 px keeping the aspect ratio, place it in 28x28 with
 * the centre of mass at the centre. out = 784 floats, 0 = background, 1 = ink.
 * Returns DG_INPUT_BLANK if nothing is drawn. */
int dg_preprocess(const struct dg_canvas *c, float out[784], struct dg_prep_info *info);

/* The seed app's preprocessing, kept only to measure against: resize the whole canvas to
 * 28x28, grey, invert. */
void dg_preprocess_seed(const struct dg_canvas *c, float out[784]);

/* PNG bytes -> 784 floats: dg_png_decode + dg_preprocess. */
int dg_input_from_png(const void *png, size_t len, const struct dg_input_limits *lim,
                      float out[784], struct dg_prep_info *info);

/* The 28x28 image the model saw as an 8-bit greyscale PNG (ink white on black, like MNIST)
 * written into buf (cap bytes; 2 KiB is always enough). Returns its length, or 0. */
size_t dg_png_encode_input(const float in[784], uint8_t *buf, size_t cap);

#endif
