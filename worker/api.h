/* api.h: the HTTP API served over FastCGI by each worker.
 *
 *   POST /api/predict, POST /predict   PNG body, {"imageData": "data:image/png;base64,..."}
 *                                      or {"strokes": [[[x, y], ...], ...], "width": W} (request.h)
 *   GET  /api/health                   model, version, uptime
 *   GET  /api/metrics                  Prometheus text for the whole pool
 *
 * Every failure is a JSON {"error": "..."} with its status; nothing here exits or aborts on
 * input, and all sizes are checked against the limits before anything is allocated. */
#ifndef DIGITD_API_H
#define DIGITD_API_H

#include <stddef.h>

#include <fcgiapp.h>

#include "input.h"
#include "metrics.h"

struct dg_api_config {
    size_t max_body;                 /* CONTENT_LENGTH limit, bytes */
    struct dg_input_limits limits;   /* PNG limits (width, height, chunks) */
    const struct dg_shared *shared;  /* pool-wide counters for /api/metrics and health */
};

/* Once per child, before its first request: cJSON allocates from a per-request arena
 * (request.h, dg_json_use_arena). */
void dg_api_init(void);

/* Answers one accepted request; returns the status sent and sets *route. */
int dg_api_handle(FCGX_Request *req, const struct dg_api_config *cfg, enum dg_route *route);

#endif
