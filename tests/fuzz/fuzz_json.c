/* fuzz_json.c: fuzz entry point for a JSON request body as api.c routes it: strict JSON
 * (dg_json_parse), then "strokes" (dg_strokes_from_json: read and checked, not drawn; the
 * strokes target draws them) or "imageData" (dg_image_from_json: the data URL and its
 * base64). The bytes themselves are also decoded as a data URL, so that the fuzzer reaches
 * the data URL's parsing without having to keep a JSON string valid around it. The image
 * bytes are not decoded: the input and jpeg targets do that. The plain program runs
 * tests/corpus/json with --check. */
#include <stdlib.h>

#include "data_url.h"
#include "fuzz_main.h"
#include "request.h"

const char dg_fuzz_name[] = "digitd-fuzz-json";

/* The dg_input_err for an HTTP status of dg_image_from_json. */
static int status_class(int status)
{
    switch (status) {
    case 0: return DG_INPUT_OK;
    case 415: return DG_INPUT_UNSUPPORTED;
    case 500: return DG_INPUT_NOMEM;
    default: return DG_INPUT_BAD_REQUEST;
    }
}

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    cJSON *root = dg_json_parse(data, size);
    if (!root)
        return DG_INPUT_BAD_REQUEST;
    int rc;
    if (cJSON_GetObjectItemCaseSensitive(root, "strokes")) {
        struct dg_stroke_request r;
        const char *why;
        rc = dg_strokes_from_json(root, &r, &why);
        dg_stroke_request_free(&r);
    } else {
        uint8_t *img;
        size_t len;
        const char *err;
        rc = status_class(dg_image_from_json(root, &img, &len, &err));
        free(img);
    }
    cJSON_Delete(root);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)dg_fuzz_classify(data, size);
    uint8_t *img;
    size_t len;
    const char *err;
    /* not NUL-terminated: the decoder must keep to url_len */
    if (dg_data_url_decode((const char *)data, size, &img, &len, &err) == 0 && len > size)
        abort(); /* base64 never decodes to more bytes than its text (a fuzz target's report) */
    free(img);
    return 0;
}
