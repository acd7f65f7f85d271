/* unipen.c: UNIPEN text -> digits as the page sends them (see unipen.h). */
#include "unipen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void unipen_open(struct unipen_reader *r, FILE *f, const char *path)
{
    *r = (struct unipen_reader){.f = f, .path = path, .next_label = -1};
}

/* The label of a .SEGMENT line: its last quoted character if a digit, else -1. */
static int segment_label(const char *line)
{
    const char *q = strrchr(line, '"');
    if (!q || q == line || q[-1] < '0' || q[-1] > '9' || q - line < 2 || q[-2] != '"')
        return -1;
    return q[-1] - '0';
}

static int is_directive(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncmp(line, name, n) == 0 && (line[n] == '\0' || strchr(" \t\r\n", line[n]));
}

/* One point line into d; 0, or -1 with err set. */
static int add_point(struct unipen_reader *r, struct unipen_digit *d, const char *line, char *err,
                     size_t errlen)
{
    char *end;
    float x = strtof(line, &end), y = end == line ? NAN : strtof(end, &end);
    end += strspn(end, " \t\r\n");
    if (!isfinite(x) || !isfinite(y) || *end != '\0') {
        snprintf(err, errlen, "%s:%lu: a point is two numbers", r->path, r->line);
        return -1;
    }
    if (d->n_points == DG_STROKES_MAX_POINTS) {
        snprintf(err, errlen, "%s:%lu: a digit of more than %u points", r->path, r->line,
                 DG_STROKES_MAX_POINTS);
        return -1;
    }
    d->xy[2 * d->n_points] = x;
    d->xy[2 * d->n_points + 1] = y;
    d->n_points++;
    return 0;
}

/* Ends the stroke being written, if it has points; 0, or -1 with err set. */
static int end_stroke(struct unipen_reader *r, struct unipen_digit *d, char *err, size_t errlen)
{
    uint32_t from = d->n_strokes ? d->ends[d->n_strokes - 1] : 0;
    r->pen_down = 0;
    if (d->n_points == from)
        return 0;
    if (d->n_strokes == DG_STROKES_MAX_STROKES) {
        snprintf(err, errlen, "%s:%lu: a digit of more than %u strokes", r->path, r->line,
                 DG_STROKES_MAX_STROKES);
        return -1;
    }
    d->ends[d->n_strokes++] = d->n_points;
    return 0;
}

int unipen_next(struct unipen_reader *r, struct unipen_digit *d, char *err, size_t errlen)
{
    char line[512];
    for (;;) {
        d->label = r->next_label;
        d->n_points = d->n_strokes = 0;
        r->pen_down = 0;
        int more;
        while ((more = fgets(line, sizeof line, r->f) != NULL)) {
            r->line++;
            if (!strchr(line, '\n') && !feof(r->f)) {
                snprintf(err, errlen, "%s:%lu: a line of more than %zu bytes", r->path, r->line,
                         sizeof line - 2);
                return -1;
            }
            const char *s = line + strspn(line, " \t");
            if (is_directive(s, ".SEGMENT")) {
                r->next_label = segment_label(s);
                break;
            }
            if (d->label < 0)
                continue;
            if (is_directive(s, ".PEN_DOWN"))
                r->pen_down = 1;
            else if (is_directive(s, ".PEN_UP")) {
                if (end_stroke(r, d, err, errlen) != 0)
                    return -1;
            } else if (r->pen_down && *s != '.' && s[strspn(s, "\r\n")] != '\0') {
                if (add_point(r, d, s, err, errlen) != 0)
                    return -1;
            }
        }
        if (r->pen_down && end_stroke(r, d, err, errlen) != 0) /* a stroke the file left open */
            return -1;
        if (d->label >= 0 && d->n_strokes > 0)
            return 1;
        if (!more)
            return ferror(r->f) ? (snprintf(err, errlen, "%s: read error", r->path), -1) : 0;
    }
}

void unipen_to_strokes(const struct unipen_digit *d, float side, float height, float width,
                       int y_up, float *xy, struct dg_strokes *s)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (uint32_t i = 0; i < d->n_points; i++) {
        float x = d->xy[2 * i], y = y_up ? -d->xy[2 * i + 1] : d->xy[2 * i + 1];
        x0 = fminf(x0, x), x1 = fmaxf(x1, x), y0 = fminf(y0, y), y1 = fmaxf(y1, y);
    }
    float extent = fmaxf(x1 - x0, y1 - y0), k = extent > 0.f ? height / extent : 1.f;
    float ox = (side - (x1 - x0) * k) / 2, oy = (side - (y1 - y0) * k) / 2;
    for (uint32_t i = 0; i < d->n_points; i++) {
        float y = y_up ? -d->xy[2 * i + 1] : d->xy[2 * i + 1];
        xy[2 * i] = (d->xy[2 * i] - x0) * k + ox;
        xy[2 * i + 1] = (y - y0) * k + oy;
    }
    *s = (struct dg_strokes){.xy = xy, .ends = d->ends, .n_strokes = d->n_strokes,
                             .n_points = d->n_points, .width = width, .side = side};
}
