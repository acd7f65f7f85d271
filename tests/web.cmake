# Web part (issue 5): the real stack (nginx.conf.example + a digitd pool) end to end over
# HTTP with curl, and the page in Debian's Chromium driven by playwright-core.
# Both are always registered: a missing nginx, curl, node, /usr/bin/chromium or
# playwright-core fails the test with a message naming it and the command that installs it
# (scripts/install-deps.sh --test, npm ci in tests/browser; scripts/test.sh runs both),
# instead of the test quietly not existing and ctest passing without it.
if(TARGET digitd)
  set(_pngs "")
  if(TARGET server_pngs)
    set(_pngs server_pngs)
  elseif(TARGET dg_idx AND TARGET dg_render)
    # server_pngs comes from tests/server.cmake, which needs cgi-fcgi; e2e_nginx does not
    add_executable(e2e_pngs tests/server_pngs.c)
    target_link_libraries(e2e_pngs PRIVATE dg_idx dg_render)
    set(_pngs e2e_pngs)
  endif()
  if(_pngs)
    add_test(NAME e2e_nginx
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e_nginx.sh $<TARGET_FILE:digitd>
                     $<TARGET_FILE:${_pngs}> "${MNIST_DIR}")
  else()
    add_test(NAME e2e_nginx COMMAND bash -c
             "echo 'FAIL: e2e_nginx needs tests/server_pngs.c built, which needs dg_idx and dg_render (DG_PARTS input, bench)'; exit 1")
  endif()
  set_tests_properties(e2e_nginx PROPERTIES TIMEOUT 120 LABELS web)
  add_test(NAME browser COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser_run.sh $<TARGET_FILE:digitd>)
  # Screenshots of failed checks: kept in the build dir, their paths printed by the test.
  set_tests_properties(browser PROPERTIES TIMEOUT 240 LABELS web
                       ENVIRONMENT "ARTIFACTS=${CMAKE_BINARY_DIR}/browser-artifacts")
else()
  message(WARNING "web tests not registered: the digitd target is not part of this build (DG_PARTS)")
endif()
