/* fcgi_records.h: the FastCGI records at the start of a connection, read by the pool before
 * it hands the connection to libfcgi (pool.c peeks at them to tell a complete request from
 * one still arriving or one it will not serve). Bytes straight from the network. */
#ifndef DIGITD_FCGI_RECORDS_H
#define DIGITD_FCGI_RECORDS_H

#include <stddef.h>

/* The most the pool peeks at: a larger body does not fit in a unix socket's buffer, and
 * nginx streams it at full speed, so a request that far in is served (pool.c). */
#define DG_FCGI_PEEK_BYTES (16 << 10)

/* The longest parameter name or value served: far beyond any header nginx forwards (its
 * large_client_header_buffers), far below what would make libfcgi's allocation fail. */
#define DG_FCGI_MAX_PARAM (1u << 20)

enum dg_fcgi_state {
    DG_FCGI_REFUSED = -1,  /* not a request we serve: a first record other than
                              BEGIN_REQUEST (management records, GET_VALUES included, are
                              dropped at once), a record for another request id, or a record
                              type a responder never receives, or a parameter whose
                              declared length is beyond DG_FCGI_MAX_PARAM or the
                              parameters' end */
    DG_FCGI_PARTIAL = 0,   /* well-formed so far, more to come */
    DG_FCGI_COMPLETE = 1,  /* BEGIN_REQUEST, PARAMS, the end of STDIN; or
                              DG_FCGI_PEEK_BYTES of well-formed records */
};

/* How far the records in b[0..n) go (n is what a peek returned, at most
 * DG_FCGI_PEEK_BYTES). */
enum dg_fcgi_state dg_fcgi_request_state(const unsigned char *b, size_t n);

#endif
