/* engine_bench.c: the in-process figures. The same payloads classified without any network
 * (accuracy at rest, and each payload's digit at rest, which every answer under load is
 * compared with), and the cost of each stage the worker runs (worker/api.c): a PNG's
 * dg_png_decode and dg_preprocess, or for a stroke body its reading (the JSON parsed into
 * strokes) and its drawing and centring (dg_strokes_to_input), then dg_engine_forward and
 * what dg_verdict_predict (the forward pass and the not-a-digit detector) adds to it, each
 * as the median over rounds of the per-image mean of one pass over all payloads. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "engine.h"
#include "input.h"
#include "rank.h"
#include "jpeg.h"
#include "request.h"
#include "verdict.h"

int bench_engine_accuracy(struct bench_payloads *ps, struct bench_engine_result *r)
{
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    r->available = 1;
    r->isa = dg_engine_isa();
    r->n = ps->n;
    /* The payloads are independent and each writes only its own rest_digit: all cores. */
    size_t correct = 0, labelled = 0, rejected = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : correct, labelled, rejected)
    for (size_t i = 0; i < ps->n; i++) {
        float x[784], probs[10];
        struct dg_prep_info info;
        const struct dg_strokes *st = &ps->v[i].sketch.s; /* strokes are sent: their path */
        int rc = st->n_points ? dg_strokes_to_input(st, x)
                              : dg_input_from_image(ps->v[i].png, ps->v[i].png_len, &lim, x, &info);
        if (rc != DG_INPUT_OK) {
            rejected++;
            ps->v[i].rest_digit = BENCH_REST_REJECTED;
            continue;
        }
        dg_engine_forward(x, probs);
        int digit = dg_argmax(probs, 10);
        ps->v[i].rest_digit = digit;
        if (ps->v[i].label >= 0) {
            labelled++;
            correct += digit == ps->v[i].label;
        }
    }
    r->correct = correct, r->labelled = labelled, r->rejected = rejected;
    return 0;
}

/* One payload's first two stages as the worker runs them, timed apart (ns added to *first
 * and *second); its 28x28 input goes to x, which stays as it is when the payload is refused. */
static void input_stages(const struct bench_payload *p, const struct dg_input_limits *lim,
                         float x[784], uint64_t *first, uint64_t *second)
{
    uint64_t t0 = dg_now_ns(), t1;
    if (p->sketch.s.n_points) { /* a stroke body: read, then drawn and centred */
        struct dg_stroke_request sr = {0};
        const char *why = NULL;
        cJSON *root = dg_json_parse(p->body, p->body_len);
        int rc = root ? dg_strokes_from_json(root, &sr, &why) : DG_INPUT_BAD_REQUEST;
        cJSON_Delete(root);
        dg_json_arena_reset();
        t1 = dg_now_ns();
        if (rc == DG_INPUT_OK)
            dg_strokes_to_input(&sr.s, x);
        dg_stroke_request_free(&sr);
    } else { /* an image: decoded, then preprocessed */
        struct dg_canvas c = {0};
        struct dg_prep_info info;
        int rc = dg_image_decode(p->png, p->png_len, lim, &c);
        t1 = dg_now_ns();
        if (rc == DG_INPUT_OK)
            dg_preprocess(&c, x, &info);
        free(c.rgba);
    }
    *first += t1 - t0;
    *second += dg_now_ns() - t1;
}

int bench_engine_timing(const struct bench_payloads *ps, int rounds,
                        struct bench_engine_result *r)
{
    if (ps->n == 0 || rounds < 1 || rounds > 1000 || ps->n > SIZE_MAX / 784 / sizeof(float))
        return -1;
    dg_input_heap_setup(); /* as the worker's children have it, and cJSON's arena (below) */
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    /* A pass decodes and preprocesses (or reads and draws) payload by payload (keeping every
     * decoded canvas would take 300 KB each), timing the two stages apart; the forward pass
     * then runs over the kept 28x28 inputs. Three clock reads per payload cost well under 1 %
     * of either. */
    float *x = malloc(ps->n * 784 * sizeof *x);
    double *t = malloc((size_t)rounds * 4 * sizeof *t);
    if (x == NULL || t == NULL) {
        free(x), free(t);
        return -1;
    }
    double *t_dec = t, *t_pre = t + rounds, *t_fw = t + 2 * rounds, *t_vd = t + 3 * rounds;
    memset(x, 0, ps->n * 784 * sizeof *x);
    volatile float sink = 0;
    dg_json_use_arena(1); /* this loop is single-threaded; off again before any other cJSON */
    for (int k = 0; k < rounds; k++) {
        uint64_t dec_ns = 0, pre_ns = 0;
        /* a refused payload (bench_engine_accuracy counts it) leaves its input 0 */
        for (size_t i = 0; i < ps->n; i++)
            input_stages(&ps->v[i], &lim, x + i * 784, &dec_ns, &pre_ns);
        uint64_t t2 = dg_now_ns();
        for (size_t i = 0; i < ps->n; i++) {
            float probs[10];
            dg_engine_forward(x + i * 784, probs);
            sink += probs[0];
        }
        uint64_t t3 = dg_now_ns();
        for (size_t i = 0; i < ps->n; i++) {
            float probs[10];
            sink += (float)dg_verdict_predict(x + i * 784, probs);
        }
        uint64_t t4 = dg_now_ns();
        t_dec[k] = (double)dec_ns / 1e3 / (double)ps->n;
        t_pre[k] = (double)pre_ns / 1e3 / (double)ps->n;
        t_fw[k] = (double)(t3 - t2) / 1e3 / (double)ps->n;
        t_vd[k] = ((double)(t4 - t3) - (double)(t3 - t2)) / 1e3 / (double)ps->n;
    }
    dg_json_use_arena(0);
    (void)sink;
    r->available = 1;
    r->isa = dg_engine_isa();
    r->strokes = ps->n > 0 && ps->v[0].sketch.s.n_points > 0;
    r->rounds = rounds;
    r->decode_us_median = dg_median(t_dec, (size_t)rounds);
    r->preprocess_us_median = dg_median(t_pre, (size_t)rounds);
    r->forward_us_median = dg_median(t_fw, (size_t)rounds);
    r->verdict_us_median = dg_median(t_vd, (size_t)rounds);
    free(x), free(t);
    return 0;
}
