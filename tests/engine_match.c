/* engine_match: the compiled-in model through every kernel set this CPU supports, through
 * the runtime path dg_engine_run, and through the naive reference (engine_ref.h) must
 * agree to 1e-5 on random inputs and on MNIST test images.
 * usage: engine_match MNIST_DIR [n_images] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "engine_isa.h"
#include "engine_ref.h"
#include "idx.h"
#include "kernels_generic.h"

#define TOL 1e-5

struct isa {
    const char *name;
    void (*forward)(const float *, float *);
};

static const struct isa isas[] = {
#ifdef DG_ENGINE_X86
    { "avx512", dg_engine_forward_avx512 },
    { "avx2", dg_engine_forward_avx2 },
#endif
    { "generic", dg_engine_forward_generic },
};

static double max_diff(const float *a, const float *b, int n)
{
    double d = 0;
    for (int i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

/* Checks one input; returns the number of failures. */
static int check(const struct dg_model *m, const float *x, float *scratch, const char *what)
{
    float ref[DG_N_CLASSES], run[DG_N_CLASSES], fast[DG_N_CLASSES];
    int fails = 0;
    if (ref_model(m, x, ref) != 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    dg_engine_run(m, x, run, scratch);
    if (dg_model_adds_softmax(m)) {
        dg_softmax(ref, m->n_out);
        dg_softmax(run, m->n_out);
    }
    if (max_diff(ref, run, m->n_out) > TOL) {
        fprintf(stderr, "%s: dg_engine_run differs from the reference by %g\n", what,
                max_diff(ref, run, m->n_out));
        fails++;
    }
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
        if (!dg_engine_isa_supported(isas[k].name))
            continue;
        isas[k].forward(x, fast);
        if (max_diff(ref, fast, m->n_out) > TOL) {
            fprintf(stderr, "%s: %s differs from the reference by %g\n", what, isas[k].name,
                    max_diff(ref, fast, m->n_out));
            fails++;
        }
    }
    dg_engine_forward(x, fast);
    double sum = 0;
    for (int i = 0; i < m->n_out; i++)
        sum += fast[i];
    if (fabs(sum - 1) > 1e-4) {
        fprintf(stderr, "%s: probabilities sum to %g\n", what, sum);
        fails++;
    }
    return fails;
}

int main(int argc, char **argv)
{
    const struct dg_model *m = dg_engine_model();
    char err[512], ip[4096], lp[4096];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    float x[DG_INPUT_PIXELS];
    int fails = 0, n_img = argc > 2 ? atoi(argv[2]) : 200, tested = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: engine_match MNIST_DIR [n_images]\n");
        return 2;
    }
    float *scratch = malloc(dg_engine_scratch_floats(m) * sizeof *scratch);
    if (!scratch)
        return 1;
    srand(42);
    for (int t = 0; t < 20; t++) {
        for (int i = 0; i < DG_INPUT_PIXELS; i++)
            x[i] = (float)rand() / (float)RAND_MAX;
        fails += check(m, x, scratch, "random input");
        tested++;
    }
    snprintf(ip, sizeof ip, "%s/t10k-images-idx3-ubyte.gz", argv[1]);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte.gz", argv[1]);
    if (dg_idx_load_pair(ip, lp, &im, &lb, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(scratch);
        return 1;
    }
    for (int n = 0; n < n_img && (size_t)n < im.count; n++) {
        for (int i = 0; i < DG_INPUT_PIXELS; i++)
            x[i] = im.pixels[(size_t)n * DG_INPUT_PIXELS + i] / 255.0f;
        fails += check(m, x, scratch, "MNIST image");
        tested++;
    }
    printf("%d inputs, kernel sets checked:", tested);
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++)
        if (dg_engine_isa_supported(isas[k].name))
            printf(" %s", isas[k].name);
    printf(" (dispatch picks %s), %d failures\n", dg_engine_isa(), fails);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    free(scratch);
    return fails ? 1 : 0;
}
