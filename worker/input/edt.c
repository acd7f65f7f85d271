/* edt.c: the exact Euclidean distance transform (see edt.h). */
#include <stddef.h>
#include <string.h>

#include "edt.h"

/* Squared distance to the nearest zero of f along one line of n samples (f: 0 on the
 * targets, DG_EDT_FAR elsewhere). v: n ints, z: n + 1 floats of scratch. */
static void edt_line(const float *f, int n, float *d, int *v, float *z)
{
    int k = 0;
    v[0] = 0, z[0] = -DG_EDT_FAR, z[1] = DG_EDT_FAR;
    for (int q = 1; q < n; q++) {
        float s;
        for (;; k--) { /* ends at k = 0 at the latest: z[0] = -FAR */
            int r = v[k];
            s = ((f[q] + (float)(q * q)) - (f[r] + (float)(r * r))) / (float)(2 * q - 2 * r);
            if (s > z[k])
                break;
        }
        k++;
        v[k] = q, z[k] = s, z[k + 1] = DG_EDT_FAR;
    }
    k = 0;
    for (int q = 0; q < n; q++) {
        while (z[k + 1] < (float)q)
            k++;
        d[q] = (float)((q - v[k]) * (q - v[k])) + f[v[k]];
    }
}

void dg_edt(float *g, int w, int h, int stride, float *line, int *v)
{
    int n = w > h ? w : h;
    float *in = line, *out = line + n, *z = line + 2 * n;
    for (int x = 0; x < w; x++) {
        for (int y = 0; y < h; y++)
            in[y] = g[(size_t)y * stride + x];
        edt_line(in, h, out, v, z);
        for (int y = 0; y < h; y++)
            g[(size_t)y * stride + x] = out[y];
    }
    for (int y = 0; y < h; y++) {
        memcpy(in, g + (size_t)y * stride, (size_t)w * sizeof *in);
        edt_line(in, w, g + (size_t)y * stride, v, z);
    }
}
