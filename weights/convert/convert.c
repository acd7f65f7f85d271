/* convert.c: digitd-convert, a Keras .h5 -> the C header compiled into digitd.
 *   digitd-convert MODEL.h5 [-o OUT.h] [--summary] [--input-scale SPEC] [--check-mnist DIR]
 * The header is written to a unique OUT.h.XXXXXX and renamed, so a failure never leaves a
 * partial one and concurrent conversions do not clash.
 * libhdf5 (1.10, Debian 12's) trusts some of a file's internal structures: a damaged or
 * hostile .h5 can crash it or make it loop (tests/fuzz/README.md). So the conversion runs in
 * a child process with a time limit on reading the file: such a file gets a message naming
 * it, not a crash or a build that never ends. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parse.h"

#include "check_mnist.h"
#include "header_emit.h"
#include "keras_load.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: digitd-convert MODEL.h5 [-o OUT.h] [--summary] [--input-scale SPEC]\n"
               "                      [--check-mnist DIR] [--config MODEL.json] [--load-timeout S]\n"
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
               "MODEL.h5 (model.save_weights, tf.keras or Keras 3's .weights.h5).\n"
               "--load-timeout S: give up reading MODEL.h5 after S seconds (default 60).\n");
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

struct job {
    const char *model, *out, *mnist;
    int summary;
    unsigned load_seconds;
    struct dg_keras_opts kopts;
};

/* The conversion itself; 0 or 1. Reading the file is bounded by SIGALRM, whose default
 * action ends the process: only ever run in the child. */
static int convert(struct job *j)
{
    char err[1024];
    struct dg_keras_model km;
    alarm(j->load_seconds);
    int bad = dg_keras_load_opts(j->model, &j->kopts, &km, err, sizeof err);
    alarm(0);
    if (bad) {
        fprintf(stderr, "digitd-convert: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (j->mnist && dg_check_mnist(j->model, &j->kopts, &km, j->mnist, stderr, err, sizeof err) < 0) {
        fprintf(stderr, "digitd-convert: --check-mnist: %s\n", err);
        rc = -1;
    }
    if (rc == 0 && j->summary)
        dg_summary_print(stdout, &km);
    if (rc == 0 && (!j->summary || j->out))
        rc = write_header(j->out, &km);
    dg_keras_free(&km);
    if (fflush(stdout) != 0)
        rc = -1;
    return rc ? 1 : 0;
}

/* Runs convert in a child and says what ended it if it did not end by itself. */
static int convert_guarded(struct job *j)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "digitd-convert: cannot fork (%m): converting %s unguarded\n", j->model);
        return convert(j);
    }
    if (pid == 0)
        _exit(convert(j));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "digitd-convert: waitpid: %m\n");
            return 1;
        }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (sig == SIGALRM)
        fprintf(stderr, "digitd-convert: %s: reading it did not finish in %u s (libhdf5 may loop "
                "on a damaged file; --load-timeout gives a huge one longer); nothing written\n",
                j->model, j->load_seconds);
    else
        fprintf(stderr, "digitd-convert: %s: the conversion crashed (%s): the file is damaged, "
                "or not an HDF5 file libhdf5 reads safely; nothing written\n", j->model,
                sig ? strsignal(sig) : "stopped");
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"summary", no_argument, 0, 's'},
                                         {"input-scale", required_argument, 0, 'i'},
                                         {"check-mnist", required_argument, 0, 'm'},
                                         {"config", required_argument, 0, 'c'},
                                         {"load-timeout", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct job j = {.load_seconds = 60};
    int c;
    char err[1024];
    struct dg_input_spec input;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': j.out = optarg; break;
        case 's': j.summary = 1; break;
        case 'm': j.mnist = optarg; break;
        case 'c': j.kopts.config = optarg; break;
        case 't': {
            int64_t v;
            if (dg_parse_int("digitd-convert", "--load-timeout", optarg, 1, 86400, &v))
                return 2;
            j.load_seconds = (unsigned)v;
            break;
        }
        case 'i':
            if (dg_input_spec_parse(optarg, &input, err, sizeof err)) {
                fprintf(stderr, "digitd-convert: %s\n", err);
                return 2;
            }
            j.kopts.input = &input;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    j.model = argv[optind];
    return convert_guarded(&j);
}
