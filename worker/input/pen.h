/* pen.h: the ink of a round pen, one formula for everything that draws pen strokes (the
 * canvas renderer's pen style in render.c, the stroke requests in strokes.c), so that the
 * trainer's pen augmentation and the server draw alike. */
#ifndef DIGITD_PEN_H
#define DIGITD_PEN_H

/* Coverage 0..1 of a pixel whose centre lies dist pixels from the pen's path, for a pen of
 * the given radius: full within the radius, a one-pixel anti-aliased rim, as a browser's
 * round-capped lineTo draws. A pen thinner than a pixel covers at most its width of one (a
 * hairline is faint, not a half-grey line whatever its width). */
static inline float dg_pen_coverage(float dist, float radius)
{
    float c = radius + 0.5f - dist, full = 2.f * radius;
    c = c > 0.f ? c : 0.f; /* plain selects: the form a vectorising compiler maps to max/min */
    full = full < 1.f ? full : 1.f;
    return c < full ? c : full;
}

#endif
