/* convert.c: digitd-convert, a Keras .h5 -> the C header compiled into digitd.
 *   digitd-convert MODEL.h5 [-o OUT.h] [--summary] [--input-scale SPEC] [--check-mnist DIR]
 * The header is written to a unique OUT.h.XXXXXX and renamed, so a failure never leaves a
 * partial one and concurrent conversions do not clash. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_mnist.h"
#include "header_emit.h"
#include "keras_load.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: digitd-convert MODEL.h5 [-o OUT.h] [--summary] [--input-scale SPEC]\n"
               "                      [--check-mnist DIR] [--config MODEL.json]\n"
               "Converts a Keras model saved with model.save(\"x.h5\") into the C header\n"
               "compiled into digitd (to stdout without -o). --summary prints the layers,\n"
               "their output shapes and parameters, and the engine ops they became.\n"
               "--input-scale: what the model was trained on, for the service's pixels p in\n"
               "0..1 (0 background, 1 ink): unit (p, the default), raw (p * 255, pixels\n"
               "0..255), S (p * S) or S,MEAN,STD ((p * S - MEAN) / STD); folded into the\n"
               "first layer. A model that begins with a Rescaling layer defaults to raw.\n"
               "--check-mnist DIR: run the model on MNIST test digits from DIR under its\n"
               "input scale and warn, naming a better one, if another scale does far better.\n"
               "--config MODEL.json: the architecture (model.to_json()) of a weights-only\n"
               "MODEL.h5 (model.save_weights, tf.keras or Keras 3's .weights.h5).\n");
}

/* OUT.h.XXXXXX beside OUT.h, unique (mkstemp), so concurrent builds writing the same
 * header never share a temporary file; renamed over OUT.h when complete. */
static int write_header(const char *out, const struct dg_keras_model *km)
{
    if (!out || strcmp(out, "-") == 0)
        return dg_header_write(stdout, km) || fflush(stdout) ? -1 : 0;
    size_t n = strlen(out) + 8;
    char *tmp = malloc(n);
    if (!tmp) {
        fprintf(stderr, "digitd-convert: %s: out of memory\n", out);
        return -1;
    }
    snprintf(tmp, n, "%s.XXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "digitd-convert: %s: cannot create a temporary file beside it: %m\n",
                out);
        free(tmp);
        return -1;
    }
    mode_t mask = umask(0); /* mkstemp makes it 0600; a header is as readable as any file */
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    int rc = f ? dg_header_write(f, km) : -1;
    if (f ? fclose(f) != 0 : close(fd) != 0)
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
                                         {"input-scale", required_argument, 0, 'i'},
                                         {"check-mnist", required_argument, 0, 'm'},
                                         {"config", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *mnist = NULL;
    int summary = 0, c;
    char err[1024];
    struct dg_input_spec input;
    struct dg_keras_opts kopts = {0};
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's': summary = 1; break;
        case 'm': mnist = optarg; break;
        case 'c': kopts.config = optarg; break;
        case 'i':
            if (dg_input_spec_parse(optarg, &input, err, sizeof err)) {
                fprintf(stderr, "digitd-convert: %s\n", err);
                return 2;
            }
            kopts.input = &input;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    struct dg_keras_model km;
    if (dg_keras_load_opts(argv[optind], &kopts, &km, err, sizeof err)) {
        fprintf(stderr, "digitd-convert: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (mnist && dg_check_mnist(argv[optind], &kopts, &km, mnist, stderr, err, sizeof err) < 0) {
        fprintf(stderr, "digitd-convert: --check-mnist: %s\n", err);
        rc = -1;
    }
    if (rc == 0 && summary)
        dg_summary_print(stdout, &km);
    if (rc == 0 && (!summary || out))
        rc = write_header(out, &km);
    dg_keras_free(&km);
    return rc ? 1 : 0;
}
