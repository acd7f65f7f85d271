/* nn.c: forward/backward layer kernels for training (see nn.h for the contracts).
 * Convolutions are im2col + one GEMM per image; every GEMM goes through nn_gemm, whose
 * inner loops run over output channels with GCC vectors (portable: GCC lowers them to
 * whatever the target has). On x86 it picks at run time: 16-float blocks on AVX-512,
 * else 8-float blocks built for AVX2+FMA or SSE2 (target_clones); tests can force the
 * 8-float kernel (nn_gemm_use) to check it on an AVX-512 machine too. */
#include "nn.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_X86 1
#define NN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_X86 0
#define NN_CLONES
#endif

/* GEMM_KERNELS(suffix, vector type, floats per vector, rows per block, attributes)
 * defines gemm_block_<suffix> (an mr x 2-vector block of C whose 2 * mr accumulators stay
 * in registers across K; mr is a constant after inlining) and gemm_<suffix>, the loop
 * over blocks. Two instances: 8-float vectors, 4 rows (AVX2 has 16 registers) and
 * 16-float vectors, 6 rows (AVX-512 has 32). */
#define GEMM_KERNELS(SFX, VT, VW, MR, ATTR)                                                   \
    static inline __attribute__((always_inline)) void gemm_block_##SFX(                      \
        int mr, int K, const float *A, size_t a_ms, size_t a_ks, const float *B, size_t ldb,  \
        float *C, size_t ldc, int accumulate)                                                 \
    {                                                                                         \
        VT c[MR][2];                                                                          \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)                                  \
        {                                                                                     \
            if (r >= mr)                                                                      \
                break;                                                                        \
            c[r][0] = accumulate ? *(const VT *)(C + r * ldc) : (VT){0};                      \
            c[r][1] = accumulate ? *(const VT *)(C + r * ldc + VW) : (VT){0};                 \
        }                                                                                     \
        for (int k = 0; k < K; k++) {                                                         \
            VT b0 = *(const VT *)(B + k * ldb), b1 = *(const VT *)(B + k * ldb + VW);         \
            _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)                              \
            {                                                                                 \
                if (r >= mr)                                                                  \
                    break;                                                                    \
                float a = A[r * a_ms + k * a_ks];                                             \
                c[r][0] += a * b0;                                                            \
                c[r][1] += a * b1;                                                            \
            }                                                                                 \
        }                                                                                     \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)                                  \
        {                                                                                     \
            if (r >= mr)                                                                      \
                break;                                                                        \
            *(VT *)(C + r * ldc) = c[r][0];                                                   \
            *(VT *)(C + r * ldc + VW) = c[r][1];                                              \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    ATTR static void gemm_##SFX(int M, int N, int K, const float *A, size_t a_ms, size_t a_ks, \
                                const float *B, size_t ldb, float *C, size_t ldc,             \
                                int accumulate)                                               \
    {                                                                                         \
        for (int i = 0; i < M; i += MR) {                                                     \
            int mr = M - i < MR ? M - i : MR;                                                 \
            const float *Ai = A + (size_t)i * a_ms;                                           \
            float *Ci = C + (size_t)i * ldc;                                                  \
            int j = 0;                                                                        \
            for (; j + 2 * VW <= N; j += 2 * VW) {                                            \
                const float *Bj = B + j;                                                      \
                float *Cj = Ci + j;                                                           \
                switch (mr) {                                                                 \
                case 1: gemm_block_##SFX(1, K, Ai, a_ms, a_ks, Bj, ldb, Cj, ldc, accumulate); break; \
                case 2: gemm_block_##SFX(2, K, Ai, a_ms, a_ks, Bj, ldb, Cj, ldc, accumulate); break; \
                case 3: gemm_block_##SFX(3, K, Ai, a_ms, a_ks, Bj, ldb, Cj, ldc, accumulate); break; \
                case 4: gemm_block_##SFX(4, K, Ai, a_ms, a_ks, Bj, ldb, Cj, ldc, accumulate); break; \
                case 5: gemm_block_##SFX(5, K, Ai, a_ms, a_ks, Bj, ldb, Cj, ldc, accumulate); break; \
                default: gemm_block_##SFX(MR, K, Ai, a_ms, a_ks, Bj, ldb, Cj, ldc, accumulate); break; \
                }                                                                             \
            }                                                                                 \
            if (j < N)                                                                        \
                gemm_tail(mr, j, N, K, Ai, a_ms, a_ks, B, ldb, Ci, ldc, accumulate);          \
        }                                                                                     \
    }

