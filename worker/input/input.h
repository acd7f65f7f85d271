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
    DG_INPUT_CORRUPT,        /* truncated or malformed PNG (CRC, zlib, chunk order, palette
                              * index past the palette, ...) */
    DG_INPUT_TOO_LARGE,      /* width, height, pixels, decoding budget or a chunk over the limits */
    DG_INPUT_NOMEM,          /* allocation failed */
    DG_INPUT_BLANK,          /* decoded, but nothing is drawn on it */
    DG_INPUT_BAD_REQUEST,    /* a stroke request that breaks its format or ranges */
    DG_INPUT_CORRUPT_JPEG,   /* truncated or malformed JPEG */
    DG_INPUT_UNSUPPORTED,    /* a JPEG we do not decode: CMYK, 12-bit */
    DG_INPUT_ERR_COUNT
};

const char *dg_input_strerror(int err);

/* The largest side dg_preprocess takes: its sums over spans of a row or column are 16- and
 * 32-bit and stay exact only up to it. Limits above it (digitd --max-width/--max-height)
 * are refused at start, not after a full decode. */
#define DG_INPUT_MAX_SIDE 16384

struct dg_input_limits {
    uint32_t max_width;      /* default 2048, at most DG_INPUT_MAX_SIDE */
    uint32_t max_height;     /* default 2048, at most DG_INPUT_MAX_SIDE */
    uint64_t max_pixels;     /* default 2048 * 2048 */
    uint64_t max_decode;     /* decoding budget, bytes: the RGBA8 canvas plus the inflated
                              * image data (rows x their bytes at the file's bit depth and
                              * channels), twice for an interlaced image; default 32 MiB */
    size_t max_chunk_size;   /* ancillary chunk limit for spng_set_chunk_limits (an iCCP
                              * profile is inflated up to it), default 4 MiB */
    size_t max_cache_size;   /* spng chunk cache limit, default 8 MiB */
};

void dg_input_default_limits(struct dg_input_limits *lim);

/* Once per process, before its first request: keeps the per-request canvas buffers (a
 * canvas at the default limits) on glibc's heap instead of mapping fresh zero pages for
 * each (see heap.c). For the worker and any program that times the input path. */
void dg_input_heap_setup(void);

/* A decoded canvas: 8-bit RGBA, row-major, w * h * 4 bytes, owned by the caller (free()). */
struct dg_canvas {
    uint8_t *rgba;
    uint32_t w, h;
};

/* Decodes any PNG (all colour types, bit depths, palettes, tRNS, interlacing) to RGBA8. */
int dg_png_decode(const void *png, size_t len, const struct dg_input_limits *lim,
                  struct dg_canvas *out);

/* The PNG decoder this build links, for --version: "libspng 0.7.3 (-O3, from Debian's source)"
 * or "libspng 0.7.3 (system)" (worker/input/deps). */
const char *dg_png_decoder(void);

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

/* The same from an ink plane (w x h, 0 = paper, up to 255 = full ink, as a transparent
 * canvas's alpha; no photo, no background to find): a renderer's output skips the canvas.
 * The plane is changed (parts dropped, noise floor lifted). */
int dg_preprocess_ink(uint8_t *ink, uint32_t w, uint32_t h, float out[784],
                      struct dg_prep_info *info);

/* MNIST's frame, which every path brings a drawing to: the digit's longer side DG_MNIST_BOX
 * px of the 28x28; its strokes, by dg_stroke_width's measure, at most DG_MNIST_MAX_WIDTH px
 * wide there (the thickest tenth of MNIST's training digits lie above it; preprocess.c
 * thickens those under its thinnest tenth). A marker or a wide pen on a small digit closes
 * up the loops that tell a 9 from a 4 or a 0 from a blob: the canvas and photo paths erode
 * such ink (dg_mnist_erosion), the stroke path draws it again with a narrower pen. */
#define DG_MNIST_BOX 20
#define DG_MNIST_MAX_WIDTH 3.5f

/* The mean stroke width of a 28x28 input in pixels: twice its ink over its outline's
 * length (preprocess.c). */
float dg_stroke_width(const float out[784]);

/* How far to erode ink (each side, in the units of its box's longer side `side`) whose
 * strokes are `width` wide in MNIST's frame, for them to come out DG_MNIST_MAX_WIDTH: the
 * box loses 2e too, so with the stroke w = width side / BOX,
 * (w - 2e) / (side - 2e) = MAX / BOX. */
float dg_mnist_erosion(float side, float width);

/* Whether a lone mark is a tap of the pen rather than a digit: its box (longer side, in
 * the canvas's units) under 1/8 of the canvas's shorter side, and its stroke as wide as
 * 0.35 of that box. */
int dg_is_tap(double box, double canvas_side, double stroke_width);

/* PNG bytes -> 784 floats: dg_png_decode + dg_preprocess. */
int dg_input_from_png(const void *png, size_t len, const struct dg_input_limits *lim,
                      float out[784], struct dg_prep_info *info);

/* The 28x28 image the model saw as an 8-bit greyscale PNG (ink white on black, like MNIST)
 * written into buf (cap bytes; 2 KiB is always enough). Returns its length, or 0. */
size_t dg_png_encode_input(const float in[784], uint8_t *buf, size_t cap);

#endif
