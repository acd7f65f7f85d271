/* nondigit.c: letters from Hershey fonts and random scribbles (see nondigit.h). */
#include "nondigit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "rng.h"

const char nd_letters[] = "ABCDEFGHJKLMNPQRTUVWXYabcdefghjkmnpqrtuvwxy";

int nd_font_load(const char *path, struct nd_font *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char line[4096];
    int n = 0;
    while (n < 96 && fgets(line, sizeof line, in)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len < 10 || !(f->glyph[n] = strdup(line)))
            break;
        n++;
    }
    fclose(in);
    if (n < 96) {
        nd_font_free(f);
        snprintf(err, errlen, "%s: %d glyphs, not the 96 of ASCII 32..127", path, n);
        return -1;
    }
    return 0;
}

void nd_font_free(struct nd_font *f)
{
    for (int i = 0; i < 96; i++)
        free(f->glyph[i]), f->glyph[i] = NULL;
}

static void add_point(struct nd_shape *s, float x, float y, int new_line)
{
    if (s->n_points == ND_MAX_POINTS || (new_line && s->n_lines == ND_MAX_LINES))
        return;
    if (new_line || s->n_lines == 0)
        s->len[s->n_lines++] = 0;
    s->xy[2 * s->n_points] = x, s->xy[2 * s->n_points + 1] = y;
    s->n_points++, s->len[s->n_lines - 1]++;
}

/* Scales and moves the shape so that its longer side is 1, centred in the unit box. */
static void normalise(struct nd_shape *s)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < s->n_points; i++) {
        float x = s->xy[2 * i], y = s->xy[2 * i + 1];
        x0 = fminf(x0, x), x1 = fmaxf(x1, x), y0 = fminf(y0, y), y1 = fmaxf(y1, y);
    }
    float side = fmaxf(x1 - x0, y1 - y0);
    side = side > 0 ? side : 1;
    for (int i = 0; i < s->n_points; i++) {
        s->xy[2 * i] = 0.5f + (s->xy[2 * i] - (x0 + x1) / 2) / side;
        s->xy[2 * i + 1] = 0.5f + (s->xy[2 * i + 1] - (y0 + y1) / 2) / side;
    }
}

/* Glyph format: 5 columns of number, 3 of vertex count, then that many pairs of characters,
 * each coordinate c - 'R'; the first pair is the left and right bearing, " R" lifts the pen. */
int nd_letter(const struct nd_font *f, char ch, struct nd_shape *s)
{
    memset(s, 0, sizeof *s);
    if (ch < 32 || !f->glyph[ch - 32])
        return -1;
    const char *g = f->glyph[ch - 32];
    int count = atoi((char[4]){g[5], g[6], g[7], 0});
    size_t len = strlen(g);
    int pen_up = 1;
    for (int i = 1; i < count && 8 + 2 * (size_t)i + 1 < len; i++) {
        const char *p = g + 8 + 2 * i;
        if (p[0] == ' ' && p[1] == 'R') {
            pen_up = 1;
            continue;
        }
        add_point(s, (float)(p[0] - 'R'), (float)(p[1] - 'R'), pen_up);
        pen_up = 0;
    }
    if (s->n_points < 2)
        return -1;
    normalise(s);
    return 0;
}

static float unif(uint64_t *r, float lo, float hi)
{
    return lo + (hi - lo) * nn_uniform(r);
}

/* A line wandering with a smoothly changing heading. */
static void wander(struct nd_shape *s, uint64_t *r)
{
    int strokes = 1 + (int)(nn_uniform(r) * 3);
    for (int k = 0; k < strokes; k++) {
        float x = unif(r, 0, 1), y = unif(r, 0, 1), h = unif(r, 0, 6.2832f), turn = 0;
        int n = 8 + (int)(nn_uniform(r) * 30);
        for (int i = 0; i < n; i++) {
            add_point(s, x, y, i == 0);
            turn = 0.7f * turn + unif(r, -0.6f, 0.6f);
            h += turn;
            x += 0.08f * cosf(h), y += 0.08f * sinf(h);
        }
    }
}

static void zigzag(struct nd_shape *s, uint64_t *r)
{
    int n = 4 + (int)(nn_uniform(r) * 7);
    float slant = unif(r, -0.5f, 0.5f), amp = unif(r, 0.2f, 1.f);
    for (int i = 0; i < n; i++)
        add_point(s, (float)i / (float)n + slant * (float)(i & 1) * amp, (float)(i & 1) * amp + unif(r, -0.05f, 0.05f), i == 0);
}

static void spiral(struct nd_shape *s, uint64_t *r)
{
    float turns = unif(r, 1.5f, 4.f), a0 = unif(r, 0, 6.2832f), sq = unif(r, 0.6f, 1.4f);
    int n = (int)(turns * 24);
    for (int i = 0; i <= n; i++) {
        float t = (float)i / (float)n, a = a0 + t * turns * 6.2832f;
        add_point(s, (0.1f + t) * cosf(a) * sq, (0.1f + t) * sinf(a), i == 0);
    }
}

/* A star (every k-th corner of a polygon), or a cross of two or three strokes. */
static void star_or_cross(struct nd_shape *s, uint64_t *r)
{
    if (nn_uniform(r) < 0.5f) {
        int corners = 5 + 2 * (int)(nn_uniform(r) * 2), step = corners / 2;
        float a0 = unif(r, 0, 6.2832f);
        for (int i = 0; i <= corners; i++) {
            float a = a0 + 6.2832f * (float)(i * step % corners) / (float)corners;
            add_point(s, cosf(a), sinf(a), i == 0);
        }
        return;
    }
    int lines = 2 + (nn_uniform(r) < 0.4f);
    float a0 = unif(r, 0, 3.1416f);
    for (int i = 0; i < lines; i++) {
        float a = a0 + 3.1416f * (float)i / (float)lines + unif(r, -0.2f, 0.2f);
        add_point(s, -cosf(a), -sinf(a), 1);
        add_point(s, cosf(a), sinf(a), 0);
    }
}

static void hatching(struct nd_shape *s, uint64_t *r)
{
    int n = 3 + (int)(nn_uniform(r) * 5);
    float a = unif(r, 0, 3.1416f), len = unif(r, 0.5f, 1.f), c = cosf(a), sn = sinf(a);
    for (int i = 0; i < n; i++) {
        float o = (float)i / (float)n - 0.5f;
        add_point(s, -sn * o - c * len / 2, c * o - sn * len / 2, 1);
        add_point(s, -sn * o + c * len / 2, c * o + sn * len / 2, 0);
    }
}

void nd_scribble(uint64_t seed, struct nd_shape *s)
{
    memset(s, 0, sizeof *s);
    uint64_t r = seed ^ 0x5c7166626c65ull;
    dg_splitmix64_next(&r);
    switch (dg_splitmix64_next(&r) % 5) {
    case 0: wander(s, &r); break;
    case 1: zigzag(s, &r); break;
    case 2: spiral(s, &r); break;
    case 3: star_or_cross(s, &r); break;
    default: hatching(s, &r); break;
    }
    normalise(s);
}
