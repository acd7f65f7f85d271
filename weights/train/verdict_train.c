/* verdict_train.c: digitd-verdict-train, the "not a digit" detector and the verdict's two
 * thresholds (worker/verdict.h), written as worker/verdict_model.h.
 *
 *   digitd-verdict-train --data MNIST_DIR --fonts DIR --out PATH [--seed N] [--threads N]
 *
 * Training material, all drawn by the renderer's pen on a canvas and brought to 28x28 by the
 * worker's own preprocessing: MNIST training digits (scan and pen styles, the world's marks,
 * pencil) against letters and symbols of the training fonts (TRAIN_FONTS; the test uses
 * others) and scribbles of seeds below 2^32 (the test's are above). The detector reads the
 * compiled-in model's features (verdict.h), so it is trained for that model: the header
 * records its SHA-256. Half the training digits, and the held-out ones, are drawn as the
 * page's canvas sets draw them (render.h's scan, pen and world styles). The thresholds come
 * from the last 5000 training digits (the trainer's validation split), held out here too,
 * each drawn in the three styles (quantiles of 0.1 % need more than 5 digits below them):
 * the detector's threshold leaves DETECTOR_FLAG_RATE of them flagged, the confidence
 * threshold (the compiled-in model's top probability) CONFIDENCE_FLAG_RATE: together at most
 * the 0.3 % of drawn digits a user may see doubted, most of it for the detector, which
 * catches the non-digits (the confidence threshold catches few). What they catch is reported on
 * N_VAL_ND held-out letters of the training fonts and scribbles of other seeds below 2^32,
 * the material to compare detectors on. Nothing from the MNIST test split is used. */
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

#define N_DIGITS 96000
#define N_LETTERS 48000
#define N_SCRIBBLES 48000
#define N_HELD 5000         /* the digit trainer's validation split: the last 5000 */
/* The page's styles a digit is drawn in, by its index modulo PAGE_STYLES (draw_page_digit):
 * the report's per-style figures count every PAGE_STYLES-th held-out drawing from each. */
enum page_style { PAGE_SCAN, PAGE_PEN, PAGE_WORLD, PAGE_STYLES };
#define N_VAL (PAGE_STYLES * N_HELD) /* each of them in the page's three styles */
#define N_VAL_ND 4000 /* held-out non-digits: half letters, half scribbles */
#define HIDDEN 64
#define EPOCHS 15
#define BATCH 64
#define CANVAS 112
#define PAGE_CANVAS 280 /* the page's canvas, as dg_render_params_for draws it */
#define DETECTOR_FLAG_RATE 0.002 /* of held-out digits */
#define CONFIDENCE_FLAG_RATE 0.001

static const char *const TRAIN_FONTS[] = {
    "futural", "rowmans", "timesr", "scripts", "greek", "cyrillic", "timesi", "gothgbt",
    "gothgrt", "gothiceng", "gothicger", "gothicita", "gothitt", "astrology", "markers",
    "mathlow", "mathupp", "meteorology", "music", "symbolic", "japanese", "greeks"};
#define N_FONTS (int)(sizeof TRAIN_FONTS / sizeof TRAIN_FONTS[0])

/* n_in: the detector's inputs, DG_VERDICT_OWN_INPUTS + the model's features. */
static size_t n_in;

