/* keras_archive.c: a .keras archive's three members (see keras_archive.h). */
#include "keras_archive.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "h5_read.h"

/* Member name of z into a fresh NUL-terminated buffer (at most max bytes), or NULL with err
 * (missing, too large, unreadable). */
static char *read_member(zip_t *z, const char *path, const char *name, size_t max,
                         size_t *len, char *err, size_t errlen)
{
    zip_stat_t st;
    if (zip_stat(z, name, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        snprintf(err, errlen, "%s: a .keras archive without %s: saved by Keras 3's "
                              "model.save(\"model.keras\")?", path, name);
        return NULL;
    }
    if (st.size > max) {
        snprintf(err, errlen, "%s: its %s has %llu bytes, more than the %zu accepted", path,
                 name, (unsigned long long)st.size, max);
        return NULL;
    }
    char *buf = malloc((size_t)st.size + 1);
    zip_file_t *f = buf ? zip_fopen(z, name, 0) : NULL;
    zip_int64_t n = f ? zip_fread(f, buf, st.size) : -1;
    if (f)
        zip_fclose(f);
    if (n < 0 || (zip_uint64_t)n != st.size) {
        snprintf(err, errlen, "%s: cannot read its %s (corrupt archive or out of memory)", path,
                 name);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* model.weights.h5 into a temporary file (TMPDIR or /tmp), its path in ka. */
static int extract_weights(zip_t *z, const char *path, struct dg_keras_archive *ka, char *err,
                           size_t errlen)
{
    size_t len;
    char *w = read_member(z, path, "model.weights.h5", DG_ARCHIVE_MAX_WEIGHTS, &len, err,
                          errlen);
    const char *dir = getenv("TMPDIR");
    dir = dir && *dir ? dir : "/tmp";
    size_t n = strlen(dir) + 40;
    ka->weights_path = w ? malloc(n) : NULL;
    if (!ka->weights_path) {
        free(w);
        return -1;
    }
    snprintf(ka->weights_path, n, "%s/digitd-convert-XXXXXX", dir);
    int fd = mkstemp(ka->weights_path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int rc = f && fwrite(w, 1, len, f) == len ? 0 : -1;
    if (f ? fclose(f) != 0 : (fd >= 0 && close(fd) != 0))
        rc = -1;
    if (fd < 0) {
        free(ka->weights_path), ka->weights_path = NULL;
    }
    if (rc)
        snprintf(err, errlen, "%s: cannot write its model.weights.h5 to %s: %m", path, dir);
    free(w);
    return rc;
}

int dg_keras_archive_open(const char *path, struct dg_keras_archive *ka, char *err,
                          size_t errlen)
{
    int zerr = 0;
    size_t len;
    memset(ka, 0, sizeof *ka);
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z) {
        zip_error_t e;
        zip_error_init_with_code(&e, zerr);
        snprintf(err, errlen, "%s: looks like a .keras (zip) archive but libzip cannot read it "
                              "(%s)", path, zip_error_strerror(&e));
        zip_error_fini(&e);
        return -1;
    }
    char *meta = read_member(z, path, "metadata.json", H5R_MAX_STRING, &len, err, errlen);
    cJSON *m = meta ? cJSON_Parse(meta) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "keras_version");
    if (cJSON_IsString(v))
        ka->keras_version = strdup(v->valuestring);
    cJSON_Delete(m);
    free(meta);
    ka->config = read_member(z, path, "config.json", H5R_MAX_STRING, &len, err, errlen);
    int rc = ka->config && extract_weights(z, path, ka, err, errlen) == 0 ? 0 : -1;
    zip_discard(z);
    if (rc)
        dg_keras_archive_close(ka);
    return rc;
}

void dg_keras_archive_close(struct dg_keras_archive *ka)
{
    if (ka->weights_path)
        unlink(ka->weights_path);
    free(ka->weights_path), free(ka->config), free(ka->keras_version);
    memset(ka, 0, sizeof *ka);
}
