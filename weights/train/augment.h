/* augment.h: on-the-fly training augmentation for 28x28 MNIST digits.
 *
 * Canvas digits reach the model through MNIST's own preprocessing (crop, 20 px box, centre
 * of mass), so size and position are already normalised; what still differs from the
 * scans is the pen: stroke width, slant and aspect. Each image therefore gets either a
 * redraw as a browser draws a stroke (its path with one round pen width, on a canvas, then
 * through the worker's own preprocessing: worker/input/render.h, worker/input/input.h) or a random
 * stroke-thickness change of the scan (grey-level dilation or erosion, blended by a random
 * amount), then a random affine map about its centre of mass (rotation, shear, x/y scale,
 * small shift), sampled bilinearly. Some pen redraws carry what people around the world add
 * to a digit (a slash through a zero, a flag on a one, a tap beside it) or are drawn with a
 * thin, grey pencil, and some with the writer's own proportions (a nine's loop small over a
 * long tail, an eight's top larger than its belly). Deterministic: the same rng state gives the same
 * image. */
#ifndef DIGITD_AUGMENT_H
#define DIGITD_AUGMENT_H

#include <stddef.h>
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
    float p_pen;          /* probability of the pen redraw instead of the thickness change */
    float pen_min, pen_max; /* its width as a fraction of the digit's height, log-uniform */
    float p_mark;         /* of the pen redraws, the share given a writer's mark (render.h's
                           * dg_render_mark_for the image's label: a slashed zero, a tap...) */
    float p_pencil;       /* of the pen redraws, the share drawn with a thin grey pencil */
    float p_warp;         /* of the pen redraws, the share drawn with other proportions */
    float max_warp;       /* their render.h warp_x and warp_y, each uniform in [-w, w] */
};

/* The defaults digitd-train uses (12 degrees, shear .2, scale .1, aspect .15, shift 1.5,
 * 30 % of the images redrawn with a pen of 0.03 to 0.4 of the digit's height, half of the
 * others get a stroke change; see aug_default_params for the marks, the pencil and the
 * proportions). */
void aug_default_params(struct aug_params *p);

/* in: 784 bytes (0 background, 255 ink) of a digit labelled label (-1: unknown, then no
 * mark that belongs to one digit) -> out: 784 floats in 0..1. */
void aug_image(float out[784], const uint8_t in[784], int label, const struct aug_params *p,
               uint64_t *rng);

#endif
