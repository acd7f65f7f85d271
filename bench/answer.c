/* answer.c: an answer counts only if it is the API's JSON with a prediction 0..9 and ten
 * probabilities. The digit is handed back, and the load generator compares it with the
 * payload's label (accuracy, "wrong") and with its answer at rest ("mismatches"). */
#include <cjson/cJSON.h>

#include "bench.h"

int bench_check_answer(const struct bench_answer *a, int *digit)
{
    *digit = -1;
    if (a->status != 200)
        return BENCH_E_STATUS;
    cJSON *j = cJSON_ParseWithLength(a->body, a->body_len);
    if (j == NULL)
        return BENCH_E_JSON;
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "prediction");
    const cJSON *probs = cJSON_GetObjectItemCaseSensitive(j, "probabilities");
    /* valuedouble, not valueint: 7.5 or 1e300 must not pass as a digit */
    int ok = cJSON_IsNumber(pred) && pred->valuedouble >= 0 && pred->valuedouble <= 9 &&
             pred->valuedouble == (double)pred->valueint && cJSON_IsArray(probs) &&
             cJSON_GetArraySize(probs) == 10;
    if (ok)
        *digit = pred->valueint;
    cJSON_Delete(j);
    return ok ? BENCH_OK : BENCH_E_JSON;
}
