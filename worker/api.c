/* api.c: routes, limits and JSON of the worker's API (see api.h). */
#include "api.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "engine.h"
#include "explain.h"
#include "params.h"
#include "request.h"
#include "verdict.h"
#include "jpeg.h"

#ifndef DIGITD_VERSION
#define DIGITD_VERSION "dev"
#endif

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    default: return "Internal Server Error";
    }
}

/* The HTTP status for an input error. */
static int input_status(int err)
{
    switch (err) {
    case DG_INPUT_OK: return 200;
    case DG_INPUT_TOO_LARGE: return 413;
    case DG_INPUT_BLANK: return 422;
    case DG_INPUT_NOMEM: return 500;
    default: return 400;
    }
}

/* Sends a complete response; body may be NULL for HEAD. Write errors (client gone) are
 * ignored: libfcgi drops the connection at FCGX_Finish_r. */
static int reply(FCGX_Request *r, int status, const char *type, const char *extra,
                 const char *body, size_t len, int head_only)
{
    FCGX_FPrintF(r->out,
                 "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n"
                 "Cache-Control: no-store\r\n%s\r\n",
                 status, status_text(status), type, (unsigned long)len, extra ? extra : "");
    if (!head_only && body && len)
        FCGX_PutStr(body, (int)len, r->out);
    return status;
}

static int reply_error(FCGX_Request *r, int status, const char *msg, const char *allow)
{
    char body[512], extra[64] = "";
    cJSON *o = cJSON_CreateObject();
    /* cJSON escapes msg; fall back to a fixed body if it cannot allocate */
    if (!o || !cJSON_AddStringToObject(o, "error", msg) ||
        !cJSON_PrintPreallocated(o, body, (int)sizeof body, 0))
        snprintf(body, sizeof body, "{\"error\":\"internal error\"}");
    cJSON_Delete(o);
    if (allow)
        snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
    return reply(r, status, "application/json", extra, body, strlen(body), 0);
}

/* The largest answer printed: the explain map's 784 numbers, the answer around it. */
#define ANSWER_MAX (64 << 10)

static int reply_json(FCGX_Request *r, cJSON *o, int head_only)
{
    static char buf[ANSWER_MAX]; /* printed in place: no allocation that grows and copies */
    const char *err = !o ? "out of memory" /* the answer could not be built */
                      : !cJSON_PrintPreallocated(o, buf, (int)sizeof buf, 0) ? "answer too large"
                                                                            : NULL;
    cJSON_Delete(o);
    if (err)
        return reply_error(r, 500, err, NULL);
    return reply(r, 200, "application/json", NULL, buf, strlen(buf), head_only);
}

/* The request path without its query: REQUEST_URI, else DOCUMENT_URI, else SCRIPT_NAME. */
static void request_path(FCGX_Request *r, char *out, size_t cap)
{
    const char *p = FCGX_GetParam("REQUEST_URI", r->envp);
    if (!p || !*p)
        p = FCGX_GetParam("DOCUMENT_URI", r->envp);
    if (!p || !*p)
        p = FCGX_GetParam("SCRIPT_NAME", r->envp);
    dg_param_path(p, out, cap);
}

static long long content_length(FCGX_Request *r)
{
    return dg_param_content_length(FCGX_GetParam("CONTENT_LENGTH", r->envp));
}

static int content_type_is(FCGX_Request *r, const char *want)
{
    return dg_param_media_type_is(FCGX_GetParam("CONTENT_TYPE", r->envp), want);
}

