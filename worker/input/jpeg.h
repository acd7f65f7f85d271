/* jpeg.h: JPEG bytes -> RGBA8 canvas with libjpeg-turbo, under the caller's limits, and the
 * one entry point that takes either format (PNG or JPEG, told apart by their signatures).
 *
 * A phone photo (3-12 MP) is larger than the limits allow a canvas to be: the decoder
 * picks the largest of libjpeg's DCT scale factors (1/8 .. 1) at which the canvas fits the
 * limits and is no larger than the photo preprocessing needs, so most of the work a full
 * decode would do is never done. The header's size is checked before anything is decoded:
 * a baseline JPEG (streamed row by row) may declare up to DG_JPEG_PIXELS_FACTOR times
 * lim->max_pixels, a progressive one (whose coefficients are all kept in memory whatever
 * the scale) only lim->max_pixels, and at most DG_JPEG_MAX_SCANS scans. EXIF orientation
 * is applied, so the canvas is the photo as it was taken. */
#ifndef DIGITD_JPEG_H
#define DIGITD_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

#define DG_JPEG_PIXELS_FACTOR 16  /* a baseline JPEG's header may declare 16 x max_pixels */
#define DG_JPEG_MAX_SCANS 64      /* more scans than any encoder's progressive script */
#define DG_JPEG_WORK_SIDE 800     /* decode scaled down to no less than this longer side */

/* Decodes a JPEG (8-bit greyscale or YCbCr/RGB; CMYK and 12-bit are DG_INPUT_UNSUPPORTED)
 * to RGBA8, scaled and oriented as above. */
int dg_jpeg_decode(const void *jpg, size_t len, const struct dg_input_limits *lim,
                   struct dg_canvas *out);

/* 1 if the bytes start as a JPEG does (SOI and a marker). */
int dg_is_jpeg(const void *data, size_t len);

/* A PNG or a JPEG, by its signature: dg_jpeg_decode or dg_png_decode. */
int dg_image_decode(const void *data, size_t len, const struct dg_input_limits *lim,
                    struct dg_canvas *out);

/* Image bytes -> 784 floats: dg_image_decode + dg_preprocess. */
int dg_input_from_image(const void *data, size_t len, const struct dg_input_limits *lim,
                        float out[784], struct dg_prep_info *info);

#endif
