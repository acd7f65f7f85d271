/* pool.c: the master and its children (see pool.h for the signal protocol). */
#define _GNU_SOURCE /* pipe2, accept4, F_SETSIG */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

#include "engine.h"
#include "fcgi_records.h"
#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define UPGRADE_WAIT_MS 30000

static volatile sig_atomic_t got_stop, got_upgrade, got_child, got_timer, got_io, got_reopen;

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
        got_timer = 1;
    else if (sig == SIGIO)
        got_io = 1;
}

/* Master-private view of a slot (the shared one holds what children publish). */
struct worker {
    pid_t pid;
    int64_t started_ms;
    int64_t respawn_at_ms;  /* >0: respawn due then */
    int failures;           /* consecutive exits before ready, drives the back-off */
};

struct pool {
    struct dg_pool_config *cfg;
    struct dg_shared *sh;
    pid_t master;               /* this process, for the children's readiness signal */
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

static const int master_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM,
                                     SIGIO};

/* --- the child ------------------------------------------------------------------------ */

/* A child takes a connection only when its whole request is in (or PEEK_BYTES of it: a
 * larger body does not fit in a unix socket's buffer, and nginx streams it at full speed,
 * while a client stalling after that is cut off by the header deadline; fcgi_records.c
 * reads the records); until then the connection waits in the child's pending set beside
 * the listen socket, so a client that opens a connection and stalls holds a file
 * descriptor for --header-timeout, not a child. nginx sends each request in one go, so its
 * connections are served as soon as they are accepted. */
#define PENDING_MAX 128
#define PEEK_BYTES DG_FCGI_PEEK_BYTES

struct conn {
    int fd;
    int64_t deadline_ms;  /* closed unless its request is complete by then */
    int kept;             /* kept open by the web server after a request (FCGI_KEEP_CONN) */
    int look;             /* bytes arrived since it was last looked at */
    int ready;            /* its whole request was in when accepted: not in epoll */
};

struct child {
    struct pool *p;
    int slot_i;
    struct dg_slot *slot;
    int ep;               /* epoll: the listen socket (EPOLLEXCLUSIVE) and the pending set */
    int listening;        /* the listen socket is in ep */
    int done;             /* no more accepting */
    struct conn pend[PENDING_MAX];
    int n_pend;
    FCGX_Request req;
    sigset_t waitmask;
};

static volatile sig_atomic_t child_stop;
static void on_child_stop(int sig) { (void)sig; child_stop = 1; }

/* Deadlines of the connection being served, enforced by the child itself with one
 * ITIMER_REAL, so the master needs no periodic tick. The header deadline shuts the
 * connection down (a read blocked inside libfcgi returns, the child goes back to accepting)
 * unless the whole request is in; the request deadline ends the child by SIGALRM, which the
 * master reports as a request timeout.
 *
 * Per request this costs no system call beyond, at most, one setitimer: a timer already
 * armed no later than the next deadline is left as it is, and one that fires early (before
 * any deadline: one of an earlier request) only re-arms itself. An early alarm is harmless
 * where the child may be: SIGALRM restarts libfcgi's reads and writes (SA_RESTART), and
 * epoll_pwait's EINTR is a wake-up like any other. The exception is libfcgi's close, which
 * waits for the web server in poll(), never restarted: a signal there would close the
 * connection before the web server is done (a TCP reset can lose the answer). So the close
 * runs under a timer armed exactly for its own deadline.
 *
 * set_phase and the handler share dl without blocking signals: set_phase raises updating
 * while it writes, a handler that comes then only records that it missed (missed), and
 * set_phase acts on the deadlines itself once the update is complete. */
enum { PH_IDLE, PH_READING, PH_HANDLING, PH_CLOSING };
static struct {
    volatile sig_atomic_t phase;
    volatile sig_atomic_t header_expired;
    volatile sig_atomic_t updating;  /* set_phase is writing the fields below */
    volatile sig_atomic_t missed;    /* an alarm came meanwhile: set_phase acts on it */
    /* absolute CLOCK_MONOTONIC ms, 0: none; written only by whoever holds dl (set_phase
     * while updating, else the handler), so never read half-written */
    volatile int64_t header_ms, request_ms;
    volatile int64_t armed_ms;       /* when the one-shot timer fires, 0: not armed */
    FCGX_Request *req;
} dl;

