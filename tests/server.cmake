# Server tests (issue 4): real digitd pools on temp unix sockets, driven with cgi-fcgi.
find_program(CGI_FCGI cgi-fcgi)
if(TARGET digitd AND TARGET dg_render AND CGI_FCGI)
  add_executable(server_pngs tests/server_pngs.c)
  target_link_libraries(server_pngs PRIVATE dg_idx dg_render)
  set(_srv "${CMAKE_SOURCE_DIR}/tests")
  add_test(NAME server_api COMMAND bash ${_srv}/server_api.sh $<TARGET_FILE:digitd>
           $<TARGET_FILE:server_pngs> "${MNIST_DIR}")
  add_test(NAME server_corpus COMMAND bash ${_srv}/server_corpus.sh $<TARGET_FILE:digitd>
           ${_srv}/corpus/requests)
  add_test(NAME server_supervise COMMAND bash ${_srv}/server_supervise.sh $<TARGET_FILE:digitd>
           ${_srv}/server_digit.png)
  add_test(NAME server_upgrade COMMAND bash ${_srv}/server_upgrade.sh $<TARGET_FILE:digitd>)
  set_tests_properties(server_api server_corpus server_supervise server_upgrade
                       PROPERTIES TIMEOUT 120 LABELS server)
elseif(NOT CGI_FCGI)
  message(STATUS "server tests: skipped (cgi-fcgi from libfcgi-bin not found)")
endif()