struct sample {
    float *f; /* n_in floats */
    float prob[10];
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

/* rgba (side x side) -> the model's 784 inputs -> the detector's inputs; s->ok = 0 if blank. */
static void finish(uint8_t *rgba, int side, struct sample *s, float *features)
{
    struct dg_canvas c = {rgba, (uint32_t)side, (uint32_t)side};
    float x[784];
    s->ok = dg_preprocess(&c, x, NULL) == DG_INPUT_OK;
    if (s->ok) {
        size_t n = dg_engine_forward_features(x, s->prob, features, n_in - DG_VERDICT_OWN_INPUTS);
        dg_verdict_inputs(x, s->prob, features, n, s->f);
    }
}

/* A digit as the canvas test sets draw one (render.h: scan, pen or world styles, by index),
 * from the series seed. */
static void draw_page_digit(const uint8_t *px, int label, uint64_t seed, size_t index,
                            struct sample *s, uint8_t *rgba, float *features)
{
    struct dg_render_params p;
    enum page_style style = (enum page_style)(index % PAGE_STYLES);
    if (style == PAGE_WORLD)
        dg_render_world_params(seed, index, label, &p);
    else
        dg_render_params_for(seed, index, style == PAGE_PEN ? DG_STYLE_PEN : DG_STYLE_SCAN, &p);
    s->nondigit = 0;
    s->ok = p.canvas == PAGE_CANVAS && dg_render_rgba(px, &p, rgba) == 0;
    if (s->ok)
        finish(rgba, p.canvas, s, features);
}

static void draw_digit(const uint8_t *px, int label, uint64_t r, struct sample *s, uint8_t *rgba,
                       float *features)
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
        finish(rgba, p.canvas, s, features);
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

static void draw_shape(struct nd_shape *sh, uint64_t r, struct sample *s, uint8_t *rgba,
                       float *features)
{
    struct dg_render_params p;
    canvas_params(&r, &p);
    jitter(sh, &r);
    s->nondigit = 1;
    s->ok = sh->n_points >= 2 && dg_render_strokes(sh->xy, sh->len, sh->n_lines, &p, rgba) == 0;
    if (s->ok)
        finish(rgba, p.canvas, s, features);
}

/* One flat parameter buffer, the tensors pointing into it: w1 [HIDDEN][n_in], b1, w2, b2. */
struct mlp {
    float *params, *w1, *b1, *w2, *b2;
    size_t n;
};

static int mlp_alloc(struct mlp *m)
{
    m->n = HIDDEN * n_in + 2 * HIDDEN + 1;
    m->params = calloc(m->n, sizeof *m->params);
    m->w1 = m->params, m->b1 = m->w1 + HIDDEN * n_in, m->w2 = m->b1 + HIDDEN, m->b2 = m->w2 + HIDDEN;
    return m->params ? 0 : -1;
}

/* The detector's logit (its score is the logit's sigmoid); hid gets the hidden layer. */
static float forward(const struct mlp *m, const float *f, float *hid)
{
    float z = *m->b2;
    for (int h = 0; h < HIDDEN; h++) {
        float a = m->b1[h];
        const float *w = m->w1 + (size_t)h * n_in;
        for (size_t i = 0; i < n_in; i++)
            a += w[i] * f[i];
        hid[h] = a > 0.f ? a : 0.f;
        z += m->w2[h] * hid[h];
    }
    return z;
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

static void shuffle(uint32_t *order, size_t n, uint64_t *r)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (size_t i = n; i-- > 1;) {
        size_t j = dg_splitmix64_next(r) % (i + 1);
        uint32_t tmp = order[i];
        order[i] = order[j], order[j] = tmp;
    }
}

/* Backward of one sample into the gradient g (its logit's error d). */
static void backward(const struct mlp *m, const struct mlp *g, const float *f, const float *hid,
                     float d)
{
    *g->b2 += d;
    for (int h = 0; h < HIDDEN; h++) {
        g->w2[h] += d * hid[h];
        if (hid[h] <= 0.f)
            continue;
        float dh = d * m->w2[h], *gw = g->w1 + (size_t)h * n_in;
        g->b1[h] += dh;
        for (size_t k = 0; k < n_in; k++)
            gw[k] += dh * f[k];
    }
}

static int train(struct mlp *m, const struct sample *s, size_t n, uint64_t seed)
{
    struct mlp g, m1, m2;
    uint32_t *order = malloc(n * sizeof *order);
    if (mlp_alloc(&g) | mlp_alloc(&m1) | mlp_alloc(&m2) || !order) {
        free(g.params), free(m1.params), free(m2.params), free(order);
        return -1;
    }
    uint64_t r = seed;
    for (size_t i = 0; i < HIDDEN * n_in; i++)
        m->w1[i] = (nn_uniform(&r) - 0.5f) * 2.f * sqrtf(6.f / (float)n_in);
    for (int h = 0; h < HIDDEN; h++)
        m->w2[h] = (nn_uniform(&r) - 0.5f) * 2.f * sqrtf(6.f / HIDDEN);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        nd += s[i].nondigit;
    float wpos = nd ? (float)(n - nd) / (float)nd : 1.f; /* both classes weigh the same */
    int t = 0;
    for (int e = 0; e < EPOCHS; e++) {
        shuffle(order, n, &r);
        float lr = 2e-3f * 0.5f * (1.f + cosf(3.14159f * (float)e / EPOCHS));
        for (size_t i = 0; i < n; i++) {
            const struct sample *x = &s[order[i]];
            float hid[HIDDEN], y = 1.f / (1.f + expf(-forward(m, x->f, hid)));
            backward(m, &g, x->f, hid, (y - (float)x->nondigit) * (x->nondigit ? wpos : 1.f) / BATCH);
            if ((i + 1) % BATCH == 0 || i + 1 == n)
                adam(m->params, g.params, m1.params, m2.params, m->n, lr, ++t);
        }
    }
    free(g.params), free(m1.params), free(m2.params), free(order);
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The weights input-major (verdict.c adds one input's column to every hidden sum). */
static int write_header(const char *path, const struct mlp *m, float max_nd, float min_conf)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t nf = n_in - DG_VERDICT_OWN_INPUTS;
    fprintf(f, "/* verdict_model.h: written by digitd-verdict-train (weights/train/verdict_train.c);\n"
               " * do not edit. The not-a-digit detector and the verdict's thresholds. */\n"
               "#ifndef DIGITD_VERDICT_MODEL_H\n#define DIGITD_VERDICT_MODEL_H\n\n"
               "#define DG_VD_MODEL_SHA256 \"%s\" /* the model whose features it reads */\n"
               "#define DG_VD_FEATURES %zu\n#define DG_VD_HIDDEN %d\n"
               "#define DG_VERDICT_MAX_NONDIGIT %.9gf /* the detector's logit */\n"
               "#define DG_VERDICT_MIN_CONFIDENCE %.9gf\n\n"
               "static const float dg_vd_w1[DG_VERDICT_OWN_INPUTS + DG_VD_FEATURES][DG_VD_HIDDEN] = {\n",
            dg_engine_model()->source_sha256, nf, HIDDEN, (double)max_nd, (double)min_conf);
    for (size_t i = 0; i < n_in; i++) {
        fprintf(f, "{");
        for (int h = 0; h < HIDDEN; h++)
            fprintf(f, "%.7g,%s", (double)m->w1[(size_t)h * n_in + i], h % 8 == 7 ? "\n" : "");
        fprintf(f, "},\n");
    }
    fprintf(f, "};\nstatic const float dg_vd_b1[DG_VD_HIDDEN] = {");
    for (int h = 0; h < HIDDEN; h++)
        fprintf(f, "%.7g,", (double)m->b1[h]);
    fprintf(f, "};\nstatic const float dg_vd_w2[DG_VD_HIDDEN] = {");
    for (int h = 0; h < HIDDEN; h++)
        fprintf(f, "%.7g,", (double)m->w2[h]);
    fprintf(f, "};\nstatic const float dg_vd_b2 = %.7gf;\n\n#endif\n", (double)*m->b2);
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

/* The material: digits [0, N_DIGITS) (half in the detector's own styles, half as the page
 * draws them), letters, scribbles, then the held-out digits (as the page draws them), then
 * N_VAL_ND held-out letters (training fonts) and scribbles (seeds 2^31 up, still below 2^32). */
static int make_samples(const struct options *o, const struct dg_idx_images *im, const uint8_t *labels,
                        const struct nd_font *fonts, struct sample *s, size_t n)
{
    size_t n_train = N_DIGITS + N_LETTERS + N_SCRIBBLES, n_val = n_train + N_VAL;
    size_t pool = im->count - N_HELD;
    int failed = 0;
#pragma omp parallel for num_threads(o->threads) schedule(dynamic, 64) reduction(| : failed)
    for (size_t i = 0; i < n; i++) {
        uint8_t *rgba = malloc(PAGE_CANVAS * PAGE_CANVAS * 4);
        float *features = malloc((n_in - DG_VERDICT_OWN_INPUTS) * sizeof *features);
        uint64_t r = o->seed ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
        dg_splitmix64_next(&r);
        struct nd_shape sh;
        int letter = (i >= N_DIGITS && i < N_DIGITS + N_LETTERS) ||
                     (i >= n_val && i < n_val + N_VAL_ND / 2);
        if (!rgba || !features) {
            failed = 1;
        } else if (i < N_DIGITS && i % 2) { /* half of them in the detector's own styles */
            size_t k = dg_splitmix64_next(&r) % pool;
            draw_digit(im->pixels + k * 784, labels[k], r, &s[i], rgba, features);
        } else if (i < N_DIGITS) { /* the other half as the page draws them */
            size_t k = dg_splitmix64_next(&r) % pool;
            draw_page_digit(im->pixels + k * 784, labels[k], o->seed + 1, i, &s[i], rgba, features);
        } else if (i >= n_train && i < n_val) { /* held out: as the page draws them, all 3 ways */
            size_t k = pool + (i - n_train) / PAGE_STYLES;
            draw_page_digit(im->pixels + k * 784, labels[k], o->seed + 2, i - n_train, &s[i], rgba,
                            features);
        } else if (letter) {
            const struct nd_font *f = &fonts[dg_splitmix64_next(&r) % N_FONTS];
            char ch = nd_letters[dg_splitmix64_next(&r) % strlen(nd_letters)];
            if (nd_letter(f, ch, &sh) == 0)
                draw_shape(&sh, r, &s[i], rgba, features);
        } else { /* test scribbles: seeds >= 2^32 */
            nd_scribble(i < n_val ? i - N_DIGITS - N_LETTERS : (1ull << 31) + (i - n_val), &sh);
            draw_shape(&sh, r, &s[i], rgba, features);
        }
        free(rgba), free(features);
    }
    return failed ? -1 : 0;
}

static float top_prob(const float prob[10])
{
    float top = 0.f;
    for (int c = 0; c < DG_N_CLASSES; c++)
        top = prob[c] > top ? prob[c] : top;
    return top;
}

/* Thresholds from the held-out digits: each flags its rate of them. */
static int thresholds(const struct mlp *m, const struct sample *val, size_t n, float *max_nd,
                      float *min_conf)
{
    float *nd = malloc(n * sizeof *nd), *top = malloc(n * sizeof *top), hid[HIDDEN];
    size_t k = 0;
    for (size_t i = 0; nd && top && i < n; i++)
        if (val[i].ok) {
            nd[k] = forward(m, val[i].f, hid);
            top[k++] = top_prob(val[i].prob);
        }
    if (k) {
        qsort(nd, k, sizeof *nd, cmp_float);
        qsort(top, k, sizeof *top, cmp_float);
        *max_nd = nd[k - 1 - (size_t)((double)k * DETECTOR_FLAG_RATE)];
        *min_conf = top[(size_t)((double)k * CONFIDENCE_FLAG_RATE)];
    }
    free(nd), free(top);
    return k ? 0 : -1;
}

/* Percent of the drawable samples s[0], s[step], ... below s[n] answered "not_a_digit" or
 * "unsure" (step PAGE_STYLES from the held-out digit of a page_style: that style's drawings). */
static double flagged(const struct mlp *m, const struct sample *s, size_t n, size_t step,
                      float max_nd, float min_conf)
{
    size_t k = 0, f = 0;
    float hid[HIDDEN];
    for (size_t i = 0; i < n; i += step)
        if (s[i].ok)
            k++, f += forward(m, s[i].f, hid) > max_nd || top_prob(s[i].prob) < min_conf;
    return k ? 100.0 * (double)f / (double)k : 0.0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: digitd-verdict-train --out PATH [--data MNIST_DIR] [--fonts DIR] "
                        "[--seed N] [--threads N]\n");
        return 2;
    }
    if (dg_engine_features() == 0) {
        fprintf(stderr, "digitd-verdict-train: the compiled-in model has no Dense layer: no "
                        "features for the detector to read\n");
        return 1;
    }
    n_in = DG_VERDICT_OWN_INPUTS + dg_engine_features();
    char ip[4096], err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(o.data, "train", &im, &lb, err, sizeof err)) {
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
    size_t n_train = N_DIGITS + N_LETTERS + N_SCRIBBLES, n_val = n_train + N_VAL;
    size_t n = n_val + N_VAL_ND;
    struct sample *s = calloc(n, sizeof *s);
    float *inputs = calloc(n * n_in, sizeof *inputs); /* n and n_in are a few thousand: no overflow */
    struct mlp m;
    if (!s || !inputs || mlp_alloc(&m)) {
        fprintf(stderr, "digitd-verdict-train: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        s[i].f = inputs + i * n_in;
    if (make_samples(&o, &im, lb.labels, fonts, s, n)) {
        fprintf(stderr, "digitd-verdict-train: out of memory\n");
        return 1;
    }
    size_t k = 0, count[2] = {0}; /* the drawable ones first */
    for (size_t i = 0; i < n_train; i++)
        if (s[i].ok)
            count[s[i].nondigit]++, s[k++] = s[i];
    float max_nd = 0.f, min_conf = 0.f;
    if (train(&m, s, k, o.seed) || thresholds(&m, s + n_train, N_VAL, &max_nd, &min_conf)) {
        fprintf(stderr, "digitd-verdict-train: out of memory\n");
        return 1;
    }
    printf("digitd-verdict-train: %zu training images (%zu non-digits), %zu inputs (%zu of them the "
           "model's features); not a digit above %.4f, unsure below %.4f (flagging %.2f and %.2f %% "
           "of %d drawings of the %d held-out training digits)\n",
           k, count[1], n_in, n_in - DG_VERDICT_OWN_INPUTS, (double)max_nd, (double)min_conf,
           100 * DETECTOR_FLAG_RATE, 100 * CONFIDENCE_FLAG_RATE, N_VAL, N_HELD);
    const struct sample *held = s + n_train;
    printf("answered not a digit or unsure: held-out digits %.2f %% (scan %.2f, pen %.2f, world "
           "%.2f %%), held-out letters %.2f %%, held-out scribbles %.2f %%, training non-digits "
           "%.2f %%\n",
           flagged(&m, held, N_VAL, 1, max_nd, min_conf),
           flagged(&m, held + PAGE_SCAN, N_VAL - PAGE_SCAN, PAGE_STYLES, max_nd, min_conf),
           flagged(&m, held + PAGE_PEN, N_VAL - PAGE_PEN, PAGE_STYLES, max_nd, min_conf),
           flagged(&m, held + PAGE_WORLD, N_VAL - PAGE_WORLD, PAGE_STYLES, max_nd, min_conf),
           flagged(&m, s + n_val, N_VAL_ND / 2, 1, max_nd, min_conf),
           flagged(&m, s + n_val + N_VAL_ND / 2, N_VAL_ND / 2, 1, max_nd, min_conf),
           flagged(&m, s + count[0], count[1], 1, max_nd, min_conf));
    int rc = write_header(o.out, &m, max_nd, min_conf);
    if (rc)
        perror(o.out);
    for (int f = 0; f < N_FONTS; f++)
        nd_font_free(&fonts[f]);
    free(s), free(inputs), free(m.params);
    dg_idx_free_images(&im), dg_idx_free_labels(&lb);
    return rc ? 1 : 0;
}
