/* check_mnist.h: digitd-convert --check-mnist, the sanity check of the input scale. */
#ifndef DIGITD_CHECK_MNIST_H
#define DIGITD_CHECK_MNIST_H

#include <stdio.h>

#include "keras_load.h"

#define DG_CHECK_DIGITS 500 /* the first MNIST test digits the check runs */
#define DG_CHECK_GAIN 0.02  /* the accuracy another scale must gain to be named */

/* Fraction of the first n MNIST test digits of dir (t10k-*.gz) that model m gets right,
 * through the runtime engine with the service's pixels (0..1); -1 with err on failure. */
double dg_mnist_accuracy(const struct dg_model *m, const char *dir, size_t n, char *err,
                         size_t errlen);

/* Runs km (loaded from path with opts) on DG_CHECK_DIGITS digits under its input scale and
 * under the common others (unit, raw, standardised, inverted); when another scale has less
 * than half the errors (and DG_CHECK_GAIN more accuracy), writes a loud warning naming it to
 * report.  Returns 0 (checked: fine), 1 (warned) or -1 (could not check; err). */
int dg_check_mnist(const char *path, const struct dg_keras_opts *opts,
                   const struct dg_keras_model *km, const char *dir, FILE *report, char *err,
                   size_t errlen);

#endif
