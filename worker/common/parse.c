/* parse.c: see parse.h. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

_Static_assert(ULLONG_MAX == UINT64_MAX, "strtoull reads exactly the uint64 range");

/* strto* skip leading blanks and take a sign; the texts here must start with the number. */
static int starts_number(const char *s, int sign_ok)
{
    return isdigit((unsigned char)s[0]) ||
           (sign_ok && (s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]));
}

int dg_parse_int(const char *prog, const char *opt, const char *s, int64_t lo, int64_t hi,
                 int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = starts_number(s, 1) ? strtoll(s, &end, 10) : 0;
    if (!end || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "%s: %s: '%s' is not an integer in %" PRId64 "..%" PRId64 "\n", prog,
                opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int dg_parse_u64(const char *prog, const char *opt, const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = starts_number(s, 0) ? strtoull(s, &end, 10) : 0;
    if (!end || *end || errno) {
        fprintf(stderr, "%s: %s: '%s' is not an integer in 0..%" PRIu64 "\n", prog, opt, s,
                UINT64_MAX);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int dg_parse_double(const char *prog, const char *opt, const char *s, double lo, double hi,
                    double *out)
{
    char *end = NULL;
    errno = 0;
    double v = starts_number(s, 1) || (s[0] == '.' && isdigit((unsigned char)s[1]))
                   ? strtod(s, &end) : 0;
    if (!end || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: %s: '%s' is not a number in %g..%g\n", prog, opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}
