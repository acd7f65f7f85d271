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

# The vectorised engine on the converter tests' own models (tests/convert_models.c
# `checks`: every layer type and option, the pooling shapes the conv+pool fusion must
# decline or handle, odd channel counts): each .h5 is written at build time, converted,
# compiled into its own engine, and engine_match compares every ISA build with the naive
# reference (engine_ref.h) to 1e-5.  engine_fast_model_list fails when this list and
# `checks` differ.
set(DG_SELF_BUILT_MODELS
    avgpool_strides nobias_sigmoid_tanh bn_before_conv reshape_784 conv_flatten_bn
    conv_flatten_bn_relu conv_flatten_softmax dense_reshape_bn dense_bn_sigmoid
    pool_same_odd k4_pool_same pool_valid_odd conv_no_strides relu_layers bn_center_scale
    reshape_infer functional_keras2 functional_keras3 keras3_naming renamed_weights
    long_layer_names input_on_first_layer deferred_keras2 deferred_keras3
    deferred_keras3_layer)
foreach(model IN LISTS DG_SELF_BUILT_MODELS)
  set(gen "${CMAKE_BINARY_DIR}/generated/self_${model}")
  file(MAKE_DIRECTORY "${gen}")
  add_custom_command(
    OUTPUT "${gen}/${model}.h5"
    COMMAND convert_models write "${gen}" ${model}
    DEPENDS convert_models
    COMMENT "convert_models write ${model}"
    VERBATIM)
  dg_generate_model_header("${gen}/${model}.h5" "${gen}/model_weights.h")
  add_custom_target(dg_model_header_self_${model} DEPENDS "${gen}/model_weights.h")
  dg_add_engine(dg_engine_self_${model} "${gen}" dg_model_header_self_${model})
  add_executable(engine_match_self_${model} tests/engine_match.c)
  target_include_directories(engine_match_self_${model} PRIVATE tests)
  target_link_libraries(engine_match_self_${model} PRIVATE dg_engine_self_${model} dg_idx)
  add_test(NAME engine_fast_${model} COMMAND engine_match_self_${model} "${MNIST_DIR}" 20)
endforeach()
add_test(NAME engine_fast_model_list COMMAND convert_models list "${DG_SELF_BUILT_MODELS}")

# The generated header's Conv2D/Dense floats equal the .h5's bit for bit (memcmp), on the
# models where no BatchNormalization is folded into them (folding changes them on purpose):
# every real file but bn-same, and self-built ones with renamed weights, a Functional chain,
# no bias.  Each binary includes that model's header.
set(DG_ROUNDTRIP_MODELS
    seedarch_keras3.8.0_keshavagr273 seedarch-nodropout_tfkeras2.15.0_ErenAri
    seedarch-nodropout_keras2.2.4_C3NZ cnn5x5_keras2.0.0_Capybara-monkey
    mlp784_keras3.3.3_4bumuhammad mlp-flatten_tfkeras2.13.1_semonw
    same-activation_tfkeras2.4.0_gnsia self_renamed_weights self_functional_keras2
    self_nobias_sigmoid_tanh)
foreach(stem IN LISTS DG_ROUNDTRIP_MODELS)
  if(stem MATCHES "^self_(.*)$")
    set(h5 "${CMAKE_BINARY_DIR}/generated/${stem}/${CMAKE_MATCH_1}.h5")
  else()
    set(h5 "${KERAS_MODELS_DIR}/${stem}.h5")
  endif()
  add_executable(convert_roundtrip_${stem} tests/convert_roundtrip.c)
  target_include_directories(convert_roundtrip_${stem} PRIVATE worker ${HDF5_INCLUDE_DIRS}
                             "${CMAKE_BINARY_DIR}/generated/${stem}")
  target_link_libraries(convert_roundtrip_${stem} PRIVATE ${HDF5_LIBRARIES})
  add_dependencies(convert_roundtrip_${stem} dg_model_header_${stem})
  add_test(NAME convert_roundtrip_${stem} COMMAND convert_roundtrip_${stem} "${h5}")
endforeach()
