/* verdict_train.c: digitd-verdict-train, the "not a digit" detector and the verdict's two
 * thresholds (worker/verdict.h), written as worker/verdict_model.h.
 *
 *   digitd-verdict-train --data MNIST_DIR --fonts DIR --out PATH [--seed N] [--threads N]
 *
 * Training material, all drawn by the renderer's pen on a canvas and brought to 28x28 by the
 * worker's own preprocessing: MNIST training digits (scan and pen styles, the world's marks,
 * pencil) against letters and symbols of the training fonts (TRAIN_FONTS; the test uses
 * others) and scribbles of seeds below 2^32 (the test's are above). The thresholds come from the last
 * 5000 training digits (the trainer's validation split), held out here too: the detector's
 * threshold leaves DIGIT_FLAG_RATE of them flagged, the confidence threshold (the compiled-in
 * model's top probability) as many again. Nothing from the MNIST test split is used. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "idx.h"
#include "input.h"
#include "nn.h"
#include "rng.h"
#include "nondigit.h"
#include "render.h"
#include "verdict.h"

#define N_DIGITS 24000
#define N_LETTERS 12000
#define N_SCRIBBLES 12000
#define N_VAL 5000
#define HIDDEN 64
#define EPOCHS 15
#define BATCH 64
#define CANVAS 112
#define DIGIT_FLAG_RATE 0.0025 /* of held-out digits, per threshold */

static const char *const TRAIN_FONTS[] = {
    "futural", "rowmans", "timesr", "scripts", "greek", "cyrillic", "timesi", "gothgbt",
    "gothgrt", "gothiceng", "gothicger", "gothicita", "gothitt", "astrology", "markers",
    "mathlow", "mathupp", "meteorology", "music", "symbolic", "japanese", "greeks"};
#define N_FONTS (int)(sizeof TRAIN_FONTS / sizeof TRAIN_FONTS[0])

struct sample {
    float f[DG_VERDICT_INPUTS];
    float x[784], prob[10];
    int nondigit, ok;
};

static void canvas_params(uint64_t *r, struct dg_render_params *p)
{
    *p = (struct dg_render_params){.canvas = CANVAS, .thickness = 1.f};
    p->digit_height = 50.f + 40.f * nn_uniform(r);
    p->cx = CANVAS / 2.f + (nn_uniform(r) - 0.5f) * 10.f;
    p->cy = CANVAS / 2.f + (nn_uniform(r) - 0.5f) * 10.f;
    p->look = (enum dg_render_look)(dg_splitmix64_next(r) % 3);
    p->pen_width = p->digit_height * expf(logf(0.04f) + logf(6.f) * nn_uniform(r));
    if (nn_uniform(r) < 0.15f) { /* pencil */
        p->pen_width = p->digit_height * expf(logf(0.008f) + logf(4.f) * nn_uniform(r));
        p->fade = 0.4f + 0.35f * nn_uniform(r);
    }
}

/* rgba -> the model's 784 inputs -> the detector's features; s->ok = 0 if blank. */
static void finish(uint8_t *rgba, struct sample *s)
{
    struct dg_canvas c = {rgba, CANVAS, CANVAS};
    s->ok = dg_preprocess(&c, s->x, NULL) == DG_INPUT_OK;
    if (s->ok) {
        dg_engine_forward(s->x, s->prob);
        dg_verdict_features(s->x, s->prob, s->f);
    }
}

static void draw_digit(const uint8_t *px, int label, uint64_t r, struct sample *s, uint8_t *rgba)
{
    struct dg_render_params p;
    canvas_params(&r, &p);
    float style = nn_uniform(&r);
    if (style < 0.25f) /* the scan's own stroke */
        p.pen_width = 0.f, p.thickness = 0.65f + 1.15f * nn_uniform(&r);
    else if (style < 0.65f) {
        p.mark = dg_render_mark_for(label, nn_uniform(&r));
        p.mark_seed = dg_splitmix64_next(&r);
    }
    s->nondigit = 0;
    s->ok = dg_render_rgba(px, &p, rgba) == 0;
    if (s->ok)
        finish(rgba, s);
}

