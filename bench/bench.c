/* digitd-bench: load-tests digitd with real handwritten digits and checks every answer.
 *
 *   digitd-bench [URL]                    HTTP/1.1 keep-alive (normally nginx in front)
 *   digitd-bench --fcgi unix:/path|h:p    FastCGI straight to the pool
 *   digitd-bench --engine                 decode, preprocess and inference alone, in-process
 *
 * Output: answers/s, latency percentiles, errors by kind (wrong digits included), accuracy
 * under load and at rest, and mismatches: answers whose digit differs from the in-process
 * engine's for the same payload (accuracy under load equals accuracy at rest only if that
 * is 0). --json for scripts. Exit status 1 on failed requests or mismatches
 * (--fail-on-error) or low accuracy (--min-accuracy), 2 on bad usage. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "idx.h"
#include "input.h"
#include "parse.h"

struct options {
    const char *url, *fcgi, *path, *mnist, *dir, *unipen, *isa;
    int engine, json_out, allow_remote, fail_on_error, progress, rounds, body_json, at_rest;
    int no_noise;
    enum dg_render_style style;
    double min_accuracy;
    struct bench_load_opts load;
    size_t count;
    uint64_t seed;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: digitd-bench [URL] [options]\n"
            "       digitd-bench --fcgi unix:/path|host:port [--path /api/predict] [options]\n"
            "       digitd-bench --engine [--rounds N] [--isa NAME] [payload options]\n"
            "load (stops by itself):\n"
            "  URL                    default http://127.0.0.1:8080/api/predict\n"
            "  --duration S           seconds, at most %d; default %d, or %d with --requests\n"
            "  --requests N           at most %ld (the run also ends at --duration)\n"
            "  --connections N        1..%d, default 8 (one request in flight on each)\n"
            "  --threads N            1..%d, default 1\n"
            "  --timeout S            per request, at most %d, default 5\n"
            "  --allow-remote         allow a non-loopback host\n"
            "payloads (labels known, every answer checked):\n"
            "  --mnist DIR            MNIST IDX dir (default $MNIST_DIR, else data/mnist)\n"
            "  --dir DIR              PNG/JPEG files instead; label from '7_x.png' or 'label-7/'\n"
            "  --unipen FILE          digits written with a pen instead (UNIPEN text, y up: UCI's\n"
            "                         pendigits-orig files), drawn 200 px tall on the page's 280\n"
            "                         px square with its 20 px pen; --body strokes sends them as\n"
            "                         the page does, png the page's PNG of them\n"
            "  --count N              distinct payloads, 1..%d, default 2000\n"
            "  --seed N               renderer series, default 1\n"
            "  --style scan|pen|mix|world   rendered strokes: the scan's own (default), its\n"
            "                         path with one round pen width as a browser draws, both,\n"
            "                         or the world-styles set (pen, with the marks people add:\n"
            "                         slashed zeros, flagged ones, crossed sevens, hooked nines,\n"
            "                         taps; pencil)\n"
            "  --body png|json|strokes  image/png (default), {\"imageData\": data URL}, or\n"
            "                         the pen-style digits as {\"strokes\": ...} (--style pen)\n"
            "  --no-noise             no browser read-back noise in rendered payloads (by\n"
            "                         default a third carry it, as privacy-hardened browsers\n"
            "                         add it; it makes those PNGs ~30x larger)\n"
            "  --no-at-rest           skip the in-process accuracy at rest\n"
            "in-process (--engine):\n"
            "  --rounds N             timed passes over the payloads, 1..1000, default 20\n"
            "  --isa NAME             the engine's kernel set, avx512, avx2 or generic (default\n"
            "                         the widest this CPU runs): what a smaller CPU would get\n"
            "output:\n"
            "  --json                 machine-readable summary on stdout\n"
            "  --no-progress          no live line on stderr\n"
            "  --fail-on-error        exit 1 if any request failed or any answer differs from\n"
            "                         the in-process answer for the same payload (not for\n"
            "                         wrong digits: the model is not perfect)\n"
            "  --min-accuracy PCT     exit 1 if accuracy is below PCT\n"
            "requests/s counts valid answers; failed requests are reported apart. The payloads\n"
            "are drawn, and classified at rest, on all cores (OMP_NUM_THREADS) before the load.\n",
            BENCH_MAX_DURATION_S, BENCH_DEFAULT_DURATION_S, BENCH_DEFAULT_REQUESTS_DURATION_S,
            BENCH_MAX_REQUESTS, BENCH_MAX_CONNECTIONS, BENCH_MAX_THREADS, BENCH_MAX_TIMEOUT_S,
            BENCH_MAX_COUNT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    enum { O_FCGI = 256, O_PATH, O_ENGINE, O_DUR, O_REQ, O_CONN, O_THR, O_TMO, O_REMOTE,
           O_MNIST, O_DIR, O_UNIPEN, O_COUNT, O_SEED, O_BODY, O_NOISE, O_STYLE, O_NOREST, O_JSON, O_NOPROG, O_FAIL,
           O_MINACC, O_ROUNDS, O_ISA, O_HELP };
    static const struct option lo[] = {
        {"fcgi", 1, 0, O_FCGI},          {"path", 1, 0, O_PATH},
        {"engine", 0, 0, O_ENGINE},      {"duration", 1, 0, O_DUR},
        {"requests", 1, 0, O_REQ},       {"connections", 1, 0, O_CONN},
        {"threads", 1, 0, O_THR},        {"timeout", 1, 0, O_TMO},
        {"allow-remote", 0, 0, O_REMOTE}, {"mnist", 1, 0, O_MNIST},
        {"dir", 1, 0, O_DIR},            {"unipen", 1, 0, O_UNIPEN},
        {"count", 1, 0, O_COUNT},
        {"seed", 1, 0, O_SEED},          {"body", 1, 0, O_BODY},
        {"no-noise", 0, 0, O_NOISE},     {"style", 1, 0, O_STYLE},
        {"no-at-rest", 0, 0, O_NOREST},
        {"json", 0, 0, O_JSON},
        {"no-progress", 0, 0, O_NOPROG}, {"fail-on-error", 0, 0, O_FAIL},
        {"min-accuracy", 1, 0, O_MINACC}, {"rounds", 1, 0, O_ROUNDS}, {"isa", 1, 0, O_ISA},
        {"help", 0, 0, O_HELP},          {0, 0, 0, 0},
    };
    static const char *const me = "digitd-bench";
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        int bad = 0;
        int64_t n = 0; /* an integer option's value, assigned only when it parsed */
        switch (c) {
        case O_FCGI: o->fcgi = optarg; break;
        case O_PATH: o->path = optarg; break;
        case O_ENGINE: o->engine = 1; break;
        case O_DUR: bad = dg_parse_double(me, "--duration", optarg, 0.1, BENCH_MAX_DURATION_S, &o->load.duration_s); break;
        case O_REQ: bad = dg_parse_int(me, "--requests", optarg, 1, BENCH_MAX_REQUESTS, &n); o->load.requests = (long)n; break;
        case O_CONN: bad = dg_parse_int(me, "--connections", optarg, 1, BENCH_MAX_CONNECTIONS, &n); o->load.connections = (int)n; break;
        case O_THR: bad = dg_parse_int(me, "--threads", optarg, 1, BENCH_MAX_THREADS, &n); o->load.threads = (int)n; break;
        case O_TMO: bad = dg_parse_double(me, "--timeout", optarg, 0.001, BENCH_MAX_TIMEOUT_S, &o->load.timeout_s); break;
        case O_REMOTE: o->allow_remote = 1; break;
        case O_MNIST: o->mnist = optarg; break;
        case O_DIR: o->dir = optarg; break;
        case O_UNIPEN: o->unipen = optarg; break;
        case O_COUNT: bad = dg_parse_int(me, "--count", optarg, 1, BENCH_MAX_COUNT, &n); o->count = (size_t)n; break;
        case O_SEED: bad = dg_parse_u64(me, "--seed", optarg, &o->seed); break;
        case O_BODY:
            if (strcmp(optarg, "png") != 0 && strcmp(optarg, "json") != 0 && strcmp(optarg, "strokes") != 0) {
                fprintf(stderr, "digitd-bench: --body: '%s' is not png, json or strokes\n", optarg);
                bad = 1;
            }
            o->body_json = !strcmp(optarg, "json") ? BENCH_BODY_JSON
                         : !strcmp(optarg, "strokes") ? BENCH_BODY_STROKES : BENCH_BODY_PNG;
            break;
        case O_NOISE: o->no_noise = 1; break;
        case O_STYLE:
            if (!strcmp(optarg, "scan") || !strcmp(optarg, "pen") || !strcmp(optarg, "mix") ||
                !strcmp(optarg, "world")) {
                o->style = !strcmp(optarg, "scan") ? DG_STYLE_SCAN
                         : !strcmp(optarg, "pen") ? DG_STYLE_PEN
                         : !strcmp(optarg, "mix") ? DG_STYLE_MIX : DG_STYLE_WORLD;
            } else {
                fprintf(stderr, "digitd-bench: --style: '%s' is not scan, pen, mix or world\n", optarg);
                bad = 1;
            }
            break;
        case O_NOREST: o->at_rest = 0; break;
        case O_JSON: o->json_out = 1; break;
        case O_NOPROG: o->progress = 0; break;
        case O_FAIL: o->fail_on_error = 1; break;
        case O_MINACC: bad = dg_parse_double(me, "--min-accuracy", optarg, 0, 100, &o->min_accuracy); break;
        case O_ROUNDS: bad = dg_parse_int(me, "--rounds", optarg, 1, 1000, &n); o->rounds = (int)n; break;
        case O_ISA: o->isa = optarg; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (bad)
            return -1;
    }
    if (optind < argc)
        o->url = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "digitd-bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if ((o->url != NULL) + (o->fcgi != NULL) + o->engine > 1) {
        fprintf(stderr, "digitd-bench: give one of URL, --fcgi, --engine\n");
        return -1;
    }
    if (o->isa && !o->engine) {
        fprintf(stderr, "digitd-bench: --isa is for --engine (a server picks its own)\n");
        return -1;
    }
    if (o->isa && dg_engine_use_isa(o->isa) != 0) {
        fprintf(stderr, "digitd-bench: --isa: '%s' is not a kernel set of this build and CPU"
                        " (avx512, avx2, generic)\n", o->isa);
        return -1;
    }
    /* Always a time bound: --requests alone against a stalled server must still end. */
    if (o->load.duration_s == 0)
        o->load.duration_s = o->load.requests > 0 ? BENCH_DEFAULT_REQUESTS_DURATION_S
                                                  : BENCH_DEFAULT_DURATION_S;
    return 0;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* Answers per second: the throughput of predictions; failed requests are not throughput. */
