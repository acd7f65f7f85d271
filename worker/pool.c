/* pool.c: the master and its children (see pool.h for the signal protocol). */
#define _GNU_SOURCE /* ppoll, pipe2 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <fcgiapp.h>

#include "log.h"

#define TICK_MS 200
#define STARTUP_TICK_MS 5       /* until all children accept: start-up time is not a tick */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define QUICK_EXIT_MS 1000      /* a child dying younger than this counts as a crash loop */
#define UPGRADE_WAIT_MS 30000

static volatile sig_atomic_t got_stop, got_upgrade, got_child, got_tick, got_reopen;

static void on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
        got_stop = 1;
    else if (sig == SIGUSR2)
        got_upgrade = 1;
    else if (sig == SIGUSR1)
        got_reopen = 1;
    else if (sig == SIGCHLD)
        got_child = 1;
    else if (sig == SIGALRM)
        got_tick = 1;
}

/* Master-private view of a slot (the shared one holds what children publish). */
struct worker {
    pid_t pid;
    int64_t started_ms;
    int64_t respawn_at_ms;  /* >0: respawn due then */
    int failures;           /* consecutive quick exits, drives the back-off */
    int killed_timeout;
};

struct pool {
    struct dg_pool_config *cfg;
    struct dg_shared *sh;
    int fd;                     /* listen socket */
    struct worker w[DG_MAX_WORKERS];
    sigset_t waitmask;          /* mask for sigsuspend: ours unblocked */
    int stopping;
    int64_t stop_deadline_ms;
    int handed_over;            /* an upgraded master took over the socket */
    pid_t upgrade_pid;          /* new master being started (or abandoned, until reaped) */
    int upgrade_rd;             /* its readiness pipe */
    int64_t upgrade_deadline_ms;
    int ready_fd;               /* we are an upgrade: tell the old master when ready */
    int64_t started_ms;         /* master start, for the start-up time in the log */
    int socket_ours;            /* this pool (or the one we upgraded) opened it from --listen */
    int owner;                  /* ours, and the old master (if any) has handed over to us */
    const char *sock_path;      /* unix socket path, NULL for TCP or an inherited fd 0 */
    int have_sock_id;           /* sock_dev, sock_ino: the socket file this pool bound */
    dev_t sock_dev;
    ino_t sock_ino;
};

static const int master_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM};

/* --- the child ------------------------------------------------------------------------ */

static volatile sig_atomic_t child_stop;
static void on_child_stop(int sig) { (void)sig; child_stop = 1; }

/* Signals in a child: TERM stays blocked except while waiting for a connection in ppoll,
 * so a request in flight is never interrupted (libfcgi's reads do not retry EINTR). */