/* The next deadline of the phase, 0: none. */
static int64_t next_deadline(void)
{
    if (dl.phase == PH_IDLE)
        return 0;
    int64_t next = dl.header_ms;
    if (dl.request_ms && (!next || dl.request_ms < next))
        next = dl.request_ms;
    return next;
}

/* Arms the one-shot timer for next (0: disarms it). */
static void arm_timer(int64_t now, int64_t next)
{
    if (next == dl.armed_ms)
        return;
    int64_t left = next ? (next > now ? next - now : 1) : 0;
    struct itimerval it = {{0, 0}, {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) /* EINVAL only, on a value we computed */
        abort();
    dl.armed_ms = next;
}

/* The timer has fired: acts on the deadlines that are due, then arms the timer for the
 * next one. From the handler, or from set_phase for an alarm that came while it updated. */
static void deadline_fired(void)
{
    int64_t now = dg_now_ms();
    dl.armed_ms = 0; /* a one-shot timer that fired is disarmed */
    if (dl.phase != PH_IDLE && dl.request_ms && now >= dl.request_ms) {
        struct sigaction dfl = {0};
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGALRM, &dfl, NULL);
        raise(SIGALRM); /* the child ends by SIGALRM (from the handler: as it returns) */
        return;
    }
    if (dl.phase != PH_IDLE && dl.header_ms && now >= dl.header_ms) {
        dl.header_ms = 0;
        /* HANDLING with stdin at its end: the request is in, only the request deadline
         * applies now. (FCGX_HasSeenEOF reads one field of the stream: safe here.) */
        if (dl.phase != PH_HANDLING || FCGX_HasSeenEOF(dl.req->in) != EOF) {
            dl.header_expired = 1;
            shutdown(dl.req->ipcFd, SHUT_RDWR);
        }
    }
    arm_timer(now, next_deadline());
}

static void on_child_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    if (dl.updating)
        dl.missed = 1;
    else
        deadline_fired();
    errno = saved;
}

#define DL_KEEP (-1) /* set_phase: the deadline stays as it is */

/* Sets the deadlines for the next phase (DL_KEEP: unchanged; read here, while the handler
 * keeps off); arms the timer only when it would fire too late, or for the close when it
 * would not fire exactly then (see above). */
static void set_phase(int phase, int64_t header_ms, int64_t request_ms)
{
    dl.updating = 1;
    dl.phase = phase;
    if (header_ms != DL_KEEP)
        dl.header_ms = header_ms;
    if (request_ms != DL_KEEP)
        dl.request_ms = request_ms;
    if (phase == PH_READING)
        dl.header_expired = 0;
    int64_t next = next_deadline();
    if (phase == PH_CLOSING || (next && (!dl.armed_ms || dl.armed_ms > next)))
        arm_timer(dg_now_ms(), next);
    dl.updating = 0;
    while (dl.missed) { /* as the handler would have; an alarm meanwhile is missed again */
        dl.updating = 1;
        dl.missed = 0;
        deadline_fired();
        dl.updating = 0;
    }
}

/* flags: 0, so that the signal ends epoll_pwait and blocked reads, or SA_RESTART */
static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = {0};
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    if (sigaction(sig, &sa, NULL) != 0) {
        dg_log("error", "sigaction(%d): %s", sig, strerror(errno));
        _exit(1);
    }
}

/* Signals in a child: TERM stays blocked except while waiting in epoll_pwait, so a request
 * in flight is never interrupted (libfcgi's reads do not retry EINTR). */