static double answers_per_s(const struct bench_stats *s)
{
    return s->elapsed_s > 0 ? (double)s->answered / s->elapsed_s : 0.0;
}

static void print_text(const struct options *o, const struct bench_target *t,
                       const struct bench_payloads *ps, const struct bench_stats *s,
                       const struct bench_engine_result *er)
{
    printf("target      %s, %d connections, %d thread(s)\n", t->display, o->load.connections,
           o->load.threads);
    printf("payloads    %zu %s, %s bodies\n", ps->n,
           o->unipen ? "pen-written digits" : o->dir ? "PNG files" : "MNIST canvases",
           o->body_json == BENCH_BODY_STROKES ? "JSON strokes"
           : o->body_json ? "JSON data URL" : "image/png");
    printf("requests    %.1f answers/s: %llu answered, %llu failed in %.2f s\n",
           answers_per_s(s), (unsigned long long)s->answered,
           (unsigned long long)bench_stats_failed(s), s->elapsed_s);
    printf("latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
           bench_stats_pct(s, 50) / 1e6, bench_stats_pct(s, 90) / 1e6,
           bench_stats_pct(s, 99) / 1e6, bench_stats_pct(s, 99.9) / 1e6,
           bench_stats_pct(s, 100) / 1e6);
    printf("errors      %llu", (unsigned long long)bench_stats_errors(s));
    for (int e = 1; e < BENCH_E_COUNT; e++)
        printf("  %s %llu", bench_err_name(e), (unsigned long long)s->errors[e]);
    printf("\nstatus      2xx %llu  3xx %llu  4xx %llu  5xx %llu  other %llu\n",
           (unsigned long long)s->status_counts[2], (unsigned long long)s->status_counts[3],
           (unsigned long long)s->status_counts[4], (unsigned long long)s->status_counts[5],
           (unsigned long long)(s->status_counts[0] + s->status_counts[1]));
    printf("accuracy    under load %.2f %% (%llu/%llu)", pct(s->correct, s->labelled),
           (unsigned long long)s->correct, (unsigned long long)s->labelled);
    if (er->available)
        printf("   at rest %.2f %% (%zu/%zu, %zu rejected)", pct(er->correct, er->labelled),
               er->correct, er->labelled, er->rejected);
    if (er->available)
        printf("\nmismatches  %llu of %llu answers differ from the digit at rest\n",
               (unsigned long long)s->mismatches, (unsigned long long)s->compared);
    else
        printf("\nmismatches  not checked (no in-process answers at rest)\n");
}