/* Slant, rotation and aspect as a hand varies them. */
static void jitter(struct nd_shape *sh, uint64_t *r)
{
    float a = (nn_uniform(r) - 0.5f) * 0.5f, shear = (nn_uniform(r) - 0.5f) * 0.6f;
    float asp = 0.7f + 0.6f * nn_uniform(r), c = cosf(a), sn = sinf(a);
    for (int i = 0; i < sh->n_points; i++) {
        float x = (sh->xy[2 * i] - 0.5f) * asp, y = sh->xy[2 * i + 1] - 0.5f;
        x += shear * y;
        sh->xy[2 * i] = 0.5f + c * x - sn * y, sh->xy[2 * i + 1] = 0.5f + sn * x + c * y;
    }
}

static void draw_shape(struct nd_shape *sh, uint64_t r, struct sample *s, uint8_t *rgba)
{
    struct dg_render_params p;
    canvas_params(&r, &p);
    jitter(sh, &r);
    s->nondigit = 1;
    s->ok = sh->n_points >= 2 && dg_render_strokes(sh->xy, sh->len, sh->n_lines, &p, rgba) == 0;
    if (s->ok)
        finish(rgba, s);
}

struct mlp {
    float w1[HIDDEN][DG_VERDICT_INPUTS], b1[HIDDEN], w2[HIDDEN], b2;
};

static float forward(const struct mlp *m, const float *f, float *hid)
{
    float z = m->b2;
    for (int h = 0; h < HIDDEN; h++) {
        float a = m->b1[h];
        for (int i = 0; i < DG_VERDICT_INPUTS; i++)
            a += m->w1[h][i] * f[i];
        hid[h] = a > 0.f ? a : 0.f;
        z += m->w2[h] * hid[h];
    }
    return 1.f / (1.f + expf(-z));
}

/* Adam over the whole parameter vector. */
static void adam(float *w, float *g, float *m1, float *m2, size_t n, float lr, int t)
{
    float c1 = 1.f - powf(0.9f, (float)t), c2 = 1.f - powf(0.999f, (float)t);
    for (size_t i = 0; i < n; i++) {
        m1[i] = 0.9f * m1[i] + 0.1f * g[i];
        m2[i] = 0.999f * m2[i] + 0.001f * g[i] * g[i];
        w[i] -= lr * (m1[i] / c1) / (sqrtf(m2[i] / c2) + 1e-8f);
        g[i] = 0.f;
    }
}

static void train(struct mlp *m, const struct sample *s, size_t n, uint64_t seed)
{
    size_t np = sizeof *m / sizeof(float);
    float *w = (float *)m, *g = calloc(np, 4), *m1 = calloc(np, 4), *m2 = calloc(np, 4);
    uint32_t *order = malloc(n * sizeof *order);
    uint64_t r = seed;
    for (int h = 0; h < HIDDEN; h++) {
        for (int i = 0; i < DG_VERDICT_INPUTS; i++)
            m->w1[h][i] = (nn_uniform(&r) - 0.5f) * 2.f * sqrtf(6.f / DG_VERDICT_INPUTS);
        m->w2[h] = (nn_uniform(&r) - 0.5f) * 2.f * sqrtf(6.f / HIDDEN);
    }
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        nd += s[i].nondigit;
    float wpos = nd ? (float)(n - nd) / (float)nd : 1.f; /* both classes weigh the same */
    struct mlp *gm = (struct mlp *)g;
    int t = 0;
    for (int e = 0; e < EPOCHS; e++) {
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        for (size_t i = n; i-- > 1;) {
            size_t j = dg_splitmix64_next(&r) % (i + 1);
            uint32_t tmp = order[i];
            order[i] = order[j], order[j] = tmp;
        }
        float lr = 2e-3f * 0.5f * (1.f + cosf(3.14159f * (float)e / EPOCHS));
        for (size_t i = 0; i < n; i++) {
            const struct sample *x = &s[order[i]];
            float hid[HIDDEN], y = forward(m, x->f, hid);
            float d = (y - (float)x->nondigit) * (x->nondigit ? wpos : 1.f) / BATCH;
            gm->b2 += d;
            for (int h = 0; h < HIDDEN; h++) {
                gm->w2[h] += d * hid[h];
                if (hid[h] <= 0.f)
                    continue;
                float dh = d * m->w2[h];
                gm->b1[h] += dh;
                for (int k = 0; k < DG_VERDICT_INPUTS; k++)
                    gm->w1[h][k] += dh * x->f[k];
            }
            if ((i + 1) % BATCH == 0 || i + 1 == n)
                adam(w, g, m1, m2, np, lr, ++t);
        }
    }
    free(g), free(m1), free(m2), free(order);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int write_header(const char *path, const struct mlp *m, float max_nd, float min_conf)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "/* verdict_model.h: written by digitd-verdict-train (weights/train/verdict_train.c);\n"
               " * do not edit. The not-a-digit detector and the verdict's thresholds. */\n"
               "#ifndef DIGITD_VERDICT_MODEL_H\n#define DIGITD_VERDICT_MODEL_H\n\n"
               "#define DG_VD_HIDDEN %d\n#define DG_VERDICT_MAX_NONDIGIT %.9gf\n"
               "#define DG_VERDICT_MIN_CONFIDENCE %.9gf\n\n"
               "static const float dg_vd_w1[DG_VD_HIDDEN][DG_VERDICT_INPUTS] = {\n",
            HIDDEN, (double)max_nd, (double)min_conf);
    for (int h = 0; h < HIDDEN; h++) {
        fprintf(f, "{");
        for (int i = 0; i < DG_VERDICT_INPUTS; i++)
            fprintf(f, "%.7g,%s", (double)m->w1[h][i], i % 8 == 7 ? "\n" : "");
        fprintf(f, "},\n");
    }
    fprintf(f, "};\nstatic const float dg_vd_b1[DG_VD_HIDDEN] = {");
    for (int h = 0; h < HIDDEN; h++)
        fprintf(f, "%.7g,", (double)m->b1[h]);
    fprintf(f, "};\nstatic const float dg_vd_w2[DG_VD_HIDDEN] = {");
    for (int h = 0; h < HIDDEN; h++)
        fprintf(f, "%.7g,", (double)m->w2[h]);
    fprintf(f, "};\nstatic const float dg_vd_b2 = %.7gf;\n\n#endif\n", (double)m->b2);
    return fclose(f) ? -1 : 0;
}

