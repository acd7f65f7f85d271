/* train_augment.c: weights/train/augment.c on real MNIST digits.
 *   train_augment MNIST_DIR
 * - all ranges zero: the image comes back unchanged (x/255);
 * - the same rng state gives the same image, another state a different one;
 * - pure dilation adds ink, pure erosion removes it;
 * - the map keeps the centre of mass where MNIST's preprocessing put it (within the
 *   shift range plus a pixel for clipping and resampling), and without the pen redraw the
 *   ink neither vanishes nor floods (0.3x..2.5x: scale^2 times the stroke change);
 * - the pen redraw alone: the digit back in MNIST's frame (its ink box 20 px on the longer
 *   side, its centre of mass at pixel 14, 14 unless that would push the box out of the
 *   28 x 28: within 1.5 px), not the scan itself, and a wider pen leaves more ink. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "augment.h"
#include "check.h"
#include "idx.h"

#define expect(ok, what, got) CHECK(ok, "%s (got %g)", what, (double)(got))

static double mass(const float *x, double *cx, double *cy)
{
    double m = 0, mx = 0, my = 0;
    for (int i = 0; i < 784; i++) {
        m += x[i], mx += x[i] * (i % 28), my += x[i] * (i / 28);
    }
    *cx = mx / m, *cy = my / m;
    return m;
}

/* MNIST's box: the ink (any grey above half a level) fits 20 x 20, the longer side 19 or 20. */
static int in_frame(const float *x)
{
    int x0 = 28, y0 = 28, x1 = 0, y1 = 0;
    for (int i = 0; i < 784; i++)
        if (x[i] >= 0.25f) { /* the stroke, not the faint rim of a thickened one */
            int px = i % 28, py = i / 28;
            x0 = px < x0 ? px : x0, x1 = px + 1 > x1 ? px + 1 : x1;
            y0 = py < y0 ? py : y0, y1 = py + 1 > y1 ? py + 1 : y1;
        }
    int w = x1 - x0, h = y1 - y0;
    return w <= 21 && h <= 21 && (w >= 19 || h >= 19); /* 21: as input_preprocess allows */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: train_augment MNIST_DIR\n");
        return 2;
    }
    char err[8400];
    struct dg_idx_images im;
    struct dg_idx_labels lb;
    if (dg_idx_load_mnist(argv[1], "t10k", &im, &lb, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct aug_params none = {0}, def, dil = {0}, ero = {0}, thin = {0}, wide = {0};
    aug_default_params(&def);
    struct aug_params nopen = def;
    nopen.p_pen = 0;
    thin.p_pen = wide.p_pen = 1;
    thin.pen_min = thin.pen_max = 0.05f, wide.pen_min = wide.pen_max = 0.25f;
    double worst_pen_com = 0, least_pen_change = 1;
    int off_frame = 0;
    int wider = 0;
    dil.p_thickness = ero.p_thickness = 1.0f;
    dil.max_dilate = 1.0f, ero.max_erode = 1.0f; /* the coin picks one; we keep the matching */
    double worst_id = 0, worst_com = 0;
    int grew = 0, shrank = 0, differ = 0;
    for (size_t i = 0; i < 200; i++) {
        const uint8_t *px = im.pixels + i * 784;
        float a[784], b[784], c[784];
        uint64_t s = i;
        aug_image(a, px, lb.labels[i], &none, &s);
        for (int k = 0; k < 784; k++)
            worst_id = fmax(worst_id, fabs(a[k] - px[k] / 255.0f));
        double ox, oy, om = mass(a, &ox, &oy);

        uint64_t s1 = 1000 + i, s2 = 1000 + i, s3 = 5000 + i;
        aug_image(b, px, lb.labels[i], &def, &s1);
        aug_image(c, px, lb.labels[i], &def, &s2);
        expect(!memcmp(b, c, sizeof(b)), "same rng state, same image", (double)i);
        aug_image(c, px, lb.labels[i], &def, &s3);
        differ += memcmp(b, c, sizeof(b)) != 0;
        double bx, by, bm = mass(b, &bx, &by);
        worst_com = fmax(worst_com, fmax(fabs(bx - ox), fabs(by - oy)));
        uint64_t s4 = 1000 + i;
        aug_image(b, px, lb.labels[i], &nopen, &s4);
        bm = mass(b, &bx, &by);
        expect(bm > 0.3 * om && bm < 2.5 * om, "ink neither vanishes nor floods", bm / om);

        /* the pen redraw alone, thin and wide pens from the same state */
        uint64_t p1 = 3000 + i, p2 = 3000 + i;
        aug_image(b, px, lb.labels[i], &thin, &p1);
        aug_image(c, px, lb.labels[i], &wide, &p2);
        double tx, ty, tm = mass(b, &tx, &ty), wx, wy, wm = mass(c, &wx, &wy), change = 0;
        worst_pen_com = fmax(worst_pen_com, fmax(fmax(fabs(tx - 14), fabs(ty - 14)),
                                                 fmax(fabs(wx - 14), fabs(wy - 14))));
        wider += wm > tm;
        off_frame += !in_frame(b) + !in_frame(c);
        for (int k = 0; k < 784; k++)
            change += fabs(b[k] - a[k]) / 784;
        least_pen_change = fmin(least_pen_change, change);

        /* thickness alone: a dilation never removes ink, an erosion never adds it */
        uint64_t t = 77 + i;
        aug_image(c, px, lb.labels[i], &dil, &t);
        double cx, cy, cm = mass(c, &cx, &cy);
        grew += cm > om * 1.001;
        shrank += cm < om * 0.999;
        aug_image(c, px, lb.labels[i], &ero, &t);
        cm = mass(c, &cx, &cy);
        grew += cm > om * 1.001;
        shrank += cm < om * 0.999;
    }
    printf("identity max err %.2g; default params: COM moved <= %.2f px, %d/200 differ by seed;"
           " stroke changes: %d thicker, %d thinner\n",
           worst_id, worst_com, differ, grew, shrank);
    expect(worst_id <= 1e-5, "zero ranges leave the image unchanged", worst_id);
    expect(worst_com <= def.max_shift * 1.4143 + 1.0, "centre of mass stays put", worst_com);
    expect(differ >= 198, "different seeds give different images", differ);
    expect(grew >= 80 && shrank >= 80, "both dilations and erosions happen", grew + shrank);
    printf("pen redraw: centre of mass within %.2f px of 14,14, %d/400 off MNIST's 20 px box; "
           "wider pen more ink %d/200; least mean change from the scan %.3f\n", worst_pen_com,
           off_frame, wider, least_pen_change);
    expect(off_frame == 0, "the pen redraw fills MNIST's 20 px box", off_frame);
    expect(worst_pen_com <= 1.5, "the pen redraw is centred (the box kept in the frame)", worst_pen_com);
    expect(wider == 200, "a wider pen leaves more ink", wider);
    expect(least_pen_change > 0.005, "the pen redraw changes the image", least_pen_change);
    dg_idx_free_images(&im), dg_idx_free_labels(&lb);
    printf("%s\n", failures ? "augment: FAILED" : "augment: ok");
    return failures ? 1 : 0;
}
