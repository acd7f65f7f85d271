/* kernels_vec.h: vectorised, register-blocked kernels (GCC vector extensions): the engine's
 * one convolution and one dense layer, for both of its paths.
 *
 * Included by engine_fast.c, which is compiled once per ISA; the vector width follows the
 * target flags (AVX-512F: 16 floats, AVX2: 8, otherwise 4: SSE2 on x86-64, NEON on arm64,
 * scalar code where the target has no SIMD).  Every function is always_inline; given a
 * pointer to a static const dg_op (the compiled-in model) all dimensions are compile-time
 * constants, loops fully unroll and the accumulator tiles live in registers.
 * engine_run_isa.c (any struct dg_model, dimensions read at run time) runs the same code,
 * slower.
 *
 * Convolution is a GEMM micro-kernel: a tile of output pixels times a group of out-channel
 * vectors is accumulated in registers; each input value is broadcast once per tile and each
 * weight vector loaded once per tile row.
 */
#ifndef DIGITD_KERNELS_VEC_H
#define DIGITD_KERNELS_VEC_H

#include <string.h>
#if defined(__SSE__)
#include <immintrin.h>
#endif

#include "kernels_generic.h"

#if defined(__AVX512F__)
#define DG_V 16
#define DG_ACC_MAX 24 /* 32 zmm registers: room for broadcasts and weights */
#elif defined(__AVX2__)
#define DG_V 8
#define DG_ACC_MAX 12 /* 16 ymm registers */
#else
#define DG_V 4
#define DG_ACC_MAX 12
#endif
#define DG_NVB_MAX 24 /* accumulator vectors per pixel the tile arrays hold */
#define DG_TILE_MAX 24

#define DG_INLINE static inline __attribute__((always_inline))
/* Full unrolling pays where the bounds are compile-time constants (engine_fast.c). With
 * dimensions read at run time (engine_run_isa.c defines DG_RUNTIME_DIMS) it only multiplies the
 * code: GCC then spends minutes on that one file for no speed. */
#ifdef DG_RUNTIME_DIMS
#define DG_UNROLL
#else
#define DG_UNROLL _Pragma("GCC unroll 32")
#endif

typedef float dg_vf __attribute__((vector_size(DG_V * sizeof(float))));

/* A full vector is one unaligned load or store. The compiled-in model's n is a constant, so
 * only one branch is left; with run-time dimensions the test keeps the common case off the
 * library memcpy a variable size would call, once per weight vector. */
