# Input part (issue 4, "Preprocessing"): PNG decode under limits, MNIST-style
# preprocessing, the canvas renderer for tests and the bench, and the fuzz entry point.
add_library(dg_input STATIC worker/png.c worker/preprocess.c)
target_include_directories(dg_input PUBLIC worker)
target_link_libraries(dg_input PUBLIC PkgConfig::SPNG m)

add_library(dg_render STATIC bench/render.c)
target_include_directories(dg_render PUBLIC bench)
target_link_libraries(dg_render PUBLIC PkgConfig::SPNG m)

# The fuzz target also builds as a plain program that runs the files it is given (the
# regression corpus in tests/corpus/png); -DDG_FUZZ=ON adds the libFuzzer build (clang).
add_executable(digitd-fuzz-input worker/fuzz_input.c)
target_link_libraries(digitd-fuzz-input PRIVATE dg_input)
option(DG_FUZZ "Build libFuzzer targets (needs clang)" OFF)
if(DG_FUZZ)
  add_executable(fuzz_input_libfuzzer worker/fuzz_input.c worker/png.c worker/preprocess.c)
  target_include_directories(fuzz_input_libfuzzer PRIVATE worker)
  target_compile_definitions(fuzz_input_libfuzzer PRIVATE DG_LIBFUZZER)
  target_compile_options(fuzz_input_libfuzzer PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_input_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_input_libfuzzer PRIVATE PkgConfig::SPNG m)
endif()
