# browser_test.cmake - runs one browser test file of tests/web (ctest web.*): node's test runner
# with playwright-core driving Debian's chromium against the real sesamed. Fails, never skips,
# when node, chromium, certutil (libnss3-tools) or tests/web/node_modules is missing.
# Usage: cmake -DTEST=file.test.mjs -DWEB_DIR=tests/web -DSESAMED=... [-DCHROMIUM=...] -DOUT=...
#              -P browser_test.cmake
# $CHROMIUM and $WEB_TEST_OUT in the environment of ctest take precedence over -DCHROMIUM/-DOUT.
find_program(NODE node)
if(NOT NODE)
  message(FATAL_ERROR "node is not installed: install nodejs and npm, then run `npm ci` in tests/web")
endif()
foreach(f playwright-core/package.json axe-core/axe.min.js)
  if(NOT EXISTS "${WEB_DIR}/node_modules/${f}")
    message(FATAL_ERROR "tests/web/node_modules is missing (${f}): run `npm ci` in tests/web "
      "(scripts/deps.sh does)")
  endif()
endforeach()
if(DEFINED ENV{CHROMIUM} AND NOT "$ENV{CHROMIUM}" STREQUAL "")
  set(CHROMIUM "$ENV{CHROMIUM}")
elseif(NOT CHROMIUM)
  set(CHROMIUM /usr/bin/chromium)
endif()
if(NOT EXISTS "${CHROMIUM}")
  message(FATAL_ERROR "Chromium not found (${CHROMIUM}): install Debian's package `chromium` "
    "(apt-get install chromium; scripts/deps.sh does), or set CHROMIUM; never a downloaded browser")
endif()
find_program(CERTUTIL certutil)
if(NOT CERTUTIL)
  message(FATAL_ERROR "certutil not found: install Debian's package `libnss3-tools` (scripts/deps.sh "
    "does); the browser trusts the test CA through its NSS database")
endif()
if(NOT EXISTS "${WEB_DIR}/../../clients/web/node_modules/esbuild/package.json")
  message(FATAL_ERROR "clients/web/node_modules is missing: run `npm ci` in clients/web "
    "(scripts/deps.sh does)")
endif()
if(NOT EXISTS "${SESAMED}")
  message(FATAL_ERROR "sesamed not found at ${SESAMED}: build it first")
endif()
if(DEFINED ENV{WEB_TEST_OUT} AND NOT "$ENV{WEB_TEST_OUT}" STREQUAL "")
  set(OUT "$ENV{WEB_TEST_OUT}")
endif()
set(ENV{SESAMED} "${SESAMED}")
set(ENV{SESAME_CLI} "${SESAME_CLI}")
set(ENV{CHROMIUM} "${CHROMIUM}")
set(ENV{WEB_TEST_OUT} "${OUT}")
message(STATUS "screenshots: ${OUT}")
execute_process(COMMAND "${NODE}" --test-reporter=spec "${WEB_DIR}/${TEST}"
  WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc TIMEOUT 230)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST} failed (${rc})")
endif()