static void child_signals(sigset_t *waitmask)
{
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        set_handler(master_signals[i], SIG_DFL, 0);
    set_handler(SIGTERM, on_child_stop, 0);
    set_handler(SIGINT, on_child_stop, 0);
    set_handler(SIGQUIT, on_child_stop, 0);
    set_handler(SIGALRM, on_child_alarm, SA_RESTART); /* see dl */
    /* USR1/USR2 are for the master; an operator signalling the whole process group must
     * not kill the children with the default action. */
    set_handler(SIGUSR1, SIG_IGN, 0);
    set_handler(SIGUSR2, SIG_IGN, 0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    if (sigprocmask(SIG_SETMASK, &block, NULL) != 0) {
        dg_log("error", "sigprocmask: %s", strerror(errno));
        _exit(1);
    }
    sigemptyset(waitmask);
}

/* TERM, INT or QUIT pending (blocked): epoll may report a readable fd without delivering it. */
static int stop_pending(void)
{
    sigset_t pend;
    return sigpending(&pend) == 0 && (sigismember(&pend, SIGTERM) || sigismember(&pend, SIGINT) ||
                                      sigismember(&pend, SIGQUIT));
}

/* Peeks at conn's bytes without waiting: 1 serve it, 0 wait (2: part of a request is in),
 * -1 drop it (closed, bad). */
static int conn_check(int fd)
{
    static unsigned char buf[PEEK_BYTES];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (n == 0)
        return -1;
    int st = dg_fcgi_request_state(buf, (size_t)n);
    return st == DG_FCGI_PARTIAL ? 2 : st;
}

static void pend_remove(struct child *ch, int i, int close_it)
{
    if (!ch->pend[i].ready && epoll_ctl(ch->ep, EPOLL_CTL_DEL, ch->pend[i].fd, NULL) != 0)
        dg_log("error", "slot=%d epoll_ctl del: %s", ch->slot_i, strerror(errno));
    if (close_it)
        close(ch->pend[i].fd);
    ch->pend[i] = ch->pend[--ch->n_pend];
}

static void set_listening(struct child *ch, int on)
{
    on = on && !ch->done;
    if (ch->listening == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = ch->p->fd};
    /* EPOLLEXCLUSIVE: one waiting child is woken per connection, not all of them */
    if (epoll_ctl(ch->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ch->p->fd, on ? &ev : NULL) != 0) {
        dg_log("error", "slot=%d epoll_ctl listen: %s", ch->slot_i, strerror(errno));
        _exit(1);
    }
    ch->listening = on;
}

/* Adds fd to the pending set (the caller made room); 0, or -1 with fd closed. A connection
 * whose request is known to be in (ready) is served next, without waiting in epoll. */
static int pend_add(struct child *ch, int fd, int64_t deadline_ms, int kept, int ready)
{
    /* edge-triggered: a partial request is looked at again when more of it arrives */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (!ready && epoll_ctl(ch->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        dg_log("error", "slot=%d epoll_ctl add: %s", ch->slot_i, strerror(errno));
        close(fd);
        return -1;
    }
    ch->pend[ch->n_pend++] = (struct conn){fd, deadline_ms, kept, !ready, ready};
    set_listening(ch, ch->n_pend < PENDING_MAX);
    return 0;
}

/* Accepts one connection (another child may have won it: EAGAIN). */
static void accept_one(struct child *ch)
{
    int fd = accept4(ch->p->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            /* e.g. EMFILE: the socket stays readable, so pause instead of spinning */
            dg_log("error", "slot=%d accept: %s", ch->slot_i, strerror(errno));
            usleep(100000);
        }
        return;
    }
    /* nginx has usually written the whole request by now: look at once */
    int st = conn_check(fd);
    if (st < 0)
        close(fd);
    else
        pend_add(ch, fd, dg_now_ms() + (int64_t)ch->p->cfg->header_timeout * 1000, 0, st == 1);
}

/* Closes pending connections past their deadline; returns ms until the next one (-1: none). */
static int expire_pending(struct child *ch)
{
    int64_t now = dg_now_ms(), next = -1;
    for (int i = 0; i < ch->n_pend;) {
        if (now >= ch->pend[i].deadline_ms) {
            pend_remove(ch, i, 1);
            continue;
        }
        int64_t left = ch->pend[i].deadline_ms - now;
        if (next < 0 || left < next)
            next = left;
        i++;
    }
    set_listening(ch, ch->n_pend < PENDING_MAX);
    return next < 0 ? -1 : (int)(next > INT32_MAX ? INT32_MAX : next);
}

/* The first pending connection whose request is in (known at accept, or found by looking
 * at one with something new), or -1; drops those that turned out bad or closed. Edge-triggered events are not repeated, so
 * every one is recorded (look) and only cleared once that connection has been looked at. */
static int ready_pending(struct child *ch)
{
    for (int i = 0; i < ch->n_pend;) {
        if (ch->pend[i].ready)
            return i;
        if (!ch->pend[i].look) {
            i++;
            continue;
        }
        ch->pend[i].look = 0;
        int st = conn_check(ch->pend[i].fd);
        if (st == 1)
            return i;
        if (st < 0)
            pend_remove(ch, i, 1);
        else
            i++;
    }
    return -1;
}

/* Waits (in epoll_pwait, the only place TERM is unblocked) for a connection whose request
 * is in: returns its index in the pending set, or -1 to stop. */
static int next_request(struct child *ch)
{
    for (;;) {
        int i = ready_pending(ch);
        if (i >= 0)
            return i;
        int tmo = expire_pending(ch);
        struct epoll_event ev[16];
        int n = epoll_pwait(ch->ep, ev, 16, tmo, &ch->waitmask);
        if (n < 0 && errno != EINTR) {
            dg_log("error", "slot=%d epoll_pwait: %s", ch->slot_i, strerror(errno));
            _exit(1);
        }
        /* When epoll finds an fd ready it restores the mask without delivering a pending
         * TERM, so under steady load a stopping child would keep accepting until the SIGKILL
         * deadline: look for it explicitly. */
        if (child_stop || stop_pending())
            return -1;
        for (int k = 0; k < n; k++) {
            if (ev[k].data.fd != ch->p->fd) {
                for (int j = 0; j < ch->n_pend; j++)
                    if (ch->pend[j].fd == ev[k].data.fd)
                        ch->pend[j].look = 1;
                continue;
            }
            if (ev[k].events & (EPOLLERR | EPOLLHUP)) {
                dg_log("error", "slot=%d listen socket unusable", ch->slot_i);
                _exit(1);
            }
            /* one connection per wake-up: under load the others go to other children, and
             * nginx has usually written the request by now (it is looked at first thing) */
            if (ch->n_pend < PENDING_MAX)
                accept_one(ch);
        }
    }
}

/* Before FCGX_Finish_r: libfcgi 2.4.2 does not read what the handler left of the request's
 * stdin (the empty record that ends a GET's, the body of a refused request). On a connection
 * the web server keeps, the next FCGX_Accept_r would take it for the next request's header (a
 * protocol error, the connection dropped); on any other, unread bytes make the close a reset.
 * Reads the rest, up to a bound; returns 0 if stdin is not at its end after that (a large
 * unread body: the connection is not worth keeping, and needs the graceful close). */
#define KEPT_DRAIN_MAX (64 << 10)

static int drain_stdin(FCGX_Request *req)
{
    char buf[4096];
    int n = 0;
    for (size_t got = 0; got < KEPT_DRAIN_MAX && (n = FCGX_GetStr(buf, sizeof buf, req->in)) > 0;)
        got += (size_t)n;
    return FCGX_HasSeenEOF(req->in) == EOF;
}

/* Serves the request on pending connection i (taken out of the set). A connection the web
 * server keeps (FCGX_KEEP_CONN) goes back into the set for --keep-conn-idle seconds; any
 * other is closed by libfcgi. */
static void serve(struct child *ch, int i)
{
    const struct dg_pool_config *cfg = ch->p->cfg;
    int64_t header_ms = ch->pend[i].deadline_ms;
    FCGX_Request *req = &ch->req;
    req->ipcFd = ch->pend[i].fd;
    pend_remove(ch, i, 0);
    int64_t now = dg_now_ms();
    atomic_store(&ch->slot->busy_since_ms, now);
    /* the header deadline is the connection's own; a kept one had its idle time instead */
    if (header_ms < now + 1000)
        header_ms = now + 1000;
    set_phase(PH_READING, header_ms,
              cfg->request_timeout ? now + (int64_t)cfg->request_timeout * 1000 : 0);
    /* The listen socket given to libfcgi is -1: it never accepts on its own, so a
     * connection it gives up on ends FCGX_Accept_r with EBADF instead of an accept that
     * would read the next connection without our deadlines. */
    req->keepConnection = 1; /* else FCGX_Accept_r's opening FCGX_Finish_r closes the fd */
    int rc = FCGX_Accept_r(req);
    if (rc < 0) {
        if (req->ipcFd >= 0) { /* libfcgi closes a connection it gives up on; in case not */
            close(req->ipcFd);
            req->ipcFd = -1;
        }
        set_phase(PH_IDLE, 0, 0);
        atomic_store(&ch->slot->busy_since_ms, 0);
        return;
    }
    int64_t t0 = dg_now_us(); /* latency counts from a complete header, as before */
    set_phase(PH_HANDLING, DL_KEEP, DL_KEEP);
    enum dg_route route = DG_ROUTE_OTHER;
    int status = dg_api_handle(req, &cfg->api, &route);
    int read_all = !dl.header_expired && drain_stdin(req);
    int keep = req->keepConnection && cfg->keep_conn_idle > 0 && read_all;
    if (read_all) {
        /* Nothing of the request is left unread, so closing now cannot turn into a reset
         * that loses the answer: the fd is closed below, without libfcgi's graceful close
         * (shutdown, then a wait in poll until the web server has closed first). */
        req->keepConnection = 1;
    } else {
        /* libfcgi's close reads until the peer closes, 2 s per read: bounded like a header */
        set_phase(PH_CLOSING, dg_now_ms() + (int64_t)cfg->header_timeout * 1000, DL_KEEP);
    }
    FCGX_Finish_r(req); /* keeps req->ipcFd open if keepConnection (and no stream error) */
    set_phase(PH_IDLE, 0, 0);
    dg_metrics_record(ch->slot, route, status, dg_now_us() - t0);
    atomic_store(&ch->slot->busy_since_ms, 0);
    if (req->ipcFd >= 0) {
        int fd = req->ipcFd;
        req->ipcFd = -1;
        if (keep && !ch->done && ch->n_pend < PENDING_MAX)
            pend_add(ch, fd, dg_now_ms() + (int64_t)cfg->keep_conn_idle * 1000, 1, 0);
        else
            close(fd);
    }
}

/* Leaving: requests in the pending set are served (nginx has sent them and would answer
 * 502), those partly in, or not yet begun on a new connection, when they arrive (by their
 * deadline); idle kept connections are closed. */
static void serve_pending(struct child *ch)
{
    set_listening(ch, 0);
    while (ch->n_pend > 0) {
        for (int i = ch->n_pend - 1; i >= 0; i--) {
            int st = i < ch->n_pend ? conn_check(ch->pend[i].fd) : 0;
            if (st == 1)
                serve(ch, i);
            else if (i < ch->n_pend && (st < 0 || (st == 0 && ch->pend[i].kept)))
                pend_remove(ch, i, 1);
        }
        int tmo = expire_pending(ch);
        struct epoll_event ev[16];
        if (ch->n_pend > 0 && epoll_wait(ch->ep, ev, 16, tmo) < 0 && errno != EINTR)
            break;
    }
}

/* Runs the model once before taking traffic: a model that cannot run here never reports
 * ready, so neither a first start nor a USR2 upgrade hands it a request. */
static void child_selftest(struct child *ch)
{
    if (dg_engine_selftest() != 0) {
        dg_log("child-not-ready", "slot=%d model self-test failed: its answer to a fixed input "
               "is not a probability distribution", ch->slot_i);
        _exit(3);
    }
}

static void child_init(struct child *ch, struct pool *p, int slot_i)
{
    ch->p = p;
    ch->slot_i = slot_i;
    ch->slot = &p->sh->slot[slot_i];
    child_signals(&ch->waitmask);
    if (p->upgrade_rd >= 0)
        close(p->upgrade_rd);
    if (p->ready_fd >= 0)
        close(p->ready_fd);
    dl.req = &ch->req;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&ch->req, -1, 0) != 0) {
        dg_log("error", "slot=%d FCGX_Init failed", slot_i);
        _exit(1);
    }
    /* FCGX_Init forces libfcgi's own USR1 handler, which sets a "shutdown pending" flag that
     * makes every later accept fail: one USR1 to the process group would leave all children
     * alive but deaf. Ignore it again (after FCGX_Init, or it is overridden). */
    set_handler(SIGUSR1, SIG_IGN, 0);
    ch->ep = epoll_create1(EPOLL_CLOEXEC);
    if (ch->ep < 0) {
        dg_log("error", "slot=%d epoll_create1: %s", slot_i, strerror(errno));
        _exit(1);
    }
    child_selftest(ch);
    dg_api_init();
    set_listening(ch, 1);
}

