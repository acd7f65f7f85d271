/* payloads.c: what the bench sends. Real handwritten digits with known labels: the MNIST
 * test digits drawn on a canvas by the shared renderer (worker/input/render.h: the same drawings the
 * worker's tests use), the user's PNG files labelled by their path, or digits written with a
 * pen (UNIPEN text, unipen.h) as the page sends a drawing. Bodies are the raw PNG
 * (Content-Type: image/png), the seed page's {"imageData": data URL}, or the pen-style digits
 * as the strokes the page sends (worker/input/sketch.h). */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bench.h"
#include "idx.h"
#include "jpeg.h"
#include "render.h"
#include "sketch.h"
#include "unipen.h"

#define MAX_PNG_FILE (16u << 20)

int bench_label_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* "7_x.png", "7-x.png", "7.png" */
    if (isdigit((unsigned char)base[0]) &&
        (base[1] == '_' || base[1] == '-' || base[1] == '.'))
        return base[0] - '0';
    /* a parent directory "label-7", "7" */
    if (base == path)
        return -1;
    const char *end = base - 1, *start = end;
    while (start > path && start[-1] != '/')
        start--;
    size_t len = (size_t)(end - start);
    if (len >= 1 && isdigit((unsigned char)end[-1]) &&
        (len == 1 || end[-2] == '-' || end[-2] == '_'))
        return end[-1] - '0';
    return -1;
}

/* {"strokes":[[[x,y],...],...],"width":W,"side":S}, every number printed so that it reads
 * back as the very float drawn at rest. */
static char *strokes_json(const struct dg_strokes *s, size_t *len)
{
    size_t cap = 64 + (size_t)s->n_points * 36 + (size_t)s->n_strokes * 4; /* 2 x %.9g + "[,]," */
    char *b = malloc(cap);
    if (b == NULL)
        return NULL;
    size_t n = (size_t)snprintf(b, cap, "{\"strokes\":[");
    for (uint32_t k = 0, i = 0; k < s->n_strokes; k++) {
        n += (size_t)snprintf(b + n, cap - n, "%s[", k ? "," : "");
        for (uint32_t first = i; i < s->ends[k]; i++)
            n += (size_t)snprintf(b + n, cap - n, "%s[%.9g,%.9g]", i > first ? "," : "",
                                  s->xy[2 * i], s->xy[2 * i + 1]);
        n += (size_t)snprintf(b + n, cap - n, "]");
    }
    n += (size_t)snprintf(b + n, cap - n, "],\"width\":%.9g,\"side\":%.9g}", s->width, s->side);
    if (n >= cap) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}


const char *bench_payload_type(const struct bench_payload *p)
{
    return dg_is_jpeg(p->png, p->png_len) ? "image/jpeg" : "image/png";
}

