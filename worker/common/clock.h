/* clock.h: the one clock every program reads.
 *
 * Durations, deadlines and latencies use CLOCK_MONOTONIC (a wall-clock step, e.g. NTP,
 * must not make a request look 10 minutes long or fire a timeout early); only "since when"
 * for humans (uptime's start) uses CLOCK_REALTIME. */
#ifndef DIGITD_CLOCK_H
#define DIGITD_CLOCK_H

#include <stdint.h>

int64_t dg_now_ns(void);      /* CLOCK_MONOTONIC */
int64_t dg_now_us(void);      /* CLOCK_MONOTONIC */
int64_t dg_now_ms(void);      /* CLOCK_MONOTONIC */
double dg_now_s(void);        /* CLOCK_MONOTONIC, seconds with ns resolution */
int64_t dg_realtime_ms(void); /* CLOCK_REALTIME: ms since the epoch */

#endif
