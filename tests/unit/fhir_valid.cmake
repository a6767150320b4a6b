# fhir_valid.cmake - ctest unit.export_fhir_valid: writes the sample FHIR Bundle with GEN into
# OUT, then validates it with node and tests/fhir/validate.mjs (the npm fhir package). Fails,
# never skips, when node or tests/fhir/node_modules is missing.
# Usage: cmake -DGEN=... -DFHIR_DIR=... -DOUT=... -P fhir_valid.cmake
find_program(NODE node)
if(NOT NODE)
  message(FATAL_ERROR "node is not installed: install nodejs and npm, then run `npm ci` in tests/fhir")
endif()
if(NOT EXISTS "${FHIR_DIR}/node_modules/fhir/package.json")
  message(FATAL_ERROR "tests/fhir/node_modules is missing: run `npm ci` in tests/fhir (scripts/deps.sh does)")
endif()
execute_process(COMMAND "${GEN}" "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gen_export_sample failed (${rc})")
endif()
execute_process(COMMAND "${NODE}" "${FHIR_DIR}/validate.mjs" "${OUT}" WORKING_DIRECTORY "${FHIR_DIR}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the sample FHIR Bundle is not valid (validate.mjs exit ${rc})")
endif()
