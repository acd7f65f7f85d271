/* loadgen.c: the load generator. Like wrk: each thread runs an epoll loop over its share of
 * non-blocking connections, each connection keeps exactly one request in flight and sends
 * the next as soon as the answer is complete (a closed loop: throughput and latency are
 * those of the server at that concurrency). HTTP connections are kept alive; FastCGI ones
 * carry one request each (KEEP_CONN = 0, as libfcgi closes), so the connect is timed too.
 * The request number picks the payload (round robin), so --requests N --count N sends every
 * payload exactly once. Every valid answer is checked twice: against the label (accuracy,
 * "wrong") and against the payload's digit at rest (mismatches: the server must answer
 * exactly what the in-process engine answers for the same bytes). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum { C_IDLE, C_BACKOFF, C_CONNECTING, C_WRITING, C_READING };

struct shared {
    const struct bench_target *t;
    const struct bench_payloads *ps;
    const struct bench_load_opts *o;
    uint64_t start_ns, end_ns, timeout_ns;
    atomic_long issued;
    atomic_ulong done, errors;
    atomic_int running;
};

struct conn {
    int fd, state;
    const struct bench_payload *p;
    size_t wpos;
    char *rbuf;
    size_t rlen, rcap;
    uint64_t t0, deadline;
    struct bench_http_parser hp;
    struct bench_fcgi_parser fp;
};

struct worker {
    struct shared *sh;
    struct conn *c;
    int n, epfd;
    struct bench_stats stats;
};

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

static int conn_watch(struct worker *w, struct conn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(w->epfd, op, c->fd, &ev);
}

static void finish(struct worker *w, struct conn *c, int err)
{
    struct shared *sh = w->sh;
    if (err == BENCH_OK) {
        bench_stats_add_latency(&w->stats, dg_now_ns() - c->t0);
    } else {
        w->stats.errors[err]++;
        atomic_fetch_add(&sh->errors, 1);
    }
    atomic_fetch_add(&sh->done, 1);
    c->state = C_IDLE;
}

static int time_left(const struct shared *sh, uint64_t now)
{
    return sh->end_ns == 0 || now < sh->end_ns;
}

/* Opens a non-blocking connection to the target. */
static int conn_open(struct worker *w, struct conn *c)
{
    const struct bench_target *t = w->sh->t;
    c->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int rc = connect(c->fd, (const struct sockaddr *)&t->addr, t->addrlen);
    if (rc != 0 && errno != EINPROGRESS && errno != EAGAIN) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->state = C_CONNECTING;
    if (conn_watch(w, c, EPOLLOUT, EPOLL_CTL_ADD) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

/* Starts the next request on c, if the run is not over. */
static void start_next(struct worker *w, struct conn *c)
{
    struct shared *sh = w->sh;
    uint64_t now = dg_now_ns();
    long k = atomic_fetch_add(&sh->issued, 1);
    if ((sh->o->requests > 0 && k >= sh->o->requests) || !time_left(sh, now)) {
        conn_close(w, c);
        c->state = C_IDLE;
        return;
    }
    c->p = &sh->ps->v[(size_t)k % sh->ps->n];
    c->t0 = now;
    c->deadline = now + sh->timeout_ns;
    c->wpos = 0;
    c->rlen = 0;
    bench_http_parser_reset(&c->hp);
    bench_fcgi_parser_reset(&c->fp);
    if (c->fd >= 0) { /* a kept-alive HTTP connection */
        c->state = C_WRITING;
        if (conn_watch(w, c, EPOLLOUT, EPOLL_CTL_MOD) == 0)
            return;
        conn_close(w, c);
    }
    if (conn_open(w, c) != 0) {
        /* Refused: count it, and wait a little so a dead server is not hammered. */
        finish(w, c, BENCH_E_CONNECT);
        c->state = C_BACKOFF;
        c->deadline = now + 10000000u;
    }
}

static void fail(struct worker *w, struct conn *c, int err)
{
    conn_close(w, c);
    finish(w, c, err);
    start_next(w, c);
}

static void on_writable(struct worker *w, struct conn *c)
{
    if (c->state == C_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            fail(w, c, BENCH_E_CONNECT);
            return;
        }
        c->state = C_WRITING;
    }
    while (c->wpos < c->p->req_len) {
        ssize_t n = send(c->fd, c->p->req + c->wpos, c->p->req_len - c->wpos, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            fail(w, c, BENCH_E_IO);
            return;
        }
        c->wpos += (size_t)n;
    }
    c->state = C_READING;
    if (conn_watch(w, c, EPOLLIN, EPOLL_CTL_MOD) != 0)
        fail(w, c, BENCH_E_IO);
}

/* Feeds the parser; returns 1 when the answer was handled, 0 for more, -1 on error. */
static int parse(struct worker *w, struct conn *c, int eof)
{
    struct bench_answer ans;
    size_t used = c->rlen;
    int r = w->sh->t->proto == BENCH_HTTP
                ? bench_http_parse(&c->hp, c->rbuf, c->rlen, eof, &ans, &used)
                : bench_fcgi_parse(&c->fp, c->rbuf, c->rlen, eof, &ans);
    if (r == BENCH_PARSE_MORE)
        return 0;
    if (r == BENCH_PARSE_ERROR || used != c->rlen) { /* extra bytes: nothing was asked */
        fail(w, c, eof && c->rlen == 0 ? BENCH_E_IO : BENCH_E_PROTOCOL);
        return -1;
    }
    int digit, verdict;
    int err = bench_check_answer(&ans, &digit, &verdict);
    int cls = ans.status / 100;
    w->stats.status_counts[cls >= 1 && cls <= 5 ? cls : 0]++;
    if (err == BENCH_OK) {
        struct bench_stats *st = &w->stats;
        const struct bench_payload *p = c->p;
        st->answered++;
        if (verdict >= 0)
            st->verdicts[verdict]++;
        if (p->label >= 0) {
            st->labelled++;
            st->class_n[p->label % 10]++;
            st->class_ok[p->label % 10] += digit == p->label;
            if (digit == p->label)
                st->correct++;
            else
                st->errors[BENCH_E_WRONG]++; /* still a valid answer: its latency counts */
        }
        if (p->rest_digit != BENCH_REST_UNKNOWN) {
            /* rejected at rest but answered here is a mismatch too */
            st->compared++;
            st->mismatches += digit != p->rest_digit;
        }
    }
    if (w->sh->t->proto == BENCH_FCGI || c->hp.conn_close || c->hp.close_delimited)
        conn_close(w, c);
    finish(w, c, err);
    start_next(w, c);
    return 1;
}

static void on_readable(struct worker *w, struct conn *c)
{
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            size_t cap = c->rcap ? c->rcap * 2 : 16384;
            char *nb = cap > (128u << 20) ? NULL : realloc(c->rbuf, cap);
            if (nb == NULL) {
                fail(w, c, BENCH_E_PROTOCOL);
                return;
            }
            c->rbuf = nb;
            c->rcap = cap;
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            fail(w, c, BENCH_E_IO);
            return;
        }
        if (n == 0) {
            if (parse(w, c, 1) == 0)
                fail(w, c, BENCH_E_IO);
            return;
        }
        c->rlen += (size_t)n;
    }
    parse(w, c, 0);
}