DG_INLINE dg_vf dg_vload(const float *p, int n)
{
    dg_vf v = { 0 };
    if (n == DG_V)
        memcpy(&v, p, sizeof v);
    else
        memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

DG_INLINE void dg_vstore(float *p, dg_vf v, int n)
{
    if (n == DG_V)
        memcpy(p, &v, sizeof v);
    else
        memcpy(p, &v, (size_t)n * sizeof(float));
}

/* C has no vector ?:, so max is the ISA's own instruction on x86; elsewhere a select by
 * the comparison mask (all ones where a > b), which compilers turn into the target's max. */
DG_INLINE dg_vf dg_vmax(dg_vf a, dg_vf b)
{
#if DG_V == 16
    return (dg_vf)_mm512_max_ps((__m512)a, (__m512)b);
#elif DG_V == 8
    return (dg_vf)_mm256_max_ps((__m256)a, (__m256)b);
#elif defined(__SSE__)
    return (dg_vf)_mm_max_ps((__m128)a, (__m128)b);
#else
    typedef int dg_vi __attribute__((vector_size(DG_V * sizeof(int))));
    const dg_vi gt = a > b;
    return (dg_vf)((gt & (dg_vi)a) | (~gt & (dg_vi)b));
#endif
}

/* The activations applied in registers; the others go over the output afterwards. */
DG_INLINE int dg_vec_act(enum dg_act a)
{
    return a == DG_ACT_LINEAR || a == DG_ACT_RELU;
}

DG_INLINE dg_vf dg_vact(dg_vf v, enum dg_act act)
{
    if (act == DG_ACT_RELU)
        v = dg_vmax(v, (dg_vf){ 0 });
    return v; /* linear, or an activation dg_conv2d_vec applies afterwards */
}

/* Lanes of vector v of a group of gc out channels (DG_V except the last, 0 past it). The
 * callers run the full groups apart, with gc a constant: their loads and stores are then
 * whole vectors, with no test in the inner loop (the compiled-in model's layers). */
DG_INLINE int dg_lanes(int gc, int v)
{
    int n = gc - v * DG_V;
    return n > DG_V ? DG_V : n < 0 ? 0 : n;
}

/* Accumulates a valid convolution (in is already padded) for an R x P tile of output
 * pixels starting at (oy, ox), out channels [c0, c0 + gc) in nvb vectors, into acc (no
 * bias). */
DG_INLINE void dg_conv_tile(const struct dg_op *op, const float *in, int iw, int oy, int ox,
                            int R, int P, int c0, int nvb, int gc,
                            dg_vf acc[DG_TILE_MAX][DG_NVB_MAX])
{
    const int ic = op->in.c, oc = op->out.c;
DG_UNROLL
    for (int p = 0; p < R * P; p++)
DG_UNROLL
        for (int v = 0; v < nvb; v++)
            acc[p][v] = (dg_vf){ 0 };
    for (int ky = 0; ky < op->kh; ky++)
        for (int kx = 0; kx < op->kw; kx++) {
            const float *w = op->weight + ((size_t)(ky * op->kw + kx) * ic) * oc + c0;
            const float *x = in + ((size_t)(oy * op->sh + ky) * iw + ox * op->sw + kx) * ic;
            for (int i = 0; i < ic; i++) {
                dg_vf wv[DG_NVB_MAX];
DG_UNROLL
                for (int v = 0; v < nvb; v++) /* an empty vector forms no pointer */
                    wv[v] = v * DG_V < gc ? dg_vload(w + (size_t)i * oc + v * DG_V,
                                                     dg_lanes(gc, v))
                                          : (dg_vf){ 0 };
DG_UNROLL
                for (int p = 0; p < R * P; p++) {
                    const int r = p / P, j = p % P;
                    const float xv = x[((size_t)r * op->sh * iw + (size_t)j * op->sw) * ic + i];
DG_UNROLL
                    for (int v = 0; v < nvb; v++)
                        acc[p][v] += xv * wv[v];
                }
            }
        }
}

/* Out-channel vectors per group so that tile pixels x group fit the register budget. */
DG_INLINE int dg_group_vectors(int oc, int min_pixels)
{
    int nv = (oc + DG_V - 1) / DG_V, cap = DG_ACC_MAX / min_pixels;
    if (cap < 1)
        cap = 1;
    /* equal groups: 8 vectors with room for 3 become 3+3+2, not 3+3+3 with one empty */
    int groups = (nv + cap - 1) / cap;
    return (nv + groups - 1) / groups;
}

/* The bias of out channels [c0, c0 + gc) in nvb vectors (0 without one). */
DG_INLINE void dg_bias_group(const float *bias, int c0, int nvb, int gc, dg_vf b[DG_NVB_MAX])
{
DG_UNROLL
    for (int v = 0; v < nvb; v++)
        b[v] = v * DG_V < gc && bias ? dg_vload(bias + c0 + v * DG_V, dg_lanes(gc, v))
                                     : (dg_vf){ 0 };
}

/* Stores acc + b, activated, as out channels [c0, c0 + gc) of the pixel at out. */
DG_INLINE void dg_store_group(float *out, int c0, int nvb, int gc, const dg_vf *acc,
                              const dg_vf *b, enum dg_act act)
{
DG_UNROLL
    for (int v = 0; v < nvb; v++)
        if (v * DG_V < gc)
            dg_vstore(out + c0 + v * DG_V, dg_vact(acc[v] + b[v], act), dg_lanes(gc, v));
}

/* Out channels [c0, c0 + gc) of a CONV2D in tiles of P pixels of a row. */
DG_INLINE void dg_conv2d_group(const struct dg_op *op, const float *in, int iw, float *out,
                               enum dg_act act, int P, int c0, int nvb, int gc)
{
    const int oc = op->out.c, ow = op->out.w;
    dg_vf b[DG_NVB_MAX];
    dg_bias_group(op->bias, c0, nvb, gc, b);
    for (int oy = 0; oy < op->out.h; oy++) {
        int ox = 0;
        for (; ox + P <= ow; ox += P) {
            dg_vf acc[DG_TILE_MAX][DG_NVB_MAX];
            dg_conv_tile(op, in, iw, oy, ox, 1, P, c0, nvb, gc, acc);
DG_UNROLL
            for (int p = 0; p < P; p++)
                dg_store_group(out + ((size_t)oy * ow + ox + p) * oc, c0, nvb, gc, acc[p], b,
                               act);
        }
        for (; ox < ow; ox++) {
            dg_vf acc[DG_TILE_MAX][DG_NVB_MAX];
            dg_conv_tile(op, in, iw, oy, ox, 1, 1, c0, nvb, gc, acc);
            dg_store_group(out + ((size_t)oy * ow + ox) * oc, c0, nvb, gc, acc[0], b, act);
        }
    }
}

/* CONV2D, valid over an already padded input of width iw. */
DG_INLINE void dg_conv2d_vec(const struct dg_op *op, const float *in, int iw, float *out)
{
    const int oc = op->out.c;
    const enum dg_act act = dg_vec_act(op->act) ? op->act : DG_ACT_LINEAR;
    /* 4 pixels a tile at least, as the fused conv's 2 x 2: each weight vector loaded then
     * feeds 4 FMAs (a 64-channel layer's tile was 1 pixel of 8 vectors on AVX2, a load
     * for each FMA) */
    const int nvb = dg_group_vectors(oc, 4), g = nvb * DG_V, full = oc - oc % g;
    const int P = DG_ACC_MAX / nvb < DG_TILE_MAX ? DG_ACC_MAX / nvb : DG_TILE_MAX;
    for (int c0 = 0; c0 < full; c0 += g)
        dg_conv2d_group(op, in, iw, out, act, P, c0, nvb, g);
    if (full < oc)
        dg_conv2d_group(op, in, iw, out, act, P, full, nvb, oc - full);
    if (act != op->act)
        dg_act_apply(op->act, op->alpha, out, (long)op->out.h * op->out.w, oc);
}

/* One fused tile: PB pool outputs from a 2 x 2PB conv tile; max, then bias and act
 * (max commutes with adding a per-channel bias and with a monotonic act). */
DG_INLINE void dg_conv_pool_tile(const struct dg_op *cv, const struct dg_op *pl,
                                 const float *in, int iw, int py, int px, int PB, int c0,
                                 int nvb, int gc, const dg_vf *b, float *out)
{
    const int oc = cv->out.c;
    dg_vf acc[DG_TILE_MAX][DG_NVB_MAX];
    dg_conv_tile(cv, in, iw, 2 * py, 2 * px, 2, 2 * PB, c0, nvb, gc, acc);
DG_UNROLL
    for (int q = 0; q < PB; q++) {
        dg_vf m[DG_NVB_MAX];
DG_UNROLL
        for (int v = 0; v < nvb; v++)
            m[v] = dg_vmax(dg_vmax(acc[2 * q][v], acc[2 * q + 1][v]),
                           dg_vmax(acc[2 * PB + 2 * q][v], acc[2 * PB + 2 * q + 1][v]));
        dg_store_group(out + ((size_t)py * pl->out.w + px + q) * oc, c0, nvb, gc, m, b,
                       cv->act);
    }
}

/* Out channels [c0, c0 + gc) of a fused CONV2D + MAXPOOL, PB pool outputs a tile. */
DG_INLINE void dg_conv2d_pool_group(const struct dg_op *cv, const struct dg_op *pl,
                                    const float *in, int iw, float *out, int PB, int c0,
                                    int nvb, int gc)
{
    const int pw = pl->out.w;
    dg_vf b[DG_NVB_MAX];
    dg_bias_group(cv->bias, c0, nvb, gc, b);
    for (int py = 0; py < pl->out.h; py++) {
        int px = 0;
        for (; px + PB <= pw; px += PB)
            dg_conv_pool_tile(cv, pl, in, iw, py, px, PB, c0, nvb, gc, b, out);
        for (; px < pw; px++)
            dg_conv_pool_tile(cv, pl, in, iw, py, px, 1, c0, nvb, gc, b, out);
    }
}

/* CONV2D (valid over padded input) + 2x2/2 valid MAXPOOL: conv outputs the pool drops
 * (the last row/column of an odd size) are never computed. */
DG_INLINE void dg_conv2d_pool_vec(const struct dg_op *cv, const struct dg_op *pl,
                                  const float *in, int iw, float *out)
{
    const int oc = cv->out.c;
    const int nvb = dg_group_vectors(oc, 4), g = nvb * DG_V, full = oc - oc % g;
    int PB = DG_ACC_MAX / (4 * nvb);
    PB = PB < 1 ? 1 : PB > DG_TILE_MAX / 4 ? DG_TILE_MAX / 4 : PB; /* 2 x 2PB fit a tile */
    for (int c0 = 0; c0 < full; c0 += g)
        dg_conv2d_pool_group(cv, pl, in, iw, out, PB, c0, nvb, g);
    if (full < oc)
        dg_conv2d_pool_group(cv, pl, in, iw, out, PB, full, nvb, oc - full);
}

/* Outputs [c0, c0 + gc) of a DENSE: two accumulator sets over alternating inputs hide the
 * FMA latency. */
DG_INLINE void dg_dense_group(const struct dg_op *op, const float *in, float *out, int c0,
                              int nvb, int gc)
{
    const int n = op->in.h * op->in.w * op->in.c, m = op->out.c;
    dg_vf a0[DG_NVB_MAX], a1[DG_NVB_MAX];
    dg_bias_group(op->bias, c0, nvb, gc, a0);
DG_UNROLL
    for (int v = 0; v < nvb; v++)
        a1[v] = (dg_vf){ 0 };
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        const float *w = op->weight + (size_t)i * m + c0;
DG_UNROLL
        for (int v = 0; v < nvb; v++) {
            if (v * DG_V >= gc)
                continue;
            a0[v] += in[i] * dg_vload(w + v * DG_V, dg_lanes(gc, v));
            a1[v] += in[i + 1] * dg_vload(w + m + v * DG_V, dg_lanes(gc, v));
        }
    }
    if (i < n)
DG_UNROLL
        for (int v = 0; v < nvb; v++)
            if (v * DG_V < gc)
                a0[v] += in[i] * dg_vload(op->weight + (size_t)i * m + c0 + v * DG_V,
                                          dg_lanes(gc, v));
DG_UNROLL
    for (int v = 0; v < nvb; v++)
        if (v * DG_V < gc)
            dg_vstore(out + c0 + v * DG_V, a0[v] + a1[v], dg_lanes(gc, v));
}

