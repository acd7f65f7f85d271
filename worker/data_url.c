/* data_url.c: a data URL's image (see data_url.h). */
#include "data_url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

int dg_data_url_decode(const char *url, size_t url_len, uint8_t **img, size_t *len,
                       const char **err)
{
    *img = NULL;
    const char *comma = memchr(url, ',', url_len);
    if (url_len < 5 || strncasecmp(url, "data:", 5) || !comma) {
        *err = "imageData is not a data URL";
        return 400;
    }
    size_t hlen = (size_t)(comma - url) - 5; /* "image/png[;param=value]...;base64" */
    const char *h = url + 5;
    if (hlen < 7 || strncasecmp(h + hlen - 7, ";base64", 7)) {
        *err = "imageData data URL is not base64";
        return 400;
    }
    const char *semi = memchr(h, ';', hlen); /* ends the media type; hlen - 7 at the latest */
    if (!((size_t)(semi - h) == 9 && !strncasecmp(h, "image/png", 9)) &&
        !((size_t)(semi - h) == 10 && !strncasecmp(h, "image/jpeg", 10))) {
        *err = "imageData must be an image/png or image/jpeg data URL";
        return 415;
    }
    const char *b64 = comma + 1;
    size_t b64_len = url_len - (size_t)(b64 - url);
    size_t cap = b64_len / 4 * 3 + 3; /* b64_len < url_len: cannot overflow */
    *img = malloc(cap);
    if (!*img) {
        *err = "out of memory";
        return 500;
    }
    if (sodium_base642bin(*img, cap, b64, b64_len, " \t\r\n", len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(*img);
        *img = NULL;
        *err = "imageData is not valid base64";
        return 400;
    }
    return 0;
}
