# digitd-train: the C trainer (issue 3). Layer kernels in worker/nn.c, the seed network,
# augmentation and .h5 export in weights/train_*.c; the .h5 writer (kh5_write) comes from
# the convert part's library.
add_library(dg_nn STATIC worker/nn.c)
target_include_directories(dg_nn PUBLIC worker)
target_link_libraries(dg_nn PUBLIC m)

add_library(dg_train STATIC weights/train_net.c weights/train_h5.c weights/augment.c)
target_include_directories(dg_train PUBLIC weights)
target_link_libraries(dg_train PUBLIC dg_nn dg_keras_h5 dg_render dg_input PkgConfig::CJSON m)
if(OpenMP_C_FOUND)
  target_link_libraries(dg_train PUBLIC OpenMP::OpenMP_C)
else() # the thread slices then run one after the other: same results as --threads N
  target_compile_options(dg_train PUBLIC -Wno-unknown-pragmas)
  message(WARNING "OpenMP not found: digitd-train will run on one thread (it says so when "
                  "--threads asks for more). gcc brings it (libgomp); clang needs libomp-dev.")
endif()

add_executable(digitd-train weights/train.c)
target_link_libraries(digitd-train PRIVATE dg_train dg_idx)
install(TARGETS digitd-train RUNTIME DESTINATION bin)
