/* edt.h: the exact Euclidean distance transform of a plane, after Felzenszwalb and
 * Huttenlocher (the lower envelope of parabolas, a line at a time): the renderer's pen
 * (distance to a digit's path) and preprocessing's thinning of thick ink (distance to the
 * paper) both measure with it. */
#ifndef DIGITD_EDT_H
#define DIGITD_EDT_H

#define DG_EDT_FAR 1e20f /* a pixel that is not a target: further than any plane's distance */

/* In place over the w x h plane g (row stride `stride`; 0 on the target pixels, DG_EDT_FAR
 * elsewhere): the squared Euclidean distance to the nearest target, columns then rows.
 * line: 3 * max(w, h) + 1 floats, v: max(w, h) ints of scratch. */
void dg_edt(float *g, int w, int h, int stride, float *line, int *v);

#endif
