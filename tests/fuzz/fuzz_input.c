/* fuzz_input.c: fuzz entry point for the whole input path (PNG bytes -> 784 floats), as the
 * API runs it. A libFuzzer build compiles png.c with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION,
 * which turns off spng's CRC checks there: otherwise nearly every mutation dies at the CRC
 * and never reaches the decoder or the preprocessing. The plain program (fuzz_main.c) links
 * the production library, CRCs checked, so the corpus is tested as the server sees it. */
#include "fuzz_main.h"
#include "input.h"

const char dg_fuzz_name[] = "digitd-fuzz-input";

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    float out[784];
    return dg_input_from_png(data, size, &lim, out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    float out[784];
    struct dg_prep_info info;
    if (dg_input_from_png(data, size, &lim, out, &info) == DG_INPUT_OK) {
        uint8_t png[2048];
        (void)dg_png_encode_input(out, png, sizeof png);
    }
    return 0;
}
