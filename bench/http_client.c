/* http_client.c: HTTP/1.1 keep-alive requests, encoded once per payload, and an incremental
 * response parser (status line, Content-Length, chunked, or read-until-close). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"

int bench_http_encode(struct bench_payloads *ps, const struct bench_target *t, int json)
{
    for (size_t i = 0; i < ps->n; i++) {
        struct bench_payload *p = &ps->v[i];
        char head[1600];
        int hl = snprintf(head, sizeof head,
                          "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                          "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                          t->path, t->host, json ? "application/json" : bench_payload_type(p),
                          p->body_len);
        if (hl < 0 || (size_t)hl >= sizeof head || p->body_len > SIZE_MAX - (size_t)hl)
            return -1;
        free(p->req);
        p->req = malloc((size_t)hl + p->body_len);
        if (p->req == NULL)
            return -1;
        memcpy(p->req, head, (size_t)hl);
        memcpy(p->req + hl, p->body, p->body_len);
        p->req_len = (size_t)hl + p->body_len;
    }
    return 0;
}

enum { H_HEAD, H_BODY_LEN, H_CHUNK_SIZE, H_CHUNK_DATA, H_CHUNK_CRLF, H_TRAILER, H_UNTIL_EOF };

void bench_http_parser_reset(struct bench_http_parser *p)
{
    char *body = p->body;
    size_t cap = p->body_cap;
    memset(p, 0, sizeof *p);
    p->body = body;
    p->body_cap = cap;
}

void bench_http_parser_free(struct bench_http_parser *p)
{
    free(p->body);
    memset(p, 0, sizeof *p);
}

static int body_append(struct bench_http_parser *p, const char *d, size_t n)
{
    if (n > SIZE_MAX / 2 - p->body_len)
        return -1;
    if (p->body_len + n > p->body_cap) {
        size_t cap = p->body_cap ? p->body_cap : 4096;
        while (cap < p->body_len + n)
            cap *= 2;
        char *nb = realloc(p->body, cap);
        if (nb == NULL)
            return -1;
        p->body = nb;
        p->body_cap = cap;
    }
    memcpy(p->body + p->body_len, d, n);
    p->body_len += n;
    return 0;
}

/* Value of header "name" in the head block [h, h+len), or NULL. */
static const char *header_value(const char *h, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *end = h + len;
    const char *line = memchr(h, '\n', len); /* skip the status line */
    while (line != NULL && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL)
            break;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

static int parse_head(struct bench_http_parser *p, const char *buf, size_t len)
{
    const char *end = NULL;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = buf + i + 1;
            break;
        }
    if (end == NULL)
        return len > 65536 ? BENCH_PARSE_ERROR : BENCH_PARSE_MORE;
    p->header_len = (size_t)(end - buf);
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
        !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
        !isdigit((unsigned char)buf[11]))
        return BENCH_PARSE_ERROR;
    p->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    size_t vl;
    const char *v = header_value(buf, p->header_len, "Connection", &vl);
    p->conn_close = (v != NULL && vl == 5 && strncasecmp(v, "close", 5) == 0) || buf[7] == '0';
    v = header_value(buf, p->header_len, "Transfer-Encoding", &vl);
    if (v != NULL && vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0) {
        p->chunked = 1;
        p->state = H_CHUNK_SIZE;
    } else if ((v = header_value(buf, p->header_len, "Content-Length", &vl)) != NULL) {
        char num[24];
        if (vl == 0 || vl >= sizeof num)
            return BENCH_PARSE_ERROR;
        memcpy(num, v, vl);
        num[vl] = '\0';
        char *e;
        unsigned long long cl = strtoull(num, &e, 10);
        if (*e != '\0' || cl > (64u << 20))
            return BENCH_PARSE_ERROR;
        p->content_length = (size_t)cl;
        p->state = H_BODY_LEN;
    } else if (p->status == 204 || p->status == 304 || p->status / 100 == 1) {
        p->state = H_BODY_LEN; /* no body */
    } else {
        p->close_delimited = 1;
        p->state = H_UNTIL_EOF;
    }
    p->pos = p->header_len;
    return BENCH_PARSE_MORE;
}