static void child_serve(struct pool *p, int slot_i)
{
    static struct child ch;
    child_init(&ch, p, slot_i);
    atomic_store(&ch.slot->pid, getpid());
    /* logged before the slot counts as ready, so that the log never shows the pool ready
     * before a child's self-test */
    dg_log("child-ready", "slot=%d child=%ld model self-test passed", slot_i, (long)getpid());
    atomic_store(&ch.slot->ready, 1);
    kill(p->master, SIGIO); /* the master counts the pool ready when every slot is */
    long served = 0;
    int i;
    while (!child_stop && (i = next_request(&ch)) >= 0) {
        serve(&ch, i);
        if (p->cfg->max_requests > 0 && ++served >= p->cfg->max_requests) {
            dg_log("recycle", "slot=%d after %ld requests", slot_i, served);
            break;
        }
    }
    /* No more accepting: drop our copy of the listen socket at once (the master has shut it
     * down already if the pool is stopping), then finish what is already in. */
    set_listening(&ch, 0);
    ch.done = 1;
    close(p->fd);
    serve_pending(&ch);
    atomic_store(&ch.slot->ready, 0);
    _exit(0);
}

/* --- the master ----------------------------------------------------------------------- */

static int spawn(struct pool *p, int i)
{
    pid_t master = p->master;
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

/* Exited on its own (a non-zero status, or a fault the kernel raised) rather than being
 * killed from outside (an operator, the OOM killer): only such exits before a child is ready
 * mean a build or machine that cannot start a child, worth a back-off. */
static int own_failure(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st) != 0;
    if (!WIFSIGNALED(st))
        return 0;
    switch (WTERMSIG(st)) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGABRT: case SIGSYS: case SIGTRAP:
        return 1;
    default:
        return 0;
    }
}