static void add_at_rest(cJSON *j, const struct bench_engine_result *er)
{
    cJSON *r = cJSON_AddObjectToObject(j, "at_rest");
    cJSON_AddStringToObject(r, "isa", er->isa);
    cJSON_AddNumberToObject(r, "accuracy", pct(er->correct, er->labelled));
    cJSON_AddNumberToObject(r, "correct", (double)er->correct);
    cJSON_AddNumberToObject(r, "labelled", (double)er->labelled);
    cJSON_AddNumberToObject(r, "rejected", (double)er->rejected);
    if (er->rounds > 0) { /* timed (--engine) */
        cJSON_AddNumberToObject(r, "rounds", er->rounds);
        cJSON_AddStringToObject(r, "input", er->strokes ? "strokes" : "image");
        cJSON_AddNumberToObject(r, "decode_us", er->decode_us_median);
        cJSON_AddNumberToObject(r, "preprocess_us", er->preprocess_us_median);
        cJSON_AddNumberToObject(r, "inference_us", er->forward_us_median);
        cJSON_AddNumberToObject(r, "verdict_us", er->verdict_us_median);
        cJSON_AddNumberToObject(r, "total_us", er->decode_us_median + er->preprocess_us_median +
                                                   er->forward_us_median + er->verdict_us_median);
    }
}

