# Bench tool tests (issue 6): the latency histogram, --engine's JSON, the load modes against
# a real pool over FastCGI and through nginx, and the answer checks (wrong digits, mismatches vs at rest)
# against a fake HTTP server that always answers 0. No timing assertions.
if(TARGET digitd-bench)
  add_executable(bench_stats_test bench/stats_test.c bench/stats.c)
  target_include_directories(bench_stats_test PRIVATE bench)
  target_link_libraries(bench_stats_test PRIVATE m)
  add_test(NAME bench_stats COMMAND bench_stats_test)
  set_tests_properties(bench_stats PROPERTIES LABELS bench)
  set(_bt "${CMAKE_SOURCE_DIR}/tests")
  find_program(PYTHON3 python3)
  if(TARGET dg_render AND TARGET dg_engine AND TARGET dg_input AND PYTHON3)
    add_test(NAME bench_engine COMMAND bash ${_bt}/bench_engine.sh
             $<TARGET_FILE:digitd-bench> "${MNIST_DIR}")
    add_test(NAME bench_answers COMMAND bash ${_bt}/bench_answers.sh
             $<TARGET_FILE:digitd-bench> "${MNIST_DIR}")
    set_tests_properties(bench_engine bench_answers PROPERTIES TIMEOUT 120 LABELS bench)
    if(TARGET digitd)
      add_test(NAME bench_fcgi COMMAND bash ${_bt}/bench_fcgi.sh $<TARGET_FILE:digitd>
               $<TARGET_FILE:digitd-bench> "${MNIST_DIR}")
      set_tests_properties(bench_fcgi PROPERTIES TIMEOUT 180 LABELS bench)
      # HTTP mode through nginx (nginx.conf.example) to two pools, one of them killed midway
      add_test(NAME bench_nginx COMMAND bash ${_bt}/bench_nginx.sh $<TARGET_FILE:digitd>
               $<TARGET_FILE:digitd-bench> "${MNIST_DIR}")
      set_tests_properties(bench_nginx PROPERTIES TIMEOUT 180 LABELS bench)
      # Issue 4's canvas accuracy, through the real FastCGI API (~1 min).
      add_test(NAME bench_canvas_fcgi COMMAND bash ${_bt}/bench_canvas_fcgi.sh $<TARGET_FILE:digitd>
               $<TARGET_FILE:digitd-bench> "${MNIST_DIR}" ${DG_CANVAS_MIN_ACCURACY})
      set_tests_properties(bench_canvas_fcgi PROPERTIES TIMEOUT 600 LABELS bench)
    endif()
  else()
    message(STATUS "bench tests: load and engine tests skipped (need render, engine, input, python3)")
  endif()
endif()
