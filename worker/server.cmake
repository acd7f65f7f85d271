# Server part (issue 4, "Process model" and "API"): digitd, the supervised FastCGI pool.
# Needs the engine (compiled-in model) and the input path; skipped until both exist.
if(TARGET dg_engine AND TARGET dg_input)
  add_executable(digitd worker/main.c worker/pool.c worker/api.c worker/metrics.c worker/log.c)
  target_compile_definitions(digitd PRIVATE DIGITD_VERSION="${PROJECT_VERSION}")
  target_include_directories(digitd PRIVATE worker ${FCGI_INCLUDE_DIR})
  target_link_libraries(digitd PRIVATE dg_engine dg_input PkgConfig::CJSON PkgConfig::SODIUM
                        ${FCGI_LIBRARY})
  install(TARGETS digitd RUNTIME DESTINATION bin)
else()
  message(STATUS "digitd: skipped (needs targets dg_engine and dg_input)")
endif()
