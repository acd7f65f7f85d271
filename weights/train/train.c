/* train.c: digitd-train, retrains the seed CNN on MNIST and writes a Keras .h5.
 *
 *   digitd-train [--data DIR] [--epochs N] [--batch N] [--lr X] [--lr-schedule none|cosine|step]
 *                [--seed N] [--threads N] [--augment|--no-augment] [--pen-fraction P]
 *                [--mark-fraction P] [--pencil-fraction P] [--warp-fraction P]
 *                [--val-split N]
 *                [--out PATH] [--limit N] [--test-limit N] [--predictions PATH]
 *                [--extra-eval DIR]... [--quiet]
 *
 * Keeps the epoch with the best validation accuracy (Keras's ModelCheckpoint
 * save_best_only) and writes it to --out each time it improves. The validation images are
 * scored twice, as scans and drawn on a canvas as the service receives them (augment.h's
 * aug_canvas_set), and the mean decides, later epochs winning ties. --out defaults to
 * best_mnist_model.h5 in the current directory, as ModelCheckpoint('best_mnist_model.h5')
 * does, so that a quick run from the repository root cannot overwrite the shipped
 * weights/best_mnist_model.h5; the other defaults are the recipe that made that file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "augment.h"
#include "clock.h"
#include "canvas_set.h"
#include "idx.h"
#include "nn.h"
#include "parse.h"
#include "train_net.h"

#define MAX_EXTRA 4

struct options {
    const char *data, *out, *predictions, *extra[MAX_EXTRA];
    int epochs, batch, threads, augment, quiet, n_extra;
    double lr, pen_fraction, mark_fraction, pencil_fraction, warp_fraction;
    enum tn_lr_schedule schedule;
    uint64_t seed;
    long val_split, limit, test_limit;
};

struct dataset {
    const uint8_t *pixels, *labels;
    size_t count;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: digitd-train [options]\n"
            "  --data DIR          MNIST IDX .gz files (default $MNIST_DIR, else data/mnist)\n"
            "  --epochs N          passes over the training set (default 30)\n"
            "  --batch N           images per step (default 128)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            "  --lr-schedule S     cosine (to 0 over the run; default) | none | step (x0.1 at\n"
            "                      50%% and again at 75%% of the epochs)\n"
            "  --seed N            initialisation, shuffling, dropout, augmentation: 0 to\n"
            "                      18446744073709551615 (default 1)\n"
            "  --threads N         worker threads (default: online CPUs)\n"
            "  --augment, --no-augment   random stroke width, rotation, shear, scale, shift\n"
            "                      (default on)\n"
            "  --pen-fraction P    with --augment, the share of images redrawn as a browser\n"
            "                      draws a stroke, one round pen width (default 0.3; 0: none)\n"
            "  --mark-fraction P   of those, the share given a mark people add: a slashed or\n"
            "                      dotted zero, a one's flag and foot, a crossed seven, a nine's\n"
            "                      hooked tail, a tap or a stray stroke beside the digit\n"
            "                      (default 0.8)\n"
            "  --pencil-fraction P of those, the share drawn with a thin grey pencil (default 0.2)\n"
            "  --warp-fraction P   of those, the share drawn with other proportions (a part of\n"
            "                      the digit smaller, another larger; default 0.5)\n"
            "  --val-split N       last N training images held out to pick the best epoch,\n"
            "                      scored as scans and drawn on a canvas (default 5000)\n"
            "  --out PATH          the .h5 to write (default best_mnist_model.h5, in the\n"
            "                      current directory)\n"
            "  --limit N           train on the first N training images only\n"
            "  --test-limit N      evaluate on the first N test images only\n"
            "  --predictions PATH  write the kept model's test-set probabilities there\n"
            "                      (float32 [n][10], little-endian; for tests)\n"
            "  --extra-eval DIR    also report accuracy on DIR/images-idx3-ubyte + labels-idx1-ubyte\n"
            "                      each epoch (e.g. canvas-drawn digits), and the kept epoch's\n"
            "                      worst class; up to 4 times\n"
            "  --quiet             no in-place progress, only the per-epoch summaries\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},       {"epochs", required_argument, 0, 'e'},
        {"batch", required_argument, 0, 'b'},      {"lr", required_argument, 0, 'l'},
        {"lr-schedule", required_argument, 0, 'S'}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'},    {"augment", no_argument, 0, 'a'},
        {"no-augment", no_argument, 0, 'A'},       {"val-split", required_argument, 0, 'v'},
        {"out", required_argument, 0, 'o'},        {"limit", required_argument, 0, 'L'},
        {"test-limit", required_argument, 0, 'T'}, {"quiet", no_argument, 0, 'q'},
        {"predictions", required_argument, 0, 'P'}, {"extra-eval", required_argument, 0, 'X'},
        {"pen-fraction", required_argument, 0, 'p'}, {"mark-fraction", required_argument, 0, 'm'},
        {"pencil-fraction", required_argument, 0, 'g'}, {"warp-fraction", required_argument, 0, 'w'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
    static const char *const me = "digitd-train";
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (struct options){.data = dg_mnist_dir(), .out = "best_mnist_model.h5",
                          .epochs = 30, .batch = 128, .threads = cpus > 0 ? (int)cpus : 1,
                          .augment = 1, .pen_fraction = 0.3, .mark_fraction = 0.8, .pencil_fraction = 0.2,
                          .warp_fraction = 0.5,
                          .lr = 1e-3, .schedule = TN_LR_COSINE, .seed = 1,
                          .val_split = 5000, .limit = -1, .test_limit = -1};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int bad = 0;
        int64_t n = 0; /* an integer option's value, assigned only when it parsed */
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'o': o->out = optarg; break;
        case 'P': o->predictions = optarg; break;
        case 'X':
            if (o->n_extra == MAX_EXTRA) {
                fprintf(stderr, "%s: --extra-eval: at most %d\n", me, MAX_EXTRA);
                bad = 1;
            } else {
                o->extra[o->n_extra++] = optarg;
            }
            break;
        case 'a': o->augment = 1; break;
        case 'A': o->augment = 0; break;
        case 'q': o->quiet = 1; break;
        case 'e': bad = dg_parse_int(me, "--epochs", optarg, 1, 10000, &n); o->epochs = (int)n; break;
        case 'b': bad = dg_parse_int(me, "--batch", optarg, 1, 65536, &n); o->batch = (int)n; break;
        case 't': bad = dg_parse_int(me, "--threads", optarg, 1, 256, &n); o->threads = (int)n; break;
        case 's': bad = dg_parse_u64(me, "--seed", optarg, &o->seed); break;
        case 'v': bad = dg_parse_int(me, "--val-split", optarg, 0, 59999, &n); o->val_split = (long)n; break;
        case 'L': bad = dg_parse_int(me, "--limit", optarg, 1, LONG_MAX, &n); o->limit = (long)n; break;
        case 'T': bad = dg_parse_int(me, "--test-limit", optarg, 1, LONG_MAX, &n); o->test_limit = (long)n; break;
        case 'l':
            bad = dg_parse_double(me, "--lr", optarg, 0, 10, &o->lr);
            if (!bad && !(o->lr > 0 && o->lr < 10)) {
                fprintf(stderr, "%s: --lr: '%s' is not above 0 and below 10\n", me, optarg);
                bad = 1;
            }
            break;
        case 'p': bad = dg_parse_double(me, "--pen-fraction", optarg, 0, 1, &o->pen_fraction); break;
        case 'm': bad = dg_parse_double(me, "--mark-fraction", optarg, 0, 1, &o->mark_fraction); break;
        case 'g': bad = dg_parse_double(me, "--pencil-fraction", optarg, 0, 1, &o->pencil_fraction); break;
        case 'w': bad = dg_parse_double(me, "--warp-fraction", optarg, 0, 1, &o->warp_fraction); break;
        case 'S':
            if (!strcmp(optarg, "none")) o->schedule = TN_LR_CONSTANT;
            else if (!strcmp(optarg, "cosine")) o->schedule = TN_LR_COSINE;
            else if (!strcmp(optarg, "step")) o->schedule = TN_LR_STEP;
            else {
                fprintf(stderr, "%s: --lr-schedule: '%s' is not none, cosine or step\n", me, optarg);
                bad = 1;
            }
            break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (bad)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "digitd-train: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* One image of the batch: augmented, or just scaled to 0..1. The stream depends only on
 * (seed, epoch, image), so the batch is the same whatever the thread count. */