static void child_signals(sigset_t *waitmask)
{
    struct sigaction sa = {0};
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        sigaction(master_signals[i], &sa, NULL);
    sa.sa_handler = on_child_stop; /* no SA_RESTART: ppoll must return */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    /* USR1/USR2 are for the master; an operator signalling the whole process group must
     * not kill the children with the default action. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_SETMASK, &block, NULL);
    sigemptyset(waitmask);
}

/* TERM, INT or QUIT pending (blocked): ppoll may report a readable fd without delivering it. */
static int stop_pending(void)
{
    sigset_t pend;
    return sigpending(&pend) == 0 && (sigismember(&pend, SIGTERM) || sigismember(&pend, SIGINT) ||
                                      sigismember(&pend, SIGQUIT));
}

/* Closes a connection the web server kept open (FCGI_KEEP_CONN), if there is one. libfcgi
 * shuts our side down and reads until the peer closes (so that it sees an orderly end, not a
 * reset), up to 2 s per read: busy meanwhile, so that --request-timeout bounds a peer that
 * trickles bytes into that drain. */
static void close_kept(struct dg_slot *slot, FCGX_Request *req)
{
    if (req->ipcFd < 0)
        return;
    atomic_store(&slot->busy_since_ms, dg_now_ms());
    FCGX_Free(req, 1);
    atomic_store(&slot->busy_since_ms, 0);
}

/* Before FCGX_Finish_r on a connection the web server keeps: libfcgi 2.4.2 does not read
 * what the handler left of the request's stdin (the empty record that ends a GET's, the body
 * of a refused request), and the next FCGX_Accept_r would take it for the next request's
 * header: a protocol error, the connection dropped. Reads the rest, up to a bound; returns 0
 * if stdin is not at its end after that (a large unread body: the connection is not worth
 * keeping, the caller closes it). */
#define KEPT_DRAIN_MAX (64 << 10)

static int drain_stdin(FCGX_Request *req)
{
    char buf[4096];
    int n = 0;
    for (size_t got = 0; got < KEPT_DRAIN_MAX && (n = FCGX_GetStr(buf, sizeof buf, req->in)) > 0;)
        got += (size_t)n;
    return FCGX_HasSeenEOF(req->in) == EOF;
}

/* Waits in ppoll, the only place TERM is unblocked, for the next request: on the kept
 * connection if there is one (until *kept_until_ms, then it is closed), else on the listen
 * socket. Returns 1 when FCGX_Accept_r has something to read, 0 to wait again, -1 to stop. */
static int wait_for_request(struct pool *p, int slot_i, FCGX_Request *req, const sigset_t *waitmask,
                            int64_t kept_until_ms)
{
    int kept = req->ipcFd >= 0;
    struct timespec ts, *tmo = NULL;
    if (kept) {
        int64_t left = kept_until_ms - dg_now_ms();
        if (left <= 0) {
            close_kept(&p->sh->slot[slot_i], req); /* idle too long: the listen socket again */
            return 0;
        }
        ts.tv_sec = (time_t)(left / 1000);
        ts.tv_nsec = (long)(left % 1000) * 1000000;
        tmo = &ts;
    }
    struct pollfd pfd = {.fd = kept ? req->ipcFd : p->fd, .events = POLLIN};
    int n = ppoll(&pfd, 1, tmo, waitmask);
    if (n < 0 && errno != EINTR) {
        dg_log("error", "slot=%d ppoll: %s", slot_i, strerror(errno));
        _exit(1);
    }
    if (child_stop)
        return -1;
    if (n <= 0) /* a timeout: the next call closes the kept connection */
        return 0;
    /* When ppoll finds the fd readable it restores the mask without delivering a pending
     * TERM, so under steady load a stopping child would keep accepting until the SIGKILL
     * deadline: look for it explicitly. */
    if (stop_pending())
        return -1;
    if (!kept && (pfd.revents & (POLLERR | POLLNVAL))) {
        dg_log("error", "slot=%d listen socket unusable", slot_i);
        _exit(1);
    }
    return 1; /* readable, or the kept connection's peer hung up: FCGX_Accept_r sorts it out */
}

static void child_serve(struct pool *p, int slot_i)
{
    struct dg_slot *slot = &p->sh->slot[slot_i];
    sigset_t waitmask;
    child_signals(&waitmask);
    if (p->upgrade_rd >= 0)
        close(p->upgrade_rd);
    if (p->ready_fd >= 0)
        close(p->ready_fd);
    FCGX_Request req;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, p->fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        dg_log("error", "slot=%d FCGX_Init failed", slot_i);
        _exit(1);
    }
    /* FCGX_Init forces libfcgi's own USR1 handler, which sets a "shutdown pending" flag that
     * makes every later accept fail: one USR1 to the process group would leave all children
     * alive but deaf. Ignore it again (after FCGX_Init, or it is overridden). */
    struct sigaction ign = {0};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &ign, NULL);
    atomic_store(&slot->pid, getpid());
    atomic_store(&slot->ready, 1);
    long served = 0;
    int64_t kept_until_ms = 0;
    int w;
    while (!child_stop && (w = wait_for_request(p, slot_i, &req, &waitmask, kept_until_ms)) >= 0) {
        if (w == 0)
            continue;
        /* Busy from here on, not from when FCGX_Accept_r returns: it reads BEGIN_REQUEST and
         * PARAMS with blocking reads, so a client that sends half a header would otherwise
         * hold this child forever, out of --request-timeout's reach. */
        atomic_store(&slot->busy_since_ms, dg_now_ms());
        /* With no kept connection, FCGX_Accept_r accepts on the non-blocking listen socket:
         * another child may have won the connection, then it fails with EAGAIN and we wait
         * again. On a kept connection it reads the next request from it; if the peer closed
         * it, libfcgi closes our end and falls back to that same accept. */
        int rc = FCGX_Accept_r(&req);
        if (rc < 0) {
            atomic_store(&slot->busy_since_ms, 0);
            if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR) {
                /* e.g. EMFILE: the socket stays readable, so pause instead of spinning */
                dg_log("error", "slot=%d accept: %s", slot_i, strerror(-rc));
                usleep(100000);
            }
            continue;
        }
        int64_t t0 = dg_now_us(); /* latency counts from a complete header, as before */
        enum dg_route route = DG_ROUTE_OTHER;
        int status = dg_api_handle(&req, &p->cfg->api, &route);
        int keep = req.keepConnection && p->cfg->keep_conn_idle > 0 && drain_stdin(&req);
        FCGX_Finish_r(&req); /* keeps req.ipcFd open if the web server set FCGI_KEEP_CONN */
        dg_metrics_record(slot, route, status, dg_now_us() - t0);
        atomic_store(&slot->busy_since_ms, 0);
        if (!keep)
            close_kept(slot, &req); /* no-op unless libfcgi kept it */
        kept_until_ms = dg_now_ms() + (int64_t)p->cfg->keep_conn_idle * 1000;
        if (p->cfg->max_requests > 0 && ++served >= p->cfg->max_requests) {
            dg_log("recycle", "slot=%d after %ld requests", slot_i, served);
            break;
        }
    }
    /* No more accepting: drop our copy of the listen socket at once (the master has shut it
     * down already if the pool is stopping), then end a kept connection. */
    close(p->fd);
    close_kept(slot, &req);
    atomic_store(&slot->ready, 0);
    _exit(0);
}

