/* rng.h: splitmix64, the one generator behind everything reproducible from a seed (the
 * renderer's per-digit parameters, the trainer's shuffles, dropout and initialisation).
 *
 * One generator, so that "seed N" means the same stream wherever it is used. Its i-th
 * output is a pure function of the state plus (i + 1) steps, so a loop can draw value i
 * without a dependency on value i - 1 (the trainer's dropout vectorises that way); hence
 * inline, here, rather than a call. Constants from Steele, Lea and Flood (2014). */
#ifndef DIGITD_RNG_H
#define DIGITD_RNG_H

#include <stdint.h>

#define DG_SPLITMIX64_STEP 0x9e3779b97f4a7c15ull /* the state's increment per output */

/* The output for the state x before its increment: pure. */
static inline uint64_t dg_splitmix64(uint64_t x)
{
    x += DG_SPLITMIX64_STEP;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The next output of the stream *state, which it advances. */
static inline uint64_t dg_splitmix64_next(uint64_t *state)
{
    uint64_t x = *state;
    *state += DG_SPLITMIX64_STEP;
    return dg_splitmix64(x);
}

#endif