/* DENSE, then its activation. */
DG_INLINE void dg_dense_vec(const struct dg_op *op, const float *in, float *out)
{
    const int m = op->out.c;
    const int nvb = dg_group_vectors(m, 2), g = nvb * DG_V, full = m - m % g;
    for (int c0 = 0; c0 < full; c0 += g)
        dg_dense_group(op, in, out, c0, nvb, g);
    if (full < m)
        dg_dense_group(op, in, out, full, nvb, m - full);
    dg_act_apply(op->act, op->alpha, out, 1, m);
}

/* ---- one op of a model, shared by the compiled-in path and the runtime path ---------- */

/* A 2x2 stride-2 max pool right after the conv whose every window lies inside the conv's
 * output: fuse it (dg_conv2d_pool_vec computes conv rows/columns 0 .. 2 * pool size - 1).
 * pt = pl = 0 is not enough: 'same' pooling of an odd size (7 -> 4) puts all its padding
 * after the last row/column, so its last window would read a conv row that does not exist;
 * exactly floor(n / 2) outputs on both axes means no padding at all.  Max commutes with the
 * conv's activation only when that is monotonic and applied in registers (relu, linear). */
DG_INLINE int dg_fusable_pool(const struct dg_op *cv, const struct dg_op *pl)
{
    return pl && pl->kind == DG_OP_MAXPOOL && pl->kh == 2 && pl->kw == 2 && pl->sh == 2 &&
           pl->sw == 2 && pl->pt == 0 && pl->pl == 0 && pl->in.h == cv->out.h &&
           pl->in.w == cv->out.w && pl->out.h == cv->out.h / 2 && pl->out.w == cv->out.w / 2 &&
           pl->act == DG_ACT_LINEAR && dg_vec_act(cv->act);
}

