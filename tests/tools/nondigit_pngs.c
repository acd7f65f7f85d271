/* nondigit_pngs: canvas PNGs of shapes that are not digits, for the verdict's test: letters
 * of the TEST fonts (digitd-verdict-train learns from others) and scribbles of seeds from
 * 2^32 on (it learns from seeds below), drawn by the renderer's pen with the world-styles
 * set's varied size, position, pen width and look (a third in pencil).
 *   nondigit_pngs FONT_DIR OUT_DIR N   ->  OUT_DIR/letter-<font>-<c>-<i>.png, scribble-<i>.png
 * (N of each, fewer letters where a font has no glyph for one; the names carry no digit
 * label). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nondigit.h"
#include "render.h"

static const char *const TEST_FONTS[] = {"futuram", "rowmand", "rowmant", "timesrb",
                                         "timesib", "scriptc", "greekc", "cyrilc_1", "cursive"};
#define N_FONTS (sizeof TEST_FONTS / sizeof TEST_FONTS[0])

static int write_png(const char *path, const struct nd_shape *s, size_t i)
{
    struct dg_render_params p;
    dg_render_world_params(7, i, -1, &p);
    p.mark = DG_MARK_NONE;
    uint8_t *png;
    size_t len;
    if (dg_render_strokes_png(s->xy, s->len, s->n_lines, &p, &png, &len))
        return -1;
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(png, 1, len, f) == len;
    if (f && fclose(f))
        ok = 0;
    free(png);
    if (!ok)
        perror(path);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: nondigit_pngs FONT_DIR OUT_DIR N\n");
        return 2;
    }
    size_t n = strtoul(argv[3], NULL, 10);
    struct nd_font fonts[N_FONTS];
    char path[4096], err[4200];
    for (size_t f = 0; f < N_FONTS; f++) {
        snprintf(path, sizeof path, "%s/%s.jhf", argv[1], TEST_FONTS[f]);
        if (nd_font_load(path, &fonts[f], err, sizeof err)) {
            fprintf(stderr, "nondigit_pngs: %s (Debian: apt-get install hershey-fonts-data)\n", err);
            return 1;
        }
    }
    size_t nl = strlen(nd_letters);
    for (size_t i = 0; i < n; i++) {
        struct nd_shape s;
        size_t f = i % N_FONTS;
        char ch = nd_letters[(i / N_FONTS) % nl];
        snprintf(path, sizeof path, "%s/letter-%s-%c-%zu.png", argv[2], TEST_FONTS[f], ch, i);
        if (nd_letter(&fonts[f], ch, &s) == 0 && write_png(path, &s, i)) /* -1: no such glyph */
            return 1;
        nd_scribble((1ull << 32) + i, &s);
        snprintf(path, sizeof path, "%s/scribble-%zu.png", argv[2], i);
        if (write_png(path, &s, n + i))
            return 1;
    }
    for (size_t f = 0; f < N_FONTS; f++)
        nd_font_free(&fonts[f]);
    return 0;
}
