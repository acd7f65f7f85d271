/* render.h: an MNIST digit drawn as a person draws it on the web page's canvas, as a PNG.
 *
 * The 28x28 scan is enlarged to a smooth pen-stroke shape on a 280x280 canvas at a varied
 * size, position and stroke thickness, in one of three looks (dark ink on white, white ink
 * on black, dark ink on a transparent canvas), and encoded as PNG. Two styles: the scan's
 * own stroke shape (its pen pressure kept), or the pen: the stroke's path redrawn with one
 * round pen width, as a browser draws mouse and touch strokes. Deterministic for a given
 * (digit pixels, params). Used by the worker's tests, digitd-bench payloads and the
 * trainer's augmentation and validation. */
#ifndef DIGITD_RENDER_H
#define DIGITD_RENDER_H

#include <stddef.h>
#include <stdint.h>

enum dg_render_look { DG_LOOK_DARK_ON_WHITE, DG_LOOK_WHITE_ON_BLACK, DG_LOOK_TRANSPARENT };

struct dg_render_params {
    int canvas;              /* canvas side in px, 280 */
    float digit_height;      /* height of the digit's ink box on the canvas, px */
    float cx, cy;            /* where its centre lands on the canvas, px */
    float thickness;         /* stroke thickness relative to the scan's (1 = as drawn) */
    float pen_width;         /* > 0: the pen style instead, one stroke width (px) throughout */
    enum dg_render_look look;
    int noise;               /* browser read-back noise, +-noise grey levels per channel (0: none) */
    /* How people around the world write (all 0: as the scan): */
    int mark;                /* DG_MARK_*: a stroke added with the same pen */
    uint64_t mark_seed;      /* places it (length, angle, side) */
    float fade;              /* 0: full ink; 0.6: a pencil's grey (ink scaled by 1 - fade) */
    /* The writer's proportions, within +-DG_RENDER_MAX_WARP (0: the scan's): > 0 draws the
     * top (warp_y) or the left (warp_x) of the digit smaller and the other end larger, < 0
     * the reverse (a nine's small loop over a long tail, an eight's big belly); the ink box
     * stays the same. */
    float warp_x, warp_y;
};

#define DG_RENDER_MAX_WARP 0.5f /* |warp_x|, |warp_y| beyond it are drawn as it */

/* Strokes people add to a digit: written conventions (a slashed or dotted zero, a one with
 * a flag and a foot, a crossed seven, a nine whose tail ends in a hook) and strokes that are
 * no part of it (a tap of the pen, a short stray stroke beside it). Drawn with the digit's
 * pen (the pen style's width). */
enum dg_render_mark {
    DG_MARK_NONE,
    DG_MARK_SLASH,     /* a slash through the digit, as on a zero */
    DG_MARK_DOT,       /* a dot in its middle, as in a zero */
    DG_MARK_FLAG,      /* an up-stroke flag from its top, as on a one */
    DG_MARK_FLAG_FOOT, /* the flag and a foot bar */
    DG_MARK_CROSSBAR,  /* a bar across the stem, as on a seven */
    DG_MARK_TAP,       /* a tap of the pen beside the digit */
    DG_MARK_STRAY,     /* a short stray stroke beside it */
    DG_MARK_HOOK,      /* the tail's foot curled to the left, as on a nine */
    DG_MARK_COUNT
};

enum dg_render_style {
    DG_STYLE_SCAN, /* the scan's own stroke, thickened or thinned */
    DG_STYLE_PEN,  /* its path with one pen width, 8 to 32 px */
    DG_STYLE_MIX,  /* either, half and half */
    DG_STYLE_WORLD /* the world-styles series: dg_render_world_params, which needs the label */
};

/* Varied, deterministic parameters for test image number index (seed picks the series). */
void dg_render_params_for(uint64_t seed, size_t index, enum dg_render_style style,
                          struct dg_render_params *p);

/* The mark a writer of digit `label` adds, for u uniform in [0, 1): the conventions of
 * zeros, ones, sevens and nines for 60 % of them (half each where there are two), a tap or
 * a stray stroke beside the digit otherwise (and for every other digit, or label < 0). */
enum dg_render_mark dg_render_mark_for(int label, float u);

/* The world-styles series: dg_render_params_for's pen style, with a mark for the digit's
 * label (dg_render_mark_for), and a third of them in pencil: a thin pen (1.5 to 4 px), its
 * ink lightened to a grey (fade 0.4 to 0.75). */
void dg_render_world_params(uint64_t seed, size_t index, int label, struct dg_render_params *p);

/* Draws polylines with the pen (p->pen_width, at least 1 px; p->fade and p->look as for a
 * digit): n_lines lines, line i has len[i] points, xy holds every point's x, y in a unit
 * box (0..1, y down) that is scaled to p->digit_height and centred on p->cx, p->cy. For
 * shapes that are not digits: letters, scribbles. Returns 0, or -1 on bad parameters. */
int dg_render_strokes(const float *xy, const int *len, int n_lines, const struct dg_render_params *p,
                      uint8_t *rgba);

/* dg_render_strokes as a PNG in a malloc'd buffer (*png, *len); 0, or -1. */
int dg_render_strokes_png(const float *xy, const int *len, int n_lines,
                          const struct dg_render_params *p, uint8_t **png, size_t *png_len);

/* Draws pixels (784 bytes, MNIST polarity) on the canvas: rgba holds canvas * canvas * 4
 * bytes, unpremultiplied RGBA as a browser's canvas reads back. Returns 0, or -1 on bad
 * parameters or allocation failure. */
int dg_render_rgba(const uint8_t pixels[784], const struct dg_render_params *p, uint8_t *rgba);

/* The pen style's path: mask (canvas * canvas bytes) = 1 on the one-pixel skeleton the pen
 * follows, 0 elsewhere. Returns 0, or -1 on bad parameters or allocation failure. */
int dg_render_path(const uint8_t pixels[784], const struct dg_render_params *p, uint8_t *mask);

/* Renders pixels (784 bytes, MNIST polarity) to a PNG (a digit too large for the canvas is
 * shrunk, and moved inward so that it lies fully on it) in a malloc'd buffer (*png, *len).
 * Returns 0, or -1 on bad parameters, allocation or encoding failure. */
int dg_render_png(const uint8_t pixels[784], const struct dg_render_params *p, uint8_t **png,
                  size_t *len);

#endif
