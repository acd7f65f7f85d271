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
    while (!child_stop) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int n = ppoll(&pfd, 1, NULL, &waitmask);
        if (n < 0 && errno != EINTR) {
            dg_log("error", "slot=%d ppoll: %s", slot_i, strerror(errno));
            _exit(1);
        }
        if (n <= 0 || child_stop)
            continue;
        /* When ppoll finds the socket readable it restores the mask without delivering a
         * pending TERM, so under steady load a stopping child would keep accepting until
         * the SIGKILL deadline: look for it explicitly. */
        sigset_t pend;
        if (sigpending(&pend) == 0 && (sigismember(&pend, SIGTERM) ||
                                       sigismember(&pend, SIGINT) || sigismember(&pend, SIGQUIT)))
            break;
        if (pfd.revents & (POLLERR | POLLNVAL)) {
            dg_log("error", "slot=%d listen socket unusable", slot_i);
            _exit(1);
        }
        /* Busy from here on, not from when FCGX_Accept_r returns: it reads BEGIN_REQUEST and
         * PARAMS with blocking reads, so a client that sends half a header would otherwise
         * hold this child forever, out of --request-timeout's reach. */
        atomic_store(&slot->busy_since_ms, dg_now_ms());
        /* Non-blocking listen socket: another child may have won the connection; then
         * FCGX_Accept_r fails with EAGAIN and we wait again. */
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
        FCGX_Finish_r(&req);
        dg_metrics_record(slot, route, status, dg_now_us() - t0);
        atomic_store(&slot->busy_since_ms, 0);
        if (p->cfg->max_requests > 0 && ++served >= p->cfg->max_requests) {
            dg_log("recycle", "slot=%d after %ld requests", slot_i, served);
            break;
        }
    }
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

static void begin_stop(struct pool *p, const char *why)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    p->stop_deadline_ms = dg_now_ms() + (int64_t)p->cfg->graceful_timeout * 1000;
    dg_log("stop", "%s; graceful_timeout=%ds children=%d", why, p->cfg->graceful_timeout,
           n_alive(p));
    signal_children(p, SIGTERM);
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

/* The listen socket: handed over by an old master, opened from --listen, or fd 0. */
static int open_listen(const struct dg_pool_config *cfg)
{
    const char *env = getenv("DIGITD_LISTEN_FD");
    if (env) {
        int fd = atoi(env);
        unsetenv("DIGITD_LISTEN_FD");
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    if (cfg->listen) {
        const char *path = cfg->listen;
        if (!strncmp(path, "unix:", 5))
            path += 5;
        int fd = FCGX_OpenSocket(path, cfg->backlog);
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
    p->fd = open_listen(cfg);
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
    if (!p->handed_over && cfg->listen && !strncmp(cfg->listen, "unix:", 5))
        unlink(cfg->listen + 5);
    dg_log("exit", "%s", p->handed_over ? "handed over to the new master" : "stopped");
    return 0;
}
