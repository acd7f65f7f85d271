/* keras_h5.c: kh5_write, a model in the layout tf.keras 2.x model.save("x.h5") writes
 * (see keras_h5.h; compare `h5dump -A` of the tf.keras 2.15 file in ../shared/keras-models). */
#include "keras_h5.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A scalar variable-length string attribute, as h5py writes a Python str. */
static int attr_str(hid_t loc, const char *name, const char *value, H5T_cset_t cset)
{
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, cset);
    hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, &value) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s), H5Tclose(t);
    return rc;
}

/* A list of names (ASCII, as h5py stores tf.keras's byte strings); Keras writes an empty
 * float64 array, not an empty string array. */
static int attr_str_array(hid_t loc, const char *name, const char **values, hsize_t n)
{
    hid_t s = H5Screate_simple(1, &n, NULL), t;
    if (n == 0) {
        t = H5Tcopy(H5T_IEEE_F64LE);
    } else {
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_ASCII);
    }
    hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || (n > 0 && H5Awrite(a, t, values) < 0) ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s), H5Tclose(t);
    return rc;
}

static int write_dataset(hid_t g, const struct kh5_weight *w)
{
    hsize_t dims[4];
    if (w->rank < 1 || w->rank > 4 || !w->data)
        return -1;
    for (int d = 0; d < w->rank; d++)
        dims[d] = w->dims[d];
    hid_t s = H5Screate_simple(w->rank, dims, NULL);
    hid_t ds = H5Dcreate2(g, w->name, H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w->data) < 0;
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(s);
    return rc ? -1 : 0;
}

/* model_weights/<layer>/<layer>/<weight> and the layer's weight_names, in order. */
static int write_layer(hid_t mw, const struct kh5_layer *l)
{
    const int n = l->n_weights;
    hid_t g = H5Gcreate2(mw, l->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || n < 0)
        return -1;
    char **names = n ? calloc((size_t)n, sizeof *names) : NULL;
    int rc = n && !names ? -1 : 0;
    hid_t inner = n && rc == 0 ? H5Gcreate2(g, l->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (n && inner < 0)
        rc = -1;
    for (int i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(l->name) + strlen(l->weights[i].name) + 2;
        names[i] = malloc(len);
        if (!names[i])
            rc = -1;
        else
            snprintf(names[i], len, "%s/%s", l->name, l->weights[i].name);
        rc = rc ? rc : write_dataset(inner, &l->weights[i]);
    }
    if (inner >= 0)
        H5Gclose(inner);
    if (rc == 0)
        rc = attr_str_array(g, "weight_names", (const char **)names, (hsize_t)n);
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    H5Gclose(g);
    return rc;
}

static int write_all(hid_t f, const char *json, const char *training_json, const char *version,
                     const struct kh5_layer *layers, int n_layers)
{
    const char **names = calloc((size_t)n_layers + 1, sizeof *names);
    if (!names)
        return -1;
    for (int i = 0; i < n_layers; i++)
        names[i] = layers[i].name;
    int rc = attr_str(f, "backend", "tensorflow", H5T_CSET_UTF8) ||
             attr_str(f, "keras_version", version, H5T_CSET_UTF8) ||
             attr_str(f, "model_config", json, H5T_CSET_ASCII) ||
             (training_json && attr_str(f, "training_config", training_json, H5T_CSET_ASCII));
    hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    /* tf.keras 2.x: the root's strings are UTF-8, model_weights' ASCII (h5dump -A shows it) */
    rc = rc || mw < 0 || attr_str(mw, "backend", "tensorflow", H5T_CSET_ASCII) ||
         attr_str(mw, "keras_version", version, H5T_CSET_ASCII) ||
         attr_str_array(mw, "layer_names", names, (hsize_t)n_layers);
    for (int i = 0; i < n_layers && !rc; i++)
        rc = write_layer(mw, &layers[i]);
    if (!rc) { /* tf.keras >= 2.13 adds it, outside layer_names */
        struct kh5_layer top = {"top_level_model_weights", 0, NULL};
        rc = write_layer(mw, &top);
    }
    if (mw >= 0)
        H5Gclose(mw);
    free(names);
    return rc ? -1 : 0;
}

/* errno's text, or a stand-in when the library that failed set none (HDF5 sets it only
 * when a system call fails; errno is cleared before each step so it is never stale). */
static const char *reason(int e, const char *otherwise)
{
    return e ? strerror(e) : otherwise;
}

int kh5_write_compiled(const char *path, const char *model_config_json,
                       const char *training_config_json, const char *keras_version,
                       const struct kh5_layer *layers, int n_layers, char *err, size_t errlen)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp || n_layers < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(tmp);
        return -1;
    }
    snprintf(tmp, len, "%s.tmp%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    errno = 0;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, errlen,
                 "%s: cannot write the model: creating the temporary file %s failed (%s)", path,
                 tmp, reason(errno, "HDF5 gave no system error"));
        free(tmp);
        return -1;
    }
    errno = 0;
    int rc = write_all(f, model_config_json, training_config_json, keras_version, layers, n_layers);
    if (H5Fclose(f) < 0) /* flushes: a full disk shows here */
        rc = -1;
    if (rc) {
        snprintf(err, errlen,
                 "%s: cannot write the model: writing the temporary file %s failed (%s)", path,
                 tmp, reason(errno, "HDF5 error"));
    } else if (rename(tmp, path)) {
        snprintf(err, errlen, "%s: cannot write the model: renaming %s to it failed (%s)", path,
                 tmp, strerror(errno));
        rc = -1;
    }
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

int kh5_write(const char *path, const char *model_config_json, const char *keras_version,
              const struct kh5_layer *layers, int n_layers, char *err, size_t errlen)
{
    return kh5_write_compiled(path, model_config_json, NULL, keras_version, layers, n_layers, err,
                              errlen);
}
