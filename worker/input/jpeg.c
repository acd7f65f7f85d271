/* jpeg.c: JPEG bytes -> RGBA8 canvas with libjpeg-turbo's TurboJPEG API (see jpeg.h).
 *
 * Before libjpeg sees the data, our own walk over its markers reads what the limits need
 * and TurboJPEG does not tell: the frame's precision and whether it is progressive, the
 * number of scans, and the EXIF orientation. Every read is bounds-checked; libjpeg then
 * decodes with warnings treated as errors (a truncated JPEG is refused, not grey-filled). */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "jpeg.h"

struct jpeg_info {
    int precision;    /* bits per sample of the frame, 0 before its SOF */
    int progressive;
    uint32_t w, h;    /* the frame's size as its header states it */
    unsigned scans;
    int orientation;  /* EXIF 1..8, 1 when absent */
};

static unsigned rd16(const uint8_t *p, int le)
{
    return le ? p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
    return le ? rd16(p, 1) | (uint32_t)rd16(p + 2, 1) << 16
              : (uint32_t)rd16(p, 0) << 16 | rd16(p + 2, 0);
}

/* The Orientation tag (0x0112, a SHORT) of IFD0 in an APP1 "Exif" payload; 1 if absent. */
static int exif_orientation(const uint8_t *d, size_t n)
{
    if (n < 6 + 8 || memcmp(d, "Exif\0\0", 6))
        return 1;
    const uint8_t *t = d + 6;
    size_t tn = n - 6;
    int le = !memcmp(t, "II*\0", 4);
    if (!le && memcmp(t, "MM\0*", 4))
        return 1;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd > tn - 2)
        return 1;
    unsigned count = rd16(t + ifd, le);
    for (unsigned i = 0; i < count; i++) {
        size_t e = ifd + 2 + (size_t)i * 12;
        if (e + 12 > tn)
            break;
        if (rd16(t + e, le) == 0x0112 && rd16(t + e + 2, le) == 3) {
            unsigned v = rd16(t + e + 8, le);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

static int is_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Index of the next marker after entropy-coded data starting at i (stuffed 0xFF00 and
 * restart markers belong to the data), or n. */
static size_t skip_entropy(const uint8_t *p, size_t n, size_t i)
{
    for (; i + 1 < n; i++) {
        if (p[i] != 0xFF)
            continue;
        unsigned m = p[i + 1];
        if (m != 0x00 && m != 0xFF && !(m >= 0xD0 && m <= 0xD7))
            return i;
    }
    return n;
}

/* Walks the markers from after SOI to EOI (or the end). DG_INPUT_CORRUPT_JPEG when a
 * segment runs past the end or something other than a marker stands between segments. */
static int walk_markers(const uint8_t *p, size_t n, struct jpeg_info *ji)
{
    *ji = (struct jpeg_info){0, 0, 0, 0, 0, 1};
    size_t i = 2;
    while (i < n) {
        if (p[i] != 0xFF)
            return DG_INPUT_CORRUPT_JPEG;
        while (i < n && p[i] == 0xFF) /* fill bytes */
            i++;
        if (i >= n)
            break;
        unsigned m = p[i++];
        if (m == 0xD9)
            break;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;
        if (i + 2 > n)
            return DG_INPUT_CORRUPT_JPEG;
        size_t len = rd16(p + i, 0);
        if (len < 2 || len > n - i)
            return DG_INPUT_CORRUPT_JPEG;
        const uint8_t *seg = p + i + 2;
        size_t sn = len - 2;
        if (is_sof(m) && sn >= 5 && !ji->precision) {
            ji->precision = seg[0];
            ji->h = rd16(seg + 1, 0), ji->w = rd16(seg + 3, 0);
            ji->progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
        } else if (m == 0xE1 && ji->orientation == 1) {
            ji->orientation = exif_orientation(seg, sn);
        }
        i += len;
        if (m == 0xDA) {
            if (++ji->scans > DG_JPEG_MAX_SCANS)
                return DG_INPUT_TOO_LARGE;
            i = skip_entropy(p, n, i);
        }
    }
    return DG_INPUT_OK;
}

/* The frame's size against the limits (see jpeg.h), from our own read of its header,
 * before libjpeg reads it; then libjpeg's header, and the colour space we decode. */
static int check_header(tjhandle tj, const uint8_t *p, size_t n, const struct jpeg_info *ji,
                        const struct dg_input_limits *lim, int *w, int *h)
{
    if (!ji->precision || !ji->w || !ji->h) /* no frame header, or an empty frame */
        return DG_INPUT_CORRUPT_JPEG;
    if (ji->precision != 8) /* libjpeg would call it corrupt */
        return DG_INPUT_UNSUPPORTED;
    uint64_t budget = ji->progressive ? lim->max_pixels
                      : lim->max_pixels > UINT64_MAX / DG_JPEG_PIXELS_FACTOR
                          ? UINT64_MAX
                          : lim->max_pixels * DG_JPEG_PIXELS_FACTOR;
    if ((uint64_t)ji->w * ji->h > budget)
        return DG_INPUT_TOO_LARGE;
    int sub = 0, cs = 0;
    if (n > (size_t)0xFFFFFFFFu || tjDecompressHeader3(tj, p, (unsigned long)n, w, h, &sub, &cs))
        return DG_INPUT_CORRUPT_JPEG;
    if (cs == TJCS_CMYK || cs == TJCS_YCCK)
        return DG_INPUT_UNSUPPORTED;
    if (*w <= 0 || *h <= 0 || (uint32_t)*w != ji->w || (uint32_t)*h != ji->h)
        return DG_INPUT_CORRUPT_JPEG; /* libjpeg and we must agree on what we checked */
    return DG_INPUT_OK;
}

/* The largest scale whose canvas fits the limits, but no larger than the work needs: the
 * smallest one whose longer side still reaches DG_JPEG_WORK_SIDE. */
static int pick_scale(int w, int h, const struct dg_input_limits *lim, tjscalingfactor *out)
{
    int nsf = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&nsf);
    int found = 0;
    uint64_t best = 0;
    for (int k = 0; sf && k < nsf; k++) {
        if (sf[k].num > sf[k].denom) /* enlarging never helps */
            continue;
        uint64_t sw = (uint64_t)TJSCALED(w, sf[k]), sh = (uint64_t)TJSCALED(h, sf[k]);
        if (sw > lim->max_width || sh > lim->max_height || sw * sh > lim->max_pixels)
            continue;
        uint64_t side = sw > sh ? sw : sh;
        uint64_t best_side = best;
        int better = !found || (best_side < DG_JPEG_WORK_SIDE ? side > best_side
                                                              : side >= DG_JPEG_WORK_SIDE && side < best_side);
        if (better) {
            *out = sf[k];
            best = side;
            found = 1;
        }
    }
    return found ? DG_INPUT_OK : DG_INPUT_TOO_LARGE;
}

/* Source pixel for output (x, y) of a w x h (as stored) image shown in EXIF orientation o. */
static size_t oriented_index(int o, uint32_t w, uint32_t h, uint32_t x, uint32_t y)
{
    uint32_t sx, sy;
    switch (o) {
    case 2: sx = w - 1 - x, sy = y; break;
    case 3: sx = w - 1 - x, sy = h - 1 - y; break;
    case 4: sx = x, sy = h - 1 - y; break;
    case 5: sx = y, sy = x; break;
    case 6: sx = y, sy = h - 1 - x; break;
    case 7: sx = w - 1 - y, sy = h - 1 - x; break;
    case 8: sx = w - 1 - y, sy = x; break;
    default: sx = x, sy = y; break;
    }
    return (size_t)sy * w + sx;
}

/* Applies the EXIF orientation to c (a new buffer; orientations 5-8 swap the sides). */
static int orient(struct dg_canvas *c, int o)
{
    if (o == 1)
        return DG_INPUT_OK;
    uint32_t ow = o >= 5 ? c->h : c->w, oh = o >= 5 ? c->w : c->h;
    uint32_t *dst = malloc((size_t)ow * oh * 4);
    if (!dst)
        return DG_INPUT_NOMEM;
    const uint32_t *src = (const uint32_t *)(void *)c->rgba;
    for (uint32_t y = 0; y < oh; y++)
        for (uint32_t x = 0; x < ow; x++)
            dst[(size_t)y * ow + x] = src[oriented_index(o, c->w, c->h, x, y)];
    free(c->rgba);
    c->rgba = (uint8_t *)dst;
    c->w = ow, c->h = oh;
    return DG_INPUT_OK;
}

int dg_is_jpeg(const void *data, size_t len)
{
    const uint8_t *p = data;
    return len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;
}

static int decode(tjhandle tj, const uint8_t *p, size_t n, const struct dg_input_limits *lim,
                  struct dg_canvas *out)
{
    struct jpeg_info ji;
    int w = 0, h = 0;
    tjscalingfactor sf = {1, 1};
    int rc = walk_markers(p, n, &ji);
    if (!rc)
        rc = check_header(tj, p, n, &ji, lim, &w, &h);
    if (!rc)
        rc = pick_scale(w, h, lim, &sf);
    if (rc)
        return rc;
    uint32_t sw = (uint32_t)TJSCALED(w, sf), sh = (uint32_t)TJSCALED(h, sf);
    uint8_t *buf = malloc((size_t)sw * sh * 4); /* within the limits: checked above */
    if (!buf)
        return DG_INPUT_NOMEM;
    if (tjDecompress2(tj, p, (unsigned long)n, buf, (int)sw, 0, (int)sh, TJPF_RGBA,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_FASTDCT)) {
        free(buf);
        return DG_INPUT_CORRUPT_JPEG;
    }
    *out = (struct dg_canvas){buf, sw, sh};
    rc = orient(out, ji.orientation);
    if (rc) {
        free(out->rgba);
        *out = (struct dg_canvas){0};
    }
    return rc;
}

int dg_jpeg_decode(const void *jpg, size_t len, const struct dg_input_limits *lim,
                   struct dg_canvas *out)
{
    *out = (struct dg_canvas){0};
    if (len == 0)
        return DG_INPUT_EMPTY;
    if (!dg_is_jpeg(jpg, len))
        return DG_INPUT_CORRUPT_JPEG;
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return DG_INPUT_NOMEM;
    int rc = decode(tj, jpg, len, lim, out);
    tjDestroy(tj);
    return rc;
}

int dg_image_decode(const void *data, size_t len, const struct dg_input_limits *lim,
                    struct dg_canvas *out)
{
    return dg_is_jpeg(data, len) ? dg_jpeg_decode(data, len, lim, out)
                                 : dg_png_decode(data, len, lim, out);
}

int dg_input_from_image(const void *data, size_t len, const struct dg_input_limits *lim,
                        float out[784], struct dg_prep_info *info)
{
    struct dg_canvas c;
    int rc = dg_image_decode(data, len, lim, &c);
    if (rc)
        return rc;
    rc = dg_preprocess(&c, out, info);
    free(c.rgba);
    return rc;
}