/* The columns right of the last full block: plain dot products. */
static void gemm_tail(int mr, int n0, int N, int K, const float *A, size_t a_ms, size_t a_ks,
                      const float *B, size_t ldb, float *C, size_t ldc, int accumulate)
{
    for (int r = 0; r < mr; r++)
        for (int j = n0; j < N; j++) {
            float s = accumulate ? C[r * ldc + j] : 0.0f;
            for (int k = 0; k < K; k++)
                s += A[r * a_ms + k * a_ks] * B[k * ldb + j];
            C[r * ldc + j] = s;
        }
}

enum { V8_ROWS = 4, V16_ROWS = 6 }; /* the block is ROWS x 2 vectors of C */
GEMM_KERNELS(v8, v8, 8, V8_ROWS, NN_CLONES)
#if NN_X86
GEMM_KERNELS(v16, v16, 16, V16_ROWS, __attribute__((target("arch=x86-64-v4"))))
#endif

/* The kernel nn_gemm runs: resolved from the CPU on first use (AUTO), or forced by
 * nn_gemm_use. Atomic because the OpenMP threads resolve it concurrently; every one stores
 * the same value, so relaxed order is enough. */
static _Atomic enum nn_gemm_kernel gemm_kernel = NN_GEMM_AUTO;

static int cpu_has_v16(void)
{
#if NN_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

static enum nn_gemm_kernel current_kernel(void)
{
    enum nn_gemm_kernel k = atomic_load_explicit(&gemm_kernel, memory_order_relaxed);
    if (k == NN_GEMM_AUTO) {
        k = cpu_has_v16() ? NN_GEMM_V16 : NN_GEMM_V8;
        atomic_store_explicit(&gemm_kernel, k, memory_order_relaxed);
    }
    return k;
}

int nn_gemm_use(enum nn_gemm_kernel k)
{
    if (k != NN_GEMM_AUTO && k != NN_GEMM_V8 && k != NN_GEMM_V16)
        return -1;
    if (k == NN_GEMM_V16 && !cpu_has_v16())
        return -1;
    atomic_store_explicit(&gemm_kernel, k, memory_order_relaxed);
    return 0;
}

const char *nn_gemm_kernel_name(int *rows, int *cols)
{
    int wide = current_kernel() == NN_GEMM_V16;
    if (rows)
        *rows = wide ? V16_ROWS : V8_ROWS;
    if (cols)
        *cols = wide ? 2 * 16 : 2 * 8;
    return wide ? "v16 (16-float vectors, AVX-512)"
                : "v8 (8-float vectors, the best clone for the CPU)";
}

void nn_gemm(int M, int N, int K, const float *A, size_t a_ms, size_t a_ks, const float *B,
             size_t ldb, float *C, size_t ldc, int accumulate)
{
#if NN_X86
    if (current_kernel() == NN_GEMM_V16) {
        gemm_v16(M, N, K, A, a_ms, a_ks, B, ldb, C, ldc, accumulate);
        return;
    }
#endif
    gemm_v8(M, N, K, A, a_ms, a_ks, B, ldb, C, ldc, accumulate);
}

void nn_transpose(float *dst, const float *src, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            dst[(size_t)c * rows + r] = src[(size_t)r * cols + c];
}

/* ---- Conv2D 3x3 valid + ReLU ------------------------------------------------------- */

size_t nn_conv2d_scratch(int H, int W, int C)
{
    return (size_t)(H - 2) * (W - 2) * 9 * C;
}

/* in [H][W][C] -> col [(H-2)*(W-2)][3][3][C]: row p holds the 3x3xC patch under output p,
 * in the kernel's HWI order, so out = col @ w[9C][OC]. */
static void im2col(float *col, const float *in, int H, int W, int C)
{
    int OH = H - 2, OW = W - 2;
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++) {
            float *row = col + ((size_t)y * OW + x) * 9 * C;
            for (int dy = 0; dy < 3; dy++) { /* a loop, not memcpy: 3 floats when C = 1 */
                const float *src = in + ((size_t)(y + dy) * W + x) * C;
                for (int i = 0; i < 3 * C; i++)
                    row[dy * 3 * C + i] = src[i];
            }
        }
}

/* The adjoint of im2col: din [H][W][C] = sum of dcol's patches (din zeroed first). */
static void col2im(float *din, const float *dcol, int H, int W, int C)
{
    int OH = H - 2, OW = W - 2;
    memset(din, 0, sizeof(float) * H * W * C);
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++) {
            const float *row = dcol + ((size_t)y * OW + x) * 9 * C;
            for (int dy = 0; dy < 3; dy++) {
                float *d = din + ((size_t)(y + dy) * W + x) * C;
                const float *s = row + dy * 3 * C;
                for (int i = 0; i < 3 * C; i++)
                    d[i] += s[i];
            }
        }
}

