/* metrics.h: pool-wide counters in one shared anonymous mapping.
 *
 * The master maps it before forking; each child owns one slot (its index in the pool) and
 * updates it with relaxed atomics, so any child can answer /api/metrics for the whole pool
 * and the master can read "busy since" to kill a child stuck in one request. A slot's
 * counters survive the child in it (a respawned child continues them). */
#ifndef DIGITD_METRICS_H
#define DIGITD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h" /* the timestamps below are dg_now_ms() and dg_realtime_ms() values */

#define DG_MAX_WORKERS 256

enum dg_route { DG_ROUTE_PREDICT, DG_ROUTE_HEALTH, DG_ROUTE_METRICS, DG_ROUTE_OTHER, DG_N_ROUTES };
/* The statuses the API answers with; anything else is counted as 500. */
#define DG_STATUS_CODES(X) X(200) X(400) X(404) X(405) X(411) X(413) X(415) X(422) X(500)
enum { DG_N_STATUS = 9 };
/* Latency histogram upper bounds in microseconds (Prometheus buckets, +Inf implied). */
#define DG_LAT_BUCKETS_US {100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000}
enum { DG_N_LAT = 10 };

struct dg_slot {
    _Atomic pid_t pid;               /* 0: empty */
    _Atomic int ready;               /* child initialised and accepting */
    _Atomic int64_t busy_since_ms;   /* dg_now_ms() when the current request began, 0 idle */
    _Atomic uint64_t requests[DG_N_ROUTES][DG_N_STATUS];
    _Atomic uint64_t lat_count[DG_N_LAT + 1]; /* per bucket, not cumulative; last = +Inf */
    _Atomic uint64_t lat_sum_us;
};

struct dg_shared {
    _Atomic pid_t master_pid;
    int64_t start_ms;                /* dg_realtime_ms() at pool start */
    _Atomic uint64_t restarts;       /* children respawned after an exit */
    _Atomic uint64_t timeouts;       /* children killed for --request-timeout */
    int n_slots;
    struct dg_slot slot[DG_MAX_WORKERS];
};

/* Maps the shared block (MAP_SHARED | MAP_ANONYMOUS); NULL on failure. */
struct dg_shared *dg_metrics_create(int n_slots);

/* Index of an HTTP status in requests[][], 500's for unknown ones. */
int dg_status_index(int status);

void dg_metrics_record(struct dg_slot *s, enum dg_route r, int status, int64_t usec);

/* The model line of the exposition (digitd_model_info). The caller fills it in from the
 * engine, so that the counters stay a module of their own, testable without a model. */
struct dg_metrics_model {
    const char *name, *sha256, *isa;
    long params;
};

/* Writes the Prometheus text exposition of the whole pool into buf (cap bytes, NUL-terminated).
 * Returns the length, or 0 if cap is too small. */
size_t dg_metrics_render(const struct dg_shared *sh, const struct dg_metrics_model *model,
                         char *buf, size_t cap);

#endif