struct options {
    const char *data, *fonts, *out;
    uint64_t seed;
    int threads;
};

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"data", 1, 0, 'd'}, {"fonts", 1, 0, 'f'}, {"out", 1, 0, 'o'},
        {"seed", 1, 0, 's'}, {"threads", 1, 0, 't'}, {0, 0, 0, 0}};
    *o = (struct options){.data = dg_mnist_dir(), .fonts = "/usr/share/hershey-fonts", .seed = 1,
                          .threads = 2};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') o->data = optarg;
        else if (c == 'f') o->fonts = optarg;
        else if (c == 'o') o->out = optarg;
        else if (c == 's') { o->seed = strtoull(optarg, &end, 10); if (*end || !*optarg) return -1; }
        else if (c == 't') { o->threads = (int)strtol(optarg, &end, 10); if (*end || o->threads < 1 || o->threads > 256) return -1; }
        else return -1;
    }
    return o->out && optind == argc ? 0 : -1;
}

/* The material: digits [0, N_DIGITS), letters, scribbles, then the held-out digits. */
static int make_samples(const struct options *o, const struct dg_idx_images *im, const uint8_t *labels,
                        const struct nd_font *fonts, struct sample *s)
{
    size_t n_train = N_DIGITS + N_LETTERS + N_SCRIBBLES, n = n_train + N_VAL;
    size_t pool = im->count - N_VAL; /* the digit trainer's validation split is the last 5000 */
    int failed = 0;
#pragma omp parallel for num_threads(o->threads) schedule(dynamic, 64) reduction(| : failed)
    for (size_t i = 0; i < n; i++) {
        uint8_t *rgba = malloc(CANVAS * CANVAS * 4);
        uint64_t r = o->seed ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
        dg_splitmix64_next(&r);
        struct nd_shape sh;
        if (!rgba) {
            failed = 1;
        } else if (i < N_DIGITS || i >= n_train) {
            size_t k = i < N_DIGITS ? dg_splitmix64_next(&r) % pool : pool + (i - n_train);
            draw_digit(im->pixels + k * 784, labels[k], r, &s[i], rgba);
        } else if (i < N_DIGITS + N_LETTERS) {
            const struct nd_font *f = &fonts[dg_splitmix64_next(&r) % N_FONTS];
            char ch = nd_letters[dg_splitmix64_next(&r) % strlen(nd_letters)];
            if (nd_letter(f, ch, &sh) == 0)
                draw_shape(&sh, r, &s[i], rgba);
        } else {
            nd_scribble(i - N_DIGITS - N_LETTERS, &sh); /* test scribbles: seeds >= 2^32 */
            draw_shape(&sh, r, &s[i], rgba);
        }
        free(rgba);
    }
    return failed ? -1 : 0;
}

