/* idx.h: MNIST IDX files (images idx3, labels idx1), plain or gzip-compressed (zlib).
 * Every check failure returns -1 with a message naming the file and the problem in err. */
#ifndef DIGITD_IDX_H
#define DIGITD_IDX_H

#include <stddef.h>
#include <stdint.h>

struct dg_idx_images {
    uint8_t *pixels; /* count * rows * cols bytes, row-major, 0 = background, 255 = ink */
    size_t count;
    int rows, cols;
};

struct dg_idx_labels {
    uint8_t *labels; /* count values, each 0..9 */
    size_t count;
};

int dg_idx_load_images(const char *path, struct dg_idx_images *out, char *err, size_t errlen);
int dg_idx_load_labels(const char *path, struct dg_idx_labels *out, char *err, size_t errlen);
void dg_idx_free_images(struct dg_idx_images *im);
void dg_idx_free_labels(struct dg_idx_labels *lb);

/* Loads a matching images/labels pair and checks that the counts agree. */
int dg_idx_load_pair(const char *images_path, const char *labels_path, struct dg_idx_images *im,
                     struct dg_idx_labels *lb, char *err, size_t errlen);

/* One of MNIST's two sets in dir: set "train" (60,000) or "t10k" (10,000), the names the
 * MNIST files have (<set>-images-idx3-ubyte.gz, <set>-labels-idx1-ubyte.gz). */
int dg_idx_load_mnist(const char *dir, const char *set, struct dg_idx_images *im,
                      struct dg_idx_labels *lb, char *err, size_t errlen);

/* The MNIST directory: $MNIST_DIR if set, else "data/mnist" (scripts/fetch-mnist.sh fills it). */
const char *dg_mnist_dir(void);

#endif
