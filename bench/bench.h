/* bench.h: digitd-bench's shared types.
 *
 *   payloads (MNIST canvases or a PNG dir, label known)
 *      -> requests encoded once per payload (HTTP/1.1 or FastCGI records)
 *      -> load generator (epoll, N connections, one request in flight each)
 *      -> every answer checked (status, JSON, prediction vs label and vs the digit at rest)
 *      -> stats (latency percentiles, errors by kind, accuracy)
 */
#ifndef DIGITD_BENCH_H
#define DIGITD_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "clock.h"  /* dg_now_ns: every timestamp of the load generator */
#include "render.h" /* enum dg_render_style */
#include "sketch.h"

/* Bounds: the tool always stops by itself. A run given only --requests still ends after
 * BENCH_DEFAULT_REQUESTS_DURATION_S (a dead or stalled server must not hang a script). */
#define BENCH_MAX_DURATION_S 3600
#define BENCH_DEFAULT_DURATION_S 10
#define BENCH_DEFAULT_REQUESTS_DURATION_S 60
#define BENCH_MAX_TIMEOUT_S 600
#define BENCH_MAX_REQUESTS 20000000L
#define BENCH_MAX_CONNECTIONS 1024
#define BENCH_MAX_COUNT 60000
#define BENCH_MAX_THREADS 2

enum bench_proto { BENCH_HTTP, BENCH_FCGI };

/* Where requests go: a TCP or unix socket address, and for HTTP the Host and path. */
struct bench_target {
    enum bench_proto proto;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host[256];   /* Host header value (with :port) */
    char path[1024];  /* request URI */
    char display[1300];
};

/* Parses "http://host[:port]/path" (HTTP) or "unix:/path" / "host:port" (FastCGI into
 * uri_path). Refuses non-loopback hosts unless allow_remote. err gets a message. */
int bench_target_parse_url(const char *url, int allow_remote, struct bench_target *t, char *err,
                           size_t errlen);
int bench_target_parse_fcgi(const char *spec, const char *uri_path, int allow_remote,
                            struct bench_target *t, char *err, size_t errlen);

/* One payload: the PNG, its label (0..9, or -1 unknown), the in-process answer for it
 * (so every answer under load can be compared with the answer at rest), and the request
 * bytes for it. */
enum { BENCH_REST_UNKNOWN = -1, BENCH_REST_REJECTED = -2 };
struct bench_payload {
    uint8_t *png;
    size_t png_len;
    int label;
    int rest_digit;   /* 0..9 at rest, BENCH_REST_REJECTED, or BENCH_REST_UNKNOWN (not run) */
    char name[64];
    struct dg_sketch sketch; /* --body strokes: the strokes sent (png: the page's PNG of them) */
    uint8_t *body;    /* what is sent: png itself, the JSON {"imageData": data URL} or strokes */
    size_t body_len;
    uint8_t *req;     /* the whole request as sent (HTTP message or FastCGI records) */
    size_t req_len;
};

struct bench_payloads {
    struct bench_payload *v;
    size_t n;
};

struct bench_payload_opts {
    const char *mnist_dir;  /* render MNIST t10k digits */
    const char *png_dir;    /* or read PNGs from here */
    const char *unipen;     /* or pen strokes in UNIPEN text (unipen.h) */
    size_t count;
    uint64_t seed;
    int json;               /* BENCH_BODY_*: what to send */
    int no_noise;           /* render without browser read-back noise */
    enum dg_render_style style; /* the renderer's stroke style (render.h) */
};

/* Bodies: raw image/png, {"imageData": data URL}, or the pen-style digits as
 * {"strokes": ..., "width": ..., "side": ...} (both JSON: Content-Type application/json). */
enum { BENCH_BODY_PNG, BENCH_BODY_JSON, BENCH_BODY_STROKES };

int bench_payloads_load(const struct bench_payload_opts *o, struct bench_payloads *ps, char *err,
                        size_t errlen);
