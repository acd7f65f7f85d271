/* sketch.h: test digits as the page sends drawings, for the tests and digitd-bench.
 *
 * dg_sketch_digit traces the pen style's path (render.h's dg_render_path) into polylines in
 * canvas pixels: the strokes a person drawing that digit on the page would send.
 * dg_sketch_page_png draws strokes as the page's canvas does for its PNG (black round pen on
 * white, opaque RGBA, encoded as Chromium encodes a canvas), so that the same drawing can be
 * sent both ways. */
#ifndef DIGITD_SKETCH_H
#define DIGITD_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "render.h"
#include "strokes.h"

struct dg_sketch {
    float *xy;
    uint32_t *ends;
    struct dg_strokes s; /* width = p->pen_width, side = p->canvas */
};

/* pixels (784 bytes, MNIST polarity) drawn with p (a pen style: p->pen_width > 0) -> strokes
 * in sk (dg_sketch_free). Returns 0, or -1 on bad parameters or allocation failure. */
int dg_sketch_digit(const uint8_t pixels[784], const struct dg_render_params *p,
                    struct dg_sketch *sk);

void dg_sketch_free(struct dg_sketch *sk);

/* The page's PNG of the strokes on a side x side canvas, malloc'd (*png, *len). 0 or -1. */
int dg_sketch_page_png(const struct dg_strokes *s, uint32_t side, uint8_t **png, size_t *len);

#endif
