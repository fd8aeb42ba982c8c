# OpenBLAS kernel selection, end to end, on this machine. OPENBLAS_CORETYPE=Prescott with
# HUMBLE_TEST_OPENBLAS_FALLBACK=1 stands for a CPU OpenBLAS does not recognise (it picks its generic
# kernels by itself); OPENBLAS_CORETYPE alone is a user's own choice.
#   1. a humble program (--select) moves to the best kernels for this CPU, after its probe run's
#      GEMM check, and says nothing;
#   2. a library user's program gets one warning naming the fix, at its first GEMM;
#   3. a kernel set the user chose is kept, without a warning;
#   4. with nothing set, OpenBLAS's own choice stays unless it is below the best set (as the generic
#      kernels it falls back to on a CPU it does not recognise are): then the program moves to the best.
# On a CPU without AVX there is nothing better than the generic kernels: 1 and 2 then expect them, quietly.
# Usage: cmake -DPROBE=... -P check_selection.cmake
function(run_probe out err)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE stdout
                  ERROR_VARIABLE stderr)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${ARGN} exited with ${status}: ${stdout} ${stderr}")
  endif()
  set(${out} "${stdout}" PARENT_SCOPE)
  set(${err} "${stderr}" PARENT_SCOPE)
endfunction()
function(field text name result)
  string(REGEX MATCH "${name}=([^ \n]*)" _ "${text}")
  set(${result} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
# require(<message> <condition…>): fails with the message unless the condition holds. The condition
# reaches if() through ${ARGN}, which drops empty arguments: test a variable for emptiness by its
# name (NOT best), never against "".
macro(require message)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "${message}")
  endif()
endmacro()

set(fallback OPENBLAS_CORETYPE=Prescott HUMBLE_TEST_OPENBLAS_FALLBACK=1 --unset=HUMBLE_PROFILE)

# 1.
run_probe(out err ${fallback} ${PROBE} --select)
field("${out}" kernels kernels)
field("${out}" best best)
field("${out}" replaced replaced)
message(STATUS "humble program on a generic-kernel fallback: ${out}")
if(best STREQUAL "")
  require("no better kernels exist, yet the program left Prescott: ${out}" kernels STREQUAL "Prescott")
else()
  require("the program did not move to ${best}: ${out}" kernels STREQUAL best)
  require("blas_info().replaced should name Prescott: ${out}" replaced STREQUAL "Prescott")
endif()
require("the program warned although it moved: ${err}" NOT err MATCHES "humble: [[]blas]")
field("${out}" sum sum)
require("the GEMM on the new kernels gave ${sum}" sum STREQUAL "finite")

# 2.
run_probe(out err ${fallback} ${PROBE})
field("${out}" kernels kernels)
require("a library user's program must not be restarted: ${out}" kernels STREQUAL "Prescott")
string(REGEX MATCHALL "humble: [[]blas]" warnings "${err}")
list(LENGTH warnings count)
if(best STREQUAL "")
  require("warned although nothing better exists: ${err}" count EQUAL 0)
else()
  require("expected exactly one warning, got ${count}: ${err}" count EQUAL 1)
  require("the warning does not name the fix: ${err}" err MATCHES "OPENBLAS_CORETYPE=${best}")
  message(STATUS "library user's warning: ${err}")
endif()

# 3.
run_probe(out err OPENBLAS_CORETYPE=Prescott --unset=HUMBLE_TEST_OPENBLAS_FALLBACK ${PROBE} --select)
field("${out}" kernels kernels)
require("the user's OPENBLAS_CORETYPE was not kept: ${out}" kernels STREQUAL "Prescott")
require("warned about the user's own choice: ${err}" NOT err MATCHES "humble: [[]blas]")

# 4. OpenBLAS's own choice is what a library user's program runs on (it is not restarted).
run_probe(own_out own_err --unset=OPENBLAS_CORETYPE --unset=HUMBLE_TEST_OPENBLAS_FALLBACK ${PROBE})
field("${own_out}" kernels own)
run_probe(out err --unset=OPENBLAS_CORETYPE --unset=HUMBLE_TEST_OPENBLAS_FALLBACK ${PROBE} --select)
field("${out}" kernels kernels)
field("${out}" replaced replaced)
if(replaced)
  # Only from a set below the best (a CPU OpenBLAS does not recognise, as on 1.), and to the best.
  require("moved from ${replaced} to ${kernels}, expected from OpenBLAS's own ${own} to ${best}: ${out}"
          replaced STREQUAL own AND kernels STREQUAL best AND NOT own STREQUAL best)
else()
  require("OpenBLAS's own choice ${own} was not kept: ${out}" kernels STREQUAL own)
  # Prescott is what OpenBLAS falls back to on a CPU it does not know: that must give way.
  require("OpenBLAS fell back to Prescott and the program stayed there, though ${best} exists: ${out}"
          NOT best OR NOT own STREQUAL "Prescott")
endif()
require("warned about OpenBLAS's own choice: ${err}" NOT err MATCHES "humble: [[]blas]")
message(STATUS "nothing set: OpenBLAS chose ${own}; ${out}")
