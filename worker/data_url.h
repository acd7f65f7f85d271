/* data_url.h: the image of a JSON request's data URL (request.h's "imageData"). */
#ifndef DIGITD_DATA_URL_H
#define DIGITD_DATA_URL_H

#include <stddef.h>
#include <stdint.h>

/* Decodes a data:image/png;base64 (or image/jpeg) URL of url_len bytes into a malloc'd
 * image (*img, *len). Returns 0, or an HTTP status (400, 415, 500) with *err set and *img
 * NULL. RFC 2397: data:<type>[;param=value]...;base64,<data>; the parameters (e.g. charset)
 * say nothing about an image and are skipped. Base64 is the standard alphabet with padding;
 * whitespace is skipped, as encoders that wrap lines insert it. */
int dg_data_url_decode(const char *url, size_t url_len, uint8_t **img, size_t *len,
                       const char **err);

#endif
