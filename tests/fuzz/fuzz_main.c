/* fuzz_main.c: the plain-program driver shared by the fuzz targets (see fuzz_main.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_main.h"

#define MAX_FILE ((size_t)64 << 20)

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc(MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
    int bad = !buf || ferror(f) || n > MAX_FILE;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: %s\n", path,
                !buf ? "out of memory" : n > MAX_FILE ? "file too large" : "read error");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Expected code from the name's prefix, -1 if it names none. */
static int expected_class(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; dg_fuzz_classes[i]; i++) {
        size_t n = strlen(dg_fuzz_classes[i]);
        if (!strncmp(base, dg_fuzz_classes[i], n) && base[n] == '-')
            return i;
    }
    return -1;
}

static int n_classes(void)
{
    int n = 0;
    while (dg_fuzz_classes[n])
        n++;
    return n;
}

int main(int argc, char **argv)
{
    int check = argc > 1 && !strcmp(argv[1], "--check");
    if (argc < 2 + check) {
        fprintf(stderr, "usage: %s [--check] FILE...\n", dg_fuzz_name);
        return 2;
    }
    int failures = 0;
    for (int i = 1 + check; i < argc; i++) {
        size_t len = 0;
        uint8_t *data = read_file(argv[i], &len);
        if (!data) {
            failures++;
            continue;
        }
        LLVMFuzzerTestOneInput(data, len); /* the fuzz path itself must not crash */
        int rc = dg_fuzz_classify(data, len);
        free(data);
        if (rc < 0 || rc >= n_classes()) {
            fprintf(stderr, "%s: result %d is no class of %s\n", argv[i], rc, dg_fuzz_name);
            failures++;
            continue;
        }
        int want = check ? expected_class(argv[i]) : rc;
        printf("%s: %s\n", argv[i], dg_fuzz_classes[rc]);
        if (want < 0) {
            fprintf(stderr, "%s: name does not start with an expected class\n", argv[i]);
            failures++;
        } else if (want != rc) {
            fprintf(stderr, "%s: expected %s, got %s\n", argv[i], dg_fuzz_classes[want],
                    dg_fuzz_classes[rc]);
            failures++;
        }
    }
    return failures ? 1 : 0;
}
