/* digitd-unipen: the compiled-in model on digits written with a pen (UNIPEN text, unipen.h:
 * the UCI pendigits files), each sent through the stroke path as the page sends a drawing
 * (dg_strokes_to_input, then the verdict the API gives), with the accuracy, each class's,
 * the confusion matrix, how many answers were in doubt and how many of the wrong ones.
 * usage: digitd-unipen FILE [--height PX] [--pen PX] [--y-down] [--probs FILE] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "eval_report.h"
#include "parse.h"
#include "rank.h"
#include "unipen.h"
#include "verdict.h"

struct unipen_opts {
    const char *path, *probs_path;
    double height, pen;
    int y_up;
};

/* Grows the label, probability and refusal arrays to hold n + 1 digits; 0 or -1. */
static int grow(struct dg_idx_labels *lb, float **probs, uint8_t **refused, size_t *cap)
{
    if (lb->count < *cap)
        return 0;
    size_t n = *cap ? 2 * *cap : 1024;
    if (n > SIZE_MAX / sizeof(float) / DG_N_CLASSES)
        return -1;
    uint8_t *l = realloc(lb->labels, n);
    if (l)
        lb->labels = l;
    float *p = realloc(*probs, n * DG_N_CLASSES * sizeof **probs);
    if (p)
        *probs = p;
    uint8_t *r = realloc(*refused, n);
    if (r)
        *refused = r;
    if (!l || !p || !r)
        return -1;
    *cap = n;
    return 0;
}

/* Every digit of o->path through the stroke path, then the report; 0, or 1 on an error. */
static int eval_unipen(const struct unipen_opts *o)
{
    static struct unipen_digit d;
    static float xy[2 * DG_STROKES_MAX_POINTS];
    struct dg_idx_labels lb = {0};
    float *probs = NULL, x[DG_INPUT_PIXELS];
    uint8_t *refused = NULL;
    size_t cap = 0, verdicts[3] = {0}, wrong = 0, wrong_doubted = 0;
    char err[1024];
    int rc = 1, got;
    FILE *f = fopen(o->path, "r");
    if (!f) {
        perror(o->path);
        return 1;
    }
    struct unipen_reader r;
    unipen_open(&r, f, o->path);
    while ((got = unipen_next(&r, &d, err, sizeof err)) == 1) {
        if (grow(&lb, &probs, &refused, &cap) != 0) {
            fprintf(stderr, "%s: %zu digits: out of memory\n", o->path, lb.count);
            goto out;
        }
        struct dg_strokes s;
        const char *why;
        unipen_to_strokes(&d, UNIPEN_PAGE_SIDE, (float)o->height, (float)o->pen, o->y_up, xy, &s);
        size_t i = lb.count++;
        lb.labels[i] = (uint8_t)d.label;
        refused[i] = dg_strokes_check(&s, &why) != DG_INPUT_OK || dg_strokes_to_input(&s, x) != DG_INPUT_OK;
        if (!refused[i]) {
            enum dg_verdict v = dg_verdict_predict(x, probs + i * DG_N_CLASSES);
            verdicts[v]++;
            if (dg_argmax(probs + i * DG_N_CLASSES, DG_N_CLASSES) != d.label)
                wrong++, wrong_doubted += v != DG_VERDICT_DIGIT;
        }
    }
    if (got < 0) {
        fprintf(stderr, "digitd-unipen: %s\n", err);
        goto out;
    }
    if (lb.count == 0) {
        fprintf(stderr, "digitd-unipen: %s: no digit (UNIPEN .SEGMENT with a digit label and points)\n", o->path);
        goto out;
    }
    printf("%s: %zu digits, each %.0f px on the page's 280 px square, pen %.0f px\n", o->path,
           lb.count, o->height, o->pen);
    dg_eval_report(&lb, probs, refused);
    printf("verdicts: digit %zu, unsure %zu, not_a_digit %zu (%.2f %% in doubt)\n",
           verdicts[DG_VERDICT_DIGIT], verdicts[DG_VERDICT_UNSURE], verdicts[DG_VERDICT_NOT_A_DIGIT],
           100.0 * (double)(verdicts[DG_VERDICT_UNSURE] + verdicts[DG_VERDICT_NOT_A_DIGIT]) / (double)lb.count);
    /* what the page can show honestly: how many of the wrong digits came with a doubt */
    printf("wrong answers: %zu, of them in doubt: %zu\n", wrong, wrong_doubted);
    rc = o->probs_path && dg_eval_write_probs(o->probs_path, probs, lb.count) != 0;
out:
    fclose(f);
    free(lb.labels);
    free(probs);
    free(refused);
    return rc;
}

int main(int argc, char **argv)
{
    struct unipen_opts u = {.height = UNIPEN_HEIGHT, .pen = UNIPEN_PEN, .y_up = 1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--probs") == 0 && i + 1 < argc)
            u.probs_path = argv[++i];
        else if (strcmp(argv[i], "--height") == 0 && i + 1 < argc) {
            if (dg_parse_double("digitd-unipen", "--height", argv[++i], 8, UNIPEN_PAGE_SIDE, &u.height) != 0)
                return 2;
        } else if (strcmp(argv[i], "--pen") == 0 && i + 1 < argc) {
            if (dg_parse_double("digitd-unipen", "--pen", argv[++i], 1, 64, &u.pen) != 0)
                return 2;
        } else if (strcmp(argv[i], "--y-down") == 0)
            u.y_up = 0;
        else if (argv[i][0] != '-' && !u.path)
            u.path = argv[i];
        else
            u.path = NULL, i = argc;
    }
    if (!u.path) {
        fprintf(stderr, "usage: digitd-unipen FILE [--height PX (200)] [--pen PX (20)] [--y-down] [--probs FILE]\n"
                        "  FILE: UNIPEN text, e.g. UCI's pendigits-orig.tes; its y points up unless --y-down;\n"
                        "  each digit is drawn HEIGHT px tall (its longer side) on the page's 280 px square\n");
        return 2;
    }
    return eval_unipen(&u);
}
