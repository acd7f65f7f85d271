/* h5_read.h: the few libhdf5 reads the Keras loader needs, each checking types, ranks and
 * sizes before allocating.  Strings come either fixed-length (Keras <= 2.4) or variable-length
 * (tf.keras 2.13+, Keras 3); both are returned as malloc'd NUL-terminated copies. */
#ifndef DIGITD_H5_READ_H
#define DIGITD_H5_READ_H

#include <hdf5.h>
#include <stddef.h>

#define H5R_MAX_STRINGS 4096        /* entries of layer_names / weight_names we accept */
#define H5R_MAX_STRING (1u << 20)   /* bytes of one string attribute (model_config ~13 kB) */
#define H5R_MAX_FLOATS (64u << 20)  /* floats in one weight dataset */

/* 1 if loc/obj has attribute name. */
int h5r_has_attr(hid_t loc, const char *obj, const char *name);

/* Scalar (or one-element) string attribute -> *out (free()). 0 or -1 with err. */
int h5r_attr_string(hid_t loc, const char *obj, const char *name, char **out, char *err,
                    size_t errlen);

/* String-array attribute -> *out[*n] (h5r_free_strings). An empty numeric array, which Keras
 * writes for a layer without weights, gives *n = 0. 0 or -1 with err. */
int h5r_attr_strings(hid_t loc, const char *obj, const char *name, char ***out, int *n,
                     char *err, size_t errlen);
void h5r_free_strings(char **s, int n);

/* Float dataset -> *data (free()), its rank (<= 4) and dims. 0 or -1 with err. */
int h5r_read_floats(hid_t loc, const char *path, int *rank, size_t dims[4], float **data,
                    char *err, size_t errlen);

#endif
