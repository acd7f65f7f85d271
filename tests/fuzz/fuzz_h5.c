/* fuzz_h5.c: fuzz entry point for digitd-convert's Keras .h5 loader: HDF5 file bytes, opened
 * from memory (dg_keras_load_image, libhdf5's core driver), read as model_config JSON,
 * weights and layers into ops. libhdf5 is Debian's, not instrumented: it parses the file's
 * structure, and a crash inside it is a libhdf5 finding (tests/fuzz/README.md says which
 * were found). The plain program runs tests/corpus/h5 with --check. */
#include "fuzz_main.h"
#include "keras_load.h"

const char dg_fuzz_name[] = "digitd-fuzz-h5";

const char *const dg_fuzz_classes[] = {"ok", "refused", NULL};

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    struct dg_keras_model km;
    char err[1024];
    if (dg_keras_load_image(data, size, "fuzz.h5", NULL, &km, err, sizeof err) != 0)
        return 1;
    dg_keras_free(&km);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)dg_fuzz_classify(data, size);
    return 0;
}
