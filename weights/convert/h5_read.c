/* h5_read.c: checked libhdf5 reads of attributes and datasets (see h5_read.h). */
#include "h5_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h5r_has_attr(hid_t loc, const char *obj, const char *name)
{
    return H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0;
}

/* Opens loc/obj@name and checks it is a string with at most max elements. */
static hid_t open_string_attr(hid_t loc, const char *obj, const char *name, hid_t *ftype,
                              hssize_t *count, char *err, size_t errlen)
{
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) {
        snprintf(err, errlen, "attribute '%s' of '%s' is missing", name, obj);
        return -1;
    }
    hid_t sp = H5Aget_space(a);
    *count = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (sp >= 0)
        H5Sclose(sp);
    *ftype = H5Aget_type(a);
    if (*count < 0 || *count > H5R_MAX_STRINGS || *ftype < 0) {
        snprintf(err, errlen, "attribute '%s' of '%s' has an unreadable size", name, obj);
        if (*ftype >= 0)
            H5Tclose(*ftype);
        H5Aclose(a);
        return -1;
    }
    return a;
}

/* Reads n strings of attribute a (file type ft) into fresh copies in out[]. */
static int read_strings(hid_t a, hid_t ft, size_t n, char **out)
{
    int rc = -1;
    if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char **tmp = calloc(n, sizeof *tmp);
        if (tmp && H5Aread(a, mt, tmp) >= 0) {
            rc = 0;
            for (size_t i = 0; i < n; i++) {
                size_t len = tmp[i] ? strnlen(tmp[i], H5R_MAX_STRING) : 0;
                out[i] = len < H5R_MAX_STRING ? strndup(tmp[i] ? tmp[i] : "", len) : NULL;
                rc = out[i] ? rc : -1;
            }
            hid_t sp = H5Aget_space(a);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, tmp);
            H5Sclose(sp);
        }
        free(tmp);
        H5Tclose(mt);
        return rc;
    }
    size_t size = H5Tget_size(ft);
    if (size == 0 || size >= H5R_MAX_STRING || n > SIZE_MAX / (size + 1))
        return -1;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, size + 1);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    char *buf = calloc(n, size + 1);
    if (buf && H5Aread(a, mt, buf) >= 0) {
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            out[i] = strndup(buf + i * (size + 1), size);
            rc = out[i] ? rc : -1;
        }
    }
    free(buf);
    H5Tclose(mt);
    return rc;
}

int h5r_attr_strings(hid_t loc, const char *obj, const char *name, char ***out, int *n,
                     char *err, size_t errlen)
{
    hid_t ft;
    hssize_t count;
    *out = NULL;
    *n = 0;
    hid_t a = open_string_attr(loc, obj, name, &ft, &count, err, errlen);
    if (a < 0)
        return -1;
    int rc = 0;
    if (H5Tget_class(ft) != H5T_STRING) {
        /* Keras writes an empty float64 array for "no weights" */
        if (count != 0) {
            snprintf(err, errlen, "attribute '%s' of '%s' is not a list of names", name, obj);
            rc = -1;
        }
    } else if (count > 0) {
        char **s = calloc((size_t)count, sizeof *s);
        if (!s || read_strings(a, ft, (size_t)count, s)) {
            snprintf(err, errlen, "attribute '%s' of '%s' cannot be read", name, obj);
            h5r_free_strings(s, s ? (int)count : 0);
            rc = -1;
        } else {
            *out = s;
            *n = (int)count;
        }
    }
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int h5r_attr_string(hid_t loc, const char *obj, const char *name, char **out, char *err,
                    size_t errlen)
{
    char **s;
    int n;
    *out = NULL;
    if (h5r_attr_strings(loc, obj, name, &s, &n, err, errlen))
        return -1;
    if (n != 1) {
        snprintf(err, errlen, "attribute '%s' of '%s' is not a single string", name, obj);
        h5r_free_strings(s, n);
        return -1;
    }
    *out = s[0];
    free(s);
    return 0;
}

void h5r_free_strings(char **s, int n)
{
    for (int i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

int h5r_read_floats(hid_t loc, const char *path, int *rank, size_t dims[4], float **data,
                    char *err, size_t errlen)
{
    *data = NULL;
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0) {
        snprintf(err, errlen, "dataset '%s' is missing", path);
        return -1;
    }
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) {
        snprintf(err, errlen, "'%s' is not a dataset", path);
        return -1;
    }
    hid_t sp = H5Dget_space(d), ft = H5Dget_type(d);
    hsize_t hd[H5S_MAX_RANK];
    int r = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, hd, NULL);
    size_t n = 1;
    int rc = -1;
    if (r < 1 || r > 4 || H5Tget_class(ft) != H5T_FLOAT) {
        snprintf(err, errlen, "dataset '%s' is not a float array of rank 1..4", path);
        goto out;
    }
    for (int i = 0; i < r; i++) {
        dims[i] = (size_t)hd[i];
        if (hd[i] == 0 || hd[i] > H5R_MAX_FLOATS || n > H5R_MAX_FLOATS / hd[i]) {
            snprintf(err, errlen, "dataset '%s' is empty or larger than %u floats", path,
                     H5R_MAX_FLOATS);
            goto out;
        }
        n *= (size_t)hd[i];
    }
    *data = malloc(n * sizeof **data);
    if (!*data || H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0) {
        snprintf(err, errlen, "dataset '%s' cannot be read", path);
        free(*data);
        *data = NULL;
        goto out;
    }
    *rank = r;
    rc = 0;
out:
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return rc;
}
