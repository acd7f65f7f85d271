/* check.h: the C tests' one assertion. CHECK(cond, printf-args) reports a failed condition
 * with its place and goes on, so that one run lists every failure; main returns
 * failures ? 1 : 0. One translation unit per test program: failures is its own. */
#ifndef DIGITD_TEST_CHECK_H
#define DIGITD_TEST_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
