/* engine_match: the compiled-in model through every kernel set this CPU supports, through
 * the runtime path dg_engine_run, and through the naive reference (engine_ref.h) must
 * agree to 1e-5 on random inputs and on MNIST test images; so must the features each kernel
 * set reports (dg_engine_forward_features) and the runtime path's run of the ops before them.
 * usage: engine_match MNIST_DIR [n_images] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engine.h"
#include "engine_isa.h"
#include "engine_ref.h"
#include "idx.h"
#include "parse.h"
#include "kernels_generic.h"

#define TOL 1e-5

struct isa {
    const char *name;
    void (*forward)(const float *, float *, float *);
};

static const struct isa isas[] = {
#ifdef DG_ENGINE_AVX512
    { "avx512", dg_engine_forward_avx512 },
#endif
#ifdef DG_ENGINE_X86
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

/* The features' reference: the runtime path on the ops before the first Dense. Returns
 * their count (0: the model has none, or more than room). */
static size_t run_features(const struct dg_model *m, const float *x, float *feat, size_t room,
                           float *scratch)
{
    struct dg_model head = *m;
    head.n_ops = 0;
    while (head.n_ops < m->n_ops && m->ops[head.n_ops].kind != DG_OP_DENSE)
        head.n_ops++;
    if (head.n_ops == m->n_ops)
        return 0;
    struct dg_shape in = m->ops[head.n_ops].in;
    size_t n = (size_t)in.h * (size_t)in.w * (size_t)in.c;
    if (n > room)
        return 0;
    head.n_out = (int)n;
    dg_engine_run(&head, x, feat, scratch);
    return n;
}

#define FEAT_ROOM DG_MAX_ACT_FLOATS

/* Checks one input. */
static void check(const struct dg_model *m, const float *x, float *scratch, const char *what)
{
    float ref[DG_N_CLASSES], run[DG_N_CLASSES], fast[DG_N_CLASSES];
    static float feat_ref[FEAT_ROOM], feat[FEAT_ROOM];
    size_t nf = run_features(m, x, feat_ref, FEAT_ROOM, scratch);
    CHECK(nf == dg_engine_features(), "%s: the engine reports %zu features, the model has %zu", what,
          dg_engine_features(), nf);
    int ref_ok = ref_model(m, x, ref) == 0;
    CHECK(ref_ok, "%s: the reference ran out of memory", what);
    if (!ref_ok)
        return;
    dg_engine_run(m, x, run, scratch);
    if (dg_model_adds_softmax(m)) {
        dg_softmax(ref, m->n_out);
        dg_softmax(run, m->n_out);
    }
    CHECK(max_diff(ref, run, m->n_out) <= TOL, "%s: dg_engine_run differs from the reference by %g",
          what, max_diff(ref, run, m->n_out));
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
        if (!dg_engine_isa_supported(isas[k].name))
            continue;
        isas[k].forward(x, fast, feat);
        CHECK(max_diff(ref, fast, m->n_out) <= TOL, "%s: %s differs from the reference by %g", what,
              isas[k].name, max_diff(ref, fast, m->n_out));
        CHECK(max_diff(feat_ref, feat, (int)nf) <= TOL, "%s: %s's features differ by %g", what,
              isas[k].name, max_diff(feat_ref, feat, (int)nf));
    }
    CHECK(dg_engine_forward_features(x, fast, feat, nf) == nf, "%s: feature count", what);
    CHECK(max_diff(feat_ref, feat, (int)nf) <= TOL, "%s: dg_engine_forward_features differs by %g",
          what, max_diff(feat_ref, feat, (int)nf));
    dg_engine_forward(x, fast);
    double sum = 0;
    for (int i = 0; i < m->n_out; i++)
        sum += fast[i];
    CHECK(fabs(sum - 1) <= 1e-4, "%s: probabilities sum to %g", what, sum);
}

int main(int argc, char **argv)
{
    const struct dg_model *m = dg_engine_model();
    char err[512];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    float x[DG_INPUT_PIXELS];
    int64_t n_img = 200;
    int tested = 0;
    if (argc < 2 || argc > 3 ||
        (argc == 3 && dg_parse_int("engine_match", "n_images", argv[2], 0, 10000, &n_img))) {
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
        check(m, x, scratch, "random input");
        tested++;
    }
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(scratch);
        return 1;
    }
    for (int n = 0; n < (int)n_img && (size_t)n < im.count; n++) {
        for (int i = 0; i < DG_INPUT_PIXELS; i++)
            x[i] = im.pixels[(size_t)n * DG_INPUT_PIXELS + i] / 255.0f;
        check(m, x, scratch, "MNIST image");
        tested++;
    }
    printf("%d inputs, kernel sets checked:", tested);
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++)
        if (dg_engine_isa_supported(isas[k].name))
            printf(" %s", isas[k].name);
    printf(" (dispatch picks %s), %d failures\n", dg_engine_isa(), failures);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    free(scratch);
    return failures ? 1 : 0;
}
