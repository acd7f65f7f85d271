/* verdict.h: whether an answer is a digit, a doubt between digits, or no digit at all.
 *
 * Two measures, each with a threshold decided on training material (digitd-verdict-train,
 * weights/train/verdict_train.c, which writes worker/verdict_model.h):
 *   - a small detector (one hidden layer) over what the model itself sees: the features its
 *     classifier head reads (dg_engine_forward_features), the 28x28 input pooled to 14x14 and
 *     the model's log-probabilities, trained on digits drawn by the renderer against letters
 *     and symbols from vector fonts and random scribbles: its score (a logit)
 *     above DG_VERDICT_MAX_NONDIGIT -> "not_a_digit";
 *   - the model's top probability below DG_VERDICT_MIN_CONFIDENCE -> "unsure".
 * Otherwise "digit". The detector reads one model's features: it runs only in a binary whose
 * compiled-in model is the one it was trained with (dg_verdict_detector); with any other model
 * (a user's .h5, a retrain not followed by digitd-verdict-train) only "unsure" is answered. */
#ifndef DIGITD_VERDICT_H
#define DIGITD_VERDICT_H

#include <math.h>
#include <stddef.h>

#define DG_VERDICT_POOL 14 /* the 28x28 averaged over 2x2 */
#define DG_VERDICT_OWN_INPUTS (DG_VERDICT_POOL * DG_VERDICT_POOL + 10)
#define DG_VERDICT_FEATURE_SCALE 0.5f /* the model's features are ReLU outputs of a few units */

enum dg_verdict { DG_VERDICT_DIGIT, DG_VERDICT_UNSURE, DG_VERDICT_NOT_A_DIGIT };

/* "digit", "unsure", "not_a_digit": the API's words. */
const char *dg_verdict_name(enum dg_verdict v);

/* The detector's input (DG_VERDICT_OWN_INPUTS + n floats) from the 784 values the model
 * saw, its 10 probabilities and its n features (inline: the trainer computes the same). */
static inline void dg_verdict_inputs(const float x[784], const float prob[10],
                                     const float *features, size_t n, float *f)
{
    for (int y = 0; y < DG_VERDICT_POOL; y++)
        for (int i = 0; i < DG_VERDICT_POOL; i++) {
            const float *p = x + (2 * y) * 28 + 2 * i;
            f[y * DG_VERDICT_POOL + i] = (p[0] + p[1] + p[28] + p[29]) * 0.25f;
        }
    for (int k = 0; k < 10; k++) /* log-probabilities, floored at e^-20, in 0..1 */
        f[DG_VERDICT_POOL * DG_VERDICT_POOL + k] = (prob[k] > 2e-9f ? logf(prob[k]) : -20.f) / -20.f;
    for (size_t k = 0; k < n; k++)
        f[DG_VERDICT_OWN_INPUTS + k] = features[k] * DG_VERDICT_FEATURE_SCALE;
}

/* 1 if the detector runs in this binary: the compiled-in model is the one it was trained
 * with (same .h5 SHA-256, same number of features). */
int dg_verdict_detector(void);

/* The model's 10 probabilities for x (the 784 values it sees) and the verdict on them:
 * dg_engine_forward with the detector's features. */
enum dg_verdict dg_verdict_predict(const float x[784], float prob[10]);

/* The detector's score, a logit (how much x looks like no digit: above
 * DG_VERDICT_MAX_NONDIGIT is "not_a_digit"), from the 784 values the model saw, its
 * probabilities and its n features; -INFINITY if the detector does not run in this binary. */
float dg_verdict_nondigit(const float x[784], const float prob[10], const float *features,
                          size_t n);

#endif
