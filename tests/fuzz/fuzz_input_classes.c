/* fuzz_input_classes.c: the class names of the targets whose verdict is a dg_input_err
 * (input, preprocess, jpeg, strokes, json), in input.h's order. */
#include "fuzz_main.h"
#include "input.h"

const char *const dg_fuzz_classes[DG_INPUT_ERR_COUNT + 1] = {
    "ok", "empty", "not_png", "corrupt", "too_large", "nomem", "blank", "bad_request",
    "corrupt_jpeg", "unsupported", NULL,
};
