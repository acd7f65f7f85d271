/* canvas_set.h: the validation digits as the service sees them, for choosing the epoch. */
#ifndef DIGITD_CANVAS_SET_H
#define DIGITD_CANVAS_SET_H

#include <stddef.h>
#include <stdint.h>

/* n images (784 bytes each) drawn on a 280x280 canvas by the renderer's series seed (scan
 * and pen styles, half and half, all looks; worker/input/render.h), then through the
 * worker's preprocessing (no PNG in between), rounded to bytes into out.
 * Returns 0, or -1 if an image could not be drawn (out of memory). */
int aug_canvas_set(const uint8_t *in, size_t n, uint64_t seed, int threads, uint8_t *out);

#endif
