/* convert.c: digitd-convert, a Keras .h5 -> the C header compiled into digitd.
 *   digitd-convert MODEL.h5 [-o OUT.h] [--summary]
 * The header is written to OUT.h.tmp and renamed, so a failure never leaves a partial one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "header_emit.h"
#include "keras_load.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: digitd-convert MODEL.h5 [-o OUT.h] [--summary]\n"
               "Converts a Keras model saved with model.save(\"x.h5\") into the C header\n"
               "compiled into digitd (to stdout without -o). --summary prints the layers,\n"
               "their output shapes and parameters, and the engine ops they became.\n");
}

static int write_header(const char *out, const struct dg_keras_model *km)
{
    if (!out || strcmp(out, "-") == 0)
        return dg_header_write(stdout, km) || fflush(stdout) ? -1 : 0;
    size_t n = strlen(out) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp", out);
    FILE *f = fopen(tmp, "w");
    int rc = f ? dg_header_write(f, km) : -1;
    if (f && fclose(f))
        rc = -1;
    if (rc == 0 && rename(tmp, out))
        rc = -1;
    if (rc) {
        fprintf(stderr, "digitd-convert: %s: cannot write: %m\n", out);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"summary", no_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    int summary = 0, c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's': summary = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    struct dg_keras_model km;
    char err[1024];
    if (dg_keras_load(argv[optind], &km, err, sizeof err)) {
        fprintf(stderr, "digitd-convert: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (summary)
        dg_summary_print(stdout, &km);
    if (!summary || out)
        rc = write_header(out, &km);
    dg_keras_free(&km);
    return rc ? 1 : 0;
}
