/* verdict.h: whether an answer is a digit, a doubt between digits, or no digit at all.
 *
 * Two measures, each with a threshold decided on training material (digitd-verdict-train,
 * weights/train/verdict_train.c, which writes worker/verdict_model.h):
 *   - a small detector (one hidden layer over the 28x28 input pooled to 14x14 and the
 *     model's log-probabilities) trained on digits drawn by the renderer against letters
 *     and symbols from vector fonts and random scribbles: its score above
 *     DG_VERDICT_MAX_NONDIGIT -> "not_a_digit";
 *   - the model's top probability below DG_VERDICT_MIN_CONFIDENCE -> "unsure".
 * Otherwise "digit". */
#ifndef DIGITD_VERDICT_H
#define DIGITD_VERDICT_H

#include <math.h>

#define DG_VERDICT_POOL 14 /* the detector's input: the 28x28 averaged over 2x2 */
#define DG_VERDICT_INPUTS (DG_VERDICT_POOL * DG_VERDICT_POOL + 10)

enum dg_verdict { DG_VERDICT_DIGIT, DG_VERDICT_UNSURE, DG_VERDICT_NOT_A_DIGIT };

/* "digit", "unsure", "not_a_digit": the API's words. */
const char *dg_verdict_name(enum dg_verdict v);

/* The detector's input from the 784 values the model saw and its 10 probabilities (inline:
 * its trainer, weights/train/verdict_train.c, computes the same). */
static inline void dg_verdict_features(const float x[784], const float prob[10],
                                       float f[DG_VERDICT_INPUTS])
{
    for (int y = 0; y < DG_VERDICT_POOL; y++)
        for (int i = 0; i < DG_VERDICT_POOL; i++) {
            const float *p = x + (2 * y) * 28 + 2 * i;
            f[y * DG_VERDICT_POOL + i] = (p[0] + p[1] + p[28] + p[29]) * 0.25f;
        }
    for (int k = 0; k < 10; k++) /* log-probabilities, floored at e^-20, in 0..1 */
        f[DG_VERDICT_POOL * DG_VERDICT_POOL + k] = (prob[k] > 2e-9f ? logf(prob[k]) : -20.f) / -20.f;
}

/* The detector's score, 0..1: how much x looks like no digit. */
float dg_verdict_nondigit(const float x[784], const float prob[10]);

/* x: the 784 values the model saw; prob: its 10 probabilities. */
enum dg_verdict dg_verdict(const float x[784], const float prob[10]);

#endif
