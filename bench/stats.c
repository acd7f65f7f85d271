/* stats.c: every latency sample is kept (up to the request cap) and sorted at the end, so
 * the percentiles are exact rather than bucketed; errors are counted by kind. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *bench_err_name(int e)
{
    static const char *const names[BENCH_E_COUNT] = {
        "ok", "connect", "io", "timeout", "protocol", "status", "json",
    };
    return e >= 0 && e < BENCH_E_COUNT ? names[e] : "?";
}

int bench_stats_add_latency(struct bench_stats *s, uint64_t ns)
{
    if (s->n_lat == s->cap_lat) {
        size_t cap = s->cap_lat ? s->cap_lat * 2 : 65536;
        if (cap > (size_t)BENCH_MAX_REQUESTS + BENCH_MAX_CONNECTIONS)
            return -1;
        uint32_t *n = realloc(s->lat_ns, cap * sizeof *n);
        if (n == NULL)
            return -1;
        s->lat_ns = n;
        s->cap_lat = cap;
    }
    s->lat_ns[s->n_lat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
    return 0;
}

int bench_stats_merge(struct bench_stats *into, struct bench_stats *from)
{
    for (size_t i = 0; i < from->n_lat; i++)
        if (bench_stats_add_latency(into, from->lat_ns[i]) != 0)
            return -1;
    for (int e = 0; e < BENCH_E_COUNT; e++)
        into->errors[e] += from->errors[e];
    for (int c = 0; c < 6; c++)
        into->status_counts[c] += from->status_counts[c];
    into->answered += from->answered;
    into->correct += from->correct;
    into->labelled += from->labelled;
    return 0;
}

void bench_stats_free(struct bench_stats *s)
{
    free(s->lat_ns);
    memset(s, 0, sizeof *s);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void bench_stats_finish(struct bench_stats *s)
{
    if (s->n_lat > 1)
        qsort(s->lat_ns, s->n_lat, sizeof *s->lat_ns, cmp_u32);
}

/* Nearest-rank percentile of the sorted samples. */
uint64_t bench_stats_pct(const struct bench_stats *s, double q)
{
    if (s->n_lat == 0)
        return 0;
    double rank = q / 100.0 * (double)s->n_lat;
    size_t i = rank <= 1.0 ? 0 : (size_t)(rank + 0.999999) - 1;
    if (i >= s->n_lat)
        i = s->n_lat - 1;
    return s->lat_ns[i];
}

uint64_t bench_stats_errors(const struct bench_stats *s)
{
    uint64_t n = 0;
    for (int e = 1; e < BENCH_E_COUNT; e++)
        n += s->errors[e];
    return n;
}