void bench_payloads_free(struct bench_payloads *ps);
/* Label from a file path: "7_x.png", "7-x.png", "label-7/x.png", ".../7/x.png"; -1 if none. */
/* The payload's image type, from its signature: "image/jpeg" or "image/png". */
const char *bench_payload_type(const struct bench_payload *p);

int bench_label_from_path(const char *path);

/* Request encoders: fill p->req for every payload. */
int bench_http_encode(struct bench_payloads *ps, const struct bench_target *t, int json);
int bench_fcgi_encode(struct bench_payloads *ps, const struct bench_target *t, int json);

/* An answer as the load generator hands it over. */
struct bench_answer {
    int status;          /* HTTP status (CGI Status: header for FastCGI) */
    const char *body;
    size_t body_len;
};

/* Incremental response parsers. feed() consumes from buf and returns
 * BENCH_PARSE_MORE (need more bytes), BENCH_PARSE_DONE (*ans filled; *consumed bytes used)
 * or BENCH_PARSE_ERROR. eof() tells the parser the peer closed. */
enum { BENCH_PARSE_MORE, BENCH_PARSE_DONE, BENCH_PARSE_ERROR };

struct bench_http_parser {
    int state;
    int status;
    int chunked, close_delimited, conn_close;
    size_t header_len, content_length, pos, chunk_left;
    char *body;          /* decoded body (chunked) */
    size_t body_len, body_cap;
};
void bench_http_parser_reset(struct bench_http_parser *p);
void bench_http_parser_free(struct bench_http_parser *p);
int bench_http_parse(struct bench_http_parser *p, const char *buf, size_t len, int eof,
                     struct bench_answer *ans, size_t *consumed);

struct bench_fcgi_parser {
    size_t pos;          /* bytes of buf already consumed as records */
    char *out;           /* STDOUT stream */
    size_t out_len, out_cap;
    int ended;
};
void bench_fcgi_parser_reset(struct bench_fcgi_parser *p);
void bench_fcgi_parser_free(struct bench_fcgi_parser *p);
int bench_fcgi_parse(struct bench_fcgi_parser *p, const char *buf, size_t len, int eof,
                     struct bench_answer *ans);

/* What happened to one request. The kinds up to BENCH_E_JSON are failed requests (no
 * valid answer); BENCH_E_WRONG is a valid answer whose digit is not the label: an error
 * of the model, not of the server, so it is reported among the errors but does not make
 * --fail-on-error fail (--min-accuracy covers it). */
enum bench_err {
    BENCH_OK = 0,
    BENCH_E_CONNECT,     /* connect() failed or refused */
    BENCH_E_IO,          /* reset / closed mid-answer / write failed */
    BENCH_E_TIMEOUT,     /* no complete answer within --timeout */
    BENCH_E_PROTOCOL,    /* unparsable HTTP or FastCGI */
    BENCH_E_STATUS,      /* status other than 200 */
    BENCH_E_JSON,        /* 200 but body not the answer JSON */
    BENCH_E_WRONG,       /* valid answer, predicted digit != label */
    BENCH_E_COUNT
};
const char *bench_err_name(int e);

/* Checks an answer's form: returns BENCH_OK (then *digit = the prediction, 0..9),
 * BENCH_E_STATUS or BENCH_E_JSON (*digit = -1). The caller compares the digit with the
 * label and with the payload's answer at rest. */
int bench_check_answer(const struct bench_answer *a, int *digit, int *verdict);
/* The answer's "verdict" (*verdict -1 when there is none). */
enum { BENCH_VERDICT_DIGIT, BENCH_VERDICT_UNSURE, BENCH_VERDICT_NOT_A_DIGIT };

