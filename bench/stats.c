/* stats.c: latencies go into a log-linear histogram (see bench.h: fixed memory, so a run is
 * bounded by time and count only, never by sample storage), errors are counted by kind. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char *bench_err_name(int e)
{
    static const char *const names[BENCH_E_COUNT] = {
        "ok", "connect", "io", "timeout", "protocol", "status", "json", "wrong",
    };
    return e >= 0 && e < BENCH_E_COUNT ? names[e] : "?";
}

/* Bucket of a latency in us: linear below BENCH_LAT_LINEAR_US, then octave k (value in
 * [2^k, 2^(k+1))) split by the BENCH_LAT_SUB_BITS bits after the leading one. */
static size_t bucket_of(uint64_t us)
{
    if (us < BENCH_LAT_LINEAR_US)
        return (size_t)us;
    int k = 63 - __builtin_clzll(us);
    int octave = k - 10; /* BENCH_LAT_LINEAR_US = 2^10 */
    if (octave >= BENCH_LAT_OCTAVES)
        return BENCH_LAT_BUCKETS - 1;
    size_t sub = (size_t)(us >> (k - BENCH_LAT_SUB_BITS)) & (BENCH_LAT_SUB - 1);
    return BENCH_LAT_LINEAR_US + (size_t)octave * BENCH_LAT_SUB + sub;
}

/* The midpoint of bucket b, in ns. */
static uint64_t bucket_mid_ns(size_t b)
{
    if (b < BENCH_LAT_LINEAR_US)
        return (uint64_t)b * 1000 + 500;
    size_t octave = (b - BENCH_LAT_LINEAR_US) / BENCH_LAT_SUB;
    size_t sub = (b - BENCH_LAT_LINEAR_US) % BENCH_LAT_SUB;
    int shift = (int)octave + 10 - BENCH_LAT_SUB_BITS; /* bucket width is 2^shift us */
    uint64_t lo_us = (uint64_t)(BENCH_LAT_SUB + sub) << shift;
    return lo_us * 1000 + ((uint64_t)1000 << shift) / 2;
}

void bench_stats_add_latency(struct bench_stats *s, uint64_t ns)
{
    s->lat_hist[bucket_of(ns / 1000)]++;
    if (s->n_lat == 0 || ns < s->lat_min_ns)
        s->lat_min_ns = ns;
    if (ns > s->lat_max_ns)
        s->lat_max_ns = ns;
    s->n_lat++;
}

void bench_stats_merge(struct bench_stats *into, const struct bench_stats *from)
{
    if (from->n_lat > 0) {
        if (into->n_lat == 0 || from->lat_min_ns < into->lat_min_ns)
            into->lat_min_ns = from->lat_min_ns;
        if (from->lat_max_ns > into->lat_max_ns)
            into->lat_max_ns = from->lat_max_ns;
    }
    for (size_t b = 0; b < BENCH_LAT_BUCKETS; b++)
        into->lat_hist[b] += from->lat_hist[b];
    into->n_lat += from->n_lat;
    for (int e = 0; e < BENCH_E_COUNT; e++)
        into->errors[e] += from->errors[e];
    for (int c = 0; c < 6; c++)
        into->status_counts[c] += from->status_counts[c];
    for (int c = 0; c < 10; c++)
        into->class_n[c] += from->class_n[c], into->class_ok[c] += from->class_ok[c];
    for (int v = 0; v < 3; v++)
        into->verdicts[v] += from->verdicts[v];
    into->answered += from->answered;
    into->correct += from->correct;
    into->labelled += from->labelled;
    into->compared += from->compared;
    into->mismatches += from->mismatches;
}

/* Nearest-rank percentile: the bucket holding the ceil(q% * n)-th smallest sample. */
uint64_t bench_stats_pct(const struct bench_stats *s, double q)
{
    if (s->n_lat == 0)
        return 0;
    if (q <= 0)
        return s->lat_min_ns;
    if (q >= 100)
        return s->lat_max_ns;
    double rank = q / 100.0 * (double)s->n_lat;
    uint64_t want = rank <= 1.0 ? 1 : (uint64_t)(rank + 0.999999);
    if (want > s->n_lat)
        want = s->n_lat;
    uint64_t seen = 0;
    size_t b = 0;
    for (; b < BENCH_LAT_BUCKETS - 1; b++) {
        seen += s->lat_hist[b];
        if (seen >= want)
            break;
    }
    uint64_t v = bucket_mid_ns(b);
    if (v < s->lat_min_ns)
        v = s->lat_min_ns;
    if (v > s->lat_max_ns)
        v = s->lat_max_ns;
    return v;
}

uint64_t bench_stats_failed(const struct bench_stats *s)
{
    uint64_t n = 0;
    for (int e = 1; e <= BENCH_E_JSON; e++)
        n += s->errors[e];
    return n;
}

uint64_t bench_stats_errors(const struct bench_stats *s)
{
    return bench_stats_failed(s) + s->errors[BENCH_E_WRONG];
}