/* One step of the chunked decoder; returns MORE to keep looping with progress, or a result.
 * *stalled = 1 when more bytes are needed. */
static int chunk_step(struct bench_http_parser *p, const char *buf, size_t len, int *stalled)
{
    const char *s = buf + p->pos;
    size_t avail = len - p->pos;
    const char *eol = memchr(s, '\n', avail);
    switch (p->state) {
    case H_CHUNK_SIZE: {
        if (eol == NULL) {
            *stalled = 1;
            return avail > 1024 ? BENCH_PARSE_ERROR : BENCH_PARSE_MORE;
        }
        /* hex digits read in place up to the line's end: the buffer is not NUL-terminated */
        size_t n = 0, k = 0;
        for (; s + k < eol && isxdigit((unsigned char)s[k]) && n <= (64u << 20); k++)
            n = n * 16 + (size_t)(s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10);
        if (k == 0 || n > (64u << 20))
            return BENCH_PARSE_ERROR;
        p->pos += (size_t)(eol - s) + 1;
        p->chunk_left = (size_t)n;
        p->state = n == 0 ? H_TRAILER : H_CHUNK_DATA;
        return BENCH_PARSE_MORE;
    }
    case H_CHUNK_DATA: {
        size_t take = avail < p->chunk_left ? avail : p->chunk_left;
        if (take == 0) {
            *stalled = 1;
            return BENCH_PARSE_MORE;
        }
        if (body_append(p, s, take) != 0)
            return BENCH_PARSE_ERROR;
        p->pos += take;
        p->chunk_left -= take;
        if (p->chunk_left == 0)
            p->state = H_CHUNK_CRLF;
        return BENCH_PARSE_MORE;
    }
    case H_CHUNK_CRLF:
        if (eol == NULL) {
            *stalled = 1;
            return avail > 2 ? BENCH_PARSE_ERROR : BENCH_PARSE_MORE;
        }
        p->pos += (size_t)(eol - s) + 1;
        p->state = H_CHUNK_SIZE;
        return BENCH_PARSE_MORE;
    default: /* H_TRAILER: lines until an empty one */
        if (eol == NULL) {
            *stalled = 1;
            return BENCH_PARSE_MORE;
        }
        p->pos += (size_t)(eol - s) + 1;
        return (eol == s || (eol == s + 1 && s[0] == '\r')) ? BENCH_PARSE_DONE : BENCH_PARSE_MORE;
    }
}

int bench_http_parse(struct bench_http_parser *p, const char *buf, size_t len, int eof,
                     struct bench_answer *ans, size_t *consumed)
{
    if (p->state == H_HEAD) {
        int r = parse_head(p, buf, len);
        if (r != BENCH_PARSE_MORE || p->state == H_HEAD)
            return (r == BENCH_PARSE_MORE && eof) ? BENCH_PARSE_ERROR : r;
    }
    if (p->state == H_BODY_LEN) {
        if (len - p->header_len < p->content_length)
            return eof ? BENCH_PARSE_ERROR : BENCH_PARSE_MORE;
        ans->status = p->status;
        ans->body = buf + p->header_len;
        ans->body_len = p->content_length;
        *consumed = p->header_len + p->content_length;
        return BENCH_PARSE_DONE;
    }
    if (p->state == H_UNTIL_EOF) {
        if (!eof)
            return BENCH_PARSE_MORE;
        ans->status = p->status;
        ans->body = buf + p->header_len;
        ans->body_len = len - p->header_len;
        *consumed = len;
        return BENCH_PARSE_DONE;
    }
    for (;;) {
        int stalled = 0;
        int r = chunk_step(p, buf, len, &stalled);
        if (r == BENCH_PARSE_DONE) {
            ans->status = p->status;
            ans->body = p->body;
            ans->body_len = p->body_len;
            *consumed = p->pos;
            return r;
        }
        if (r == BENCH_PARSE_ERROR)
            return r;
        if (stalled)
            return eof ? BENCH_PARSE_ERROR : BENCH_PARSE_MORE;
    }
}