static void make_batch(float *x, uint8_t *y, const struct dataset *d, const uint32_t *order,
                       int n, const struct options *o, const struct aug_params *ap, int epoch)
{
#pragma omp parallel for num_threads(o->threads) schedule(static)
    for (int i = 0; i < n; i++) {
        const uint8_t *src = d->pixels + (size_t)order[i] * TN_PIXELS;
        y[i] = d->labels[order[i]];
        if (o->augment) {
            uint64_t s = o->seed ^ ((uint64_t)epoch << 40) ^ ((uint64_t)order[i] * 0xd1b54a32d192ed03ull);
            dg_splitmix64_next(&s);
            aug_image(x + (size_t)i * TN_PIXELS, src, y[i], ap, &s);
        } else {
            for (int p = 0; p < TN_PIXELS; p++)
                x[(size_t)i * TN_PIXELS + p] = src[p] * (1.0f / 255.0f);
        }
    }
}

#define EVAL_CHUNK 4096 /* images scaled to floats at a time for evaluation */

/* Whole-set accuracy (and mean loss) without dropout, images scaled x/255 into x
 * (EVAL_CHUNK images, allocated with the run so that evaluation cannot fail midway);
 * probs (or NULL) gets the [count][10] probabilities. */
static double evaluate(struct tn_net *net, float *x, const struct dataset *d, double *loss,
                       float *probs)
{
    long ok = 0;
    double l = 0;
    for (size_t b = 0; b < d->count; b += EVAL_CHUNK) {
        size_t n = d->count - b < EVAL_CHUNK ? d->count - b : EVAL_CHUNK;
        for (size_t i = 0; i < n * TN_PIXELS; i++)
            x[i] = d->pixels[b * TN_PIXELS + i] * (1.0f / 255.0f);
        l += tn_predict(net, x, d->labels + b, n, probs ? probs + b * TN_CLASSES : NULL, &ok);
    }
    if (loss)
        *loss = d->count ? l / (double)d->count : 0;
    return d->count ? (double)ok / (double)d->count : 0;
}

