/* request.c: JSON request bodies (see request.h). */
#include "request.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_url.h"

/* A request's JSON is hundreds of small nodes (three for each point of a stroke), each a
 * malloc and a free otherwise. What does not fit (a large body, a long data URL) goes to
 * malloc. */
#define ARENA_BYTES (256 << 10)
#define ARENA_ALIGN 16

static struct {
    _Alignas(ARENA_ALIGN) unsigned char mem[ARENA_BYTES];
    size_t used;
} arena;

static int in_arena(const void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)arena.mem;
    return a >= lo && a - lo < ARENA_BYTES;
}

static void *arena_alloc(size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n || need > ARENA_BYTES - arena.used) /* overflow, or full */
        return malloc(n);
    void *p = arena.mem + arena.used;
    arena.used += need;
    return p;
}

static void arena_free(void *p)
{
    if (!in_arena(p)) /* an arena block is given back by dg_json_arena_reset */
        free(p);
}

void dg_json_use_arena(int on)
{
    cJSON_Hooks hooks = {arena_alloc, arena_free};
    cJSON_InitHooks(on ? &hooks : NULL);
    arena.used = 0;
}

void dg_json_arena_reset(void)
{
    arena.used = 0;
}

cJSON *dg_json_parse(const uint8_t *body, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)body, len, &end, 0);
    if (!root)
        return NULL;
    for (const char *p = end; p < (const char *)body + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') { /* JSON's whitespace */
            cJSON_Delete(root);
            return NULL;
        }
    return root;
}

int dg_image_from_json(const cJSON *root, uint8_t **img, size_t *len, const char **err)
{
    *img = NULL;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "imageData");
    if (!cJSON_IsString(d) || !d->valuestring) {
        *err = "JSON needs an \"imageData\" string or \"strokes\"";
        return 400;
    }
    return dg_data_url_decode(d->valuestring, strlen(d->valuestring), img, len, err);
}

/* Counts strokes and points of the "strokes" array, stopping past the limits: returns
 * DG_INPUT_OK, DG_INPUT_TOO_LARGE or DG_INPUT_BAD_REQUEST (not arrays of [x, y] pairs). */
static int count(const cJSON *strokes, uint32_t *n_strokes, uint32_t *n_points, const char **why)
{
    *n_strokes = *n_points = 0;
    *why = "\"strokes\" must be an array of arrays of [x, y] points";
    if (!cJSON_IsArray(strokes))
        return DG_INPUT_BAD_REQUEST;
    const cJSON *st, *pt;
    cJSON_ArrayForEach(st, strokes) {
        if (!cJSON_IsArray(st))
            return DG_INPUT_BAD_REQUEST;
        if (++*n_strokes > DG_STROKES_MAX_STROKES) {
            *why = "too many strokes";
            return DG_INPUT_TOO_LARGE;
        }
        cJSON_ArrayForEach(pt, st) {
            const cJSON *x = cJSON_IsArray(pt) ? pt->child : NULL, *y = x ? x->next : NULL;
            if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) || y->next)
                return DG_INPUT_BAD_REQUEST;
            if (++*n_points > DG_STROKES_MAX_POINTS) {
                *why = "too many points";
                return DG_INPUT_TOO_LARGE;
            }
        }
    }
    return DG_INPUT_OK;
}

/* v as a float; NaN past any limit (a double beyond float's range has no float value). */
static float to_float(double v)
{
    return fabs(v) <= 1e30 ? (float)v : NAN;
}

/* A number member (absent: dflt, if allowed); NaN for anything else, which the range checks
 * refuse. */
static float number(const cJSON *root, const char *name, int optional, float dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!v && optional)
        return dflt;
    return cJSON_IsNumber(v) ? to_float(v->valuedouble) : NAN;
}

int dg_strokes_from_json(const cJSON *root, struct dg_stroke_request *r, const char **why)
{
    *r = (struct dg_stroke_request){0};
    uint32_t ns, np;
    int rc = count(cJSON_GetObjectItemCaseSensitive(root, "strokes"), &ns, &np, why);
    if (rc)
        return rc;
    r->xy = malloc(2 * sizeof *r->xy * (np ? np : 1)); /* np <= DG_STROKES_MAX_POINTS */
    r->ends = malloc(sizeof *r->ends * (ns ? ns : 1));
    if (!r->xy || !r->ends) {
        *why = "out of memory";
        return DG_INPUT_NOMEM;
    }
    uint32_t i = 0, k = 0;
    const cJSON *st, *pt;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(root, "strokes")) {
        cJSON_ArrayForEach(pt, st) {
            r->xy[2 * i] = to_float(pt->child->valuedouble); /* count() checked the shape */
            r->xy[2 * i + 1] = to_float(pt->child->next->valuedouble);
            i++;
        }
        r->ends[k++] = i;
    }
    r->s = (struct dg_strokes){r->xy, r->ends, ns, np, number(root, "width", 0, 0.f),
                               number(root, "side", 1, 0.f)};
    return dg_strokes_check(&r->s, why);
}

void dg_stroke_request_free(struct dg_stroke_request *r)
{
    free(r->xy);
    free(r->ends);
    *r = (struct dg_stroke_request){0};
}
