/* parse.h: strict number parsing for command-line options, one family for every program.
 *
 * atoi and a bare strtol take "12abc", " 12", "" and out-of-range text as some number; an
 * option typo must instead be an error that names the option. Each function takes the
 * whole text (no blanks, no trailing characters), checks the range, and on failure prints
 * "<prog>: <opt>: '<text>' is not ... in <lo>..<hi>" to stderr and returns -1 leaving *out
 * untouched; 0 on success. */
#ifndef DIGITD_PARSE_H
#define DIGITD_PARSE_H

#include <stdint.h>

/* A decimal integer in [lo, hi] (any part of the int64 range). */
int dg_parse_int(const char *prog, const char *opt, const char *s, int64_t lo, int64_t hi,
                 int64_t *out);
/* A decimal integer in [0, 2^64 - 1]; a sign is refused (strtoull would wrap "-1"). */
int dg_parse_u64(const char *prog, const char *opt, const char *s, uint64_t *out);
/* A finite decimal number in [lo, hi] (nan never is). */
int dg_parse_double(const char *prog, const char *opt, const char *s, double lo, double hi,
                    double *out);

#endif