/* Thresholds from the held-out digits; prints what they flag there and on the training
 * non-digits. */
static void thresholds(const struct mlp *m, const struct sample *val, size_t n, float *max_nd, float *min_conf)
{
    float *nd = malloc(n * sizeof *nd), *top = malloc(n * sizeof *top), hid[HIDDEN];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!val[i].ok)
            continue;
        nd[k] = forward(m, val[i].f, hid);
        top[k] = 0.f;
        for (int c = 0; c < DG_N_CLASSES; c++)
            top[k] = val[i].prob[c] > top[k] ? val[i].prob[c] : top[k];
        k++;
    }
    qsort(nd, k, sizeof *nd, cmp_float);
    qsort(top, k, sizeof *top, cmp_float);
    size_t q = (size_t)((double)k * DIGIT_FLAG_RATE);
    *max_nd = nd[k - 1 - q];
    *min_conf = top[q];
    free(nd), free(top);
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: digitd-verdict-train --out PATH [--data MNIST_DIR] [--fonts DIR] "
                        "[--seed N] [--threads N]\n");
        return 2;
    }
    char ip[4096], lp[4096], err[8400];
    snprintf(ip, sizeof ip, "%s/train-images-idx3-ubyte.gz", o.data);
    snprintf(lp, sizeof lp, "%s/train-labels-idx1-ubyte.gz", o.data);
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_pair(ip, lp, &im, &lb, err, sizeof err)) {
        fprintf(stderr, "digitd-verdict-train: %s\n", err);
        return 1;
    }
    struct nd_font fonts[N_FONTS];
    for (int f = 0; f < N_FONTS; f++) {
        snprintf(ip, sizeof ip, "%s/%s.jhf", o.fonts, TRAIN_FONTS[f]);
        if (nd_font_load(ip, &fonts[f], err, sizeof err)) {
            fprintf(stderr, "digitd-verdict-train: %s (Debian: apt-get install hershey-fonts-data)\n", err);
            return 1;
        }
    }
    size_t n_train = N_DIGITS + N_LETTERS + N_SCRIBBLES;
    struct sample *s = calloc(n_train + N_VAL, sizeof *s);
    struct mlp *m = calloc(1, sizeof *m);
    if (!s || !m || make_samples(&o, &im, lb.labels, fonts, s)) {
        fprintf(stderr, "digitd-verdict-train: out of memory\n");
        return 1;
    }
    size_t k = 0; /* the drawable ones first */
    for (size_t i = 0; i < n_train; i++)
        if (s[i].ok)
            s[k++] = s[i];
    train(m, s, k, o.seed);
    float max_nd, min_conf, hid[HIDDEN];
    thresholds(m, s + n_train, N_VAL, &max_nd, &min_conf);
    size_t flagged[2] = {0}, count[2] = {0};
    for (size_t i = 0; i < k; i++)
        count[s[i].nondigit]++, flagged[s[i].nondigit] += forward(m, s[i].f, hid) > max_nd;
    printf("digitd-verdict-train: %zu training images (%zu non-digits); not-a-digit above %.4f, "
           "unsure below %.4f (each flags %.2f %% of %d held-out training digits); on the training "
           "material the detector flags %.2f %% of the non-digits, %.2f %% of the digits\n",
           k, count[1], (double)max_nd, (double)min_conf, 100 * DIGIT_FLAG_RATE, N_VAL,
           100.0 * (double)flagged[1] / (double)(count[1] ? count[1] : 1),
           100.0 * (double)flagged[0] / (double)(count[0] ? count[0] : 1));
    int rc = write_header(o.out, m, max_nd, min_conf);
    if (rc)
        perror(o.out);
    for (int f = 0; f < N_FONTS; f++)
        nd_font_free(&fonts[f]);
    free(s), free(m);
    dg_idx_free_images(&im), dg_idx_free_labels(&lb);
    return rc ? 1 : 0;
}
