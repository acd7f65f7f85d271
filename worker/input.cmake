# Input part (issue 4, "Preprocessing"): PNG decode under limits, MNIST-style
# preprocessing, the canvas renderer for tests and the bench, and the fuzz entry points.
add_library(dg_input STATIC worker/png.c worker/preprocess.c)
target_include_directories(dg_input PUBLIC worker)
target_link_libraries(dg_input PUBLIC PkgConfig::SPNG m)

add_library(dg_render STATIC bench/render.c)
target_include_directories(dg_render PUBLIC bench)
target_link_libraries(dg_render PUBLIC PkgConfig::SPNG m)

# The fuzz targets also build as plain programs that run the files they are given (the
# regression corpora in tests/corpus/png and tests/corpus/canvas; worker/fuzz_main.c);
# -DDG_FUZZ=ON adds the libFuzzer builds (clang), with ASan and UBSan.
#   input       PNG bytes -> 784 floats, the API's path (CRC checks off in the libFuzzer build)
#   preprocess  raw RGBA canvases -> dg_preprocess (format in worker/fuzz_preprocess.c)
option(DG_FUZZ "Build libFuzzer targets (needs clang)" OFF)
foreach(target IN ITEMS input preprocess)
  add_executable(digitd-fuzz-${target} worker/fuzz_${target}.c worker/fuzz_main.c)
  target_link_libraries(digitd-fuzz-${target} PRIVATE dg_input)
  if(DG_FUZZ)
    add_executable(fuzz_${target}_libfuzzer worker/fuzz_${target}.c worker/png.c
                   worker/preprocess.c)
    target_include_directories(fuzz_${target}_libfuzzer PRIVATE worker)
    target_compile_definitions(fuzz_${target}_libfuzzer PRIVATE DG_LIBFUZZER
                               FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
    target_compile_options(fuzz_${target}_libfuzzer PRIVATE -g -O1
                           -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
    target_link_options(fuzz_${target}_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${target}_libfuzzer PRIVATE PkgConfig::SPNG m)
  endif()
endforeach()
