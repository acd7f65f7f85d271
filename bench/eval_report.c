/* eval_report.c: what digitd-eval and digitd-unipen print and write (see eval_report.h). */
#include "eval_report.h"

#include <stdio.h>

#include "engine.h"
#include "rank.h"

int dg_eval_write_probs(const char *path, const float *probs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < DG_N_CLASSES; c++)
            fprintf(f, "%.9g%c", probs[i * DG_N_CLASSES + c], c + 1 < DG_N_CLASSES ? ' ' : '\n');
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* The accuracy, each class's and the confusion matrix; refused[i] (if refused is not NULL):
 * digit i had no answer (a stroke request answered 422), so it counts as wrong. */
void dg_eval_report(const struct dg_idx_labels *lb, const float *probs, const uint8_t *refused)
{
    long confusion[DG_N_CLASSES][DG_N_CLASSES] = { { 0 } }, in_class[DG_N_CLASSES] = { 0 };
    size_t correct = 0, none = 0;
    for (size_t i = 0; i < lb->count; i++) {
        in_class[lb->labels[i] % DG_N_CLASSES]++;
        if (refused && refused[i]) {
            none++;
            continue;
        }
        int p = dg_argmax(probs + i * DG_N_CLASSES, DG_N_CLASSES);
        confusion[lb->labels[i] % DG_N_CLASSES][p]++;
        correct += p == lb->labels[i];
    }
    printf("model: %s (%s)\n", dg_engine_model()->source, dg_engine_model()->name);
    printf("accuracy: %.2f%% (%zu/%zu)\n", 100.0 * (double)correct / (double)lb->count, correct,
           lb->count);
    if (refused)
        printf("no answer (422): %zu\n", none);
    printf("per class:");
    for (int c = 0; c < DG_N_CLASSES; c++)
        if (in_class[c])
            printf(" %d %.1f%%", c, 100.0 * (double)confusion[c][c] / (double)in_class[c]);
        else
            printf(" %d -", c);
    printf("\nconfusion (rows: label, columns: prediction):\n      ");
    for (int c = 0; c < DG_N_CLASSES; c++)
        printf("%6d", c);
    for (int r = 0; r < DG_N_CLASSES; r++) {
        printf("\n%6d", r);
        for (int c = 0; c < DG_N_CLASSES; c++)
            printf("%6ld", confusion[r][c]);
    }
    printf("\n");
}
