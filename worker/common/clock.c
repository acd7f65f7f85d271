/* clock.c: see clock.h. clock_gettime cannot fail for these two clocks on Linux. */
#include "clock.h"

#include <time.h>

static int64_t ns_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t dg_now_ns(void) { return ns_of(CLOCK_MONOTONIC); }
int64_t dg_now_us(void) { return dg_now_ns() / 1000; }
int64_t dg_now_ms(void) { return dg_now_ns() / 1000000; }
double dg_now_s(void) { return (double)dg_now_ns() * 1e-9; }
int64_t dg_realtime_ms(void) { return ns_of(CLOCK_REALTIME) / 1000000; }
