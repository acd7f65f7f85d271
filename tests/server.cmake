# Server tests (issue 4): real digitd pools on temp unix sockets, driven with cgi-fcgi
# (libfcgi-bin: a test without it fails naming it, tests/server_lib.sh). server_pngs makes
# canvas PNGs for these and for the nginx end-to-end test (tests/web.cmake).
if(TARGET dg_idx AND TARGET dg_render)
  add_executable(server_pngs tests/server_pngs.c)
  target_link_libraries(server_pngs PRIVATE dg_idx dg_render)
endif()
if(TARGET digitd AND TARGET server_pngs)
  set(_srv "${CMAKE_SOURCE_DIR}/tests")
  add_test(NAME server_api COMMAND bash ${_srv}/server_api.sh $<TARGET_FILE:digitd>
           $<TARGET_FILE:server_pngs> "${MNIST_DIR}")
  add_test(NAME server_corpus COMMAND bash ${_srv}/server_corpus.sh $<TARGET_FILE:digitd>
           ${_srv}/corpus/requests)
  add_test(NAME server_supervise COMMAND bash ${_srv}/server_supervise.sh $<TARGET_FILE:digitd>
           ${_srv}/server_digit.png)
  add_test(NAME server_upgrade COMMAND bash ${_srv}/server_upgrade.sh $<TARGET_FILE:digitd>)
  add_test(NAME server_signals COMMAND bash ${_srv}/server_signals.sh $<TARGET_FILE:digitd>)
  add_test(NAME server_notify COMMAND bash ${_srv}/server_notify.sh $<TARGET_FILE:digitd>)
  add_test(NAME server_limits COMMAND bash ${_srv}/server_limits.sh $<TARGET_FILE:digitd>)
  # FCGI_KEEP_CONN, and who owns the unix socket (python3 FastCGI client: server_fcgi.py)
  add_test(NAME server_keepconn COMMAND bash ${_srv}/server_keepconn.sh $<TARGET_FILE:digitd>)
  add_test(NAME server_socket COMMAND bash ${_srv}/server_socket.sh $<TARGET_FILE:digitd>)
  # runs scripts/run.sh on this build dir (its build step is then a no-op), in a temp RUN_DIR
  add_test(NAME server_runsh COMMAND bash ${_srv}/server_runsh.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(server_api server_corpus server_supervise server_upgrade server_signals
                       server_notify server_limits server_keepconn server_socket server_runsh
                       PROPERTIES TIMEOUT 120 LABELS server SKIP_RETURN_CODE 77)
endif()