/* --- the master ----------------------------------------------------------------------- */

static int spawn(struct pool *p, int i)
{
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        dg_log("error", "slot=%d fork: %s", i, strerror(errno));
        p->w[i].respawn_at_ms = dg_now_ms() + BACKOFF_MIN_MS;
        return -1;
    }
    if (pid == 0) {
#ifdef __linux__
        /* A master killed with SIGKILL (or OOM) must not leave children accepting with
         * nobody to enforce timeouts or respawn: TERM them, which they take as a graceful
         * stop. The getppid() check closes the race of the master dying before prctl. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master)
            _exit(0);
#else
        (void)master;
#endif
        child_serve(p, i);
    }
    p->w[i].pid = pid;
    p->w[i].started_ms = dg_now_ms();
    p->w[i].respawn_at_ms = 0;
    p->w[i].killed_timeout = 0;
    atomic_store(&p->sh->slot[i].pid, pid);
    dg_log("child-start", "slot=%d child=%ld", i, (long)pid);
    return 0;
}

static int n_alive(const struct pool *p)
{
    int n = 0;
    for (int i = 0; i < p->cfg->workers; i++)
        n += p->w[i].pid > 0;
    return n;
}

/* A new master we started that has not taken over (still starting, or being stopped). */
static int upgrade_pending(const struct pool *p)
{
    return p->upgrade_pid > 0 && !p->handed_over;
}

/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
 * "KEY=value" lines to the AF_UNIX socket named in $NOTIFY_SOCKET ('@': abstract name).
 * Nothing to do when not run by systemd with Type=notify. */
static void notify_systemd(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof sa.sun_path)
        return;
    size_t len = strlen(path);
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
        dg_log("error", "notify systemd (%s): %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

static void exit_reason(int st, char *buf, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(buf, cap, "exit=%d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, cap, "signal=%d(%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(buf, cap, "status=%d", st);
}

/* Schedules the respawn of slot i: at once after a clean exit (recycling) or a long life,
 * with doubling delays while children keep dying young (a crashing build). */
static void schedule_respawn(struct pool *p, int i, int st)
{
    struct worker *w = &p->w[i];
    int64_t now = dg_now_ms();
    int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (clean || w->killed_timeout || now - w->started_ms >= QUICK_EXIT_MS)
        w->failures = 0;
    else if (w->failures < 20)
        w->failures++;
    int64_t delay = 0;
    if (w->failures) {
        delay = (int64_t)BACKOFF_MIN_MS << (w->failures - 1);
        if (delay > BACKOFF_MAX_MS)
            delay = BACKOFF_MAX_MS;
    }
    w->respawn_at_ms = now + delay;
    if (delay)
        dg_log("respawn-delay", "slot=%d in_ms=%lld failures=%d", i, (long long)delay,
               w->failures);
}

static void upgrade_abandon(struct pool *p, const char *why)
{
    dg_log("upgrade-failed", "new_master=%ld %s; old pool keeps serving", (long)p->upgrade_pid,
           why);
    if (p->upgrade_rd >= 0)
        close(p->upgrade_rd);
    p->upgrade_rd = -1;
    p->upgrade_pid = 0;
}

static void reap(struct pool *p)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        char why[64];
        exit_reason(st, why, sizeof why);
        if (pid == p->upgrade_pid) {
            if (p->stopping && !p->handed_over) {
                dg_log("upgrade-exit", "new_master=%ld %s", (long)pid, why);
                p->upgrade_pid = 0;
            } else if (!p->handed_over) {
                upgrade_abandon(p, why);
            }
            continue;
        }
        for (int i = 0; i < p->cfg->workers; i++) {
            if (p->w[i].pid != pid)
                continue;
            p->w[i].pid = 0;
            atomic_store(&p->sh->slot[i].pid, 0);
            atomic_store(&p->sh->slot[i].busy_since_ms, 0);
            atomic_store(&p->sh->slot[i].ready, 0);
            dg_log("child-exit", "slot=%d child=%ld %s%s", i, (long)pid, why,
                   p->w[i].killed_timeout ? " (request timeout)" : "");
            if (!p->stopping)
                schedule_respawn(p, i, st);
        }
    }
}

static void signal_children(struct pool *p, int sig)
{
    for (int i = 0; i < p->cfg->workers; i++)
        if (p->w[i].pid > 0)
            kill(p->w[i].pid, sig);
}

/* At a stop: children finishing a request still hold copies of the listen socket, so
 * closing ours would not stop the kernel from queueing new connections, which would then be
 * reset when the last copy closes, seconds later: shutdown(SHUT_RD) makes it refuse them
 * now, for every holder (Linux: unix sockets answer ECONNREFUSED, TCP ones RST), and nginx
 * moves on to another pool at once. Not when the socket is not ours to end: after a USR2
 * hand-over the new pool accepts on this very socket, an upgrade that has not taken over
 * yet shares the old pool's, and an fd 0 someone handed us may be handed to our successor. */
static void stop_listening(struct pool *p)
{
    if (p->fd < 0)
        return;
    if (p->owner && !p->handed_over && shutdown(p->fd, SHUT_RD) != 0)
        dg_log("error", "shutdown of the listen socket: %s", strerror(errno));
    close(p->fd);
    p->fd = -1;
}

static void begin_stop(struct pool *p, const char *why)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    p->stop_deadline_ms = dg_now_ms() + (int64_t)p->cfg->graceful_timeout * 1000;
    signal_children(p, SIGTERM);
    stop_listening(p); /* after the signals: a child then sees TERM before a dead socket */
    dg_log("stop", "%s; graceful_timeout=%ds children=%d", why, p->cfg->graceful_timeout,
           n_alive(p));
    /* A new master still starting would outlive us and serve on as an orphan that nobody
     * asked for: stop it too (TERM is its graceful stop; before its handlers are in place,
     * the default action ends it), and keep its pid so that we wait for it and, at the
     * deadline, SIGKILL it like our own children. */
    if (p->upgrade_pid && !p->handed_over) {
        kill(p->upgrade_pid, SIGTERM);
        dg_log("upgrade-abandoned", "new_master=%ld: stopping, sent SIGTERM",
               (long)p->upgrade_pid);
        if (p->upgrade_rd >= 0)
            close(p->upgrade_rd);
        p->upgrade_rd = -1;
    }
}

static void upgrade_start(struct pool *p)
{
    if (p->stopping || p->upgrade_pid) {
        dg_log("upgrade-ignored", "%s", p->stopping ? "stopping" : "upgrade in progress");
        return;
    }
    int pp[2];
    if (pipe2(pp, O_CLOEXEC) != 0) {
        dg_log("upgrade-failed", "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        dg_log("upgrade-failed", "fork: %s", strerror(errno));
        close(pp[0]), close(pp[1]);
        return;
    }
    if (pid == 0) { /* the future new master: hand it the socket and the pipe, exec */
        char fdbuf[16], rdbuf[16];
        snprintf(fdbuf, sizeof fdbuf, "%d", p->fd);
        snprintf(rdbuf, sizeof rdbuf, "%d", pp[1]);
        fcntl(p->fd, F_SETFD, 0);
        fcntl(pp[1], F_SETFD, 0);
        setenv("DIGITD_LISTEN_FD", fdbuf, 1);
        setenv("DIGITD_READY_FD", rdbuf, 1);
        if (p->have_sock_id) { /* so that the last owner, not just the first, removes it */
            char id[48];
            snprintf(id, sizeof id, "%llu:%llu", (unsigned long long)p->sock_dev,
                     (unsigned long long)p->sock_ino);
            setenv("DIGITD_LISTEN_ID", id, 1);
        }
        sigset_t none;
        sigemptyset(&none);
        struct sigaction sa = {0};
        sa.sa_handler = SIG_DFL;
        for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
            sigaction(master_signals[i], &sa, NULL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(p->cfg->exe, p->cfg->argv);
        dg_log("upgrade-failed", "exec %s: %s", p->cfg->exe, strerror(errno));
        _exit(127);
    }
    close(pp[1]);
    fcntl(pp[0], F_SETFL, O_NONBLOCK);
    p->upgrade_rd = pp[0];
    p->upgrade_pid = pid;
    p->upgrade_deadline_ms = dg_now_ms() + UPGRADE_WAIT_MS;
    dg_log("upgrade-start", "exe=%s new_master=%ld", p->cfg->exe, (long)pid);
}

/* Polled on each tick: did the new master report all its children accepting? */
static void upgrade_check(struct pool *p)
{
    char c;
    ssize_t n = read(p->upgrade_rd, &c, 1);
    if (n == 1) {
        dg_log("upgrade-ready", "new_master=%ld took over; old children stop",
               (long)p->upgrade_pid);
        close(p->upgrade_rd);
        p->upgrade_rd = -1;
        p->handed_over = 1;
        p->owner = 0;
        /* Under systemd we are the service's main process: name the new master before we
         * exit, or systemd takes our exit for the service's end and kills the new pool. We
         * send it, not the new master, so that NotifyAccess=main suffices (children, which
         * parse untrusted input, cannot move MAINPID) and it is sent while we are main. */
        char msg[96];
        snprintf(msg, sizeof msg, "MAINPID=%ld\nSTATUS=upgraded, master pid %ld",
                 (long)p->upgrade_pid, (long)p->upgrade_pid);
        notify_systemd(msg);
        begin_stop(p, "upgraded");
    } else if (dg_now_ms() > p->upgrade_deadline_ms) {
        kill(p->upgrade_pid, SIGTERM);
        upgrade_abandon(p, "not ready in time (sent SIGTERM)");
    }
    /* EOF without a byte: the new master died; reap() logs its exit status */
}

static int write_pid_file(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%ld\n", (long)getpid()) > 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Removes the pid file only if it still names us (after an upgrade it names the new master). */
static void remove_pid_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid == (long)getpid())
        unlink(path);
}

static void set_tick(int ms)
{
    struct itimerval it = {{0, ms * 1000}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void announce_ready(struct pool *p)
{
    for (int i = 0; i < p->cfg->workers; i++)
        if (!atomic_load(&p->sh->slot[i].ready))
            return;
    dg_log("ready", "workers=%d accepting after_ms=%lld", p->cfg->workers,
           (long long)(dg_now_ms() - p->started_ms));
    if (p->cfg->pid_file && write_pid_file(p->cfg->pid_file) != 0)
        dg_log("error", "pid file %s: %s", p->cfg->pid_file, strerror(errno));
    if (p->ready_fd >= 0) {
        ssize_t w = write(p->ready_fd, "1", 1);
        dg_log("upgrade-ready", "children accepting; told the old master (%s)",
               w == 1 ? "ok" : strerror(errno));
        close(p->ready_fd);
        /* The old master stops now: the socket is ours to shut down and remove. Before this
         * (an upgrade abandoned or stopped while starting) it is still the old pool's. */
        p->owner = p->socket_ours;
    } else {
        /* First start: Type=notify waits for this. After an upgrade the old master names
         * us in MAINPID= instead (see upgrade_check). */
        char msg[64];
        snprintf(msg, sizeof msg, "READY=1\nSTATUS=serving, %d workers", p->cfg->workers);
        notify_systemd(msg);
    }
    p->ready_fd = -2; /* done */
    set_tick(TICK_MS);
}

static void tick(struct pool *p)
{
    int64_t now = dg_now_ms();
    for (int i = 0; i < p->cfg->workers; i++) {
        struct worker *w = &p->w[i];
        int64_t busy = atomic_load(&p->sh->slot[i].busy_since_ms);
        if (w->pid > 0 && p->cfg->request_timeout > 0 && busy > 0 && !w->killed_timeout &&
            now - busy > (int64_t)p->cfg->request_timeout * 1000) {
            dg_log("request-timeout", "slot=%d child=%ld busy_ms=%lld: SIGKILL", i,
                   (long)w->pid, (long long)(now - busy));
            kill(w->pid, SIGKILL);
            w->killed_timeout = 1;
            atomic_fetch_add(&p->sh->timeouts, 1);
        }
        if (!p->stopping && w->pid == 0 && w->respawn_at_ms && now >= w->respawn_at_ms) {
            atomic_fetch_add(&p->sh->restarts, 1);
            spawn(p, i);
        }
    }
    if (p->upgrade_pid && !p->handed_over && p->upgrade_rd >= 0)
        upgrade_check(p);
    if (p->ready_fd != -2)
        announce_ready(p);
    if (p->stopping && now > p->stop_deadline_ms && (n_alive(p) || upgrade_pending(p))) {
        dg_log("stop-kill", "graceful timeout: SIGKILL to %d children%s", n_alive(p),
               upgrade_pending(p) ? " and the new master" : "");
        signal_children(p, SIGKILL);
        if (upgrade_pending(p))
            kill(p->upgrade_pid, SIGKILL);
        p->stop_deadline_ms = INT64_MAX;
    }
}

/* The unix socket path in --listen, or NULL for host:port (libfcgi's rule: a ':' followed
 * by a port number). */
static const char *unix_path(const char *listen)
{
    if (!listen)
        return NULL;
    const char *path = !strncmp(listen, "unix:", 5) ? listen + 5 : listen;
    const char *colon = strchr(path, ':');
    return colon && atoi(colon + 1) != 0 ? NULL : path;
}

/* Before binding path: refuses it if a server accepts on it or it is not a socket, removes
 * a stale socket (nothing listens: ECONNREFUSED). FCGX_OpenSocket would unlink whatever is
 * there, so a second pool started by mistake silently took a running pool's socket. */
static int claim_unix_path(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        dg_log("error", "cannot listen on unix:%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        dg_log("error", "cannot listen on unix:%s: exists and is not a socket", path);
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1); /* the caller checked the length */
    /* non-blocking: a listener with a full backlog answers EAGAIN instead of making us wait */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        dg_log("error", "cannot listen on unix:%s: socket: %s", path, strerror(errno));
        return -1;
    }
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa), e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN) {
        dg_log("error", "cannot listen on unix:%s: already in use by a running server", path);
        return -1;
    }
    if (e != ECONNREFUSED) {
        dg_log("error", "cannot listen on unix:%s: probing it: %s", path, strerror(e));
        return -1;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        dg_log("error", "cannot listen on unix:%s: removing the stale socket: %s", path,
               strerror(errno));
        return -1;
    }
    dg_log("stale-socket", "unix:%s: nothing listened on it; replaced", path);
    return 0;
}

/* A unix listening socket at path (not FCGX_OpenSocket, which unlinks any file there and
 * exit()s when bind fails); records the socket file's identity for the exit. */
static int listen_unix(struct pool *p, const char *path, int backlog)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        dg_log("error", "cannot listen on unix:%s: path longer than %zu bytes", path,
               sizeof sa.sun_path - 1);
        return -1;
    }
    if (claim_unix_path(path) != 0)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) {
        /* EADDRINUSE here: another server bound it since the probe */
        dg_log("error", "cannot listen on unix:%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        p->have_sock_id = 1;
        p->sock_dev = st.st_dev;
        p->sock_ino = st.st_ino;
    }
    return fd;
}

