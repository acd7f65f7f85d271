/* main.c: digitd, the FastCGI worker pool (see pool.h for the process model, api.h for
 * the routes). Parses the command line and hands over to the master. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "input.h"
#include "parse.h"
#include "log.h"
#include "pool.h"
#include "verdict.h"

#ifndef DIGITD_VERSION
#define DIGITD_VERSION "dev"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: digitd [--listen unix:/path|host:port] [--workers N] [--backlog N]\n"
            "              [--max-requests N] [--request-timeout SEC] [--graceful-timeout SEC]\n"
            "              [--pid-file PATH] [--max-body BYTES] [--max-width PX]\n"
            "              [--max-height PX] [--keep-conn-idle SEC] [--header-timeout SEC]\n"
            "              [--version] [--help]\n"
            "FastCGI worker pool for handwritten digit recognition. Without --listen, fd 0\n"
            "must be a listening socket (spawn-fcgi). Signals: TERM/INT graceful stop,\n"
            "USR2 zero-downtime upgrade (re-executes this binary's path), USR1 ignored.\n"
            "A connection kept open by the web server (FCGI_KEEP_CONN) holds its child; it\n"
            "is closed after --keep-conn-idle seconds without a request (0: after each one).\n"
            "A connection that has not sent its whole FastCGI request within --header-timeout\n"
            "seconds is closed; it never holds a child meanwhile.\n"
            "Defaults: --workers <CPUs this process may run on> --backlog 1024\n"
            "          --request-timeout 30 --graceful-timeout 30 --max-body 2097152 (2 MiB)\n"
            "          --max-width 2048 --max-height 2048 --keep-conn-idle 5 --header-timeout 3.\n");
}

/* Integer option --<name> in [lo, hi] (parse.h says what is refused); sets *bad if not. */
static int64_t parse_num(const char *name, const char *s, int64_t lo, int64_t hi, int *bad)
{
    char opt[64];
    int64_t v = 0;
    snprintf(opt, sizeof opt, "--%s", name);
    if (dg_parse_int("digitd", opt, s, lo, hi, &v) != 0)
        *bad = 1;
    return v;
}

/* argv[0] made absolute without resolving symlinks, so USR2 re-executes whatever now sits
 * at that path (/proc/self/exe would still be the old, possibly deleted, file). */
static char *exe_path(const char *argv0)
{
    if (argv0[0] == '/')
        return strdup(argv0);
    if (strchr(argv0, '/')) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        size_t n = strlen(cwd) + strlen(argv0) + 2;
        char *s = malloc(n);
        if (s)
            snprintf(s, n, "%s/%s", cwd, argv0);
        return s;
    }
    const char *path = getenv("PATH");
    for (const char *d = path; d && *d;) {
        size_t dl = strcspn(d, ":");
        char buf[PATH_MAX];
        if (dl && snprintf(buf, sizeof buf, "%.*s/%s", (int)dl, d, argv0) < (int)sizeof buf &&
            access(buf, X_OK) == 0)
            return buf[0] == '/' ? strdup(buf) : exe_path(buf);
        d += dl + (d[dl] == ':');
    }
    return NULL;
}

/* One child per CPU this process may run on: the affinity mask, which taskset, cpusets and
 * container CPU limits set (sysconf's online count is the whole machine's). */
static int default_workers(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    else /* e.g. EINVAL: more CPUs than a cpu_set_t holds */
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (n < DG_MAX_WORKERS ? (int)n : DG_MAX_WORKERS) : 1;
}

