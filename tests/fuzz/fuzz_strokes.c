/* fuzz_strokes.c: fuzz entry point for a stroke request's body, as the API runs it: strict
 * JSON parsing, the strokes read and checked against their limits, drawn and centred. A body
 * that is no JSON, or JSON without "strokes", is DG_INPUT_BAD_REQUEST. */
#include "fuzz_main.h"
#include "request.h"

const char dg_fuzz_name[] = "digitd-fuzz-strokes";

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    cJSON *root = dg_json_parse(data, size);
    if (!root || !cJSON_GetObjectItemCaseSensitive(root, "strokes")) {
        cJSON_Delete(root);
        return DG_INPUT_BAD_REQUEST;
    }
    struct dg_stroke_request r;
    const char *why;
    int rc = dg_strokes_from_json(root, &r, &why);
    cJSON_Delete(root);
    float out[784];
    if (rc == DG_INPUT_OK)
        rc = dg_strokes_to_input(&r.s, out);
    dg_stroke_request_free(&r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)dg_fuzz_classify(data, size);
    return 0;
}
