/* idx.c: MNIST IDX reader. gzip or plain (zlib's gzread reads both transparently). */
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAX_COUNT 10000000u /* far above MNIST's 60000; bounds the allocation */
#define IDX_MAX_SIDE 1024u

static int fail(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s", path, what);
    return -1;
}

/* Reads exactly n bytes; distinguishes a short file from a corrupt gzip stream. */
static int read_exact(gzFile f, void *buf, size_t n, const char *path, char *err, size_t errlen)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            snprintf(err, errlen, "%s: %s (%s)", path,
                     zerr == Z_ERRNO ? "read error" : "corrupt gzip data", msg);
            return -1;
        }
        if (got == 0)
            return fail(err, errlen, path, "file is truncated (fewer bytes than its header says)");
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* open() then gzdopen(), not gzopen(): gzopen sets errno only when the open itself fails
 * (not when zlib cannot allocate its state), so its errno could be stale. Here open()
 * always sets errno on failure, a directory is refused by name (read() would fail later as
 * "corrupt gzip data"), and a NULL from gzdopen on a good descriptor and "rb" can only be
 * zlib out of memory. */
static gzFile open_idx(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot open (is a directory, not an IDX file)", path);
        close(fd);
        return NULL;
    }
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open (out of memory for zlib's state)", path);
        close(fd);
    }
    return f;
}

/* Reads the magic and checks it first (so a labels file given as images says so), then
 * the rest of the header: count, and for images rows and cols. */
static int read_header(gzFile f, uint32_t magic, uint32_t *words, int nwords, const char *path,
                       char *err, size_t errlen)
{
    unsigned char b[16];
    if (read_exact(f, b, 4, path, err, errlen) < 0)
        return -1;
    words[0] = be32(b);
    if (words[0] != magic) {
        snprintf(err, errlen, "%s: bad magic number 0x%08x (expected 0x%08x: MNIST %s file)", path,
                 words[0], magic, magic == IDX_MAGIC_IMAGES ? "idx3 images" : "idx1 labels");
        return -1;
    }
    if (read_exact(f, b + 4, 4u * (size_t)(nwords - 1), path, err, errlen) < 0)
        return -1;
    for (int i = 1; i < nwords; i++)
        words[i] = be32(b + 4 * i);
    if (words[1] == 0 || words[1] > IDX_MAX_COUNT)
        return fail(err, errlen, path, "implausible item count in header");
    return 0;
}

/* After the payload there must be nothing else. */
static int expect_eof(gzFile f, const char *path, char *err, size_t errlen)
{
    unsigned char extra;
    int got = gzread(f, &extra, 1);
    if (got < 0)
        return fail(err, errlen, path, "corrupt gzip data after the payload");
    if (got > 0)
        return fail(err, errlen, path, "trailing bytes after the items the header declares");
    return 0;
}

int dg_idx_load_images(const char *path, struct dg_idx_images *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    gzFile f = open_idx(path, err, errlen);
    if (!f)
        return -1;
    uint32_t h[4];
    int rc = read_header(f, IDX_MAGIC_IMAGES, h, 4, path, err, errlen);
    if (rc == 0 && (h[2] == 0 || h[3] == 0 || h[2] > IDX_MAX_SIDE || h[3] > IDX_MAX_SIDE))
        rc = fail(err, errlen, path, "implausible image dimensions in header");
    if (rc == 0) {
        /* count <= 1e7 and side <= 1024: the product fits size_t on 64-bit; check anyway. */
        size_t per = (size_t)h[2] * h[3];
        if (per != 0 && h[1] > SIZE_MAX / per)
            rc = fail(err, errlen, path, "image data size overflows");
        else if (!(out->pixels = malloc((size_t)h[1] * per)))
            rc = fail(err, errlen, path, "out of memory");
        else if ((rc = read_exact(f, out->pixels, (size_t)h[1] * per, path, err, errlen)) == 0)
            rc = expect_eof(f, path, err, errlen);
    }
    gzclose(f);
    if (rc < 0) {
        dg_idx_free_images(out);
        return -1;
    }
    out->count = h[1];
    out->rows = (int)h[2];
    out->cols = (int)h[3];
    return 0;
}

int dg_idx_load_labels(const char *path, struct dg_idx_labels *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    gzFile f = open_idx(path, err, errlen);
    if (!f)
        return -1;
    uint32_t h[2];
    int rc = read_header(f, IDX_MAGIC_LABELS, h, 2, path, err, errlen);
    if (rc == 0 && !(out->labels = malloc(h[1])))
        rc = fail(err, errlen, path, "out of memory");
    if (rc == 0)
        rc = read_exact(f, out->labels, h[1], path, err, errlen);
    if (rc == 0)
        rc = expect_eof(f, path, err, errlen);
    for (uint32_t i = 0; rc == 0 && i < h[1]; i++)
        if (out->labels[i] > 9) {
            snprintf(err, errlen, "%s: label %u at index %u is not a digit 0..9", path,
                     out->labels[i], i);
            rc = -1;
        }
    gzclose(f);
    if (rc < 0) {
        dg_idx_free_labels(out);
        return -1;
    }
    out->count = h[1];
    return 0;
}

void dg_idx_free_images(struct dg_idx_images *im)
{
    free(im->pixels);
    memset(im, 0, sizeof *im);
}

void dg_idx_free_labels(struct dg_idx_labels *lb)
{
    free(lb->labels);
    memset(lb, 0, sizeof *lb);
}

int dg_idx_load_pair(const char *images_path, const char *labels_path, struct dg_idx_images *im,
                     struct dg_idx_labels *lb, char *err, size_t errlen)
{
    if (dg_idx_load_images(images_path, im, err, errlen) < 0)
        return -1;
    if (dg_idx_load_labels(labels_path, lb, err, errlen) < 0) {
        dg_idx_free_images(im);
        return -1;
    }
    if (im->count != lb->count) {
        snprintf(err, errlen, "%s: %zu labels, but %s has %zu images", labels_path, lb->count,
                 images_path, im->count);
        dg_idx_free_images(im);
        dg_idx_free_labels(lb);
        return -1;
    }
    return 0;
}

int dg_idx_load_mnist(const char *dir, const char *set, struct dg_idx_images *im,
                      struct dg_idx_labels *lb, char *err, size_t errlen)
{
    char ip[4096], lp[4096];
    if (snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, set) >= (int)sizeof ip ||
        snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, set) >= (int)sizeof lp) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    return dg_idx_load_pair(ip, lp, im, lb, err, errlen);
}

const char *dg_mnist_dir(void)
{
    const char *d = getenv("MNIST_DIR");
    return d && *d ? d : "data/mnist";
}
