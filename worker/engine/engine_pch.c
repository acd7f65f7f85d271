/* engine_pch.c: the translation unit <immintrin.h> is precompiled with, once per ISA, for
 * every engine_fast.c build (worker/engine/CMakeLists.txt). It defines nothing. */
typedef int dg_engine_pch_unit; /* ISO C wants a translation unit to declare something */
