/* target.c: where the load goes. URLs and FastCGI addresses are resolved once, and a host
 * that is not loopback is refused unless the user says --allow-remote: a load test aimed at
 * somebody else's server by a typo is a denial of service. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "bench.h"

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    return ss->ss_family == AF_UNIX;
}

/* host (maybe "[v6]") and decimal port -> t->addr. */
static int resolve(const char *host, const char *port, int allow_remote, struct bench_target *t,
                   char *err, size_t errlen)
{
    char *end;
    long pn = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || pn < 1 || pn > 65535) {
        snprintf(err, errlen, "bad port '%s'", port);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    if (!allow_remote && !is_loopback(&t->addr)) {
        snprintf(err, errlen,
                 "host '%s' is not loopback; refusing to load a remote server (--allow-remote)",
                 host);
        return -1;
    }
    return 0;
}

/* Splits "host:port" or "[v6]:port" in place; port NULL if absent. */
static int split_host_port(char *hp, char **host, char **port)
{
    *port = NULL;
    if (hp[0] == '[') {
        char *close = strchr(hp, ']');
        if (close == NULL)
            return -1;
        *close = '\0';
        *host = hp + 1;
        if (close[1] == ':')
            *port = close + 2;
        else if (close[1] != '\0')
            return -1;
        return 0;
    }
    *host = hp;
    char *colon = strrchr(hp, ':');
    if (colon != NULL) {
        *colon = '\0';
        *port = colon + 1;
    }
    return **host ? 0 : -1;
}

int bench_target_parse_url(const char *url, int allow_remote, struct bench_target *t, char *err,
                           size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->proto = BENCH_HTTP;
    const char *scheme = "http://";
    if (strncmp(url, scheme, strlen(scheme)) != 0) {
        snprintf(err, errlen, "%s: only http:// URLs are supported", url);
        return -1;
    }
    const char *rest = url + strlen(scheme);
    const char *slash = strchr(rest, '/');
    size_t hlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (hlen == 0 || hlen >= sizeof t->host) {
        snprintf(err, errlen, "%s: missing or too long host", url);
        return -1;
    }
    const char *path = slash ? slash : "/";
    if (strlen(path) >= sizeof t->path) {
        snprintf(err, errlen, "%s: path too long", url);
        return -1;
    }
    memcpy(t->host, rest, hlen);
    t->host[hlen] = '\0';
    strcpy(t->path, path);
    char hp[256], *host, *port;
    strcpy(hp, t->host);
    if (split_host_port(hp, &host, &port) != 0) {
        snprintf(err, errlen, "%s: bad host", url);
        return -1;
    }
    char e2[300];
    if (resolve(host, port ? port : "80", allow_remote, t, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "%s: %s", url, e2);
        return -1;
    }
    snprintf(t->display, sizeof t->display, "%s", url);
    return 0;
}

int bench_target_parse_fcgi(const char *spec, const char *uri_path, int allow_remote,
                            struct bench_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->proto = BENCH_FCGI;
    if (strlen(uri_path) >= sizeof t->path || uri_path[0] != '/') {
        snprintf(err, errlen, "%s: bad request path '%s'", spec, uri_path);
        return -1;
    }
    strcpy(t->path, uri_path);
    snprintf(t->host, sizeof t->host, "localhost");
    snprintf(t->display, sizeof t->display, "fcgi %s %s", spec, uri_path);
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;
        const char *p = spec + 5;
        if (*p == '\0' || strlen(p) >= sizeof un->sun_path) {
            snprintf(err, errlen, "%s: unix socket path empty or too long", spec);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, p);
        t->addrlen = sizeof *un;
        return 0;
    }
    char hp[256], *host, *port;
    if (strlen(spec) >= sizeof hp) {
        snprintf(err, errlen, "%s: address too long", spec);
        return -1;
    }
    strcpy(hp, spec);
    if (split_host_port(hp, &host, &port) != 0 || port == NULL) {
        snprintf(err, errlen, "%s: expected unix:/path or host:port", spec);
        return -1;
    }
    char e2[300];
    if (resolve(host, port, allow_remote, t, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "%s: %s", spec, e2);
        return -1;
    }
    return 0;
}
