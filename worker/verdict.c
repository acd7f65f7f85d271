/* verdict.c: digit, unsure or not a digit (see verdict.h). */
#include "verdict.h"

#include <math.h>

#include "verdict_model.h"

const char *dg_verdict_name(enum dg_verdict v)
{
    return v == DG_VERDICT_NOT_A_DIGIT ? "not_a_digit" : v == DG_VERDICT_UNSURE ? "unsure" : "digit";
}

/* Hidden units summed at once: LANES independent sums run side by side (one alone waits on
 * each addition), each in the order one alone would take, so the score is the same. */
#define LANES 8
_Static_assert(DG_VD_HIDDEN % LANES == 0, "the hidden layer must be a multiple of LANES");

float dg_verdict_nondigit(const float x[784], const float prob[10])
{
    float f[DG_VERDICT_INPUTS], z = dg_vd_b2;
    dg_verdict_features(x, prob, f);
    for (int h = 0; h < DG_VD_HIDDEN; h += LANES) {
        float a[LANES];
        for (int j = 0; j < LANES; j++)
            a[j] = dg_vd_b1[h + j];
        for (int i = 0; i < DG_VERDICT_INPUTS; i++)
            for (int j = 0; j < LANES; j++)
                a[j] += dg_vd_w1[h + j][i] * f[i];
        for (int j = 0; j < LANES; j++)
            z += dg_vd_w2[h + j] * (a[j] > 0.f ? a[j] : 0.f);
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
