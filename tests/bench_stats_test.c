/* bench_stats_test.c: the latency histogram's percentiles against exact ones.
 * Within 0.5 us below 1 ms and 0.4 % above (bench.h); min and max exact; latencies far
 * above 4.29 s (where uint32 ns used to cap) kept; merging adds up. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "check.h"

static void check_near(const char *what, uint64_t got, uint64_t want, double tol_ns)
{
    CHECK(fabs((double)got - (double)want) <= tol_ns, "%s: %llu ns, want %llu +- %.0f", what,
          (unsigned long long)got, (unsigned long long)want, tol_ns);
}

int main(void)
{
    static struct bench_stats a, b, m; /* static: a few tens of KB each */

    /* 1..999 us plus 0.3 us: the linear region, exact to half a microsecond */
    for (uint64_t us = 1; us < 1000; us++)
        bench_stats_add_latency(&a, us * 1000 + 300);
    check_near("linear p50", bench_stats_pct(&a, 50), 500300, 500);
    check_near("linear p99", bench_stats_pct(&a, 99), 990300, 500); /* rank ceil(989.01) */
    check_near("linear min", bench_stats_pct(&a, 0), 1300, 0);
    check_near("linear max", bench_stats_pct(&a, 100), 999300, 0);

    /* 1 ms .. 100 ms in 10 us steps: the log region, nearest rank within 0.4 % */
    for (uint64_t us = 1000; us <= 100000; us += 10)
        bench_stats_add_latency(&b, us * 1000);
    uint64_t n = b.n_lat;
    static const double qs[] = {50, 90, 99, 99.9};
    for (int i = 0; i < 4; i++) {
        uint64_t rank = (uint64_t)ceil(qs[i] / 100 * (double)n); /* 1-based */
        uint64_t want = (1000 + (rank - 1) * 10) * 1000;
        char what[32];
        snprintf(what, sizeof what, "log p%g", qs[i]);
        check_near(what, bench_stats_pct(&b, qs[i]), want, 0.004 * (double)want);
    }
    check_near("log max", bench_stats_pct(&b, 100), 100000000, 0);

    /* merge: counts and extremes add up; p100 is the larger max */
    bench_stats_merge(&m, &a);
    bench_stats_merge(&m, &b);
    CHECK(m.n_lat == a.n_lat + b.n_lat, "merged %llu samples", (unsigned long long)m.n_lat);
    check_near("merged min", bench_stats_pct(&m, 0), 1300, 0);
    check_near("merged max", bench_stats_pct(&m, 100), 100000000, 0);

    /* past uint32 ns (2^32 ns), and past the last octave: still counted, max exact */
    bench_stats_add_latency(&m, 600ull * 1000000000u); /* --timeout's bound */
    check_near("600 s max", bench_stats_pct(&m, 100), 600ull * 1000000000u, 0);
    bench_stats_add_latency(&m, 1ull << 62);
    check_near("huge max", bench_stats_pct(&m, 100), 1ull << 62, 0);
    /* rank ceil(99.99 % of 10902) = 10901: the 600 s sample, from its bucket */
    check_near("600 s p99.99", bench_stats_pct(&m, 99.99), 600ull * 1000000000u, 0.004 * 600e9);

    /* a wrong digit is an error kind, but not a failed request */
    m.errors[BENCH_E_WRONG] = 3;
    m.errors[BENCH_E_TIMEOUT] = 2;
    CHECK(bench_stats_failed(&m) == 2 && bench_stats_errors(&m) == 5, "failed %llu errors %llu",
          (unsigned long long)bench_stats_failed(&m), (unsigned long long)bench_stats_errors(&m));
    if (failures == 0)
        printf("ok: latency histogram\n");
    return failures != 0;
}
