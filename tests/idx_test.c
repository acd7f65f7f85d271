/* idx_test: the MNIST IDX reader on the real files, and on broken copies of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "idx.h"

#include "check.h"

/* Writes bytes as a gzip file (or plain when gz is 0). */
static void write_file(const char *path, const void *data, size_t n, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, data, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* Expects loading path as images (or labels) to fail with a message containing want. */
static void expect_error(const char *path, int images, const char *want)
{
    char err[512] = "";
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    int rc = images ? dg_idx_load_images(path, &im, err, sizeof err)
                    : dg_idx_load_labels(path, &lb, err, sizeof err);
    CHECK(rc == -1, "%s: loaded, expected an error about '%s'", path, want);
    CHECK(strstr(err, path) != NULL, "message does not name the file: %s", err);
    CHECK(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MNIST_DIR\n", argv[0]);
        return 2;
    }
    char ip[4096], lp[4096], err[512];
    snprintf(ip, sizeof ip, "%s/t10k-images-idx3-ubyte.gz", argv[1]);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte.gz", argv[1]);

    struct dg_idx_images im;
    struct dg_idx_labels lb;
    int rc = dg_idx_load_pair(ip, lp, &im, &lb, err, sizeof err);
    CHECK(rc == 0, "load: %s", err);
    if (rc != 0)
        return 1;
    CHECK(im.count == 10000 && im.rows == 28 && im.cols == 28, "t10k shape %zu x %d x %d",
          im.count, im.rows, im.cols);
    size_t hist[10] = {0};
    for (size_t i = 0; i < lb.count; i++)
        hist[lb.labels[i]]++;
    for (int d = 0; d < 10; d++)
        CHECK(hist[d] > 800 && hist[d] < 1200, "digit %d appears %zu times", d, hist[d]);
    /* The first t10k image is a 7 whose ink sits in the middle rows. */
    CHECK(lb.labels[0] == 7, "first label %d", lb.labels[0]);
    unsigned long ink = 0;
    for (int i = 0; i < 28 * 28; i++)
        ink += im.pixels[i];
    CHECK(ink > 10000 && im.pixels[0] == 0, "first image ink %lu corner %d", ink, im.pixels[0]);

    char dir[] = "/tmp/idx_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char p[4200];
    /* Plain (not gzip) copies load the same. */
    snprintf(p, sizeof p, "%s/plain-labels", dir);
    unsigned char hdr[8] = {0, 0, 8, 1, 0, 0, 0, 3};
    unsigned char small[11];
    memcpy(small, hdr, 8);
    memcpy(small + 8, lb.labels, 3);
    write_file(p, small, sizeof small, 0);
    struct dg_idx_labels lb2;
    CHECK(dg_idx_load_labels(p, &lb2, err, sizeof err) == 0 && lb2.count == 3 &&
              memcmp(lb2.labels, lb.labels, 3) == 0,
          "plain labels: %s", err);
    dg_idx_free_labels(&lb2);

    snprintf(p, sizeof p, "%s/truncated.gz", dir);
    write_file(p, "", 0, 1); /* an empty gzip member */
    expect_error(p, 1, "truncated");
    unsigned char trunc[16 + 100] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
    write_file(p, trunc, sizeof trunc, 1);
    expect_error(p, 1, "truncated");
    snprintf(p, sizeof p, "%s/swapped.gz", dir);
    write_file(p, small, sizeof small, 1);
    expect_error(p, 1, "bad magic");
    snprintf(p, sizeof p, "%s/badlabel", dir);
    small[9] = 12;
    write_file(p, small, sizeof small, 0);
    expect_error(p, 0, "not a digit");
    snprintf(p, sizeof p, "%s/trailing", dir);
    unsigned char longer[12];
    memcpy(longer, small, 11);
    longer[9] = 1;
    longer[11] = 5;
    write_file(p, longer, sizeof longer, 0);
    expect_error(p, 0, "trailing");
    snprintf(p, sizeof p, "%s/corrupt.gz", dir);
    FILE *f = fopen(ip, "rb");
    unsigned char head[4096];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    for (size_t i = 200; i < n; i += 7)
        head[i] ^= 0x5a;
    write_file(p, head, n, 0);
    expect_error(p, 1, "corrupt gzip");
    snprintf(p, sizeof p, "%s/missing.gz", dir);
    expect_error(p, 1, "No such file or directory");
    /* its own structs: loading into im/lb would drop (leak) the t10k buffers loaded above */
    struct dg_idx_images im3;
    struct dg_idx_labels lb3;
    CHECK(dg_idx_load_pair(ip, p, &im3, &lb3, err, sizeof err) == -1, "pair with missing labels");
    CHECK(im3.pixels == NULL && lb3.labels == NULL, "a failed pair left buffers behind");
    /* a directory is named as one, not reported as corrupt gzip data */
    expect_error(dir, 0, "is a directory");

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    dg_idx_free_images(&im);
    dg_idx_free_labels(&lb);
    printf("idx_test: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