/* Timeouts and back-offs; returns the number of connections still busy. */
static int sweep(struct worker *w)
{
    uint64_t now = dg_now_ns();
    int busy = 0;
    for (int i = 0; i < w->n; i++) {
        struct conn *c = &w->c[i];
        if (c->state == C_IDLE)
            continue;
        if (now >= c->deadline) {
            if (c->state == C_BACKOFF)
                start_next(w, c);
            else
                fail(w, c, BENCH_E_TIMEOUT);
        }
        busy += c->state != C_IDLE;
    }
    return busy;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++)
        start_next(w, &w->c[i]);
    struct epoll_event evs[64];
    uint64_t last_sweep = 0;
    for (;;) {
        int n = epoll_wait(w->epfd, evs, 64, 50);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state == C_CONNECTING || c->state == C_WRITING)
                on_writable(w, c);
            else if (c->state == C_READING)
                on_readable(w, c);
        }
        uint64_t now = dg_now_ns();
        if (n <= 0 || now - last_sweep > 20000000u) {
            last_sweep = now;
            if (sweep(w) == 0)
                break;
        }
    }
    atomic_fetch_sub(&w->sh->running, 1);
    return NULL;
}

static void progress(struct shared *sh, int final)
{
    double el = (double)(dg_now_ns() - sh->start_ns) / 1e9;
    /* the rate counts answers, as the final report does: failures are not throughput */
    unsigned long done = atomic_load(&sh->done), failed = atomic_load(&sh->errors);
    unsigned long answers = done > failed ? done - failed : 0; /* two loads, not one snapshot */
    fprintf(stderr, "\r%6.1f s  %10lu answers  %9.0f answers/s  %lu failed   %s", el, answers,
            el > 0 ? (double)answers / el : 0.0, failed, final ? "\n" : "");
}