static void print_json(const struct options *o, const struct bench_target *t,
                       const struct bench_payloads *ps, const struct bench_stats *s,
                       const struct bench_engine_result *er)
{
    cJSON *j = cJSON_CreateObject();
    if (t != NULL) {
        cJSON_AddStringToObject(j, "target", t->display);
        cJSON_AddNumberToObject(j, "connections", o->load.connections);
        cJSON_AddNumberToObject(j, "requests", (double)(s->answered + bench_stats_failed(s)));
        cJSON_AddNumberToObject(j, "answered", (double)s->answered);
        cJSON_AddNumberToObject(j, "failed", (double)bench_stats_failed(s));
        cJSON_AddNumberToObject(j, "seconds", s->elapsed_s);
        cJSON_AddNumberToObject(j, "requests_per_s", answers_per_s(s)); /* valid answers */
        cJSON *l = cJSON_AddObjectToObject(j, "latency_ms");
        static const double qs[] = {50, 90, 99, 99.9, 100};
        static const char *const qn[] = {"p50", "p90", "p99", "p99.9", "max"};
        for (int i = 0; i < 5; i++)
            cJSON_AddNumberToObject(l, qn[i], bench_stats_pct(s, qs[i]) / 1e6);
        cJSON *e = cJSON_AddObjectToObject(j, "errors");
        cJSON_AddNumberToObject(e, "total", (double)bench_stats_errors(s));
        for (int k = 1; k < BENCH_E_COUNT; k++)
            cJSON_AddNumberToObject(e, bench_err_name(k), (double)s->errors[k]);
        cJSON_AddNumberToObject(j, "accuracy", pct(s->correct, s->labelled));
        cJSON_AddNumberToObject(j, "correct", (double)s->correct);
        cJSON_AddNumberToObject(j, "labelled", (double)s->labelled);
        cJSON *ca = cJSON_AddArrayToObject(j, "class_accuracy"); /* by label: % right */
        for (int c = 0; ca && c < 10; c++)
            cJSON_AddItemToArray(ca, cJSON_CreateNumber(pct(s->class_ok[c], s->class_n[c])));
        cJSON *v = cJSON_AddObjectToObject(j, "verdicts");
        static const char *const vn[] = {"digit", "unsure", "not_a_digit"};
        for (int k = 0; v && k < 3; k++)
            cJSON_AddNumberToObject(v, vn[k], (double)s->verdicts[k]);
        /* null, not 0, when there was nothing to compare with: 0 would claim a check */
        if (er->available)
            cJSON_AddNumberToObject(j, "mismatches", (double)s->mismatches);
        else
            cJSON_AddNullToObject(j, "mismatches");
        cJSON_AddNumberToObject(j, "compared", (double)s->compared);
    }
    cJSON_AddNumberToObject(j, "payloads", (double)ps->n);
    if (er->available)
        add_at_rest(j, er);
    char *txt = cJSON_Print(j);
    if (txt != NULL)
        puts(txt);
    free(txt);
    cJSON_Delete(j);
}