NN_CLONES
void nn_conv2d_forward(float *out, const float *in, const float *w, const float *b, int B, int H,
                       int W, int C, int OC, float *scratch)
{
    int P = (H - 2) * (W - 2), K = 9 * C;
    for (int n = 0; n < B; n++) {
        const float *x = in + (size_t)n * H * W * C;
        float *y = out + (size_t)n * P * OC;
        im2col(scratch, x, H, W, C);
        for (int p = 0; p < P; p++)
            memcpy(y + (size_t)p * OC, b, sizeof(float) * OC);
        nn_gemm(P, OC, K, scratch, K, 1, w, OC, y, OC, 1);
        nn_relu_forward(y, (size_t)P * OC);
    }
}

NN_CLONES
void nn_conv2d_backward(float *din, float *dw, float *db, float *dout, const float *out,
                        const float *in, const float *wt, int B, int H, int W, int C, int OC,
                        float *scratch)
{
    int P = (H - 2) * (W - 2), K = 9 * C;
    for (int n = 0; n < B; n++) {
        float *dy = dout + (size_t)n * P * OC;
        nn_relu_backward(dy, out + (size_t)n * P * OC, (size_t)P * OC);
        for (int p = 0; p < P; p++)
            for (int o = 0; o < OC; o++)
                db[o] += dy[(size_t)p * OC + o];
        im2col(scratch, in + (size_t)n * H * W * C, H, W, C);
        /* dw[K][OC] += col^T[K][P] @ dy[P][OC] */
        nn_gemm(K, OC, P, scratch, 1, K, dy, OC, dw, OC, 1);
        if (din) { /* dcol[P][K] = dy[P][OC] @ wt[OC][K], then fold the patches back */
            nn_gemm(P, K, OC, dy, OC, 1, wt, K, scratch, K, 0);
            col2im(din + (size_t)n * H * W * C, scratch, H, W, C);
        }
    }
}

/* ---- MaxPool 2x2 ----------------------------------------------------------------------- */

typedef int32_t v8i __attribute__((vector_size(32), aligned(4), may_alias));

/* Blend with a compare mask (GCC's C vectors have no ?:; a macro, since a function
 * returning a vector by value changes ABI with the ISA). */
#define V8_SELECT(mask, a, b) ((v8)(((v8i)(a) & (mask)) | ((v8i)(b) & ~(mask))))

/* One output pixel's C channels from its 2x2 window, 8 channels at a time with explicit
 * vector compares (GCC will not if-convert the float compares itself). The first
 * maximum wins ties. */
static inline void pool_pixel(float *o, int32_t *a, const float *c0, const float *c1,
                              const float *c2, const float *c3, int C)
{
    int c = 0;
    for (; c + 8 <= C; c += 8) {
        v8 x0 = *(const v8 *)(c0 + c), x1 = *(const v8 *)(c1 + c);
        v8 x2 = *(const v8 *)(c2 + c), x3 = *(const v8 *)(c3 + c);
        v8i g01 = x1 > x0, g23 = x3 > x2;
        v8 m01 = V8_SELECT(g01, x1, x0), m23 = V8_SELECT(g23, x3, x2);
        v8i g = m23 > m01, a01 = -g01, a23 = 2 - g23;
        *(v8 *)(o + c) = V8_SELECT(g, m23, m01);
        *(v8i *)(a + c) = (a23 & g) | (a01 & ~g);
    }
    for (; c < C; c++) {
        float m01 = c1[c] > c0[c] ? c1[c] : c0[c];
        float m23 = c3[c] > c2[c] ? c3[c] : c2[c];
        int32_t a01 = c1[c] > c0[c], a23 = 2 + (c3[c] > c2[c]);
        o[c] = m23 > m01 ? m23 : m01;
        a[c] = m23 > m01 ? a23 : a01;
    }
}

NN_CLONES
void nn_maxpool_forward(float *out, int32_t *arg, const float *in, int B, int H, int W, int C)
{
    int OH = H / 2, OW = W / 2;
    for (int n = 0; n < B; n++)
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                const float *p = in + (((size_t)n * H + 2 * y) * W + 2 * x) * C;
                size_t o = (((size_t)n * OH + y) * OW + x) * C;
                pool_pixel(out + o, arg + o, p, p + C, p + (size_t)W * C, p + (size_t)W * C + C, C);
            }
}

