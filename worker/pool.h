/* pool.h: the master process: listen socket, prefork children, supervision, upgrades.
 *
 * Signals (handlers only set flags; the master blocks them and waits in sigsuspend):
 *   TERM, INT, QUIT  graceful stop: children finish the request in flight and exit; leftovers
 *                    get SIGKILL after graceful_timeout. A new master still starting (USR2
 *                    not yet handed over) is sent TERM too and waited for, never orphaned.
 *   USR2             zero-downtime upgrade (nginx-style): the master forks a new master that
 *                    execs exe (the original argv[0], absolute) with the listen fd in
 *                    DIGITD_LISTEN_FD and a readiness pipe in DIGITD_READY_FD. Once all its
 *                    children accept, the new master writes the pid file and one byte to the
 *                    pipe; only then does the old master stop its children gracefully and
 *                    exit. If the new binary fails (exec error, early exit, no readiness
 *                    within 30 s) the old pool keeps serving and logs why. Under systemd
 *                    (Type=notify, NotifyAccess=main) the old master sends MAINPID=<new>
 *                    on $NOTIFY_SOCKET at the hand-over; the first master sends READY=1.
 *   USR1             logged and ignored (nginx's "reopen logs": logs go to stderr here).
 *   CHLD             reap (waitpid WNOHANG) and respawn: at once, unless children keep
 *                    failing on their own before they are ready (non-zero exit, a fault):
 *                    then with doubling delays, never on every slot at once.
 *   IO               a child is ready, or the new master wrote to the readiness pipe.
 *   ALRM             a one-shot timer armed only for the next deadline the master keeps
 *                    (delayed respawn, upgrade readiness, graceful stop's SIGKILL): an idle
 *                    pool's master sleeps in sigsuspend.
 * Children get PR_SET_PDEATHSIG=TERM (Linux): if the master dies, they stop gracefully.
 *
 * Readiness: each child runs the model once on a fixed input (dg_engine_selftest) before it
 * accepts, logs child-ready and signals the master; the pool is ready (pid file, READY=1,
 * the USR2 hand-over) only when every slot is. A child whose self-test fails exits (status 3)
 * with a child-not-ready record, so a model that cannot run never takes over.
 *
 * Connections: children wait in epoll, the listen socket added with EPOLLEXCLUSIVE (one
 * child woken per connection), and accept themselves. A connection is served only once its
 * FastCGI request is in (BEGIN_REQUEST, PARAMS, the end of STDIN, or 64 KiB of them); until
 * then it waits in the child's pending set and is closed after header_timeout, so idle or
 * stalled connections hold file descriptors, not children. A first record other than
 * BEGIN_REQUEST (management records such as GET_VALUES) or a record for another request id
 * closes the connection at once. Each child enforces its own deadlines with ITIMER_REAL:
 * the rest of a request it is reading (header_timeout from the accept: the connection is
 * shut down, the child goes back to accepting) and request_timeout for the whole request
 * (the child ends by SIGALRM, which the master logs as a request timeout and replaces).
 *
 * Graceful stop and the socket: the master shuts the listen socket down (shutdown SHUT_RD)
 * as it signals the children, so new connections are refused at once (nginx tries its next
 * upstream) instead of waiting in the backlog for children that will never accept them; not
 * after a USR2 hand-over (the new pool accepts on that same socket) and not for an fd 0
 * someone else handed us. A unix socket path is only taken over when nothing accepts on it
 * (a stale socket is replaced, a live one refused), and removed at exit only if it is still
 * the socket this pool bound (same device and inode), by whichever master owns it last.
 *
 * FCGI_KEEP_CONN: when the web server asks to keep the connection, it goes back into the
 * child's pending set (not busy meanwhile) and is closed after keep_conn_idle seconds without
 * a request; a stopping child serves the requests already complete in its set, closes the
 * rest and exits. */
#ifndef DIGITD_POOL_H
#define DIGITD_POOL_H

#include "api.h"

struct dg_pool_config {
    const char *listen;        /* "unix:/path", "host:port", ":port"; NULL: inherit fd 0 */
    int backlog;
    int workers;
    long max_requests;         /* 0: never recycle */
    int request_timeout;       /* seconds, 0: none */
    int header_timeout;        /* seconds for a connection to deliver its whole request */
    int graceful_timeout;      /* seconds */
    int keep_conn_idle;        /* seconds a kept connection may idle; 0: close after each request */
    const char *pid_file;      /* NULL: none */
    const char *exe;           /* absolute path re-executed on USR2 */
    char **argv;               /* original argv, passed again on USR2 */
    struct dg_api_config api;  /* limits; api.shared is set by the pool */
};

/* Runs the master until it stops; returns the process exit code. */
int dg_pool_run(struct dg_pool_config *cfg);

#endif
