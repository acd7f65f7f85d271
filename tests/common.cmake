add_executable(idx_test tests/idx_test.c)
target_link_libraries(idx_test PRIVATE dg_idx)
add_test(NAME idx_reader COMMAND idx_test "${MNIST_DIR}")
