/* fcgi_client.c: the FastCGI responder protocol from the web server's side, by hand (it is
 * eight-byte record headers and length-prefixed name/value pairs; Debian has no client
 * library). One request per connection, KEEP_CONN = 0, as nginx talks to libfcgi.
 *
 *   BEGIN_REQUEST(role RESPONDER) PARAMS... PARAMS(empty) STDIN... STDIN(empty)
 *   <- STDOUT... (CGI headers "Status: 200 OK", blank line, body) STDERR... END_REQUEST
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"

enum {
    FCGI_VERSION_1 = 1,
    FCGI_BEGIN_REQUEST = 1,
    FCGI_END_REQUEST = 3,
    FCGI_PARAMS = 4,
    FCGI_STDIN = 5,
    FCGI_STDOUT = 6,
    FCGI_STDERR = 7,
    FCGI_RESPONDER = 1,
    FCGI_REQUEST_ID = 1,
    FCGI_MAX_CONTENT = 65535,
};

struct buf {
    uint8_t *d;
    size_t len, cap;
};

static int buf_put(struct buf *b, const void *d, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *nd = realloc(b->d, cap);
        if (nd == NULL)
            return -1;
        b->d = nd;
        b->cap = cap;
    }
    if (n) /* memcpy's pointers must be valid even for 0 bytes: an empty record has NULL */
        memcpy(b->d + b->len, d, n);
    b->len += n;
    return 0;
}

static int record(struct buf *b, int type, const void *content, size_t len)
{
    uint8_t h[8] = {FCGI_VERSION_1, (uint8_t)type, 0, FCGI_REQUEST_ID,
                    (uint8_t)(len >> 8), (uint8_t)len, 0, 0};
    return buf_put(b, h, 8) || buf_put(b, content, len);
}

/* Records of one stream type, split at 65535 bytes, then the empty record ending it. */
static int stream(struct buf *b, int type, const uint8_t *d, size_t len)
{
    for (size_t off = 0; off < len; off += FCGI_MAX_CONTENT) {
        size_t n = len - off < FCGI_MAX_CONTENT ? len - off : FCGI_MAX_CONTENT;
        if (record(b, type, d + off, n) != 0)
            return -1;
    }
    return record(b, type, NULL, 0);
}

static int nv_len(struct buf *b, size_t n)
{
    if (n < 128) {
        uint8_t c = (uint8_t)n;
        return buf_put(b, &c, 1);
    }
    uint8_t c[4] = {(uint8_t)((n >> 24) | 0x80), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                    (uint8_t)n};
    return buf_put(b, c, 4);
}

static int param(struct buf *b, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    return nv_len(b, nl) || nv_len(b, vl) || buf_put(b, name, nl) || buf_put(b, value, vl);
}

static int encode_one(struct bench_payload *p, const struct bench_target *t, int json)
{
    struct buf params = {0}, out = {0};
    char clen[24];
    snprintf(clen, sizeof clen, "%zu", p->body_len);
    const uint8_t begin[8] = {0, FCGI_RESPONDER, 0 /* flags: KEEP_CONN off */, 0, 0, 0, 0, 0};
    int rc = param(&params, "REQUEST_METHOD", "POST") ||
             param(&params, "REQUEST_URI", t->path) || param(&params, "SCRIPT_NAME", t->path) ||
             param(&params, "DOCUMENT_URI", t->path) ||
             param(&params, "CONTENT_TYPE", json ? "application/json" : bench_payload_type(p)) ||
             param(&params, "CONTENT_LENGTH", clen) ||
             param(&params, "SERVER_PROTOCOL", "HTTP/1.1") ||
             param(&params, "GATEWAY_INTERFACE", "CGI/1.1") ||
             param(&params, "REMOTE_ADDR", "127.0.0.1") ||
             param(&params, "SERVER_NAME", "localhost");
    rc = rc || record(&out, FCGI_BEGIN_REQUEST, begin, sizeof begin) ||
         stream(&out, FCGI_PARAMS, params.d, params.len) ||
         stream(&out, FCGI_STDIN, p->body, p->body_len);
    free(params.d);
    if (rc) {
        free(out.d);
        return -1;
    }
    free(p->req);
    p->req = out.d;
    p->req_len = out.len;
    return 0;
}

