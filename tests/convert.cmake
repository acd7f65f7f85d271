# Converter tests (issue 2): each layer type and fusion against a reference on small models
# the test writes itself; every refusal through the real digitd-convert with its message;
# --summary, the header's provenance and byte-identical output on a real Keras file.
# (tests/engine.cmake compiles the same small models into the vectorised engine, and checks
# headers round-trip the .h5's floats bit for bit.)
add_executable(convert_models tests/convert_models.c)
target_link_libraries(convert_models PRIVATE dg_keras_load dg_keras_h5 dg_engine_runtime
                      ${HDF5_LIBRARIES} m)
target_include_directories(convert_models PRIVATE ${HDF5_INCLUDE_DIRS})

set(DG_CONVERT_TMP "${CMAKE_CURRENT_BINARY_DIR}/convert_tests")
file(MAKE_DIRECTORY "${DG_CONVERT_TMP}")
add_test(NAME convert_layers COMMAND convert_models check "${DG_CONVERT_TMP}")
add_test(NAME convert_refuse
         COMMAND sh "${CMAKE_SOURCE_DIR}/tests/convert_refuse.sh" $<TARGET_FILE:digitd-convert>
                 $<TARGET_FILE:convert_models> "${DG_CONVERT_TMP}/refuse" "${KERAS_MODELS_DIR}")
add_test(NAME convert_cli
         COMMAND sh "${CMAKE_SOURCE_DIR}/tests/convert_cli.sh" $<TARGET_FILE:digitd-convert>
                 $<TARGET_FILE:convert_models> "${DG_CONVERT_TMP}/cli" "${KERAS_MODELS_DIR}")
