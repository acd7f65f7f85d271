/* check_mnist.c: does the converted model read MNIST digits under its input scale?  A model
 * trained on raw 0..255 pixels and converted for 0..1 (or the reverse) still converts, and
 * then answers near chance: this catches it at build time (see check_mnist.h). */
#include "check_mnist.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "idx.h"

double dg_mnist_accuracy(const struct dg_model *m, const char *dir, size_t n, char *err,
                         size_t errlen)
{
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(dir, "t10k", &im, &lb, err, errlen))
        return -1;
    float *scratch = malloc(dg_engine_scratch_floats(m) * sizeof *scratch);
    size_t right = 0;
    n = n < im.count ? n : im.count;
    if (!scratch || im.rows * im.cols != m->input.h * m->input.w || m->n_out != 10 || n == 0) {
        snprintf(err, errlen, "%s: out of memory, or not 28x28 digits", dir);
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        float x[784], y[10];
        for (int p = 0; p < 784; p++)
            x[p] = im.pixels[i * 784 + (size_t)p] / 255.0f;
        dg_engine_run(m, x, y, scratch);
        int best = 0;
        for (int k = 1; k < 10; k++)
            best = y[k] > y[best] ? k : best;
        right += best == lb.labels[i];
    }
    free(scratch);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    return n ? (double)right / (double)n : -1;
}

int dg_check_mnist(const char *path, const struct dg_keras_opts *opts,
                   const struct dg_keras_model *km, const char *dir, FILE *report, char *err,
                   size_t errlen)
{
    static const char *others[] = {"unit", "raw", "1,0.1307,0.3081", "255,33.32,78.57",
                                   "-1,-1,1"};
    const double acc = dg_mnist_accuracy(&km->model, dir, DG_CHECK_DIGITS, err, errlen);
    double best = acc;
    char best_spec[96] = "";
    if (acc < 0)
        return -1;
    fprintf(report, "digitd-convert: --check-mnist: %.1f %% of the first %d MNIST test digits "
                    "right under input scale \"%s\"\n", 100 * acc, DG_CHECK_DIGITS,
            km->input_text);
    /* Within DG_CHECK_GAIN of every digit right, no other scale can gain that much: the
     * usual case, and the others' loads and runs are most of the check's time. */
    if (1 - acc < DG_CHECK_GAIN)
        return 0;
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        struct dg_input_spec in;
        struct dg_keras_opts o = *opts;
        struct dg_keras_model alt;
        if (strcmp(others[i], km->input_text) == 0 ||
            dg_input_spec_parse(others[i], &in, err, errlen))
            continue;
        o.input = &in;
        if (dg_keras_load_opts(path, &o, &alt, err, errlen))
            return -1;
        const double a = dg_mnist_accuracy(&alt.model, dir, DG_CHECK_DIGITS, err, errlen);
        dg_keras_free(&alt);
        if (a > best && 1 - a < (1 - acc) / 2 && a - acc >= DG_CHECK_GAIN)
            best = a, snprintf(best_spec, sizeof best_spec, "%s", others[i]);
    }
    if (!best_spec[0])
        return 0;
    fprintf(report,
            "\n*** WARNING: digitd-convert: %s gets %.1f %% of %d MNIST test digits right under "
            "input scale \"%s\" (%s)\n*** but %.1f %% under \"%s\": it was probably trained on "
            "other pixel values.\n*** Convert it with --input-scale %s (CMake: "
            "-DWEIGHTS_INPUT_SCALE=%s).\n\n",
            km->source, 100 * acc, DG_CHECK_DIGITS, km->input_text, km->input_from, 100 * best,
            best_spec, best_spec, best_spec);
    return 1;
}
