/* fcgi_records.c: how far a connection's first FastCGI records go (see fcgi_records.h). */
#include "fcgi_records.h"

#define FCGI_VERSION 1
#define FCGI_BEGIN 1
#define FCGI_PARAMS_T 4
#define FCGI_STDIN_T 5

enum dg_fcgi_state dg_fcgi_request_state(const unsigned char *b, size_t n)
{
    unsigned id = 0;
    int params_done = 0;
    size_t off = 0;
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
            params_done = clen == 0;
        } else if (type == FCGI_STDIN_T && params_done) {
            if (clen == 0)
                return DG_FCGI_COMPLETE;
        } else {
            return DG_FCGI_REFUSED;
        }
    }
    return n >= DG_FCGI_PEEK_BYTES ? DG_FCGI_COMPLETE : DG_FCGI_PARTIAL;
}
