/* convert_roundtrip: the floats of a generated header are the .h5's, bit for bit.
 *   convert_roundtrip MODEL.h5   (compiled with that model's generated model_weights.h)
 * For every Conv2D/Dense op of the header, the datasets of its layer are found in the file
 * with libhdf5 alone (a walk of model_weights/<layer>, whatever the nesting: tf.keras's
 * <layer>/kernel:0, Keras 3's sequential/<layer>/kernel), read as float32 and compared with
 * the header's arrays by memcmp.  Only for models without a BatchNormalization folded into a
 * Conv2D/Dense (that changes their weights on purpose): tests/CMakeLists.txt picks them. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DG_MODEL_DEFINE_WEIGHTS
#include "check.h"
#include "model_weights.h"

struct found {
    hid_t group;
    char kernel[1024], bias[1024]; /* paths inside the group ("" if none) */
    int n_kernel, n_bias;
};

/* H5Lvisit callback: notes each dataset whose name starts "kernel" or "bias". */
static herr_t visit(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    struct found *f = data;
    (void)info;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    int is_dataset = o >= 0 && H5Iget_type(o) == H5I_DATASET;
    if (o >= 0)
        H5Oclose(o);
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (is_dataset && strncmp(base, "kernel", 6) == 0)
        f->n_kernel++, snprintf(f->kernel, sizeof f->kernel, "%s", name);
    else if (is_dataset && strncmp(base, "bias", 4) == 0)
        f->n_bias++, snprintf(f->bias, sizeof f->bias, "%s", name);
    return 0;
}

/* Dataset g/path as float32 equals want[n] byte for byte; 0 or a message and -1. */
static int same_floats(hid_t g, const char *layer, const char *path, const float *want,
                       size_t n)
{
    hid_t d = H5Dopen2(g, path, H5P_DEFAULT), s = d < 0 ? -1 : H5Dget_space(d);
    hssize_t count = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    float *got = count == (hssize_t)n ? malloc(n * sizeof *got) : NULL;
    int rc = -1;
    if (!got)
        fprintf(stderr, "%s/%s: %lld floats in the file, %zu in the header\n", layer, path,
                (long long)count, n);
    else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) < 0)
        fprintf(stderr, "%s/%s: cannot read\n", layer, path);
    else if (memcmp(got, want, n * sizeof *got) != 0)
        fprintf(stderr, "%s/%s: the header's floats differ from the file's\n", layer, path);
    else
        rc = 0;
    free(got);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* One Conv2D/Dense op against its layer's datasets; 0 or -1. */
static int check_op(hid_t file, const struct dg_op *op)
{
    const size_t oc = (size_t)op->out.c, nw = op->kind == DG_OP_CONV2D
                                                 ? (size_t)op->kh * op->kw * op->in.c * oc
                                                 : (size_t)op->in.h * op->in.w * op->in.c * oc;
    char group[1200];
    snprintf(group, sizeof group, "model_weights/%s", op->name);
    struct found f = {.group = H5Gopen2(file, group, H5P_DEFAULT)};
    if (f.group < 0 || H5Lvisit(f.group, H5_INDEX_NAME, H5_ITER_INC, visit, &f) < 0) {
        fprintf(stderr, "%s: no group %s\n", op->name, group);
        return -1;
    }
    int rc = 0;
    if (f.n_kernel != 1 || f.n_bias != (op->bias != NULL)) {
        fprintf(stderr, "%s: %d kernel and %d bias datasets, the header has %d and %d\n",
                op->name, f.n_kernel, f.n_bias, 1, op->bias != NULL);
        rc = -1;
    }
    if (rc == 0)
        rc = same_floats(f.group, op->name, f.kernel, op->weight, nw);
    if (rc == 0 && op->bias)
        rc = same_floats(f.group, op->name, f.bias, op->bias, oc);
    H5Gclose(f.group);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: convert_roundtrip MODEL.h5\n");
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 1;
    }
    int checked = 0;
    for (int i = 0; i < DG_MODEL_N_OPS; i++) {
        const struct dg_op *op = &dg_model_ops[i];
        if (op->kind != DG_OP_CONV2D && op->kind != DG_OP_DENSE)
            continue;
        CHECK(check_op(file, op) == 0, "%s: the header's weights are not the file's", op->name);
        checked++;
    }
    H5Fclose(file);
    CHECK(checked > 0, "%s: no Conv2D or Dense op to compare", argv[1]);
    printf("%s: %d Conv2D/Dense ops, %d failures\n", argv[1], checked, failures);
    return failures ? 1 : 0;
}
