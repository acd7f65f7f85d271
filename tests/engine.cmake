# Engine tests: per-op runtime path vs a naive reference, the compiled-in fast path (every
# ISA this CPU has) vs runtime path vs reference, and every real Keras file end to end.

add_executable(engine_ops tests/engine_ops.c)
target_include_directories(engine_ops PRIVATE tests)
target_link_libraries(engine_ops PRIVATE dg_engine_runtime)
add_test(NAME engine_ops COMMAND engine_ops)

add_executable(engine_match tests/engine_match.c)
target_include_directories(engine_match PRIVATE tests)
target_link_libraries(engine_match PRIVATE dg_engine dg_idx)
add_test(NAME engine_match COMMAND engine_match "${MNIST_DIR}" 200)

# Each full-model Keras file: its own header, engine and digitd-eval-<stem>; the test set
# accuracy must equal the keras-models README's table (printed to 0.01 %).
set(DG_KERAS_ACCURACY
    "seedarch_keras3.8.0_keshavagr273=99.22"
    "seedarch-nodropout_tfkeras2.15.0_ErenAri=99.24"
    "seedarch-nodropout_keras2.2.4_C3NZ=97.54"
    "cnn5x5_keras2.0.0_Capybara-monkey=99.18"
    "mlp784_keras3.3.3_4bumuhammad=97.14"
    "mlp-flatten_tfkeras2.13.1_semonw=97.58"
    "bn-same_keras3.11.3_Deepender25=99.67"
    "same-activation_tfkeras2.4.0_gnsia=97.52")
foreach(entry IN LISTS DG_KERAS_ACCURACY)
  string(REPLACE "=" ";" pair "${entry}")
  list(GET pair 0 stem)
  list(GET pair 1 expected)
  set(gen "${CMAKE_BINARY_DIR}/generated/${stem}")
  file(MAKE_DIRECTORY "${gen}")
  dg_generate_model_header("${KERAS_MODELS_DIR}/${stem}.h5" "${gen}/model_weights.h")
  add_custom_target(dg_model_header_${stem} DEPENDS "${gen}/model_weights.h")
  dg_add_engine(dg_engine_${stem} "${gen}" dg_model_header_${stem})
  add_executable(digitd-eval-${stem} worker/eval.c)
  target_link_libraries(digitd-eval-${stem} PRIVATE dg_engine_${stem} dg_idx)
  add_test(NAME engine_accuracy_${stem}
           COMMAND sh "${CMAKE_SOURCE_DIR}/tests/engine_accuracy.sh"
                   $<TARGET_FILE:digitd-eval-${stem}> "${MNIST_DIR}" ${expected})
  # The fast path on this model's shapes ('same' padding, 5x5, 50/30 channels, BN, MLP).
  add_executable(engine_match_${stem} tests/engine_match.c)
  target_include_directories(engine_match_${stem} PRIVATE tests)
  target_link_libraries(engine_match_${stem} PRIVATE dg_engine_${stem} dg_idx)
  add_test(NAME engine_match_${stem} COMMAND engine_match_${stem} "${MNIST_DIR}" 20)
endforeach()