/* Makes p->body: the image itself, or {"imageData":"data:image/png;base64,..."} (jpeg), or the strokes. */
static int make_body(struct bench_payload *p, int json)
{
    if (json == BENCH_BODY_STROKES) {
        p->body = (uint8_t *)strokes_json(&p->sketch.s, &p->body_len);
        return p->body ? 0 : -1;
    }
    if (!json) {
        p->body = p->png;
        p->body_len = p->png_len;
        return 0;
    }
    char pre[64];
    static const char post[] = "\"}";
    snprintf(pre, sizeof pre, "{\"imageData\":\"data:%s;base64,", bench_payload_type(p));
    if (p->png_len > MAX_PNG_FILE)
        return -1;
    size_t b64 = sodium_base64_ENCODED_LEN(p->png_len, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(pre) + b64 + strlen(post);
    char *b = malloc(len);
    if (b == NULL)
        return -1;
    strcpy(b, pre);
    sodium_bin2base64(b + strlen(pre), b64, p->png, p->png_len, sodium_base64_VARIANT_ORIGINAL);
    strcat(b, post);
    p->body = (uint8_t *)b;
    p->body_len = strlen(b);
    return 0;
}

/* Payload i of the MNIST set (test digit i modulo the set's size) into p. 0, or -1. */
static int draw_payload(const struct bench_payload_opts *o, const struct dg_idx_images *im,
                        const struct dg_idx_labels *lb, size_t i, struct bench_payload *p)
{
    size_t k = i % im->count;
    struct dg_render_params rp;
    if (o->style == DG_STYLE_WORLD)
        dg_render_world_params(o->seed, i, lb->labels[k], &rp);
    else /* strokes are the pen style's path: the pen style it is */
        dg_render_params_for(o->seed, i, o->json == BENCH_BODY_STROKES ? DG_STYLE_PEN : o->style, &rp);
    if (o->no_noise)
        rp.noise = 0;
    if (o->json == BENCH_BODY_STROKES) {
        if (dg_sketch_digit(im->pixels + k * 784, &rp, &p->sketch) != 0 ||
            dg_sketch_page_png(&p->sketch.s, (uint32_t)rp.canvas, &p->png, &p->png_len) != 0)
            return -1;
    } else if (dg_render_png(im->pixels + k * 784, &rp, &p->png, &p->png_len) != 0) {
        return -1;
    }
    p->label = lb->labels[k];
    snprintf(p->name, sizeof p->name, "t10k[%zu]", k);
    return 0;
}

static int load_mnist(const struct bench_payload_opts *o, struct bench_payloads *ps, char *err,
                      size_t errlen)
{
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(o->mnist_dir, "t10k", &im, &lb, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (im.rows != 28 || im.cols != 28) {
        snprintf(err, errlen, "%s: t10k images are %dx%d, not 28x28", o->mnist_dir, im.rows,
                 im.cols);
        rc = -1;
    }
    /* Each payload depends only on its index (the renderer's series is seeded by it): drawn
     * on all cores, they are the same payloads in the same order. */
    const size_t n = rc == 0 ? o->count : 0;
    unsigned char *bad = calloc(n ? n : 1, 1);
    if (!bad) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
#pragma omp parallel for schedule(dynamic, 16)
        for (size_t i = 0; i < n; i++)
            bad[i] = draw_payload(o, &im, &lb, i, &ps->v[i]) != 0;
        ps->n = n; /* bench_payloads_free frees what the failed ones allocated, too */
        for (size_t i = 0; i < n; i++)
            if (bad[i]) {
                snprintf(err, errlen, "%s MNIST test digit %zu failed",
                         o->json == BENCH_BODY_STROKES ? "tracing" : "rendering", i % im.count);
                rc = -1;
                break;
            }
    }
    free(bad);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return rc;
}

/* nftw has no user pointer: the directory walk collects into this. */
static struct {
    char **paths;
    size_t n, cap;
    int failed;
} walk;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    size_t len = strlen(path);
    int image = (len >= 4 && (!strcasecmp(path + len - 4, ".png") || !strcasecmp(path + len - 4, ".jpg"))) ||
                (len >= 5 && !strcasecmp(path + len - 5, ".jpeg"));
    if (type != FTW_F || !image || !S_ISREG(st->st_mode))
        return 0;
    if (walk.n == walk.cap) {
        size_t cap = walk.cap ? walk.cap * 2 : 256;
        char **np = cap > BENCH_MAX_COUNT * 4 ? NULL : realloc(walk.paths, cap * sizeof *np);
        if (np == NULL) {
            walk.failed = 1;
            return 1;
        }
        walk.paths = np;
        walk.cap = cap;
    }
    if ((walk.paths[walk.n] = strdup(path)) == NULL) {
        walk.failed = 1;
        return 1;
    }
    walk.n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || (size_t)st.st_size > MAX_PNG_FILE) {
        snprintf(err, errlen, "%s: empty or larger than %u bytes", path, MAX_PNG_FILE);
        fclose(f);
        return -1;
    }
    *len = (size_t)st.st_size;
    *data = malloc(*len);
    int ok = *data != NULL && fread(*data, 1, *len, f) == *len;
    fclose(f);
    if (!ok) {
        free(*data);
        *data = NULL;
        snprintf(err, errlen, "%s: read failed", path);
        return -1;
    }
    return 0;
}

static int load_dir(const struct bench_payload_opts *o, struct bench_payloads *ps, char *err,
                    size_t errlen)
{
    memset(&walk, 0, sizeof walk);
    int rc = nftw(o->png_dir, walk_one, 16, FTW_PHYS);
    if (rc != 0 || walk.failed) {
        snprintf(err, errlen, "%s: cannot read directory", o->png_dir);
        rc = -1;
    } else if (walk.n == 0) {
        snprintf(err, errlen, "%s: no .png or .jpg files", o->png_dir);
        rc = -1;
    }
    if (rc == 0)
        qsort(walk.paths, walk.n, sizeof *walk.paths, cmp_str);
    for (size_t i = 0; rc == 0 && i < walk.n && i < o->count; i++) {
        struct bench_payload *p = &ps->v[ps->n];
        if (read_file(walk.paths[i], &p->png, &p->png_len, err, errlen) != 0) {
            rc = -1;
            break;
        }
        p->label = bench_label_from_path(walk.paths[i]);
        const char *base = strrchr(walk.paths[i], '/');
        snprintf(p->name, sizeof p->name, "%s", base ? base + 1 : walk.paths[i]);
        ps->n++;
    }
    for (size_t i = 0; i < walk.n; i++)
        free(walk.paths[i]);
    free(walk.paths);
    memset(&walk, 0, sizeof walk);
    return rc;
}

