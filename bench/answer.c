/* answer.c: an answer counts only if it is the API's JSON with a prediction 0..9 and ten
 * probabilities; then the prediction is compared with the payload's known label. */
#include <cjson/cJSON.h>

#include "bench.h"

int bench_check_answer(const struct bench_answer *a, int label, int *correct)
{
    *correct = 0;
    if (a->status != 200)
        return BENCH_E_STATUS;
    cJSON *j = cJSON_ParseWithLength(a->body, a->body_len);
    if (j == NULL)
        return BENCH_E_JSON;
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "prediction");
    const cJSON *probs = cJSON_GetObjectItemCaseSensitive(j, "probabilities");
    int ok = cJSON_IsNumber(pred) && pred->valueint >= 0 && pred->valueint <= 9 &&
             cJSON_IsArray(probs) && cJSON_GetArraySize(probs) == 10;
    if (ok)
        *correct = label >= 0 && pred->valueint == label;
    cJSON_Delete(j);
    return ok ? BENCH_OK : BENCH_E_JSON;
}