/* Frees bench_load_run's first nt workers (all, or up to the one whose set-up failed). */
static void workers_free(struct worker *ws, int nt)
{
    for (int t = 0; t < nt; t++) {
        for (int i = 0; ws[t].c && i < ws[t].n; i++) {
            conn_close(&ws[t], &ws[t].c[i]);
            free(ws[t].c[i].rbuf);
            bench_http_parser_free(&ws[t].c[i].hp);
            bench_fcgi_parser_free(&ws[t].c[i].fp);
        }
        free(ws[t].c);
        if (ws[t].epfd >= 0)
            close(ws[t].epfd);
    }
}

int bench_load_run(const struct bench_target *t, const struct bench_payloads *ps,
                   const struct bench_load_opts *o, struct bench_stats *out, char *err,
                   size_t errlen)
{
    struct shared sh = {.t = t, .ps = ps, .o = o};
    sh.timeout_ns = (uint64_t)(o->timeout_s * 1e9);
    int nt = o->threads < 1 ? 1 : o->threads;
    if (nt > o->connections)
        nt = o->connections;
    struct worker ws[BENCH_MAX_THREADS];
    memset(ws, 0, sizeof ws);
    int rc = 0;
    for (int i = 0; i < nt; i++) {
        ws[i].sh = &sh;
        ws[i].n = o->connections / nt + (i < o->connections % nt);
        /* every fd -1 before anything can fail: workers_free closes only fds >= 0, and
         * calloc's 0 would be stdin */
        ws[i].c = calloc((size_t)ws[i].n, sizeof *ws[i].c);
        for (int k = 0; ws[i].c && k < ws[i].n; k++)
            ws[i].c[k].fd = -1;
        ws[i].epfd = ws[i].c ? epoll_create1(EPOLL_CLOEXEC) : -1;
        if (ws[i].c == NULL || ws[i].epfd < 0) {
            snprintf(err, errlen, "%s%s", ws[i].c ? "epoll_create1: " : "out of memory",
                     ws[i].c ? strerror(errno) : "");
            workers_free(ws, i + 1);
            return -1;
        }
    }
    sh.start_ns = dg_now_ns();
    sh.end_ns = o->duration_s > 0 ? sh.start_ns + (uint64_t)(o->duration_s * 1e9) : 0;
    atomic_store(&sh.running, nt);
    pthread_t th[BENCH_MAX_THREADS];
    int started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, worker_main, &ws[started]) != 0)
            break;
    if (started < nt) {
        /* The threads that did start still finish the run; the others' connections idle. */
        atomic_fetch_sub(&sh.running, nt - started);
        snprintf(err, errlen, "could not start thread %d", started);
        rc = -1;
    }
    /* The live line: once per second, while the workers run. */
    uint64_t next = sh.start_ns + 1000000000u;
    while (atomic_load(&sh.running) > 0) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        if (o->progress && (uint64_t)dg_now_ns() >= next) {
            progress(&sh, 0);
            next += 1000000000u;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (o->progress)
        progress(&sh, 1);
    out->elapsed_s = (double)(dg_now_ns() - sh.start_ns) / 1e9;
    for (int i = 0; i < nt; i++)
        bench_stats_merge(out, &ws[i].stats);
    workers_free(ws, nt);
    return rc;
}
