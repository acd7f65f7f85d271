/* fuzz_fcgi.c: fuzz entry point for the bytes a web server sends on a FastCGI connection,
 * through what of ours reads them: the pool's look at the first records
 * (dg_fcgi_request_state, on at most the bytes the pool peeks at), then, for a request the
 * pool would serve, libfcgi's reading of it (FCGX_Accept_r on a socket holding those bytes,
 * as pool.c's serve() hands it a connection) and the API's reading of the parameters
 * (params.h: CONTENT_LENGTH, CONTENT_TYPE, the path and the query) and of the body.
 * libfcgi is Debian's, not instrumented: a crash inside it is reported all the same.
 * The plain program runs tests/corpus/fcgi with --check (classes: the pool's verdict). */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi_records.h"
#include "fuzz_main.h"
#include "params.h"

const char dg_fuzz_name[] = "digitd-fuzz-fcgi";

const char *const dg_fuzz_classes[] = {"refused", "partial", "complete", NULL};

int dg_fuzz_classify(const uint8_t *data, size_t size)
{
    size_t n = size < DG_FCGI_PEEK_BYTES ? size : DG_FCGI_PEEK_BYTES;
    return (int)dg_fcgi_request_state(data, n) - DG_FCGI_REFUSED;
}

/* What the API reads of a request libfcgi accepted (api.c's order: path, method's routes,
 * content type, length, then the body up to it). */
static void read_request(FCGX_Request *req)
{
    char path[256];
    dg_param_path(FCGX_GetParam("REQUEST_URI", req->envp), path, sizeof path);
    dg_param_path(FCGX_GetParam("DOCUMENT_URI", req->envp), path, sizeof path);
    dg_param_path(FCGX_GetParam("SCRIPT_NAME", req->envp), path, sizeof path);
    const char *query = FCGX_GetParam("QUERY_STRING", req->envp);
    const char *uri = FCGX_GetParam("REQUEST_URI", req->envp);
    (void)dg_param_query_has(query, uri, "explain=1");
    (void)dg_param_query_has(query, uri, "pids=1");
    (void)dg_param_media_type_is(FCGX_GetParam("CONTENT_TYPE", req->envp), "image/png");
    long long cl = dg_param_content_length(FCGX_GetParam("CONTENT_LENGTH", req->envp));
    char buf[4096];
    for (long long got = 0; got < cl;) {
        int k = FCGX_GetStr(buf, sizeof buf, req->in);
        if (k <= 0)
            break;
        got += k;
    }
}

/* Hands the bytes to libfcgi as pool.c does: a connection whose bytes are all in (they fit
 * a socket's buffer: at most DG_FCGI_PEEK_BYTES), closed for writing after them so that
 * libfcgi's reads end rather than wait. */
static void through_libfcgi(const uint8_t *data, size_t n)
{
    static int ready;
    if (!ready) {
        if (FCGX_Init() != 0)
            return;
        signal(SIGPIPE, SIG_IGN); /* the answer goes to a socket that may be closed */
        ready = 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return;
    if (write(sv[0], data, n) != (ssize_t)n || shutdown(sv[0], SHUT_WR) != 0) {
        close(sv[0]), close(sv[1]);
        return;
    }
    FCGX_Request req;
    if (FCGX_InitRequest(&req, -1, 0) != 0) {
        close(sv[0]), close(sv[1]);
        return;
    }
    req.ipcFd = sv[1];
    req.keepConnection = 1; /* else FCGX_Accept_r's opening FCGX_Finish_r closes the fd */
    if (FCGX_Accept_r(&req) == 0) {
        read_request(&req);
        FCGX_Finish_r(&req);
    }
    if (req.ipcFd >= 0)
        close(req.ipcFd);
    FCGX_Free(&req, 0);
    close(sv[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size < DG_FCGI_PEEK_BYTES ? size : DG_FCGI_PEEK_BYTES;
    if (dg_fcgi_request_state(data, n) == DG_FCGI_COMPLETE)
        through_libfcgi(data, n);
    return 0;
}