static void shuffle(uint32_t *order, size_t n, uint64_t seed, int epoch)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dull + (uint64_t)epoch;
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (size_t i = n; i-- > 1;) { /* Fisher-Yates */
        size_t j = (size_t)(dg_splitmix64_next(&s) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

static void progress(const struct options *o, int epoch, size_t done, size_t total, double t0,
                     double loss, long ok, int final)
{
    double dt = dg_now_s() - t0, rate = dt > 0 ? (double)done / dt : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\repoch %d/%d %6zu/%zu  %6.0f img/s  %s %4.0fs  loss %.4f  acc %.4f%s",
            epoch + 1, o->epochs, done, total, rate, final ? "took" : "ETA", final ? dt : eta,
            done ? loss / (double)done : 0, done ? (double)ok / (double)done : 0,
            final ? "" : "   ");
    fflush(stderr);
}

struct run {
    struct options o;
    struct dataset train, val, val_canvas, test, extra[MAX_EXTRA];
    uint8_t *val_canvas_px; /* the validation digits drawn on a canvas (aug_canvas_set) */
    struct tn_net net;
    struct tn_training training; /* the learning-rate schedule; the .h5 records it */
    float *best, *x, *eval_x;
    uint8_t *y;
    uint32_t *order;
    int threads_running;
};

static size_t steps_per_epoch(const struct run *r)
{
    return (r->train.count + (size_t)r->o.batch - 1) / (size_t)r->o.batch;
}

/* One pass over the training set; returns its wall time. */
static double train_epoch(struct run *r, int epoch, const struct aug_params *ap, int tty)
{
    struct options *o = &r->o;
    size_t n = r->train.count, steps = steps_per_epoch(r);
    double t0 = dg_now_s(), last = 0, loss = 0;
    long ok = 0;
    shuffle(r->order, n, o->seed, epoch);
    for (size_t s = 0; s < steps; s++) {
        size_t b0 = s * (size_t)o->batch;
        int nb = (int)(n - b0 < (size_t)o->batch ? n - b0 : (size_t)o->batch);
        make_batch(r->x, r->y, &r->train, r->order + b0, nb, o, ap, epoch);
        uint64_t key = o->seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)epoch << 32 | s);
        loss += tn_forward_backward(&r->net, r->x, r->y, nb, key, &ok);
        double lr = tn_lr_at(&r->training, epoch, (long)s);
        tn_adam_step(&r->net, (float)lr, (float)TN_ADAM_BETA1, (float)TN_ADAM_BETA2,
                     (float)TN_ADAM_EPSILON);
        if (tty && !o->quiet && dg_now_s() - last > 0.25) {
            progress(o, epoch, b0 + (size_t)nb, n, t0, loss, ok, 0);
            last = dg_now_s();
        }
    }
    progress(o, epoch, n, n, t0, loss, ok, 1); /* the epoch's summary, also when quiet */
    return dg_now_s() - t0;
}

