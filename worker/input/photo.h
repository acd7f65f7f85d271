/* photo.h: a photo of a digit written on paper -> the 28x28 input.
 *
 * A canvas has one paper grey all along its border; a photo has the table, the sheet's
 * edges, lighting that falls off and paper texture there. For a photo the paper's light is
 * estimated locally and divided out, ink is found with a threshold that follows the local
 * contrast (Sauvola), and the digit is the connected ink nearest the centre with a
 * digit's size and stroke; the sheet's edges, ruled or squared lines, shadows and text at
 * the margins are dropped. What is kept is drawn dark on white and goes through
 * dg_preprocess's MNIST recipe like any canvas. All buffers are sized from the canvas,
 * whose size the decoder checked against the caller's limits. */
#ifndef DIGITD_PHOTO_H
#define DIGITD_PHOTO_H

#include "input.h"

/* 1 if c looks like a photo rather than a drawn canvas: opaque, and its border shaded
 * (paper texture, sensor noise, light) rather than one flat fill and ink. */
int dg_photo_detect(const struct dg_canvas *c);

/* The photo path, dg_preprocess's for a canvas dg_photo_detect takes for a photo (it has
 * checked c and cleared out and info, which is not NULL): out and info as dg_preprocess
 * gives them, info's box in c's pixels. */
int dg_photo_preprocess(const struct dg_canvas *c, float out[784], struct dg_prep_info *info);

#endif
