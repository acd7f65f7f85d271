/* explain.h: "why this digit": which parts of the 28x28 input drove the model's answer.
 *
 * Occlusion: a small square of the input is blanked (set to background) at each position of
 * a grid, the model runs on each masked copy, and every pixel gets the mean drop in the
 * answer's log-odds (natural log) over the squares that covered it. Positive: the ink there supported
 * the answer; negative: it spoke for another digit. Computed only when a client asks for it
 * (?explain=1): it costs one forward pass per square that holds ink. */
#ifndef DIGITD_EXPLAIN_H
#define DIGITD_EXPLAIN_H

#include <cjson/cJSON.h>

/* The occlusion map of input in (784 floats) for class cls into map (784 floats,
 * row-major). Returns the number of forward passes on masked copies. */
int dg_explain_map(const float in[784], int cls, float map[784]);

/* Adds "explain" (the map of the answer's digit, 784 numbers) and timing_us.explain (its
 * cost in us) to the answer o, whose "prediction" is the digit. Returns 0, -1 if out of memory. */
int dg_explain_add(cJSON *o, const float in[784]);

#endif