NN_CLONES
void nn_maxpool_backward(float *din, const float *dout, const int32_t *arg, int B, int H, int W,
                         int C)
{
    int OH = H / 2, OW = W / 2;
    memset(din, 0, sizeof(float) * B * H * W * C);
    for (int n = 0; n < B; n++)
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                float *p = din + (((size_t)n * H + 2 * y) * W + 2 * x) * C;
                size_t o = (((size_t)n * OH + y) * OW + x) * C;
                for (int c = 0; c < C; c++) {
                    int a = arg[o + c];
                    p[(size_t)(a >> 1) * W * C + (size_t)(a & 1) * C + c] = dout[o + c];
                }
            }
}

/* ---- Dropout (inverted) ------------------------------------------------------------------ */

NN_CLONES
void nn_dropout_forward(float *out, float *mask, const float *in, size_t n, float rate,
                        uint64_t *rng)
{
    float keep = 1.0f / (1.0f - rate);
    uint64_t s0 = *rng;
    /* output i depends on s0 and i only (rng.h), so this loop vectorises and draws exactly
     * what n calls of nn_uniform(rng) would */
    for (size_t i = 0; i < n; i++) {
        uint64_t z = dg_splitmix64(s0 + i * DG_SPLITMIX64_STEP);
        float u = (float)(z >> 40) * (1.0f / 16777216.0f);
        mask[i] = u >= rate ? keep : 0.0f;
        out[i] = in[i] * mask[i];
    }
    *rng = s0 + n * DG_SPLITMIX64_STEP;
}

NN_CLONES
void nn_dropout_backward(float *din, const float *dout, const float *mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        din[i] = dout[i] * mask[i];
}

/* ---- Dense -------------------------------------------------------------------------------- */

void nn_dense_forward(float *out, const float *in, const float *w, const float *b, int B, int IN,
                      int OUT)
{
    for (int n = 0; n < B; n++)
        memcpy(out + (size_t)n * OUT, b, sizeof(float) * OUT);
    nn_gemm(B, OUT, IN, in, IN, 1, w, OUT, out, OUT, 1);
}

void nn_dense_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                       const float *wt, int B, int IN, int OUT)
{
    for (int n = 0; n < B; n++)
        for (int o = 0; o < OUT; o++)
            db[o] += dout[(size_t)n * OUT + o];
    nn_gemm(IN, OUT, B, in, 1, IN, dout, OUT, dw, OUT, 1); /* dw += in^T @ dout */
    if (din)
        nn_gemm(B, IN, OUT, dout, OUT, 1, wt, IN, din, IN, 0); /* din = dout @ w^T */
}

/* ---- ReLU ---------------------------------------------------------------------------------- */

NN_CLONES
void nn_relu_forward(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

NN_CLONES
void nn_relu_backward(float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dout[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

/* ---- Softmax + cross-entropy -------------------------------------------------------------- */

/* Softmax of one row; returns log(sum(exp(z - max))) and *zmax, for the loss. */
static double softmax_row(float *p, const float *z, int C, float *zmax)
{
    float m = z[0];
    for (int c = 1; c < C; c++)
        m = z[c] > m ? z[c] : m;
    double sum = 0.0;
    for (int c = 0; c < C; c++)
        sum += exp((double)z[c] - m);
    for (int c = 0; c < C; c++)
        p[c] = (float)(exp((double)z[c] - m) / sum);
    *zmax = m;
    return log(sum);
}

void nn_softmax_forward(float *probs, const float *logits, int B, int C)
{
    float m;
    for (int n = 0; n < B; n++)
        softmax_row(probs + (size_t)n * C, logits + (size_t)n * C, C, &m);
}

double nn_softmax_xent_forward(float *probs, const float *logits, const uint8_t *labels, int B,
                               int C)
{
    double loss = 0.0;
    for (int n = 0; n < B; n++) {
        const float *z = logits + (size_t)n * C;
        float m;
        double lse = softmax_row(probs + (size_t)n * C, z, C, &m);
        /* log p[label] straight from the logits: exact even when p underflows */
        loss -= (double)z[labels[n]] - m - lse;
    }
    return loss;
}

void nn_softmax_xent_backward(float *dlogits, const float *probs, const uint8_t *labels, int B,
                              int C, float scale)
{
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++)
            dlogits[(size_t)n * C + c] =
                (probs[(size_t)n * C + c] - (c == labels[n] ? 1.0f : 0.0f)) * scale;
}

/* ---- RNG ------------------------------------------------------------------------------------- */

float nn_uniform(uint64_t *state)
{
    return (float)(dg_splitmix64_next(state) >> 40) * (1.0f / 16777216.0f);
}