/* Schedules the respawn of slot i: at once, unless children keep failing on their own before
 * they are ready (a model that cannot run, no file descriptors left), then with doubling
 * delays; and never with every slot waiting at once: the last one left starts again after
 * the shortest delay. */
static void schedule_respawn(struct pool *p, int i, int st, int was_ready)
{
    struct worker *w = &p->w[i];
    int64_t now = dg_now_ms();
    if (was_ready || !own_failure(st))
        w->failures = 0;
    else if (w->failures < 20)
        w->failures++;
    int64_t delay = 0;
    if (w->failures) {
        delay = (int64_t)BACKOFF_MIN_MS << (w->failures - 1);
        if (delay > BACKOFF_MAX_MS)
            delay = BACKOFF_MAX_MS;
        int others = 0;
        for (int k = 0; k < p->cfg->workers; k++)
            others += k != i && (p->w[k].pid > 0 || p->w[k].respawn_at_ms <= now + BACKOFF_MIN_MS);
        if (!others)
            delay = BACKOFF_MIN_MS;
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
            /* SIGALRM: the child's own request deadline (see the child's on_child_alarm) */
            int timeout = WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM;
            int was_ready = atomic_load(&p->sh->slot[i].ready);
            if (timeout) {
                dg_log("request-timeout", "slot=%d child=%ld busy_ms=%lld", i, (long)pid,
                       (long long)(dg_now_ms() - atomic_load(&p->sh->slot[i].busy_since_ms)));
                atomic_fetch_add(&p->sh->timeouts, 1);
            }
            p->w[i].pid = 0;
            atomic_store(&p->sh->slot[i].pid, 0);
            atomic_store(&p->sh->slot[i].busy_since_ms, 0);
            atomic_store(&p->sh->slot[i].ready, 0);
            dg_log("child-exit", "slot=%d child=%ld %s%s", i, (long)pid, why,
                   timeout ? " (request timeout)" : "");
            if (!p->stopping) {
                schedule_respawn(p, i, st, was_ready);
                if (p->w[i].respawn_at_ms <= dg_now_ms()) {
                    atomic_fetch_add(&p->sh->restarts, 1);
                    spawn(p, i);
                }
            }
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
        if (fcntl(p->fd, F_SETFD, 0) != 0 || fcntl(pp[1], F_SETFD, 0) != 0) {
            dg_log("upgrade-failed", "fcntl: %s", strerror(errno));
            _exit(127);
        }
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
            if (sigaction(master_signals[i], &sa, NULL) != 0)
                _exit(127);
        if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
            _exit(127);
        execv(p->cfg->exe, p->cfg->argv);
        dg_log("upgrade-failed", "exec %s: %s", p->cfg->exe, strerror(errno));
        _exit(127);
    }
    close(pp[1]);
    /* O_ASYNC: the new master's readiness byte (or EOF) wakes us with SIGIO, no polling */
    if (fcntl(pp[0], F_SETOWN, getpid()) != 0 || fcntl(pp[0], F_SETFL, O_NONBLOCK | O_ASYNC) != 0)
        dg_log("error", "upgrade pipe fcntl: %s (readiness seen at the deadline only)",
               strerror(errno));
    p->upgrade_rd = pp[0];
    p->upgrade_pid = pid;
    p->upgrade_deadline_ms = dg_now_ms() + UPGRADE_WAIT_MS;
    dg_log("upgrade-start", "exe=%s new_master=%ld", p->cfg->exe, (long)pid);
}

