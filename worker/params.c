/* params.c: the FastCGI parameters the API reads (see params.h). */
#include "params.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

long long dg_param_content_length(const char *s)
{
    if (!s || !*s)
        return -1;
    long long v = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return -2;
        if (v > (LLONG_MAX - 9) / 10)
            return LLONG_MAX; /* over any limit */
        v = v * 10 + (*s - '0');
    }
    return v;
}

int dg_param_media_type_is(const char *s, const char *want)
{
    if (!s)
        return 0;
    size_t n = strcspn(s, "; \t");
    return n == strlen(want) && strncasecmp(s, want, n) == 0;
}

void dg_param_path(const char *uri, char *out, size_t cap)
{
    size_t n = uri ? strcspn(uri, "?#") : 0;
    if (n >= cap)
        n = cap - 1; /* too long for any route: stays a 404 after truncation */
    memcpy(out, uri ? uri : "", n);
    out[n] = 0;
}

int dg_param_query_has(const char *query, const char *uri, const char *flag)
{
    size_t len = strlen(flag);
    const char *q = query;
    if (!q || !*q)
        q = uri && strchr(uri, '?') ? strchr(uri, '?') + 1 : "";
    for (size_t n; *q; q += n + 1) {
        n = strcspn(q, "&#");
        if (n == len && !strncmp(q, flag, len))
            return 1;
        if (q[n] != '&')
            break;
    }
    return 0;
}
