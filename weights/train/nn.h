/* nn.h: the CNN layers for training, llm.c style: one forward and one backward function
 * per layer, each on a batch of B images, all tensors float32 channels-last (HWC, like
 * Keras), weights in Keras's layouts so they save to .h5 as they are:
 *   conv kernel [3][3][C][OC] (HWIO), dense kernel [IN][OUT], biases [OUT].
 * No allocation and no threads in here: the caller owns every buffer and splits the batch
 * across threads (each thread runs these functions on its own slice), which keeps the
 * arithmetic order, and so the result, fixed for a given thread count.
 * Backward functions ACCUMULATE into dw/db (the caller zeroes them per step) and
 * OVERWRITE din. */
#ifndef DIGITD_NN_H
#define DIGITD_NN_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h" /* dg_splitmix64_next: the trainer's seeding and shuffles */

/* C[M][N] (+)= A * B[K][N], where A's element (m, k) is A[m * a_ms + k * a_ks]: A is
 * row-major [M][K] (a_ms = lda, a_ks = 1) or its transpose (a_ms = 1, a_ks = lda).
 * accumulate = 0 overwrites C. Vectorised over N in register blocks of rows x cols (see
 * nn_gemm_kernel_name); the columns right of the last full block run a scalar tail. Picks
 * the AVX-512 / AVX2+FMA / portable build at run time. */
void nn_gemm(int M, int N, int K, const float *A, size_t a_ms, size_t a_ks, const float *B,
             size_t ldb, float *C, size_t ldc, int accumulate);

/* Which nn_gemm kernel runs. AUTO (the default) takes the widest the CPU has; tests force
 * each in turn, so that every kernel is checked on whatever machine runs them. Returns 0,
 * or -1 (nothing changed) if the CPU or this build lacks the kernel. Call it outside
 * parallel regions. */
enum nn_gemm_kernel { NN_GEMM_AUTO, NN_GEMM_V8, NN_GEMM_V16 };
int nn_gemm_use(enum nn_gemm_kernel k);
/* The kernel nn_gemm runs now, as text, and its block: *rows x *cols floats of C (either
 * pointer may be NULL). A GEMM runs its vector block and its tail when M > rows,
 * N > cols and N % cols != 0. */
const char *nn_gemm_kernel_name(int *rows, int *cols);

/* dst[c][r] = src[r][c]: src [rows][cols]. */
void nn_transpose(float *dst, const float *src, int rows, int cols);

/* Floats of scratch conv2d_forward/backward need: one image's im2col matrix. */
size_t nn_conv2d_scratch(int H, int W, int C);

/* Conv2D 3x3, stride 1, 'valid', bias, fused ReLU.
 * in [B][H][W][C], w [3][3][C][OC], b [OC] -> out [B][H-2][W-2][OC] */
void nn_conv2d_forward(float *out, const float *in, const float *w, const float *b, int B, int H,
                       int W, int C, int OC, float *scratch);
/* dout, out [B][H-2][W-2][OC] (out: the forward's post-ReLU output, for the ReLU mask;
 * dout is overwritten with the pre-ReLU gradient), in [B][H][W][C], wt [OC][3*3*C] (w
 * transposed, nn_transpose(wt, w, 9*C, OC)) -> din [B][H][W][C] (NULL: not needed),
 * dw [3][3][C][OC] +=, db [OC] += */
void nn_conv2d_backward(float *din, float *dw, float *db, float *dout, const float *out,
                        const float *in, const float *wt, int B, int H, int W, int C, int OC,
                        float *scratch);

/* MaxPool 2x2 stride 2 'valid' (an odd last row/column is dropped, as Keras does).
 * in [B][H][W][C] -> out [B][H/2][W/2][C], arg [B][H/2][W/2][C] = which of the 4 cells won
 * (0..3 = dy * 2 + dx; the first wins ties; int32 so the compare vectorises with the floats) */
void nn_maxpool_forward(float *out, int32_t *arg, const float *in, int B, int H, int W, int C);
/* dout [B][H/2][W/2][C], arg -> din [B][H][W][C] */
void nn_maxpool_backward(float *din, const float *dout, const int32_t *arg, int B, int H, int W,
                         int C);

/* Inverted dropout over n floats: mask[i] = 0 or 1/(1-rate), drawn from *rng (the caller
 * seeds it per image so the mask does not depend on the thread split); out = in * mask. */
void nn_dropout_forward(float *out, float *mask, const float *in, size_t n, float rate,
                        uint64_t *rng);
/* din = dout * mask (n floats) */
void nn_dropout_backward(float *din, const float *dout, const float *mask, size_t n);

/* Dense. in [B][IN], w [IN][OUT], b [OUT] -> out [B][OUT] */
void nn_dense_forward(float *out, const float *in, const float *w, const float *b, int B, int IN,
                      int OUT);
/* dout [B][OUT], in [B][IN], wt [OUT][IN] (w transposed) -> din [B][IN] (NULL: not
 * needed), dw [IN][OUT] +=, db [OUT] += */
void nn_dense_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                       const float *wt, int B, int IN, int OUT);

/* ReLU in place over n floats; backward: dx = dout where out > 0, else 0 (in place). */
void nn_relu_forward(float *x, size_t n);
void nn_relu_backward(float *dout, const float *out, size_t n);

/* Softmax alone (inference). logits [B][C] -> probs [B][C] */
void nn_softmax_forward(float *probs, const float *logits, int B, int C);

/* Softmax + cross-entropy. logits [B][C], labels [B] -> probs [B][C]; returns the summed
 * (not averaged) loss over the B rows. */
double nn_softmax_xent_forward(float *probs, const float *logits, const uint8_t *labels, int B,
                               int C);
/* dlogits [B][C] = (probs - onehot(labels)) * scale (scale = 1 / full batch size) */
void nn_softmax_xent_backward(float *dlogits, const float *probs, const uint8_t *labels, int B,
                              int C, float scale);

/* Uniform floats in [0, 1) from the splitmix64 stream *state (rng.h). */
float nn_uniform(uint64_t *state);

#endif
