/* keras_archive.h: Keras 3's .keras archive (model.save("x.keras")), read with libzip.
 *
 * The layout, from Keras 3's keras/src/saving/saving_lib.py (save_model, H5IOStore): a zip
 * holding metadata.json ({"keras_version": ..., "date_saved": ...}), config.json (the
 * model serialised as model.to_json() gives it) and model.weights.h5, whose groups are
 * layers/<layer name>/vars with one dataset per variable named "0", "1", ... in the order
 * of layer.weights (the same layout as Keras 3's .weights.h5 from save_weights).  libhdf5
 * reads a file, so model.weights.h5 is copied to a temporary file, removed on close. */
#ifndef DIGITD_KERAS_ARCHIVE_H
#define DIGITD_KERAS_ARCHIVE_H

#include <stddef.h>

#define DG_ARCHIVE_MAX_WEIGHTS (1ul << 30) /* bytes of model.weights.h5 we extract */

struct dg_keras_archive {
    char *config;         /* config.json, NUL-terminated */
    char *keras_version;  /* metadata.json's, or NULL */
    char *weights_path;   /* the temporary copy of model.weights.h5 */
};

/* Opens path, a .keras archive, into ka. 0, or -1 with "<path>: <problem>" in err. */
int dg_keras_archive_open(const char *path, struct dg_keras_archive *ka, char *err,
                          size_t errlen);

/* Removes the temporary file and frees ka (also after a failed open, or a zeroed ka). */
void dg_keras_archive_close(struct dg_keras_archive *ka);

#endif
