/* fuzz_jpeg.c: fuzz entry point for JPEG bytes -> 784 floats as the API runs it
 * (dg_image_decode: the marker walk, limits, libjpeg-turbo, EXIF orientation; then
 * dg_preprocess, the photo path included). Inputs that are not JPEGs go the PNG way, as
 * in the API. The plain program runs tests/corpus/jpeg with --check. */
#include "fuzz_main.h"
#include "input.h"
#include "jpeg.h"

const char dg_fuzz_name[] = "digitd-fuzz-jpeg";

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    float out[784];
    return dg_input_from_image(data, size, &lim, out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)dg_fuzz_classify(data, size);
    return 0;
}
