# The CNN engine: dg_engine_runtime (dg_engine_run, any struct dg_model) and dg_engine
# (plus the compiled-in model of ${DG_GEN_DIR}/model_weights.h, one build per ISA).

add_library(dg_engine_runtime STATIC worker/engine_run.c)
target_include_directories(dg_engine_runtime PUBLIC worker)
target_link_libraries(dg_engine_runtime PUBLIC m)

# The kernel sets engine_fast.c is compiled for; engine.c picks one at run time.  The
# AVX flags exist only on x86: elsewhere only the portable kernels are built (GCC vector
# extensions, whatever SIMD the target has) and DG_ENGINE_X86 is left undefined.
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" DG_CPU)
if(DG_CPU MATCHES "^(x86_64|amd64|x64|i[3-6]86|x86)$")
  set(DG_ENGINE_DEFS DG_ENGINE_X86) # engine_isa.h declares the AVX builds only then
  set(DG_ENGINE_ISAS avx512 avx2 generic)
  set(DG_ISA_FLAGS_avx512 -mavx512f -mavx2 -mfma)
  set(DG_ISA_FLAGS_avx2 -mavx2 -mfma)
else()
  set(DG_ENGINE_DEFS "")
  set(DG_ENGINE_ISAS generic)
  message(STATUS "engine: ${CMAKE_SYSTEM_PROCESSOR} is not x86: portable kernels only")
endif()
set(DG_ISA_FLAGS_generic "")

# dg_add_engine(<target> <generated dir> <header target>): an engine library with the
# model whose header <generated dir>/model_weights.h the target <header target> writes.
function(dg_add_engine target gen_dir header_target)
  set(objs "")
  foreach(isa IN LISTS DG_ENGINE_ISAS)
    add_library(${target}_${isa} OBJECT worker/engine_fast.c)
    target_compile_definitions(${target}_${isa} PRIVATE DG_ISA=${isa} ${DG_ENGINE_DEFS})
    target_compile_options(${target}_${isa} PRIVATE ${DG_ISA_FLAGS_${isa}})
    target_include_directories(${target}_${isa} PRIVATE worker "${gen_dir}")
    add_dependencies(${target}_${isa} ${header_target})
    list(APPEND objs $<TARGET_OBJECTS:${target}_${isa}>)
  endforeach()
  add_library(${target} STATIC worker/engine.c ${objs})
  target_include_directories(${target} PUBLIC worker PRIVATE "${gen_dir}")
  target_link_libraries(${target} PUBLIC dg_engine_runtime)
  target_compile_definitions(${target} PUBLIC ${DG_ENGINE_DEFS}) # engine.c, tests
  add_dependencies(${target} ${header_target})
endfunction()

dg_add_engine(dg_engine "${DG_GEN_DIR}" dg_model_header)

add_executable(digitd-eval worker/eval.c)
target_link_libraries(digitd-eval PRIVATE dg_engine dg_idx)
install(TARGETS digitd-eval RUNTIME DESTINATION bin)
