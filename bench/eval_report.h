/* eval_report.h: a model's answers on a labelled set, printed and written alike by
 * digitd-eval (MNIST IDX files) and digitd-unipen (pen strokes). */
#ifndef DIGITD_EVAL_REPORT_H
#define DIGITD_EVAL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "idx.h"

/* Prints the model's name, the accuracy, each class's and the confusion matrix of probs
 * (lb->count x DG_N_CLASSES) against lb; refused[i] (refused may be NULL): digit i had no
 * answer (a request answered 422) and counts as wrong. */
void dg_eval_report(const struct dg_idx_labels *lb, const float *probs, const uint8_t *refused);

/* Writes every probability, one line of DG_N_CLASSES per digit; 0, or -1 (perror'd). */
int dg_eval_write_probs(const char *path, const float *probs, size_t n);

#endif