static int run_engine(const struct options *o, struct bench_payloads *ps)
{
    struct bench_engine_result er;
    if (bench_engine_accuracy(ps, &er) != 0 || bench_engine_timing(ps, o->rounds, &er) != 0) {
        fprintf(stderr, "digitd-bench: --engine: built without the engine or input module\n");
        return 1;
    }
    double acc = pct(er.correct, er.labelled);
    if (o->json_out) {
        print_json(o, NULL, ps, NULL, &er);
    } else {
        printf("engine      ISA %s, %zu payloads, median of %d rounds\n", er.isa, ps->n,
               o->rounds);
        printf("decode      %8.2f us/image (%s)\n", er.decode_us_median,
               er.strokes ? "the stroke body read: dg_json_parse + dg_strokes_from_json"
                          : "dg_png_decode: PNG -> RGBA canvas");
        printf("preprocess  %8.2f us/image (%s)\n", er.preprocess_us_median,
               er.strokes ? "dg_strokes_to_input: strokes drawn and centred in 28x28"
                          : "dg_preprocess: canvas -> 28x28");
        printf("inference   %8.2f us/image (dg_engine_forward)\n", er.forward_us_median);
        printf("verdict     %8.2f us/image (what dg_verdict_predict adds: the detector)\n",
               er.verdict_us_median);
        printf("total       %8.2f us/image\n", er.decode_us_median + er.preprocess_us_median +
                                                  er.forward_us_median + er.verdict_us_median);
        printf("accuracy    at rest %.2f %% (%zu/%zu, %zu rejected)\n", acc, er.correct,
               er.labelled, er.rejected);
    }
    return acc < o->min_accuracy ? 1 : 0;
}

static int run_load(const struct options *o, struct bench_payloads *ps)
{
    char err[512];
    struct bench_target t;
    int rc = o->fcgi ? bench_target_parse_fcgi(o->fcgi, o->path, o->allow_remote, &t, err,
                                               sizeof err)
                     : bench_target_parse_url(o->url ? o->url
                                                     : "http://127.0.0.1:8080/api/predict",
                                              o->allow_remote, &t, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "digitd-bench: %s\n", err);
        return 2;
    }
    rc = o->fcgi ? bench_fcgi_encode(ps, &t, o->body_json != BENCH_BODY_PNG)
                 : bench_http_encode(ps, &t, o->body_json != BENCH_BODY_PNG);
    if (rc != 0) {
        fprintf(stderr, "digitd-bench: out of memory encoding requests\n");
        return 1;
    }
    struct bench_engine_result er = {0};
    if (o->at_rest)
        bench_engine_accuracy(ps, &er);
    struct bench_stats s = {0};
    if (bench_load_run(&t, ps, &o->load, &s, err, sizeof err) != 0) {
        fprintf(stderr, "digitd-bench: %s\n", err);
        return 1;
    }
    uint64_t done = s.answered + bench_stats_failed(&s);
    if (o->load.requests > 0 && done < (uint64_t)o->load.requests)
        fprintf(stderr, "digitd-bench: stopped at the %g s time bound after %llu of %ld "
                        "requests\n", o->load.duration_s, (unsigned long long)done,
                o->load.requests);
    if (o->json_out)
        print_json(o, &t, ps, &s, &er);
    else
        print_text(o, &t, ps, &s, &er);
    int status = 0;
    if (o->fail_on_error && bench_stats_failed(&s) > 0) {
        fprintf(stderr, "digitd-bench: %llu request(s) failed\n",
                (unsigned long long)bench_stats_failed(&s));
        status = 1;
    }
    if (o->fail_on_error && s.mismatches > 0) {
        fprintf(stderr, "digitd-bench: %llu answer(s) differ from the in-process answer\n",
                (unsigned long long)s.mismatches);
        status = 1;
    }
    double acc = pct(s.correct, s.labelled);
    if (o->min_accuracy > 0 && acc < o->min_accuracy) {
        fprintf(stderr, "digitd-bench: accuracy %.2f %% is below %.2f %%\n", acc,
                o->min_accuracy);
        status = 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    struct options o = {.path = "/api/predict", .progress = 1, .rounds = 20, .at_rest = 1,
                        .count = 2000, .seed = 1,
                        .load = {.connections = 8, .threads = 1, .timeout_s = 5}};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    dg_input_heap_setup(); /* the payloads are drawn and decoded here too, canvas by canvas */
    if (!isatty(2))
        o.progress = 0;
    o.load.progress = o.progress;
    struct bench_payload_opts po = {.mnist_dir = o.mnist ? o.mnist : dg_mnist_dir(),
                                    .png_dir = o.dir, .unipen = o.unipen,
                                    .count = o.count, .seed = o.seed,
                                    .json = o.body_json, .no_noise = o.no_noise,
                                    .style = o.style};
    struct bench_payloads ps;
    char err[512];
    if (bench_payloads_load(&po, &ps, err, sizeof err) != 0) {
        fprintf(stderr, "digitd-bench: %s\n", err);
        return 1;
    }
    int rc = o.engine ? run_engine(&o, &ps) : run_load(&o, &ps);
    bench_payloads_free(&ps);
    return rc;
}