/* Zero-pads in to the size the conv's windows cover (pad holds dg_pad_floats(op)), so the
 * kernel needs no bounds tests. */
DG_INLINE const float *dg_pad_input(const struct dg_op *op, const float *in, float *pad,
                                    int *iw)
{
    int ph, pw;
    const int c = op->in.c;
    dg_pad_dims(op, &ph, &pw);
    *iw = op->in.w;
    if (dg_pad_floats(op) == 0)
        return in;
    memset(pad, 0, (size_t)ph * pw * c * sizeof *pad);
    for (int y = 0; y < op->in.h; y++) {
        const int py = y + op->pt;
        if (py >= ph)
            break;
        int n = op->in.w;
        n = op->pl + n > pw ? pw - op->pl : n;
        memcpy(pad + ((size_t)py * pw + op->pl) * c, in + (size_t)y * op->in.w * c,
               (size_t)n * c * sizeof *pad);
    }
    *iw = pw;
    return pad;
}

/* Runs op (and next too, when fused) from in to out; pad holds the largest dg_pad_floats
 * of the model.  Returns the number of ops consumed. */
DG_INLINE int dg_step(const struct dg_op *op, const struct dg_op *next, const float *in,
                      float *out, float *pad)
{
    if (op->kind == DG_OP_CONV2D) {
        int iw;
        const float *src = dg_pad_input(op, in, pad, &iw);
        if (dg_fusable_pool(op, next)) {
            dg_conv2d_pool_vec(op, next, src, iw, out);
            return 2;
        }
        dg_conv2d_vec(op, src, iw, out);
        return 1;
    }
    if (op->kind == DG_OP_DENSE) {
        dg_dense_vec(op, in, out);
        return 1;
    }
    dg_op_generic(op, in, out);
    return 1;
}

#endif
