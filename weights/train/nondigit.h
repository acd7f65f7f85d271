/* nondigit.h: shapes that are not digits, as polylines for the renderer's pen
 * (worker/input/render.h's dg_render_strokes): letters from the Hershey vector fonts
 * (Debian's hershey-fonts-data, single-stroke glyphs in the .jhf format) and random
 * scribbles. They teach and test the service's "not a digit" verdict; which fonts and which
 * scribble seeds are for training and which for testing is the caller's to keep apart. */
#ifndef DIGITD_NONDIGIT_H
#define DIGITD_NONDIGIT_H

#include <stddef.h>
#include <stdint.h>

#define ND_MAX_POINTS 512
#define ND_MAX_LINES 64

/* A shape in a unit box (0..1, y down, its longer side 1, centred): line i has len[i] points
 * (x, y pairs in xy, one line after the other). */
struct nd_shape {
    float xy[2 * ND_MAX_POINTS];
    int len[ND_MAX_LINES];
    int n_lines, n_points;
};

/* The letters drawn: A-Z and a-z without those written as digits are (I, l: 1; O, o: 0;
 * S, s: 5; Z, z: 2). */
extern const char nd_letters[];

/* A .jhf font's 96 glyphs, ASCII 32..127. */
struct nd_font {
    char *glyph[96];
};

/* Reads a .jhf file; returns 0, or -1 (message in err). nd_font_free releases it. */
int nd_font_load(const char *path, struct nd_font *f, char *err, size_t errlen);
void nd_font_free(struct nd_font *f);

/* Letter ch of the font as a shape; returns 0, or -1 if the font has no such glyph. */
int nd_letter(const struct nd_font *f, char ch, struct nd_shape *s);

/* A random scribble for the seed: a wandering line, a zigzag, a spiral, a star, a cross or
 * hatching, with its own size, turns and wobble. */
void nd_scribble(uint64_t seed, struct nd_shape *s);

#endif
