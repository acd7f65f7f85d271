# Web part (issue 5): the real stack (nginx.conf.example + a digitd pool) end to end over
# HTTP with curl, and the page in Debian's Chromium driven by playwright-core.
find_program(NGINX_BIN nginx PATHS /usr/sbin)
find_program(NODE_BIN node)
if(TARGET digitd AND TARGET server_pngs AND NGINX_BIN)
  add_test(NAME e2e_nginx
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e_nginx.sh $<TARGET_FILE:digitd>
                   $<TARGET_FILE:server_pngs> "${MNIST_DIR}")
  set_tests_properties(e2e_nginx PROPERTIES TIMEOUT 120 LABELS web)
else()
  message(WARNING "e2e_nginx not registered: needs digitd, server_pngs and nginx")
endif()
if(TARGET digitd AND NGINX_BIN AND NODE_BIN AND EXISTS /usr/bin/chromium)
  add_test(NAME browser COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser_run.sh $<TARGET_FILE:digitd>)
  # Screenshots of failed checks: kept in the build dir, their paths printed by the test.
  set_tests_properties(browser PROPERTIES TIMEOUT 180 LABELS web
                       ENVIRONMENT "ARTIFACTS=${CMAKE_BINARY_DIR}/browser-artifacts")
else()
  message(WARNING "browser test not registered: needs digitd, nginx, node and /usr/bin/chromium")
endif()