/* On SIGIO and at the deadline: did the new master report all its children ready? */
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

static void announce_ready(struct pool *p)
{
    for (int i = 0; i < p->cfg->workers; i++)
        if (!atomic_load(&p->sh->slot[i].ready))
            return;
    dg_log("ready", "workers=%d self-tested and accepting after_ms=%lld", p->cfg->workers,
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
}

/* The deadlines the master keeps (delayed respawns, the upgrade's readiness, the graceful
 * stop's SIGKILL): acts on those due, then arms a one-shot timer for the next one, or none.
 * Request deadlines are the children's own, so an idle pool sleeps in sigsuspend. */
static void deadlines(struct pool *p)
{
    int64_t now = dg_now_ms(), next = INT64_MAX;
    for (int i = 0; i < p->cfg->workers; i++) {
        struct worker *w = &p->w[i];
        if (p->stopping || w->pid != 0 || !w->respawn_at_ms)
            continue;
        if (now >= w->respawn_at_ms) {
            atomic_fetch_add(&p->sh->restarts, 1);
            spawn(p, i);
        }
        if (w->pid == 0 && w->respawn_at_ms < next) /* fork failed: retried then */
            next = w->respawn_at_ms;
    }
    if (p->upgrade_pid && !p->handed_over && p->upgrade_rd >= 0) {
        upgrade_check(p);
        if (p->upgrade_rd >= 0 && p->upgrade_deadline_ms < next)
            next = p->upgrade_deadline_ms;
    }
    if (p->stopping && p->stop_deadline_ms != INT64_MAX && (n_alive(p) || upgrade_pending(p))) {
        if (now > p->stop_deadline_ms) {
            dg_log("stop-kill", "graceful timeout: SIGKILL to %d children%s", n_alive(p),
                   upgrade_pending(p) ? " and the new master" : "");
            signal_children(p, SIGKILL);
            if (upgrade_pending(p))
                kill(p->upgrade_pid, SIGKILL);
            p->stop_deadline_ms = INT64_MAX;
        } else if (p->stop_deadline_ms + 1 < next) {
            next = p->stop_deadline_ms + 1;
        }
    }
    int64_t left = next == INT64_MAX ? 0 : (next > now ? next - now : 1);
    struct itimerval it = {{0, 0}, {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        dg_log("error", "setitimer: %s", strerror(errno));
}

/* A port number 1..65535 written in full, or -1. */
static int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < 1 || v > 65535 ? -1 : (int)v;
}

/* The unix socket path in --listen, or NULL for host:port (libfcgi's rule: a ':' followed
 * by a port number). */
static const char *unix_path(const char *listen)
{
    if (!listen)
        return NULL;
    if (!strncmp(listen, "unix:", 5))
        return listen + 5;
    const char *colon = strrchr(listen, ':');
    return colon && parse_port(colon + 1) > 0 ? NULL : listen;
}

/* A TCP listening socket for "host:port" or ":port" (any IPv4 address, as libfcgi's
 * FCGX_OpenSocket, which exit()s when bind fails instead of returning). */
static int listen_tcp(const char *addr, int backlog)
{
    const char *colon = strrchr(addr, ':');
    char host[256];
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) {
        dg_log("error", "cannot listen on %s: host name too long", addr);
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = hl ? AF_UNSPEC : AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *res = NULL;
    int rc = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0) {
        dg_log("error", "cannot listen on %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        int one = 1;
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
                        bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, backlog) != 0)) {
            err = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            err = errno;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        dg_log("error", "cannot listen on %s: %s", addr, strerror(err));
    return fd;
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

/* fd is a listening stream socket. */
static int is_listening(int fd)
{
    struct stat st;
    int acc = 0;
    socklen_t len = sizeof acc;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
           getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc;
}

/* The file descriptor named by environment variable name (set by the old master at a USR2
 * upgrade): a whole decimal number of an open fd of the kind want (S_IFSOCK, S_IFIFO),
 * marked close-on-exec; -1 if unset, -2 (logged) if it is not such an fd. */
static int env_fd(const char *name, mode_t want)
{
    const char *s = getenv(name);
    if (!s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    struct stat st;
    int ok = !errno && end != s && !*end && v >= 0 && v <= INT32_MAX;
    int fd = ok ? (int)v : -1;
    ok = ok && fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == want &&
         (want != S_IFSOCK || is_listening(fd)) && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
    unsetenv(name);
    if (!ok) {
        dg_log("error", "%s=%s is not an open %s", name, s,
               want == S_IFSOCK ? "listening socket" : "pipe");
        return -2;
    }
    return fd;
}

/* The listen socket: handed over by an old master, opened from --listen, or fd 0. */
static int open_listen(struct pool *p)
{
    const struct dg_pool_config *cfg = p->cfg;
    p->sock_path = unix_path(cfg->listen);
    p->socket_ours = cfg->listen != NULL;
    int fd = env_fd("DIGITD_LISTEN_FD", S_IFSOCK);
    if (fd >= 0)
        inherit_sock_id(p); /* owned once we have taken over (announce_ready) */
    if (fd != -1)
        return fd < 0 ? -1 : fd;
    if (p->sock_path) {
        p->owner = 1;
        return listen_unix(p, p->sock_path, cfg->backlog);
    }
    if (cfg->listen) {
        p->owner = 1;
        return listen_tcp(cfg->listen, cfg->backlog);
    }
    if (is_listening(0))
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

static int install_signals(struct pool *p)
{
    struct sigaction sa = {0};
    sigset_t block;
    sigemptyset(&block);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    int ok = 1;
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++) {
        sigaddset(&block, master_signals[i]);
        ok &= sigaction(master_signals[i], &sa, NULL) == 0;
    }
    sa.sa_handler = SIG_IGN;
    ok &= sigaction(SIGPIPE, &sa, NULL) == 0;
    ok &= sigaction(SIGHUP, &sa, NULL) == 0;
    ok &= sigprocmask(SIG_BLOCK, &block, &p->waitmask) == 0;
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        sigdelset(&p->waitmask, master_signals[i]);
    if (!ok)
        dg_log("error", "signal set-up: %s", strerror(errno));
    return ok ? 0 : -1;
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
        if (got_io) { /* a child is ready, or the new master wrote to the readiness pipe */
            got_io = 0;
            if (p->ready_fd != -2)
                announce_ready(p);
        }
        got_timer = 0;
        deadlines(p); /* every pass: events above may have added or moved a deadline */
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
    p->master = getpid();
    p->upgrade_rd = -1;
    p->started_ms = dg_now_ms();
    p->ready_fd = env_fd("DIGITD_READY_FD", S_IFIFO);
    if (p->ready_fd == -2)
        return 1;
    p->fd = open_listen(p);
    if (p->fd < 0)
        return 1;
    /* Children wait in epoll and then accept: non-blocking so that losing the race to
     * another child is EAGAIN, not a child blocked in accept while requests queue. */
    int fl = fcntl(p->fd, F_GETFL);
    if (fl < 0 || fcntl(p->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        dg_log("error", "listen socket O_NONBLOCK: %s", strerror(errno));
        return 1;
    }
    p->sh = dg_metrics_create(cfg->workers);
    if (!p->sh) {
        dg_log("error", "shared memory: %s", strerror(errno));
        return 1;
    }
    atomic_store(&p->sh->master_pid, getpid());
    cfg->api.shared = p->sh;
    if (install_signals(p) != 0)
        return 1;
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
