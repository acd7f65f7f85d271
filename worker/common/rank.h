/* rank.h: the largest of a few values (the predicted digit) and the median of a sample.
 *
 * The digit every tool reports must be the one the API answers with, ties included (the
 * first of equal probabilities), so they all pick it the same way. */
#ifndef DIGITD_RANK_H
#define DIGITD_RANK_H

#include <stddef.h>

/* Index of the largest of p[0..n), the first one on ties; 0 if n < 1. */
int dg_argmax(const float *p, int n);
/* Median of v[0..n) (the mean of the middle two when n is even); sorts v. 0 if n == 0. */
double dg_median(double *v, size_t n);

#endif
