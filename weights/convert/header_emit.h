/* header_emit.h: write a loaded model as the C header the engine compiles in. */
#ifndef DIGITD_HEADER_EMIT_H
#define DIGITD_HEADER_EMIT_H

#include <stdio.h>

#include "keras_load.h"

/* Writes the header for km to f: provenance comment, DG_MODEL_* constants, the weights as
 * hex-float arrays (exact), the op table and its X-macro. Same model, same bytes.
 * Returns 0 or -1 (write error: check ferror). */
int dg_header_write(FILE *f, const struct dg_keras_model *km);

/* Keras-like summary: layer (type), output shape, parameters, total; then the engine ops. */
void dg_summary_print(FILE *f, const struct dg_keras_model *km);

#endif
