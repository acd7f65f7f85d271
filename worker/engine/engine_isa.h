/* engine_isa.h: the per-ISA builds of the compiled-in model (engine_fast.c compiled three
 * times) and the choice between them and between the run-time path's builds
 * (engine_run_isa.c). engine.c and engine_run.c dispatch; tests call each one the CPU
 * supports. */
#ifndef DIGITD_ENGINE_ISA_H
#define DIGITD_ENGINE_ISA_H

/* features: NULL, or room for dg_engine_features() floats (engine.h). */
#ifdef DG_ENGINE_AVX512 /* worker/engine/CMakeLists.txt: on x86 unless turned off */
void dg_engine_forward_avx512(const float *x, float *probs, float *features);
#endif
#ifdef DG_ENGINE_X86 /* set on x86, the only targets with the AVX builds */
void dg_engine_forward_avx2(const float *x, float *probs, float *features);
#endif
void dg_engine_forward_generic(const float *x, float *probs, float *features);

/* Each thread's scratch for the compiled-in model (DG_MODEL_SCRATCH_FLOATS floats, defined
 * once in engine.c): a fixed size the converter has bounded, neither on the stack nor on the
 * heap. */
extern _Thread_local float dg_engine_scratch[];

/* 1 if this build has the named kernel set ("avx512", "avx2", "generic") and this CPU
 * can run it. */
int dg_engine_isa_supported(const char *isa);

/* The kernel set dg_engine_forward and dg_engine_run use: the one dg_engine_use_isa chose,
 * else the widest this CPU runs. Asked on every call: __builtin_cpu_supports reads libgcc's
 * CPU model, which is cheap. */
enum dg_engine_set { DG_SET_AVX512, DG_SET_AVX2, DG_SET_GENERIC };
enum dg_engine_set dg_engine_set(void);

#endif
