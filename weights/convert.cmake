# The model toolchain's build-time half: the Keras .h5 reader (dg_keras_load), the .h5
# writer the trainer and tests use (dg_keras_h5), and digitd-convert, which CMake runs to
# generate the model header (dg_generate_model_header in CMakeLists.txt).
add_library(dg_keras_h5 STATIC weights/keras_h5.c)
target_include_directories(dg_keras_h5 PUBLIC weights ${HDF5_INCLUDE_DIRS})
target_link_libraries(dg_keras_h5 PUBLIC ${HDF5_LIBRARIES})

add_library(dg_keras_load STATIC weights/keras_load.c weights/keras_layers.c weights/h5_read.c)
target_include_directories(dg_keras_load PUBLIC weights worker ${HDF5_INCLUDE_DIRS})
target_link_libraries(dg_keras_load PUBLIC ${HDF5_LIBRARIES} PkgConfig::CJSON
                      PkgConfig::SODIUM m)

add_executable(digitd-convert weights/convert.c weights/header_emit.c)
target_link_libraries(digitd-convert PRIVATE dg_keras_load)
install(TARGETS digitd-convert RUNTIME DESTINATION bin)