/* Latency histogram, log-linear like HdrHistogram: fixed memory whatever the run's length
 * (a 3600 s run at 20k req/s is 72M answers, too many to keep one by one). Buckets are
 * 1 us wide below BENCH_LAT_LINEAR_US, then each power-of-two octave is split into
 * BENCH_LAT_SUB buckets (width <= 1/128 = 0.8 % of the value); values past the last
 * octave (hours, far above BENCH_MAX_TIMEOUT_S) land in the last bucket. min and max are
 * kept exactly. A percentile is the midpoint of its bucket clamped to [min, max], so it is
 * within 0.5 us below 1 ms and within 0.4 % above. */
#define BENCH_LAT_LINEAR_US 1024
#define BENCH_LAT_SUB_BITS 7
#define BENCH_LAT_SUB (1 << BENCH_LAT_SUB_BITS)
#define BENCH_LAT_OCTAVES 24 /* 2^10 .. 2^34 us: up to ~4.8 h */
#define BENCH_LAT_BUCKETS (BENCH_LAT_LINEAR_US + BENCH_LAT_OCTAVES * BENCH_LAT_SUB)

/* Results of a run (one per thread, then merged). */
struct bench_stats {
    uint64_t lat_hist[BENCH_LAT_BUCKETS]; /* valid answers by latency */
    uint64_t n_lat, lat_min_ns, lat_max_ns;
    uint64_t errors[BENCH_E_COUNT];
    uint64_t status_counts[6]; /* by class: 1xx..5xx, [0] = other */
    uint64_t answered, correct, labelled;
    uint64_t class_n[10], class_ok[10]; /* labelled answers and right ones, by label */
    uint64_t verdicts[3];               /* BENCH_VERDICT_*: the answers' "verdict" */
    /* answers compared with the payload's answer at rest, and how many differ */
    uint64_t compared, mismatches;
    double elapsed_s;
};
void bench_stats_add_latency(struct bench_stats *s, uint64_t ns);
void bench_stats_merge(struct bench_stats *into, const struct bench_stats *from);
/* Percentile q in 0..100 of the valid answers' latency -> ns (0 if none; q 0 and 100 are
 * the exact min and max). */
uint64_t bench_stats_pct(const struct bench_stats *s, double q);
/* Requests that got no valid answer (connect..json; not wrong digits). */
uint64_t bench_stats_failed(const struct bench_stats *s);
/* Every error kind, wrong digits included. */
uint64_t bench_stats_errors(const struct bench_stats *s);

/* Load generator. */
struct bench_load_opts {
    int connections;
    int threads;
    double duration_s;     /* > 0: the time bound (parse_args always sets one) */
    long requests;         /* 0 = until duration */
    double timeout_s;
    int progress;          /* live line on stderr */
};
int bench_load_run(const struct bench_target *t, const struct bench_payloads *ps,
                   const struct bench_load_opts *o, struct bench_stats *out, char *err,
                   size_t errlen);

/* In-process engine: at-rest accuracy of the payloads, and timing of each stage the worker
 * runs. Returns -1 if the engine or input module is not built in. */
struct bench_engine_result {
    int available;
    const char *isa;
    size_t n, correct, labelled, rejected;
    int rounds;
    int strokes;                  /* stroke bodies: the first two stages are theirs */
    /* medians over rounds of the per-image mean, us/image (the stages of the API's "timings") */
    double decode_us_median;      /* dg_png_decode: PNG -> RGBA canvas; strokes: JSON read */
    double preprocess_us_median;  /* dg_preprocess: canvas -> 28x28; strokes: drawn, centred */
    double forward_us_median;     /* dg_engine_forward */
    double verdict_us_median;     /* what dg_verdict_predict adds: the not-a-digit detector */
};
/* Also records each payload's digit at rest in ps->v[i].rest_digit. */
int bench_engine_accuracy(struct bench_payloads *ps, struct bench_engine_result *r);
int bench_engine_timing(const struct bench_payloads *ps, int rounds,
                        struct bench_engine_result *r);

#endif
