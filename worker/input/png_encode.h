/* png_encode.h: pixels -> PNG bytes with libspng, the one PNG encoder of the project (the
 * API's input preview, the canvas renderer, the tests' and tools' images). */
#ifndef DIGITD_PNG_ENCODE_H
#define DIGITD_PNG_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <spng.h>

/* What to write. Zero fields take the defaults: bit depth 8, greyscale, not interlaced,
 * libspng's compression level, window and memory, and adaptive filters. */
#define DG_PNG_UNFILTERED (-1)
#define DG_PNG_STORED (-1) /* level: deflate's stored blocks, not compressed */
struct dg_png_format {
    uint32_t width, height;
    uint8_t bit_depth;              /* 1, 2, 4, 8, 16 */
    uint8_t color_type;             /* SPNG_COLOR_TYPE_* */
    uint8_t interlace;              /* SPNG_INTERLACE_ADAM7 or 0 */
    int level;                      /* zlib level 1..9, or DG_PNG_STORED */
    int filter;                     /* SPNG_FILTER_CHOICE_* mask, or DG_PNG_UNFILTERED */
    uint8_t window_bits, mem_level; /* zlib's: 9..15 and 1..9; a small image needs little */
    const struct spng_plte *plte;   /* required for indexed colour */
    const struct spng_trns *trns;   /* optional */
};

/* pixels: size bytes of rows in PNG's own layout (samples packed MSB first below 8 bits,
 * host-endian at 16). Returns the PNG in a malloc'd buffer of *len bytes, or NULL. */
uint8_t *dg_png_encode(const struct dg_png_format *f, const void *pixels, size_t size,
                       size_t *len);

#endif