int bench_fcgi_encode(struct bench_payloads *ps, const struct bench_target *t, int json)
{
    for (size_t i = 0; i < ps->n; i++)
        if (encode_one(&ps->v[i], t, json) != 0)
            return -1;
    return 0;
}

void bench_fcgi_parser_reset(struct bench_fcgi_parser *p)
{
    char *out = p->out;
    size_t cap = p->out_cap;
    memset(p, 0, sizeof *p);
    p->out = out;
    p->out_cap = cap;
}

void bench_fcgi_parser_free(struct bench_fcgi_parser *p)
{
    free(p->out);
    memset(p, 0, sizeof *p);
}

/* CGI response in the STDOUT stream: headers (Status: optional, default 200), blank line,
 * body. */
static int cgi_split(const char *s, size_t len, struct bench_answer *ans)
{
    const char *end = NULL;
    size_t skip = 0;
    for (size_t i = 0; i + 1 < len && end == NULL; i++) {
        if (s[i] == '\n' && s[i + 1] == '\n') {
            end = s + i;
            skip = 2;
        } else if (i + 3 < len && memcmp(s + i, "\r\n\r\n", 4) == 0) {
            end = s + i;
            skip = 4;
        }
    }
    if (end == NULL)
        return BENCH_PARSE_ERROR;
    ans->status = 200;
    for (const char *line = s; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - line) > 10 && strncasecmp(line, "Status:", 7) == 0) {
            const char *v = line + 7;
            while (v < eol && *v == ' ')
                v++;
            /* three digits read in place: the answer is not NUL-terminated, so no atoi */
            if (eol - v < 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' ||
                v[2] < '0' || v[2] > '9')
                return BENCH_PARSE_ERROR;
            ans->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
        }
        line = eol + 1;
    }
    ans->body = end + skip;
    ans->body_len = len - (size_t)(ans->body - s);
    return BENCH_PARSE_DONE;
}

int bench_fcgi_parse(struct bench_fcgi_parser *p, const char *buf, size_t len, int eof,
                     struct bench_answer *ans)
{
    while (!p->ended && len - p->pos >= 8) {
        const uint8_t *h = (const uint8_t *)buf + p->pos;
        size_t clen = ((size_t)h[4] << 8) | h[5], total = 8 + clen + h[6];
        if (h[0] != FCGI_VERSION_1)
            return BENCH_PARSE_ERROR;
        if (len - p->pos < total)
            break;
        if (h[1] == FCGI_STDOUT && clen > 0) {
            if (p->out_len + clen > (64u << 20))
                return BENCH_PARSE_ERROR;
            if (p->out_len + clen > p->out_cap) {
                size_t cap = p->out_cap ? p->out_cap : 4096;
                while (cap < p->out_len + clen)
                    cap *= 2;
                char *no = realloc(p->out, cap);
                if (no == NULL)
                    return BENCH_PARSE_ERROR;
                p->out = no;
                p->out_cap = cap;
            }
            memcpy(p->out + p->out_len, h + 8, clen);
            p->out_len += clen;
        } else if (h[1] == FCGI_END_REQUEST) {
            p->ended = 1;
        } else if (h[1] != FCGI_STDOUT && h[1] != FCGI_STDERR) {
            return BENCH_PARSE_ERROR;
        }
        p->pos += total;
    }
    if (!p->ended)
        return eof ? BENCH_PARSE_ERROR : BENCH_PARSE_MORE;
    return cgi_split(p->out ? p->out : "", p->out_len, ans);
}
