/* params.h: the FastCGI parameters the API reads (CONTENT_LENGTH, CONTENT_TYPE, the request
 * path and query), as strings: the web server passes on what the client sent, so each is
 * read strictly and within bounds. api.c takes them from libfcgi's environment. */
#ifndef DIGITD_PARAMS_H
#define DIGITD_PARAMS_H

#include <stddef.h>

/* Strict decimal CONTENT_LENGTH (s may be NULL): -1 missing, -2 malformed, else the value
 * (LLONG_MAX for any value past it: over every limit). */
long long dg_param_content_length(const char *s);

/* Whether the media type of CONTENT_TYPE s (parameters dropped) is want, compared
 * case-insensitively; 0 for a NULL s. */
int dg_param_media_type_is(const char *s, const char *want);

/* The path of uri (NULL: none) without its query or fragment into out (cap > 0 bytes);
 * a path too long for out is cut, which no route matches. */
void dg_param_path(const char *uri, char *out, size_t cap);

/* Whether the query holds the parameter flag exactly ("explain=1"): query is
 * QUERY_STRING, or when that is missing or empty the part of uri (REQUEST_URI) after '?'. */
int dg_param_query_has(const char *query, const char *uri, const char *flag);

#endif
