/* request.h: the JSON bodies of POST /api/predict, parsed and checked before any work.
 *
 *   {"imageData": "data:image/png;base64,..."}          a PNG or JPEG (data_url.h)
 *   {"strokes": [[[x, y], ...], ...], "width": W, "side": S}   a drawing (strokes.h)
 */
#ifndef DIGITD_REQUEST_H
#define DIGITD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "strokes.h"

/* cJSON's memory from an arena (on) or malloc (0), for the whole process, which must be
 * single-threaded while it is on. dg_json_arena_reset empties the arena: call it once every
 * cJSON item allocated since the last reset has been deleted (the worker: after each
 * request). */
void dg_json_use_arena(int on);
void dg_json_arena_reset(void);

/* Parses body as one JSON value followed by nothing but whitespace; NULL if it is not. */
cJSON *dg_json_parse(const uint8_t *body, size_t len);

/* root's "imageData", a data URL (data_url.h) -> a malloc'd image (*img, *len). Returns 0,
 * or an HTTP status (400, 415, 500) with *err set and *img NULL. */
int dg_image_from_json(const cJSON *root, uint8_t **img, size_t *len, const char **err);

/* A drawing read from a request; its arrays are malloc'd (dg_stroke_request_free). */
struct dg_stroke_request {
    float *xy;
    uint32_t *ends;
    struct dg_strokes s;
};

/* root's "strokes", "width" and optional "side" -> r, counted against strokes.h's limits
 * before anything is allocated, then checked (dg_strokes_check). Returns DG_INPUT_OK,
 * DG_INPUT_BAD_REQUEST, DG_INPUT_TOO_LARGE or DG_INPUT_NOMEM, with *why the message. */
int dg_strokes_from_json(const cJSON *root, struct dg_stroke_request *r, const char **why);

void dg_stroke_request_free(struct dg_stroke_request *r);

#endif