enum { O_LISTEN = 256, O_WORKERS, O_BACKLOG, O_MAXREQ, O_REQTO, O_GRACE, O_PID, O_BODY, O_W,
       O_H, O_KEEPIDLE, O_HDRTO, O_VERSION, O_HELP };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN}, {"workers", required_argument, 0, O_WORKERS},
        {"backlog", required_argument, 0, O_BACKLOG},
        {"max-requests", required_argument, 0, O_MAXREQ},
        {"request-timeout", required_argument, 0, O_REQTO},
        {"graceful-timeout", required_argument, 0, O_GRACE},
        {"pid-file", required_argument, 0, O_PID}, {"max-body", required_argument, 0, O_BODY},
        {"max-width", required_argument, 0, O_W}, {"max-height", required_argument, 0, O_H},
        {"keep-conn-idle", required_argument, 0, O_KEEPIDLE},
        {"header-timeout", required_argument, 0, O_HDRTO},
        {"version", no_argument, 0, O_VERSION}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    struct dg_pool_config cfg = {.backlog = 1024, .request_timeout = 30, .graceful_timeout = 30,
                                 .keep_conn_idle = 5, .header_timeout = 3};
    cfg.workers = default_workers();
    cfg.api.max_body = 2u << 20; /* = client_max_body_size 2m in nginx.conf.example, README */
    dg_input_default_limits(&cfg.api.limits);
    struct dg_input_limits *lim = &cfg.api.limits;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *name = c >= O_LISTEN && c <= O_HELP ? opts[c - O_LISTEN].name : "";
        int bad = 0;
        switch (c) {
        case O_LISTEN: cfg.listen = optarg; break;
        case O_PID: cfg.pid_file = optarg; break;
        case O_WORKERS: cfg.workers = (int)parse_num(name, optarg, 1, DG_MAX_WORKERS, &bad); break;
        case O_BACKLOG: cfg.backlog = (int)parse_num(name, optarg, 1, INT_MAX, &bad); break;
        case O_MAXREQ: cfg.max_requests = (long)parse_num(name, optarg, 0, LONG_MAX, &bad); break;
        case O_REQTO: cfg.request_timeout = (int)parse_num(name, optarg, 0, 86400, &bad); break;
        case O_GRACE: cfg.graceful_timeout = (int)parse_num(name, optarg, 0, 86400, &bad); break;
        case O_BODY: cfg.api.max_body = (size_t)parse_num(name, optarg, 1, 1LL << 30, &bad); break;
        case O_W: lim->max_width = (uint32_t)parse_num(name, optarg, 1, DG_INPUT_MAX_SIDE, &bad); break;
        case O_H: lim->max_height = (uint32_t)parse_num(name, optarg, 1, DG_INPUT_MAX_SIDE, &bad); break;
        case O_KEEPIDLE: cfg.keep_conn_idle = (int)parse_num(name, optarg, 0, 86400, &bad); break;
        case O_HDRTO: cfg.header_timeout = (int)parse_num(name, optarg, 1, 3600, &bad); break;
        case O_VERSION:
            printf("digitd %s (model %s, %ld params, %s, not-a-digit detector %s, %s)\n",
                   DIGITD_VERSION, dg_engine_model()->name, dg_engine_model()->params,
                   dg_engine_isa(), dg_verdict_detector() ? "on" : "off: trained with another model",
                   dg_png_decoder());
            return 0;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "digitd: %s: unexpected argument\n", argv[optind]);
        return 2;
    }
    cfg.api.limits.max_pixels = (uint64_t)cfg.api.limits.max_width * cfg.api.limits.max_height;
    char *exe = exe_path(argv[0]);
    cfg.exe = exe;
    if (!exe) {
        fprintf(stderr, "digitd: %s: cannot find the executable's path\n", argv[0]);
        return 1;
    }
    cfg.argv = argv;
    if (!dg_verdict_detector()) /* a model the detector was not trained with: say so once */
        dg_log("verdict", "the not-a-digit detector was trained with another model: answers say "
                          "\"digit\" or \"unsure\" only (run digitd-verdict-train, README)");
    dg_input_heap_setup(); /* before the first child: they inherit it */
    int rc = dg_pool_run(&cfg);
    free(exe);
    return rc;
}