/* An upgraded master's socket file identity, from the old master. */
static void inherit_sock_id(struct pool *p)
{
    const char *id = getenv("DIGITD_LISTEN_ID");
    unsigned long long dev, ino;
    if (id && sscanf(id, "%llu:%llu", &dev, &ino) == 2) {
        p->have_sock_id = 1;
        p->sock_dev = (dev_t)dev;
        p->sock_ino = (ino_t)ino;
    }
    unsetenv("DIGITD_LISTEN_ID");
}

/* The listen socket: handed over by an old master, opened from --listen, or fd 0. */
static int open_listen(struct pool *p)
{
    const struct dg_pool_config *cfg = p->cfg;
    p->sock_path = unix_path(cfg->listen);
    p->socket_ours = cfg->listen != NULL;
    const char *env = getenv("DIGITD_LISTEN_FD");
    if (env) {
        int fd = atoi(env);
        unsetenv("DIGITD_LISTEN_FD");
        inherit_sock_id(p);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd; /* owned once we have taken over (announce_ready) */
    }
    if (p->sock_path) {
        p->owner = 1;
        return listen_unix(p, p->sock_path, cfg->backlog);
    }
    if (cfg->listen) {
        p->owner = 1;
        int fd = FCGX_OpenSocket(cfg->listen, cfg->backlog);
        if (fd < 0)
            dg_log("error", "cannot listen on %s: %s", cfg->listen, strerror(errno));
        else
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    struct stat st;
    int acc = 0;
    socklen_t len = sizeof acc;
    if (fstat(0, &st) == 0 && S_ISSOCK(st.st_mode) &&
        getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc)
        return 0;
    dg_log("error", "no --listen given and fd 0 is not a listening socket");
    return -1;
}

/* At exit: the socket file goes only if it is still the one this pool bound; another pool
 * may have replaced it (after ours was removed by hand), and after a hand-over it is the new
 * master's to remove. */
static void remove_socket_file(const struct pool *p)
{
    struct stat st;
    if (p->owner && !p->handed_over && p->sock_path && p->have_sock_id &&
        lstat(p->sock_path, &st) == 0 && st.st_dev == p->sock_dev && st.st_ino == p->sock_ino)
        unlink(p->sock_path);
}

static void install_signals(struct pool *p)
{
    struct sigaction sa = {0};
    sigset_t block;
    sigemptyset(&block);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++) {
        sigaddset(&block, master_signals[i]);
        sigaction(master_signals[i], &sa, NULL);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigprocmask(SIG_BLOCK, &block, &p->waitmask);
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        sigdelset(&p->waitmask, master_signals[i]);
    set_tick(STARTUP_TICK_MS);
}

static void master_loop(struct pool *p)
{
    for (;;) {
        sigsuspend(&p->waitmask);
        if (got_child) {
            got_child = 0;
            reap(p);
        }
        if (got_stop) {
            got_stop = 0;
            begin_stop(p, "signal");
        }
        if (got_upgrade) {
            got_upgrade = 0;
            upgrade_start(p);
        }
        if (got_reopen) {
            /* nginx's "reopen logs": an operator's habit must not kill the master (USR1's
             * default action), and there is no file to reopen. */
            got_reopen = 0;
            dg_log("reopen-ignored", "SIGUSR1: logs go to stderr, nothing to reopen");
        }
        if (got_tick) {
            got_tick = 0;
            tick(p);
        }
        /* Wait for an abandoned new master too: leaving it would orphan it (and its pool). */
        if (p->stopping && !n_alive(p) && !upgrade_pending(p))
            return;
    }
}

int dg_pool_run(struct dg_pool_config *cfg)
{
    static struct pool pool; /* static: large, and one per process */
    struct pool *p = &pool;
    p->cfg = cfg;
    p->upgrade_rd = -1;
    p->started_ms = dg_now_ms();
    const char *ready = getenv("DIGITD_READY_FD");
    p->ready_fd = ready ? atoi(ready) : -1;
    unsetenv("DIGITD_READY_FD");
    if (p->ready_fd >= 0)
        fcntl(p->ready_fd, F_SETFD, FD_CLOEXEC);
    p->fd = open_listen(p);
    if (p->fd < 0)
        return 1;
    /* Children poll and then accept: non-blocking so losing the race is EAGAIN, not a hang. */
    fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
    p->sh = dg_metrics_create(cfg->workers);
    if (!p->sh) {
        dg_log("error", "shared memory: %s", strerror(errno));
        return 1;
    }
    atomic_store(&p->sh->master_pid, getpid());
    cfg->api.shared = p->sh;
    install_signals(p);
    dg_log("start", "listen=%s fd=%d workers=%d exe=%s%s", cfg->listen ? cfg->listen : "fd0",
           p->fd, cfg->workers, cfg->exe, p->ready_fd >= 0 ? " (upgrade)" : "");
    for (int i = 0; i < cfg->workers; i++)
        spawn(p, i);
    master_loop(p);
    if (cfg->pid_file)
        remove_pid_file(cfg->pid_file);
    remove_socket_file(p);
    dg_log("exit", "%s", p->handed_over ? "handed over to the new master" : "stopped");
    return 0;
}
