# Runs a job in which a rank fails and checks that the whole job ends, non-zero, within the
# timeout (a hang fails the test), printing each of the regular expressions in EXPECT.
# Usage: cmake "-DCOMMAND=mpirun;...;program;args" "-DEXPECT=regex;regex" -P check_fault.cmake
string(TIMESTAMP start "%s")
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
string(TIMESTAMP stop "%s")
math(EXPR seconds "${stop} - ${start}")
message(STATUS "exit status '${status}' after ${seconds} s; stderr:\n${err}")
if(status MATCHES "timeout")
  message(FATAL_ERROR "the job hung: still running after 60 s")
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "the job exited 0 although a rank failed")
endif()
foreach(expected IN LISTS EXPECT)
  if(NOT "${out}${err}" MATCHES "${expected}")
    message(FATAL_ERROR "the output does not match '${expected}'")
  endif()
endforeach()
