/* fuzz_preprocess.c: fuzz entry point for dg_preprocess alone, on raw RGBA canvases, so that
 * the fuzzer explores canvas shapes and pixel patterns directly instead of through PNG
 * encoding. Input format (also of tests/corpus/canvas, written by tests/tools/input_mkcorpus.c):
 *   bytes 0-1  width - 1, little-endian, modulo 4096 (so 1..4096)
 *   bytes 2-3  height - 1, likewise
 *   the rest   RGBA8 pixels, row-major; a canvas larger than that is filled up with copies
 *              of the first pixel (the paper), so a few bytes describe a large canvas: paper,
 *              then a run of ink pixels. No pixel at all: a transparent canvas.
 * Shorter than 4 bytes: DG_INPUT_EMPTY; over 2^18 pixels (512x512): DG_INPUT_TOO_LARGE, not
 * run (a fuzzer needs fast iterations; size limits are the PNG decoder's business). Shapes
 * of any aspect ratio fit: 4096x64, 4000x3, 1x4096. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_main.h"
#include "input.h"

#define MAX_PIXELS ((size_t)1 << 18)

const char dg_fuzz_name[] = "digitd-fuzz-preprocess";

/* Builds the canvas the bytes describe; returns a dg_input_err. */
static int canvas_from(const uint8_t *data, size_t size, struct dg_canvas *c)
{
    c->rgba = NULL;
    if (size < 4)
        return DG_INPUT_EMPTY;
    c->w = 1 + ((uint32_t)data[0] | (uint32_t)data[1] << 8) % 4096;
    c->h = 1 + ((uint32_t)data[2] | (uint32_t)data[3] << 8) % 4096;
    size_t px = (size_t)c->w * c->h;
    if (px > MAX_PIXELS)
        return DG_INPUT_TOO_LARGE;
    size_t n = px * 4, have = size - 4 < n ? size - 4 : n;
    c->rgba = malloc(n);
    if (!c->rgba)
        return DG_INPUT_NOMEM;
    uint8_t paper[4] = {0, 0, 0, 0};
    memcpy(paper, data + 4, have < 4 ? have : 4);
    memcpy(c->rgba, data + 4, have);
    for (size_t i = have; i < n; i++)
        c->rgba[i] = paper[i % 4];
    return DG_INPUT_OK;
}

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    struct dg_canvas c;
    int rc = canvas_from(data, size, &c);
    if (rc == DG_INPUT_OK) {
        float out[784];
        rc = dg_preprocess(&c, out, NULL);
    }
    free(c.rgba);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dg_canvas c;
    if (canvas_from(data, size, &c) == DG_INPUT_OK) {
        float out[784];
        struct dg_prep_info info;
        if (dg_preprocess(&c, out, &info) == DG_INPUT_OK) {
            /* the promises the API relies on: a box inside the canvas, values in 0..1 (abort
             * is how a fuzz target reports a broken one; the service never does) */
            if (info.x0 >= info.x1 || info.y0 >= info.y1 || info.x1 > c.w || info.y1 > c.h)
                abort();
            for (int i = 0; i < 784; i++)
                if (!(out[i] >= 0.f && out[i] <= 1.f))
                    abort();
        }
    }
    free(c.rgba);
    return 0;
}
