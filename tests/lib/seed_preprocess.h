/* seed_preprocess.h: the seed app's preprocessing, kept only to measure ours against it. */
#ifndef DIGITD_SEED_PREPROCESS_H
#define DIGITD_SEED_PREPROCESS_H

#include "input.h"

/* PIL's convert('L') (alpha ignored), the whole canvas resized to 28x28 (area averaging
 * stands in for its Lanczos), then 255 - x, scaled to 0..1. A canvas over 16384 px a side
 * or without pixels gives zeros. */
void dg_preprocess_seed(const struct dg_canvas *c, float out[784]);

#endif
