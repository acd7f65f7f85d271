/* explain.c: the occlusion map of explain.h. */
#include "explain.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "metrics.h"

/* The square blanked at each step: about one stroke wide at MNIST's scale (strokes are 2-3
 * px at 28x28), moved by half its side so that every pixel is covered by up to 4 squares. */
#define PATCH 4
#define STEP 2

/* The answer's log-odds, log p[cls] - log(sum of the others): unlike the probability, it
 * does not saturate at 1, so a confident answer's map still shows which ink mattered. The
 * floor keeps it finite when the others underflow to 0. */
static double log_odds(const float p[DG_N_CLASSES], int cls)
{
    double rest = 0;
    for (int i = 0; i < DG_N_CLASSES; i++)
        if (i != cls)
            rest += p[i];
    return log(fmax(p[cls], 1e-30)) - log(fmax(rest, 1e-30));
}

int dg_explain_map(const float in[784], int cls, float map[784])
{
    float x[DG_INPUT_PIXELS], p[DG_N_CLASSES];
    dg_engine_forward(in, p);
    double base = log_odds(p, cls);
    unsigned char cover[DG_INPUT_PIXELS] = {0};
    int runs = 0;
    memset(map, 0, sizeof(float) * DG_INPUT_PIXELS);
    for (int y0 = 0; y0 + PATCH <= DG_INPUT_H; y0 += STEP) {
        for (int x0 = 0; x0 + PATCH <= DG_INPUT_W; x0 += STEP) {
            int ink = 0;
            memcpy(x, in, sizeof x);
            for (int y = y0; y < y0 + PATCH; y++)
                for (int c = x0; c < x0 + PATCH; c++) {
                    ink |= x[y * DG_INPUT_W + c] > 0.f;
                    x[y * DG_INPUT_W + c] = 0.f;
                    cover[y * DG_INPUT_W + c]++;
                }
            if (!ink) /* blanking background changes nothing: a drop of 0 */
                continue;
            dg_engine_forward(x, p);
            runs++;
            float drop = (float)(base - log_odds(p, cls));
            for (int y = y0; y < y0 + PATCH; y++)
                for (int c = x0; c < x0 + PATCH; c++)
                    map[y * DG_INPUT_W + c] += drop;
        }
    }
    for (int i = 0; i < DG_INPUT_PIXELS; i++)
        if (cover[i])
            map[i] /= (float)cover[i];
    return runs;
}

int dg_explain_add(cJSON *o, const float in[784])
{
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(o, "prediction");
    cJSON *tm = cJSON_GetObjectItemCaseSensitive(o, "timing_us");
    if (!cJSON_IsNumber(pred) || pred->valueint < 0 || pred->valueint >= DG_N_CLASSES)
        return -1;
    int cls = pred->valueint;
    int64_t t0 = dg_now_us();
    float map[DG_INPUT_PIXELS];
    dg_explain_map(in, cls, map);
    int64_t t1 = dg_now_us();
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return -1;
    for (int i = 0; i < DG_INPUT_PIXELS; i++) {
        char s[16]; /* 3 significant digits: a picture's worth, a sixth of the bytes of %.6g */
        snprintf(s, sizeof s, "%.3g", (double)map[i]);
        cJSON *v = cJSON_CreateNumber(strtod(s, NULL));
        if (!v || !cJSON_AddItemToArray(a, v)) {
            cJSON_Delete(v);
            cJSON_Delete(a);
            return -1;
        }
    }
    if (!cJSON_AddItemToObject(o, "explain", a)) {
        cJSON_Delete(a);
        return -1;
    }
    if (tm)
        cJSON_AddNumberToObject(tm, "explain", (double)(t1 - t0));
    return 0;
}
