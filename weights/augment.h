/* augment.h: on-the-fly training augmentation for 28x28 MNIST digits.
 *
 * Canvas digits reach the model through MNIST's own preprocessing (crop, 20 px box, centre
 * of mass), so size and position are already normalised; what still differs from the
 * scans is the pen: stroke width, slant and aspect. Each image therefore gets a random
 * stroke-thickness change (grey-level dilation or erosion, blended by a random amount),
 * then a random affine map about its centre of mass (rotation, shear, x/y scale, small
 * shift), sampled bilinearly. Deterministic: the same rng state gives the same image. */
#ifndef DIGITD_AUGMENT_H
#define DIGITD_AUGMENT_H

#include <stdint.h>

struct aug_params {
    float max_rotate_deg; /* rotation in [-r, r] degrees */
    float max_shear;      /* x += shear * y, shear in [-s, s] (slant) */
    float max_scale;      /* overall scale in [1 - s, 1 + s] */
    float max_aspect;     /* x scale / y scale in [1 - a, 1 + a] */
    float max_shift;      /* translation in [-t, t] px on each axis */
    float p_thickness;    /* probability of a stroke-width change */
    float max_dilate;     /* blend towards the 3x3-cross dilation, in [0, d] */
    float max_erode;      /* blend towards the 3x3-cross erosion, in [0, e] */
};

/* The defaults digitd-train uses (12 degrees, shear .2, scale .1, aspect .15, shift 1.5,
 * half the images get a stroke change). */
void aug_default_params(struct aug_params *p);

/* in: 784 bytes (0 background, 255 ink) -> out: 784 floats in 0..1. */
void aug_image(float out[784], const uint8_t in[784], const struct aug_params *p, uint64_t *rng);

#endif