/* Digit d of a UNIPEN file into p as the page sends it (unipen.h: the page's square, height
 * and pen, as digitd-unipen draws them): its strokes and their PNG; the
 * strokes are kept only when they are the body (at rest, a payload with strokes is read
 * through the stroke path). */
static int unipen_payload(const struct unipen_digit *d, size_t i, int body, struct bench_payload *p)
{
    struct dg_strokes s;
    p->sketch.xy = malloc((size_t)d->n_points * 2 * sizeof *p->sketch.xy);
    p->sketch.ends = malloc((size_t)d->n_strokes * sizeof *p->sketch.ends);
    if (!p->sketch.xy || !p->sketch.ends)
        return -1;
    unipen_to_strokes(d, UNIPEN_PAGE_SIDE, UNIPEN_HEIGHT, UNIPEN_PEN, 1, p->sketch.xy, &s);
    memcpy(p->sketch.ends, d->ends, (size_t)d->n_strokes * sizeof *p->sketch.ends);
    s.ends = p->sketch.ends;
    p->sketch.s = s;
    p->label = d->label;
    snprintf(p->name, sizeof p->name, "unipen[%zu]", i);
    int rc = dg_sketch_page_png(&p->sketch.s, (uint32_t)UNIPEN_PAGE_SIDE, &p->png, &p->png_len);
    if (body != BENCH_BODY_STROKES)
        dg_sketch_free(&p->sketch);
    return rc;
}

static int load_unipen(const struct bench_payload_opts *o, struct bench_payloads *ps, char *err,
                       size_t errlen)
{
    static struct unipen_digit d;
    struct unipen_reader r;
    FILE *f = fopen(o->unipen, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", o->unipen);
        return -1;
    }
    unipen_open(&r, f, o->unipen);
    int got = 0;
    while (ps->n < o->count && (got = unipen_next(&r, &d, err, errlen)) == 1) {
        size_t i = ps->n++; /* bench_payloads_free frees what a failed one allocated, too */
        if (unipen_payload(&d, i, o->json, &ps->v[i]) != 0) {
            snprintf(err, errlen, "%s: digit %zu: out of memory", o->unipen, i);
            got = -1;
            break;
        }
    }
    fclose(f);
    if (got >= 0 && ps->n == 0) {
        snprintf(err, errlen, "%s: no digit (UNIPEN .SEGMENT with a digit label and points)", o->unipen);
        got = -1;
    }
    return got < 0 ? -1 : 0;
}

int bench_payloads_load(const struct bench_payload_opts *o, struct bench_payloads *ps, char *err,
                        size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    if (o->count == 0 || o->count > BENCH_MAX_COUNT) {
        snprintf(err, errlen, "--count must be 1..%d", BENCH_MAX_COUNT);
        return -1;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -1;
    }
    if (o->png_dir && o->json == BENCH_BODY_STROKES) {
        snprintf(err, errlen, "--body strokes sends MNIST digits, not --dir PNG files");
        return -1;
    }
    if (o->png_dir && o->unipen) {
        snprintf(err, errlen, "--dir and --unipen: one source of payloads");
        return -1;
    }
    ps->v = calloc(o->count, sizeof *ps->v);
    if (ps->v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = o->unipen ? load_unipen(o, ps, err, errlen)
           : o->png_dir ? load_dir(o, ps, err, errlen) : load_mnist(o, ps, err, errlen);
    for (size_t i = 0; i < ps->n; i++) /* calloc's 0 would read as "digit 0 at rest" */
        ps->v[i].rest_digit = BENCH_REST_UNKNOWN;
    for (size_t i = 0; rc == 0 && i < ps->n; i++)
        if (make_body(&ps->v[i], o->json) != 0) {
            snprintf(err, errlen, "%s: cannot build the request body", ps->v[i].name);
            rc = -1;
        }
    if (rc != 0)
        bench_payloads_free(ps);
    return rc;
}

void bench_payloads_free(struct bench_payloads *ps)
{
    for (size_t i = 0; ps->v != NULL && i < ps->n; i++) {
        if (ps->v[i].body != ps->v[i].png)
            free(ps->v[i].body);
        free(ps->v[i].png);
        free(ps->v[i].req);
        dg_sketch_free(&ps->v[i].sketch);
    }
    free(ps->v);
    memset(ps, 0, sizeof *ps);
}