/* Reads exactly len body bytes into a malloc'd buffer; NULL if the body is shorter. */
static uint8_t *read_body(FCGX_Request *r, size_t len)
{
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (buf && got < len) {
        size_t want = len - got > INT_MAX ? INT_MAX : len - got;
        int n = FCGX_GetStr((char *)buf + got, (int)want, r->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (buf && got < len) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Adds v, printed as %.6g would (short JSON numbers without losing anything a client
 * needs), to an object under key or to an array (key NULL); 0 if out of memory. A finite
 * v goes in as that text (a JSON number): cJSON would print the double again with %.15g
 * and read it back with sscanf to check it. */
static int add6(cJSON *to, const char *key, double v)
{
    char s[32];
    snprintf(s, sizeof s, "%.6g", v);
    cJSON *n = isfinite(v) ? cJSON_CreateRaw(s) : cJSON_CreateNumber(v); /* NaN, inf: null */
    if (n && (key ? cJSON_AddItemToObject(to, key, n) : cJSON_AddItemToArray(to, n)))
        return 1;
    cJSON_Delete(n);
    return 0;
}

/* The answer: prediction, confidence, verdict, probabilities, top3, input preview, timings. */
static cJSON *predict_json(const float in[784], const float p[10], enum dg_verdict verdict,
                           const int64_t t_us[3])
{
    int order[10];
    for (int i = 0; i < 10; i++)
        order[i] = i;
    for (int i = 0; i < 3; i++) /* partial selection sort: the three best first */
        for (int j = i + 1; j < 10; j++)
            if (p[order[j]] > p[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    uint8_t png[2048];
    size_t png_len = dg_png_encode_input(in, png, sizeof png);
    static const char prefix[] = "data:image/png;base64,";
    char url[sizeof prefix + sodium_base64_ENCODED_LEN(2048, sodium_base64_VARIANT_ORIGINAL)];
    memcpy(url, prefix, sizeof prefix);
    if (png_len)
        sodium_bin2base64(url + sizeof prefix - 1, sizeof url - (sizeof prefix - 1), png,
                          png_len, sodium_base64_VARIANT_ORIGINAL);

    /* Every field or none: out of memory anywhere gives NULL (a 500), never a short 200. */
    cJSON *o = cJSON_CreateObject(), *probs = NULL, *top = NULL, *tm = NULL;
    int ok = o && cJSON_AddNumberToObject(o, "prediction", order[0]) &&
             add6(o, "confidence", p[order[0]]) &&
             cJSON_AddStringToObject(o, "verdict", dg_verdict_name(verdict)) &&
             (probs = cJSON_AddArrayToObject(o, "probabilities")) != NULL;
    for (int i = 0; ok && i < 10; i++)
        ok = add6(probs, NULL, p[i]);
    ok = ok && (top = cJSON_AddArrayToObject(o, "top3")) != NULL;
    for (int i = 0; ok && i < 3; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(top, e)) { /* fails only for a NULL e */
            cJSON_Delete(e);
            ok = 0;
        }
        ok = ok && cJSON_AddNumberToObject(e, "digit", order[i]) &&
             add6(e, "confidence", p[order[i]]);
    }
    ok = ok && cJSON_AddStringToObject(o, "input", png_len ? url : "") &&
         (tm = cJSON_AddObjectToObject(o, "timing_us")) != NULL &&
         cJSON_AddNumberToObject(tm, "decode", (double)t_us[0]) &&
         cJSON_AddNumberToObject(tm, "preprocess", (double)t_us[1]) &&
         cJSON_AddNumberToObject(tm, "inference", (double)t_us[2]);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Whether the query holds the parameter flag exactly, as "explain=1" (the answer also
 * says why) or "pids=1" (health shows process ids). */
static int query_has(FCGX_Request *r, const char *flag)
{
    return dg_param_query_has(FCGX_GetParam("QUERY_STRING", r->envp),
                              FCGX_GetParam("REQUEST_URI", r->envp), flag);
}

/* The answer for the model input in, timings t0 (start), t1 (decoded), t2 (preprocessed). */
static int predict_answer(FCGX_Request *r, const float in[784], int64_t t0, int64_t t1, int64_t t2)
{
    float p[10];
    enum dg_verdict verdict = dg_verdict_predict(in, p);
    int64_t t3 = dg_now_us();
    const int64_t t_us[3] = {t1 - t0, t2 - t1, t3 - t2};
    cJSON *o = predict_json(in, p, verdict, t_us);
    if (o && query_has(r, "explain=1") && dg_explain_add(o, in))
        cJSON_Delete(o), o = NULL; /* a 500, as any answer that cannot be built */
    return reply_json(r, o, 0);
}

/* PNG bytes -> answer, timing decode, preprocess and inference separately. */
static int predict_png(FCGX_Request *r, const struct dg_api_config *cfg, const uint8_t *png,
                       size_t len)
{
    int64_t t0 = dg_now_us();
    struct dg_canvas c = {0};
    int e = dg_image_decode(png, len, &cfg->limits, &c);
    if (e)
        return reply_error(r, input_status(e), dg_input_strerror(e), NULL);
    int64_t t1 = dg_now_us();
    float in[784];
    e = dg_preprocess(&c, in, NULL);
    free(c.rgba);
    if (e)
        return reply_error(r, input_status(e), dg_input_strerror(e), NULL);
    return predict_answer(r, in, t0, t1, dg_now_us());
}

/* A JSON body: strokes (decode = reading them, preprocess = drawing and centring) or a
 * PNG data URL. */
static int predict_json_body(FCGX_Request *r, const struct dg_api_config *cfg,
                             const uint8_t *body, size_t len)
{
    int64_t t0 = dg_now_us();
    cJSON *root = dg_json_parse(body, len);
    if (!root)
        return reply_error(r, 400, "malformed JSON", NULL);
    const char *err = NULL;
    int st;
    if (cJSON_GetObjectItemCaseSensitive(root, "strokes")) {
        struct dg_stroke_request sr;
        int e = dg_strokes_from_json(root, &sr, &err);
        cJSON_Delete(root);
        float in[784];
        int64_t t1 = dg_now_us();
        if (!e)
            e = dg_strokes_to_input(&sr.s, in);
        dg_stroke_request_free(&sr);
        if (e)
            return reply_error(r, input_status(e), err ? err : dg_input_strerror(e), NULL);
        return predict_answer(r, in, t0, t1, dg_now_us());
    }
    uint8_t *png = NULL;
    size_t png_len = 0;
    st = dg_image_from_json(root, &png, &png_len, &err);
    cJSON_Delete(root);
    st = st ? reply_error(r, st, err, NULL) : predict_png(r, cfg, png, png_len);
    free(png);
    return st;
}

static int handle_predict(FCGX_Request *r, const struct dg_api_config *cfg)
{
    int is_png = content_type_is(r, "image/png") || content_type_is(r, "image/jpeg");
    if (!is_png && !content_type_is(r, "application/json"))
        return reply_error(r, 415, "Content-Type must be image/png, image/jpeg or application/json",
                           NULL);
    long long cl = content_length(r);
    if (cl == -1)
        return reply_error(r, 411, "Content-Length required", NULL);
    if (cl == -2)
        return reply_error(r, 400, "malformed Content-Length", NULL);
    if ((unsigned long long)cl > cfg->max_body)
        return reply_error(r, 413, "body too large", NULL);
    if (cl == 0)
        return reply_error(r, 400, "empty body", NULL);
    uint8_t *body = read_body(r, (size_t)cl);
    if (!body)
        return reply_error(r, 400, "body shorter than Content-Length", NULL);
    int st;
    if (is_png) {
        st = predict_png(r, cfg, body, (size_t)cl);
    } else {
        st = predict_json_body(r, cfg, body, (size_t)cl);
    }
    free(body);
    return st;
}

static int handle_health(FCGX_Request *r, const struct dg_api_config *cfg, int head)
{
    const struct dg_model *m = dg_engine_model();
    int64_t now_ms = dg_realtime_ms();
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "status", "ok") &&
             cJSON_AddStringToObject(o, "model", m->name ? m->name : "") &&
             cJSON_AddStringToObject(o, "source", m->source ? m->source : "") &&
             cJSON_AddNumberToObject(o, "params", (double)m->params) &&
             cJSON_AddStringToObject(o, "sha256", m->source_sha256 ? m->source_sha256 : "") &&
             cJSON_AddStringToObject(o, "keras_version", m->keras_version ? m->keras_version : "") &&
             cJSON_AddStringToObject(o, "input_scale", m->input_scale ? m->input_scale : "unit") &&
             cJSON_AddStringToObject(o, "version", DIGITD_VERSION) &&
             cJSON_AddStringToObject(o, "isa", dg_engine_isa()) &&
             cJSON_AddBoolToObject(o, "nondigit_detector", dg_verdict_detector()) &&
             cJSON_AddNumberToObject(o, "uptime_s", (double)(now_ms - cfg->shared->start_ms) / 1000.0);
    /* Process ids only when asked (?pids=1, for an operator or a test): nobody else needs them. */
    if (ok && query_has(r, "pids=1"))
        ok = cJSON_AddNumberToObject(o, "pid", (double)atomic_load(&cfg->shared->master_pid)) &&
             cJSON_AddNumberToObject(o, "worker_pid", (double)getpid());
    if (!ok) { /* every field or none: reply_json answers 500 for NULL */
        cJSON_Delete(o);
        o = NULL;
    }
    return reply_json(r, o, head);
}

static int handle_metrics(FCGX_Request *r, const struct dg_api_config *cfg, int head)
{
    static char buf[32768];
    const struct dg_model *m = dg_engine_model();
    const struct dg_metrics_model model = {m->name, m->source_sha256, dg_engine_isa(), m->params};
    size_t n = dg_metrics_render(cfg->shared, &model, buf, sizeof buf);
    if (!n)
        return reply_error(r, 500, "metrics do not fit the buffer", NULL);
    return reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, buf, n, head);
}

void dg_api_init(void)
{
    dg_json_use_arena(1);
}

static int route_request(FCGX_Request *req, const struct dg_api_config *cfg,
                         enum dg_route *route)
{
    char path[256];
    request_path(req, path, sizeof path);
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    if (!method)
        method = "";
    int is_get = !strcmp(method, "GET"), is_head = !strcmp(method, "HEAD");

    if (!strcmp(path, "/api/predict") || !strcmp(path, "/predict")) {
        *route = DG_ROUTE_PREDICT;
        if (strcmp(method, "POST"))
            return reply_error(req, 405, "use POST", "POST");
        return handle_predict(req, cfg);
    }
    if (!strcmp(path, "/api/health") || !strcmp(path, "/api/metrics")) {
        int health = !strcmp(path, "/api/health");
        *route = health ? DG_ROUTE_HEALTH : DG_ROUTE_METRICS;
        if (!is_get && !is_head)
            return reply_error(req, 405, "use GET", "GET, HEAD");
        return health ? handle_health(req, cfg, is_head) : handle_metrics(req, cfg, is_head);
    }
    *route = DG_ROUTE_OTHER;
    return reply_error(req, 404, "no such endpoint", NULL);
}

int dg_api_handle(FCGX_Request *req, const struct dg_api_config *cfg, enum dg_route *route)
{
    int status = route_request(req, cfg, route);
    dg_json_arena_reset(); /* every cJSON item of the request has been deleted */
    return status;
}
