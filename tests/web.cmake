# Web part (issue 5): the real stack (nginx.conf.example + a digitd pool) end to end over
# HTTP with curl, and the page in Debian's Chromium driven by playwright-core.
# Both are always registered: a missing nginx, curl, node, /usr/bin/chromium or
# playwright-core fails the test with a message naming it and the command that installs it
# (scripts/install-deps.sh --test, npm ci in tests/browser; scripts/test.sh runs both),
# instead of the test quietly not existing and ctest passing without it.
if(TARGET digitd AND TARGET server_pngs)
  add_test(NAME e2e_nginx
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e_nginx.sh $<TARGET_FILE:digitd>
                   $<TARGET_FILE:server_pngs> "${MNIST_DIR}")
  set_tests_properties(e2e_nginx PROPERTIES TIMEOUT 120 LABELS web)
  add_test(NAME browser COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser_run.sh $<TARGET_FILE:digitd>)
  # Screenshots of failed checks: kept in the build dir, their paths printed by the test.
  set_tests_properties(browser PROPERTIES TIMEOUT 240 LABELS web
                       ENVIRONMENT "ARTIFACTS=${CMAKE_BINARY_DIR}/browser-artifacts")
else()
  message(WARNING "web tests not registered: they need the digitd and server_pngs targets (DG_PARTS server, input)")
endif()
