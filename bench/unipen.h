/* unipen.h: digits written with a pen, read from UNIPEN text, as the page would send them.
 *
 * The UCI "Pen-Based Recognition of Handwritten Digits" files (pendigits-orig.tra and .tes:
 * 10,992 digits by 44 writers, stylus on a tablet) are in this form:
 *
 *   .SEGMENT DIGIT 0 ? "8"     a digit and its label (the last quoted character)
 *   .COMMENT 8  6  138         (its label, its writer, ...: not read)
 *   .PEN_DOWN                  a stroke begins
 *    273  323                  one point per line: x y
 *   .PEN_UP                    the stroke ends
 *
 * Every other directive is skipped, and so is a segment whose label is not a digit. */
#ifndef DIGITD_UNIPEN_H
#define DIGITD_UNIPEN_H

#include <stdint.h>
#include <stdio.h>

#include "strokes.h"

/* How the page would send a digit: on its 280 px square, 200 px tall (its longer side), with
 * its default 20 px pen (web/app.js). */
#define UNIPEN_PAGE_SIDE 280.f
#define UNIPEN_HEIGHT 200.f
#define UNIPEN_PEN 20.f

struct unipen_digit {
    int label;                                  /* 0..9 */
    uint32_t n_points, n_strokes;
    float xy[2 * DG_STROKES_MAX_POINTS];        /* as in the file */
    uint32_t ends[DG_STROKES_MAX_STROKES];      /* as struct dg_strokes' ends */
};

struct unipen_reader {
    FILE *f;
    const char *path;
    unsigned long line;
    int next_label;                             /* the label of the segment begun, or -1 */
    int pen_down;
};

void unipen_open(struct unipen_reader *r, FILE *f, const char *path);

/* The next digit with at least one point into *d: 1, or 0 at the end of the file, or -1 with
 * err naming the file, the line and the problem (too many points or strokes for a request,
 * a point that is not two numbers). */
int unipen_next(struct unipen_reader *r, struct unipen_digit *d, char *err, size_t errlen);

/* d as the page sends it: on a side x side drawing (UNIPEN_PAGE_SIDE), its longer side
 * `height` long and centred, y pointing down (y_up: the file's y points up, as the tablet's
 * in the UCI files), drawn with a pen `width` wide. xy holds the moved points. */
void unipen_to_strokes(const struct unipen_digit *d, float side, float height, float width,
                       int y_up, float *xy, struct dg_strokes *s);

#endif
