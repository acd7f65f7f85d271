/* answer.c: an answer counts only if it is the API's JSON with a prediction 0..9, ten
 * probabilities in 0..1 that sum to 1, the prediction their largest, and a confidence equal
 * to its probability: a stack that answers 200 with the wrong numbers is an error, not a
 * throughput figure. The digit is handed back, and the load generator compares it with the
 * payload's label (accuracy, "wrong") and with its answer at rest ("mismatches"). */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "bench.h"

/* The API prints 6 significant digits: sums and comparisons hold to that. */
#define PROB_TOL 1e-4

static int probabilities_ok(const cJSON *probs, int digit, double confidence)
{
    if (!cJSON_IsArray(probs) || cJSON_GetArraySize(probs) != 10)
        return 0;
    double sum = 0, best = -1;
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, probs) {
        if (!cJSON_IsNumber(p) || !(p->valuedouble >= 0 && p->valuedouble <= 1))
            return 0;
        sum += p->valuedouble;
        if (i == digit)
            best = p->valuedouble;
        i++;
    }
    cJSON_ArrayForEach(p, probs)
        if (p->valuedouble > best + PROB_TOL)
            return 0; /* another digit is more likely than the one predicted */
    return fabs(sum - 1) <= 10 * PROB_TOL && fabs(confidence - best) <= PROB_TOL;
}

static int verdict_of(const cJSON *v)
{
    static const char *const names[] = {"digit", "unsure", "not_a_digit"};
    for (int i = 0; cJSON_IsString(v) && i < 3; i++)
        if (!strcmp(v->valuestring, names[i]))
            return i;
    return -1;
}

int bench_check_answer(const struct bench_answer *a, int *digit, int *verdict)
{
    *digit = -1;
    *verdict = -1;
    if (a->status != 200)
        return BENCH_E_STATUS;
    cJSON *j = cJSON_ParseWithLength(a->body, a->body_len);
    if (j == NULL)
        return BENCH_E_JSON;
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "prediction");
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(j, "confidence");
    /* valuedouble, not valueint: 7.5 or 1e300 must not pass as a digit */
    int ok = cJSON_IsNumber(pred) && pred->valuedouble >= 0 && pred->valuedouble <= 9 &&
             pred->valuedouble == (double)pred->valueint && cJSON_IsNumber(conf) &&
             probabilities_ok(cJSON_GetObjectItemCaseSensitive(j, "probabilities"), pred->valueint,
                              conf->valuedouble);
    if (ok)
        *digit = pred->valueint, *verdict = verdict_of(cJSON_GetObjectItemCaseSensitive(j, "verdict"));
    cJSON_Delete(j);
    return ok ? BENCH_OK : BENCH_E_JSON;
}
