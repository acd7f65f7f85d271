/* verdict.c: digit, unsure or not a digit (see verdict.h). */
#include "verdict.h"

#include <math.h>

#include "verdict_model.h"

const char *dg_verdict_name(enum dg_verdict v)
{
    return v == DG_VERDICT_NOT_A_DIGIT ? "not_a_digit" : v == DG_VERDICT_UNSURE ? "unsure" : "digit";
}

float dg_verdict_nondigit(const float x[784], const float prob[10])
{
    float f[DG_VERDICT_INPUTS], z = dg_vd_b2;
    dg_verdict_features(x, prob, f);
    for (int h = 0; h < DG_VD_HIDDEN; h++) {
        float a = dg_vd_b1[h];
        for (int i = 0; i < DG_VERDICT_INPUTS; i++)
            a += dg_vd_w1[h][i] * f[i];
        z += dg_vd_w2[h] * (a > 0.f ? a : 0.f);
    }
    return 1.f / (1.f + expf(-z));
}

enum dg_verdict dg_verdict(const float x[784], const float prob[10])
{
    if (dg_verdict_nondigit(x, prob) > DG_VERDICT_MAX_NONDIGIT)
        return DG_VERDICT_NOT_A_DIGIT;
    float top = 0.f;
    for (int i = 0; i < 10; i++)
        top = prob[i] > top ? prob[i] : top;
    return top < DG_VERDICT_MIN_CONFIDENCE ? DG_VERDICT_UNSURE : DG_VERDICT_DIGIT;
}
