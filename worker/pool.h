/* pool.h: the master process: listen socket, prefork children, supervision, upgrades.
 *
 * Signals (handlers only set flags; the master blocks them and waits in sigsuspend):
 *   TERM, INT, QUIT  graceful stop: children finish the request in flight and exit; leftovers
 *                    get SIGKILL after graceful_timeout.
 *   USR2             zero-downtime upgrade (nginx-style): the master forks a new master that
 *                    execs exe (the original argv[0], absolute) with the listen fd in
 *                    DIGITD_LISTEN_FD and a readiness pipe in DIGITD_READY_FD. Once all its
 *                    children accept, the new master writes the pid file and one byte to the
 *                    pipe; only then does the old master stop its children gracefully and
 *                    exit. If the new binary fails (exec error, early exit, no readiness
 *                    within 30 s) the old pool keeps serving and logs why.
 *   CHLD             reap (waitpid WNOHANG), respawn with exponential back-off.
 *   ALRM             the supervision tick: request timeouts, delayed respawns, upgrade state. */
#ifndef DIGITD_POOL_H
#define DIGITD_POOL_H

#include "api.h"

struct dg_pool_config {
    const char *listen;        /* "unix:/path", "host:port", ":port"; NULL: inherit fd 0 */
    int backlog;
    int workers;
    long max_requests;         /* 0: never recycle */
    int request_timeout;       /* seconds, 0: none */
    int graceful_timeout;      /* seconds */
    const char *pid_file;      /* NULL: none */
    const char *exe;           /* absolute path re-executed on USR2 */
    char **argv;               /* original argv, passed again on USR2 */
    struct dg_api_config api;  /* limits; api.shared is set by the pool */
};

/* Runs the master until it stops; returns the process exit code. */
int dg_pool_run(struct dg_pool_config *cfg);

#endif
