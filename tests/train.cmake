# Trainer tests (issue 3): gradient checks, the CLI's errors and determinism, the fetch
# script's checksum path, and a short training run whose .h5 converts and runs in the
# engine exactly as the trainer computed it.
add_executable(train_gradcheck tests/train_gradcheck.c)
target_link_libraries(train_gradcheck PRIVATE dg_train)
add_test(NAME train_gradcheck COMMAND train_gradcheck)

# training_config as Keras reads it (the rate at every step), and the writer's errors
add_executable(train_keras_h5 tests/train_keras_h5.c)
target_link_libraries(train_keras_h5 PRIVATE dg_train m)
add_test(NAME train_keras_h5 COMMAND train_keras_h5)

add_executable(train_augment tests/train_augment.c)
target_link_libraries(train_augment PRIVATE dg_train dg_idx)
add_test(NAME train_augment COMMAND train_augment ${MNIST_DIR})

add_test(NAME train_cli
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_cli.sh $<TARGET_FILE:digitd-train> ${MNIST_DIR})

add_test(NAME train_fetch_mnist
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_fetch.sh ${CMAKE_SOURCE_DIR}/scripts/fetch-mnist.sh
                 ${MNIST_DIR})

# A short run (~6 s): 3 epochs over 20,000 images, both threads; >= 95 % on 1,000 test
# images is checked by train_engine_match (from the engine's outputs and the trainer's).
set(TRAIN_SHORT ${CMAKE_CURRENT_BINARY_DIR}/train_short)
add_test(NAME train_short
         COMMAND digitd-train --data ${MNIST_DIR} --limit 20000 --val-split 1000 --batch 32
                 --epochs 3 --lr-schedule none --no-augment --threads 2 --seed 1
                 --test-limit 1000 --quiet --out ${TRAIN_SHORT}.h5 --predictions ${TRAIN_SHORT}.probs)
set_tests_properties(train_short PROPERTIES FIXTURES_SETUP train_short_h5 PROCESSORS 2)
add_test(NAME train_short_converts COMMAND digitd-convert ${TRAIN_SHORT}.h5 -o ${TRAIN_SHORT}.h)
set_tests_properties(train_short_converts PROPERTIES FIXTURES_REQUIRED train_short_h5)
add_test(NAME train_h5_layout
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_h5_layout.sh ${TRAIN_SHORT}.h5 ${KERAS_MODELS_DIR})
set_tests_properties(train_h5_layout PROPERTIES FIXTURES_REQUIRED train_short_h5 SKIP_RETURN_CODE 77)

# The canvas test set as IDX, to measure augmentation with digitd-train --extra-eval
# (a measuring tool, not a test; needs the input part's renderer and preprocessing).
if(TARGET dg_input AND TARGET dg_render)
  add_executable(train_canvas_set tests/train_canvas_set.c)
  target_link_libraries(train_canvas_set PRIVATE dg_input dg_render dg_idx m)
endif()

# The short run's .h5, read back by the converter's loader and run by the engine, gives
# the trainer's own probabilities (<= 1e-5, same digits) and >= 95 % on 1,000 images.
if(TARGET dg_engine AND TARGET dg_keras_load)
  add_executable(train_engine_match tests/train_engine_match.c)
  target_link_libraries(train_engine_match PRIVATE dg_engine dg_keras_load dg_idx m)
  add_test(NAME train_engine_match
           COMMAND train_engine_match ${TRAIN_SHORT}.h5 ${TRAIN_SHORT}.probs ${MNIST_DIR} 1000)
  set_tests_properties(train_engine_match PROPERTIES FIXTURES_REQUIRED train_short_h5)
else()
  message(STATUS "train_engine_match not built: needs targets dg_engine and dg_keras_load")
endif()

# The retrain workflow itself: a second build tree with -DWEIGHTS_H5=<the short run's .h5>
# compiles the vectorised engine around it, and its digitd-eval gives the trainer's own
# probabilities (<= 1e-5, same digits). About 30 s of compiling.
add_test(NAME train_rebuild
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_rebuild.sh ${CMAKE_SOURCE_DIR} ${TRAIN_SHORT}.h5
                 ${TRAIN_SHORT}.probs ${MNIST_DIR} 1000)
set_tests_properties(train_rebuild PROPERTIES FIXTURES_REQUIRED train_short_h5 PROCESSORS 2
                     TIMEOUT 600)

# The trainer's forward pass has Keras's semantics: a real Keras-trained seed model, copied
# into the trainer's parameters, scores what Keras scores (99.22 %, keras-models/README.md).
if(TARGET dg_keras_load)
  add_executable(train_keras_forward tests/train_keras_forward.c)
  target_link_libraries(train_keras_forward PRIVATE dg_train dg_keras_load dg_idx)
  add_test(NAME train_keras_forward
           COMMAND train_keras_forward ${KERAS_MODELS_DIR}/seedarch_keras3.8.0_keshavagr273.h5
                   ${MNIST_DIR} 0.9922)
else()
  message(STATUS "train_keras_forward not built: needs target dg_keras_load")
endif()
