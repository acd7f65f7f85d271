/* metrics.c: see metrics.h. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>

static const int status_codes[DG_N_STATUS] = {
#define DG_X(c) c,
    DG_STATUS_CODES(DG_X)
#undef DG_X
};
static const char *const route_names[DG_N_ROUTES] = {"predict", "health", "metrics", "other"};
static const int64_t lat_bounds_us[DG_N_LAT] = DG_LAT_BUCKETS_US;

struct dg_shared *dg_metrics_create(int n_slots)
{
    if (n_slots < 1 || n_slots > DG_MAX_WORKERS)
        return NULL;
    void *p = mmap(NULL, sizeof(struct dg_shared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct dg_shared *sh = p; /* anonymous mappings start zeroed */
    sh->start_ms = dg_realtime_ms();
    sh->n_slots = n_slots;
    return sh;
}

int dg_status_index(int status)
{
    for (int i = 0; i < DG_N_STATUS; i++)
        if (status_codes[i] == status)
            return i;
    return DG_N_STATUS - 1;
}

void dg_metrics_record(struct dg_slot *s, enum dg_route r, int status, int64_t usec)
{
    atomic_fetch_add_explicit(&s->requests[r][dg_status_index(status)], 1, memory_order_relaxed);
    int b = 0;
    while (b < DG_N_LAT && usec > lat_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&s->lat_count[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->lat_sum_us, (uint64_t)(usec > 0 ? usec : 0),
                              memory_order_relaxed);
}

/* Appends to a bounded buffer; once it overflows, *len is set past cap and stays there. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = (k < 0) ? cap : *len + (size_t)k;
}

static uint64_t ld(const _Atomic uint64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void render_requests(const struct dg_shared *sh, char *buf, size_t cap, size_t *len)
{
    put(buf, cap, len, "# HELP digitd_requests_total Requests answered, by route and status.\n"
                       "# TYPE digitd_requests_total counter\n");
    for (int r = 0; r < DG_N_ROUTES; r++)
        for (int c = 0; c < DG_N_STATUS; c++) {
            uint64_t n = 0;
            for (int i = 0; i < sh->n_slots; i++)
                n += ld(&sh->slot[i].requests[r][c]);
            if (n)
                put(buf, cap, len, "digitd_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                    route_names[r], status_codes[c], (unsigned long long)n);
        }
}

static void render_latency(const struct dg_shared *sh, char *buf, size_t cap, size_t *len)
{
    put(buf, cap, len, "# HELP digitd_request_duration_seconds Time from accept to reply.\n"
                       "# TYPE digitd_request_duration_seconds histogram\n");
    uint64_t cum = 0, sum_us = 0;
    for (int b = 0; b <= DG_N_LAT; b++) {
        for (int i = 0; i < sh->n_slots; i++)
            cum += ld(&sh->slot[i].lat_count[b]);
        if (b < DG_N_LAT)
            put(buf, cap, len, "digitd_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                (double)lat_bounds_us[b] / 1e6, (unsigned long long)cum);
        else
            put(buf, cap, len, "digitd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                (unsigned long long)cum);
    }
    for (int i = 0; i < sh->n_slots; i++)
        sum_us += ld(&sh->slot[i].lat_sum_us);
    put(buf, cap, len, "digitd_request_duration_seconds_sum %.6f\n"
                       "digitd_request_duration_seconds_count %llu\n",
        (double)sum_us / 1e6, (unsigned long long)cum);
}

/* A Prometheus label value: backslash, quote and newline escaped, truncated to fit. */
static void label_value(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; s && *s && n + 3 < cap; s++) {
        if (*s == '"' || *s == '\\' || *s == '\n')
            out[n++] = '\\';
        out[n++] = *s == '\n' ? 'n' : *s;
    }
    out[n] = 0;
}

static void render_pool(const struct dg_shared *sh, const struct dg_metrics_model *m, char *buf,
                        size_t cap, size_t *len)
{
    int busy = 0, alive = 0;
    for (int i = 0; i < sh->n_slots; i++) {
        alive += atomic_load(&sh->slot[i].pid) != 0;
        busy += atomic_load(&sh->slot[i].busy_since_ms) != 0;
    }
    put(buf, cap, len,
        "# HELP digitd_in_flight Requests being processed now.\n# TYPE digitd_in_flight gauge\n"
        "digitd_in_flight %d\n"
        "# HELP digitd_workers Worker processes alive.\n# TYPE digitd_workers gauge\n"
        "digitd_workers %d\n"
        "# HELP digitd_child_restarts_total Workers respawned after exiting.\n"
        "# TYPE digitd_child_restarts_total counter\ndigitd_child_restarts_total %llu\n"
        "# HELP digitd_request_timeouts_total Workers killed for exceeding --request-timeout.\n"
        "# TYPE digitd_request_timeouts_total counter\ndigitd_request_timeouts_total %llu\n",
        busy, alive, (unsigned long long)ld(&sh->restarts), (unsigned long long)ld(&sh->timeouts));
    char name[128];
    label_value(m->name, name, sizeof name);
    put(buf, cap, len,
        "# HELP digitd_model_info The compiled-in model.\n# TYPE digitd_model_info gauge\n"
        "digitd_model_info{name=\"%s\",sha256=\"%.64s\",params=\"%ld\",isa=\"%s\"} 1\n",
        name, m->sha256 ? m->sha256 : "", m->params, m->isa ? m->isa : "");
}

size_t dg_metrics_render(const struct dg_shared *sh, const struct dg_metrics_model *model,
                         char *buf, size_t cap)
{
    size_t len = 0;
    render_requests(sh, buf, cap, &len);
    render_latency(sh, buf, cap, &len);
    render_pool(sh, model, buf, cap, &len);
    return len < cap ? len : 0;
}
