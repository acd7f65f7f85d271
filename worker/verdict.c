/* verdict.c: digit, unsure or not a digit (see verdict.h). */
#include "verdict.h"

#include <string.h>

#include "engine.h"
#include "verdict_model.h"

#define DG_VD_INPUTS (DG_VERDICT_OWN_INPUTS + DG_VD_FEATURES)

const char *dg_verdict_name(enum dg_verdict v)
{
    return v == DG_VERDICT_NOT_A_DIGIT ? "not_a_digit" : v == DG_VERDICT_UNSURE ? "unsure" : "digit";
}

int dg_verdict_detector(void)
{
    const char *sha = dg_engine_model()->source_sha256;
    return dg_engine_features() == DG_VD_FEATURES && sha && strcmp(sha, DG_VD_MODEL_SHA256) == 0;
}

/* The hidden layer's sums. Input-major weights: each input adds its column to all the sums
 * at once, and an input that is 0 (most of the model's ReLU features) adds nothing, so
 * its column is not read: the weights are most of the detector's time. */
static void hidden_sums(const float *f, float *a)
{
    memcpy(a, dg_vd_b1, DG_VD_HIDDEN * sizeof *a);
    for (int i = 0; i < DG_VD_INPUTS; i++)
        if (f[i] != 0.f)
            for (int h = 0; h < DG_VD_HIDDEN; h++)
                a[h] += dg_vd_w1[i][h] * f[i];
}

float dg_verdict_nondigit(const float x[784], const float prob[10], const float *features,
                          size_t n)
{
    if (n != DG_VD_FEATURES || !dg_verdict_detector())
        return -INFINITY;
    float f[DG_VD_INPUTS], a[DG_VD_HIDDEN], z = dg_vd_b2;
    dg_verdict_inputs(x, prob, features, n, f);
    hidden_sums(f, a);
    for (int h = 0; h < DG_VD_HIDDEN; h++)
        z += dg_vd_w2[h] * (a[h] > 0.f ? a[h] : 0.f);
    return z;
}

enum dg_verdict dg_verdict_predict(const float x[784], float prob[10])
{
    float features[DG_VD_FEATURES];
    size_t n = dg_engine_forward_features(x, prob, features, DG_VD_FEATURES);
    if (dg_verdict_nondigit(x, prob, features, n) > DG_VERDICT_MAX_NONDIGIT)
        return DG_VERDICT_NOT_A_DIGIT;
    float top = 0.f;
    for (int i = 0; i < 10; i++)
        top = prob[i] > top ? prob[i] : top;
    return top < DG_VERDICT_MIN_CONFIDENCE ? DG_VERDICT_UNSURE : DG_VERDICT_DIGIT;
}