static int write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(v, sizeof(float), n, f) == n;
    if (f && fclose(f))
        ok = 0;
    if (!ok)
        fprintf(stderr, "digitd-train: %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

/* The kept epoch on --extra-eval set k: accuracy, and its worst class. */
static int report_extra(struct run *r, int k)
{
    const struct dataset *d = &r->extra[k];
    float *probs = malloc(d->count * TN_CLASSES * sizeof(float));
    if (!probs) {
        fprintf(stderr, "digitd-train: out of memory\n");
        return -1;
    }
    double acc = evaluate(&r->net, r->eval_x, d, NULL, probs);
    size_t n[TN_CLASSES] = {0}, ok[TN_CLASSES] = {0};
    for (size_t i = 0; i < d->count; i++) {
        int best = 0;
        for (int c = 1; c < TN_CLASSES; c++)
            best = probs[i * TN_CLASSES + c] > probs[i * TN_CLASSES + best] ? c : best;
        n[d->labels[i] % TN_CLASSES]++, ok[d->labels[i] % TN_CLASSES] += best == d->labels[i];
    }
    int worst = 0;
    for (int c = 1; c < TN_CLASSES; c++)
        if ((double)ok[c] * (double)n[worst] < (double)ok[worst] * (double)n[c])
            worst = c;
    fprintf(stderr, "kept epoch on %s: accuracy %.4f on %zu images, worst class %d %.4f\n",
            r->o.extra[k], acc, d->count, worst, n[worst] ? (double)ok[worst] / (double)n[worst] : 0);
    free(probs);
    return 0;
}

static int run_training(struct run *r)
{
    struct options *o = &r->o;
    struct aug_params ap;
    aug_default_params(&ap);
    ap.p_pen = (float)o->pen_fraction;
    ap.p_mark = (float)o->mark_fraction;
    ap.p_pencil = (float)o->pencil_fraction;
    ap.p_warp = (float)o->warp_fraction;
    int tty = isatty(2);
    double best_acc = -1, t_start = dg_now_s(), epoch_time = 0;
    int best_epoch = -1;
    char err[512];
    for (int e = 0; e < o->epochs; e++) {
        epoch_time += train_epoch(r, e, &ap, tty);
        double vloss = 0, vacc = -1, tloss;
        if (r->val.count) {
            double scans = evaluate(&r->net, r->eval_x, &r->val, &vloss, NULL);
            double drawn = evaluate(&r->net, r->eval_x, &r->val_canvas, NULL, NULL);
            vacc = (scans + drawn) / 2;
            fprintf(stderr, "  val %.4f (scans %.4f, loss %.4f; drawn %.4f)", vacc, scans, vloss, drawn);
        }
        double tacc = evaluate(&r->net, r->eval_x, &r->test, &tloss, NULL);
        fprintf(stderr, "  test %.4f (loss %.4f)", tacc, tloss);
        for (int k = 0; k < o->n_extra; k++)
            fprintf(stderr, "  extra%d %.4f", k + 1, evaluate(&r->net, r->eval_x, &r->extra[k], NULL, NULL));
        /* later epochs win ties (the learning rate has decayed further); without a
         * validation split every epoch is "best": the last one is kept */
        if (vacc >= best_acc || !r->val.count) {
            best_acc = vacc, best_epoch = e;
            memcpy(r->best, r->net.params, tn_n_params() * sizeof(float));
            if (tn_save_h5(&r->net, r->best, &r->training, o->out, err, sizeof(err))) {
                fprintf(stderr, "\ndigitd-train: %s\n", err);
                return -1;
            }
            fprintf(stderr, "  -> saved %s", o->out);
        }
        fprintf(stderr, "\n");
    }
    memcpy(r->net.params, r->best, tn_n_params() * sizeof(float));
    float *probs = NULL;
    if (o->predictions && !(probs = malloc(r->test.count * TN_CLASSES * sizeof(float)))) {
        fprintf(stderr, "digitd-train: out of memory\n");
        return -1;
    }
    double tloss, tacc = evaluate(&r->net, r->eval_x, &r->test, &tloss, probs);
    if (probs && write_floats(o->predictions, probs, r->test.count * TN_CLASSES)) {
        free(probs);
        return -1;
    }
    free(probs);
    char why[64] = "the last (no validation split)";
    if (r->val.count)
        snprintf(why, sizeof(why), "best: val %.4f", best_acc);
    /* the benchmark's line: s/epoch and images/s count training passes only (no evaluation) */
    fprintf(stderr,
            "kept epoch %d (%s): test accuracy %.4f on %zu images; %.1f s total, "
            "%.2f s/epoch of %zu images, %d epochs, %.0f images/s, %d threads\n",
            best_epoch + 1, why, tacc, r->test.count, dg_now_s() - t_start, epoch_time / o->epochs,
            r->train.count, o->epochs,
            epoch_time > 0 ? (double)r->train.count * o->epochs / epoch_time : 0,
            r->threads_running);
    for (int k = 0; k < o->n_extra; k++)
        if (report_extra(r, k))
            return -1;
    return 0;
}

/* "digitd-train: --out PATH: <what>"; returns -1. */
__attribute__((format(printf, 2, 3))) static int out_error(const char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "digitd-train: --out %s: ", out);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* Fails early, before loading data or training, if --out cannot take the model. The model
 * is written to a temporary file beside it and renamed over it, so the directory must
 * exist and be writable, and the path must be a regular file or not exist yet: rename
 * would fail on a directory only after the first epoch, and would replace a device or
 * FIFO (run as root, --out /dev/null would replace /dev/null). */
static int check_out_path(const char *out)
{
    size_t len = strlen(out);
    struct stat st;
    if (len == 0)
        return out_error(out, "empty path; give a file path such as best_mnist_model.h5");
    if (out[len - 1] == '/')
        return out_error(out, "names a directory; give a file path such as best_mnist_model.h5");
    if (stat(out, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return out_error(out, "is a directory; give a file path such as "
                                  "%s/best_mnist_model.h5", out);
        if (!S_ISREG(st.st_mode))
            return out_error(out, "is not a regular file (the model would replace it)");
    } else if (errno != ENOENT) {
        return out_error(out, "%s", strerror(errno));
    }
    char dir[4096];
    const char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - out) + (slash == out), out);
    if (stat(dir, &st))
        return out_error(out, "directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return out_error(out, "%s is not a directory", dir);
    if (access(dir, W_OK | X_OK))
        return out_error(out, "cannot write in %s (%s)", dir, strerror(errno));
    return 0;
}

static int load_data(struct run *r, struct dg_idx_images *ti, struct dg_idx_labels *tl,
                     struct dg_idx_images *ei, struct dg_idx_labels *el,
                     struct dg_idx_images *xi, struct dg_idx_labels *xl) /* xi, xl: MAX_EXTRA */
{
    char a[4096], b[4096], err[4600];
    const char *dir = r->o.data;
    if (dg_idx_load_mnist(dir, "train", ti, tl, err, sizeof(err)) ||
        dg_idx_load_mnist(dir, "t10k", ei, el, err, sizeof(err)))
        goto fail;
    if (ti->rows != 28 || ti->cols != 28 || ei->rows != 28 || ei->cols != 28) {
        snprintf(err, sizeof(err), "%s: images are not 28x28", dir);
        goto fail;
    }
    if ((size_t)r->o.val_split >= ti->count) {
        snprintf(err, sizeof(err), "--val-split %ld leaves no training images (%zu in %s)",
                 r->o.val_split, ti->count, dir);
        goto fail;
    }
    /* like Keras's validation_split: the last images are held out */
    size_t n_train = ti->count - (size_t)r->o.val_split;
    r->val = (struct dataset){ti->pixels + n_train * TN_PIXELS, tl->labels + n_train,
                              (size_t)r->o.val_split};
    if (r->o.limit > 0 && (size_t)r->o.limit < n_train)
        n_train = (size_t)r->o.limit;
    r->train = (struct dataset){ti->pixels, tl->labels, n_train};
    size_t n_test = ei->count;
    if (r->o.test_limit > 0 && (size_t)r->o.test_limit < n_test)
        n_test = (size_t)r->o.test_limit;
    r->test = (struct dataset){ei->pixels, el->labels, n_test};
    for (int k = 0; k < r->o.n_extra; k++) {
        snprintf(a, sizeof(a), "%s/images-idx3-ubyte", r->o.extra[k]);
        snprintf(b, sizeof(b), "%s/labels-idx1-ubyte", r->o.extra[k]);
        if (dg_idx_load_pair(a, b, &xi[k], &xl[k], err, sizeof(err)))
            goto fail;
        if (xi[k].rows != 28 || xi[k].cols != 28) {
            snprintf(err, sizeof(err), "%s: images are not 28x28", a);
            goto fail;
        }
        r->extra[k] = (struct dataset){xi[k].pixels, xl[k].labels, xi[k].count};
    }
    return 0;
fail:
    fprintf(stderr, "digitd-train: %s\n", err);
    if (!getenv("MNIST_DIR") && !strcmp(dir, "data/mnist"))
        fprintf(stderr, "digitd-train: fetch MNIST with scripts/fetch-mnist.sh, or set MNIST_DIR "
                        "or --data\n");
    return -1;
}

int main(int argc, char **argv)
{
    struct run r = {0};
    if (parse_options(argc, argv, &r.o))
        return 2;
    struct dg_idx_images ti = {0}, ei = {0}, xi[MAX_EXTRA] = {0};
    struct dg_idx_labels tl = {0}, el = {0}, xl[MAX_EXTRA] = {0};
    int rc = 1;
    if (check_out_path(r.o.out) || load_data(&r, &ti, &tl, &ei, &el, xi, xl))
        goto out;
    if (tn_init(&r.net, r.o.batch, r.o.threads, r.o.seed)) {
        fprintf(stderr, "digitd-train: out of memory for batch %d on %d threads\n", r.o.batch,
                r.o.threads);
        goto out;
    }
    r.best = malloc(tn_n_params() * sizeof(float));
    r.x = malloc((size_t)r.o.batch * TN_PIXELS * sizeof(float));
    r.y = malloc((size_t)r.o.batch);
    r.order = malloc(r.train.count * sizeof(uint32_t));
    r.eval_x = malloc((size_t)EVAL_CHUNK * TN_PIXELS * sizeof(float));
    if (!r.best || !r.x || !r.y || !r.order || !r.eval_x) {
        fprintf(stderr, "digitd-train: out of memory\n");
        goto out;
    }
    if (r.val.count) { /* the seed picks the canvases' series: fixed, the same every run */
        r.val_canvas_px = malloc(r.val.count * TN_PIXELS);
        if (!r.val_canvas_px ||
            aug_canvas_set(r.val.pixels, r.val.count, 2, r.o.threads, r.val_canvas_px)) {
            fprintf(stderr, "digitd-train: out of memory drawing the validation canvases\n");
            goto out;
        }
        r.val_canvas = (struct dataset){r.val_canvas_px, r.val.labels, r.val.count};
    }
    tn_training_init(&r.training, r.o.lr, r.o.schedule, r.o.epochs, (long)steps_per_epoch(&r));
    const char *why = NULL;
    r.threads_running = tn_threads_running(r.o.threads, &why);
    if (r.threads_running < r.o.threads)
        fprintf(stderr,
                "digitd-train: warning: --threads %d, but only %d run (%s); the results are "
                "those of --threads %d, only slower\n",
                r.o.threads, r.threads_running, why, r.o.threads);
    fprintf(stderr,
            "digitd-train: %zu training, %zu validation, %zu test images from %s; %d epochs, "
            "batch %d, lr %g (%s), seed %" PRIu64 ", %d threads, augmentation %s (pen %.2f, of which marks %.2f, pencil %.2f, warped %.2f)\n",
            r.train.count, r.val.count, r.test.count, r.o.data, r.o.epochs, r.o.batch, r.o.lr,
            r.o.schedule == TN_LR_COSINE ? "cosine" : r.o.schedule == TN_LR_STEP ? "step"
                                                                                 : "constant",
            r.o.seed, r.threads_running, r.o.augment ? "on" : "off", r.o.augment ? r.o.pen_fraction : 0.0, r.o.mark_fraction,
            r.o.pencil_fraction, r.o.warp_fraction);
    rc = run_training(&r) ? 1 : 0;
out:
    tn_free(&r.net);
    free(r.best), free(r.x), free(r.y), free(r.order), free(r.eval_x), free(r.val_canvas_px);
    dg_idx_free_images(&ti), dg_idx_free_images(&ei), dg_idx_free_labels(&tl), dg_idx_free_labels(&el);
    for (int k = 0; k < MAX_EXTRA; k++)
        dg_idx_free_images(&xi[k]), dg_idx_free_labels(&xl[k]);
    return rc;
}
