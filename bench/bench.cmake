# digitd-bench: HTTP / FastCGI load with real digits, and the in-process engine figures.
# The renderer, input module and engine are linked when their parts are built, so the
# bench still compiles (with fewer modes) while developed in isolation.
add_executable(digitd-bench
  bench/bench.c bench/target.c bench/http_client.c bench/fcgi_client.c bench/loadgen.c
  bench/payloads.c bench/answer.c bench/stats.c bench/engine_bench.c)
target_include_directories(digitd-bench PRIVATE bench worker)
target_link_libraries(digitd-bench PRIVATE dg_idx PkgConfig::CJSON PkgConfig::SODIUM
                      Threads::Threads)
if(TARGET dg_render)
  target_link_libraries(digitd-bench PRIVATE dg_render)
  target_compile_definitions(digitd-bench PRIVATE DG_HAVE_RENDER)
endif()
if(TARGET dg_engine AND TARGET dg_input)
  target_link_libraries(digitd-bench PRIVATE dg_engine dg_input)
  target_compile_definitions(digitd-bench PRIVATE DG_HAVE_ENGINE DG_HAVE_INPUT)
endif()
install(TARGETS digitd-bench RUNTIME DESTINATION bin)
