/* fcgi_records.c: how far a connection's first FastCGI records go (see fcgi_records.h). */
#include "fcgi_records.h"

#include <stdint.h>
#include <string.h>

#define FCGI_VERSION 1
#define FCGI_BEGIN 1
#define FCGI_PARAMS_T 4
#define FCGI_STDIN_T 5

/* One FastCGI name-value length at b[*at] (1 byte, or 4 with the top bit set); SIZE_MAX if
 * it runs past end. */
static size_t pair_len(const unsigned char *b, size_t end, size_t *at)
{
    if (*at >= end)
        return SIZE_MAX;
    if (!(b[*at] & 0x80))
        return b[(*at)++];
    if (end - *at < 4)
        return SIZE_MAX;
    size_t v = (size_t)(b[*at] & 0x7f) << 24 | (size_t)b[*at + 1] << 16 |
               (size_t)b[*at + 2] << 8 | b[*at + 3];
    *at += 4;
    return v;
}

/* Whether the parameters p[0..n) (the PARAMS records' contents, in order) declare no name or
 * value longer than the bytes that follow it. libfcgi allocates what a length declares
 * before it reads the bytes, and dereferences NULL when that allocation fails; a web server
 * never declares more than it sends. complete: n is the whole parameter stream, so the last
 * pair must end exactly at n; else only the lengths must stay within DG_FCGI_MAX_PARAM. */
static int params_sane(const unsigned char *p, size_t n, int complete)
{
    size_t at = 0;
    while (at < n) {
        size_t name = pair_len(p, n, &at), value = name == SIZE_MAX ? SIZE_MAX : pair_len(p, n, &at);
        if (name == SIZE_MAX || value == SIZE_MAX)
            return !complete; /* a length split by the peek's end: judged when all is in */
        if (name > DG_FCGI_MAX_PARAM || value > DG_FCGI_MAX_PARAM)
            return 0;
        if (name + value > n - at)
            return !complete;
        at += name + value;
    }
    return 1;
}

enum dg_fcgi_state dg_fcgi_request_state(const unsigned char *b, size_t n)
{
    unsigned char params[DG_FCGI_PEEK_BYTES];
    size_t n_params = 0;
    unsigned id = 0;
    int params_done = 0;
    size_t off = 0;
    if (n > DG_FCGI_PEEK_BYTES)
        n = DG_FCGI_PEEK_BYTES;
    /* each record: version, type, request id (2), content length (2), padding, reserved */
    for (; off + 8 <= n; off += 8 + ((size_t)b[off + 4] << 8 | b[off + 5]) + b[off + 6]) {
        unsigned type = b[off + 1], rid = (unsigned)b[off + 2] << 8 | b[off + 3];
        size_t clen = (size_t)b[off + 4] << 8 | b[off + 5];
        if (b[off] != FCGI_VERSION)
            return DG_FCGI_REFUSED;
        if (off == 0) {
            if (type != FCGI_BEGIN || rid == 0)
                return DG_FCGI_REFUSED;
            id = rid;
        } else if (rid != id) {
            return DG_FCGI_REFUSED;
        } else if (type == FCGI_PARAMS_T && !params_done) {
            size_t have = n - off - 8 < clen ? n - off - 8 : clen; /* this record, as peeked */
            memcpy(params + n_params, b + off + 8, have);  /* n_params + have <= n */
            n_params += have;
            params_done = clen == 0;
            if (!params_sane(params, n_params, params_done))
                return DG_FCGI_REFUSED;
        } else if (type == FCGI_STDIN_T && params_done) {
            if (clen == 0)
                return DG_FCGI_COMPLETE;
        } else {
            return DG_FCGI_REFUSED;
        }
    }
    return n >= DG_FCGI_PEEK_BYTES ? DG_FCGI_COMPLETE : DG_FCGI_PARTIAL;
}
