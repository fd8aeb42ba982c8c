# The study under mpirun against the same flags in one process (both with --threads 1).
#   MODE=data:  FLAGS train one run on all 55,000 training images; the 2-process data-parallel
#               run's test accuracy is within 0.3 % (0.003) of the one-process run's.
#   MODE=sweep: FLAGS make an experiment of several runs, dealt out to 2 processes (rank 1 must
#               report runs of its own); every number in metrics.json and history.csv, and every
#               picture, equals the one-process run's bit for bit (all but the seconds, the world
#               size and the mode).
# Either way metrics.json says world_size 2, and only rank 0 printed the table.
# Usage: cmake -DPROGRAM=... -DMPIRUN="mpiexec;--oversubscribe;...;-n" -DDATA_DIR=... -DOUT=...
#              -DMODE=data|sweep "-DFLAGS=--epochs;1;..." -P check_parallel.cmake
file(REMOVE_RECURSE ${OUT})
set(flags --data-dir ${DATA_DIR} --threads 1 ${FLAGS})
execute_process(COMMAND ${PROGRAM} ${flags} --out ${OUT}/alone RESULT_VARIABLE status OUTPUT_QUIET TIMEOUT 300)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "mnist_smoothing alone exited with ${status}")
endif()
execute_process(COMMAND ${MPIRUN} 2 ${PROGRAM} ${flags} --parallel ${MODE} --out ${OUT}/parallel
                RESULT_VARIABLE status OUTPUT_VARIABLE stdout TIMEOUT 300)
message(STATUS "${stdout}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "mpirun -np 2 mnist_smoothing --parallel ${MODE} exited with ${status}")
endif()
file(READ ${OUT}/alone/metrics.json alone)
file(READ ${OUT}/parallel/metrics.json parallel)
string(JSON world_size GET "${parallel}" world_size)
if(NOT world_size EQUAL 2)
  message(FATAL_ERROR "metrics.json says world_size ${world_size}, expected 2")
endif()
string(REGEX MATCHALL "\nwrote [0-9]+ files" closing "${stdout}")
list(LENGTH closing count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "the files were written ${count} times, expected once (by rank 0)")
endif()

if(MODE STREQUAL "data")
  string(JSON a GET "${alone}" runs 0 test_accuracy)
  string(JSON b GET "${parallel}" runs 0 test_accuracy)
  message(STATUS "test accuracy: one process ${a}, 2 processes ${b}")
  # math() is integer only: compare accuracies in parts per 10,000 test images.
  string(REGEX REPLACE "^0\\.([0-9][0-9][0-9][0-9]).*" "\\1" a4 "${a}0000")
  string(REGEX REPLACE "^0\\.([0-9][0-9][0-9][0-9]).*" "\\1" b4 "${b}0000")
  math(EXPR gap "${a4} - ${b4}")
  if(gap GREATER 30 OR gap LESS -30)
    message(FATAL_ERROR "test accuracy differs by ${gap} in 10,000: one process ${a}, 2 processes ${b}")
  endif()
else()
  if(NOT stdout MATCHES "\\[rank 1/2\\] \\[1/")
    message(FATAL_ERROR "rank 1 reported no run of its own: the runs were not dealt out")
  endif()
  file(STRINGS ${OUT}/alone/metrics.json a)
  file(STRINGS ${OUT}/parallel/metrics.json b)
  list(FILTER a EXCLUDE REGEX "seconds|\"parallel\"|\"world_size\"")
  list(FILTER b EXCLUDE REGEX "seconds|\"parallel\"|\"world_size\"")
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "metrics.json of the sweep differs from the one-process run's")
  endif()
  # history.csv: every column but the 13th, seconds (CMake's regular expressions have no {12}).
  set(twelve_columns "[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,")
  file(STRINGS ${OUT}/alone/history.csv a)
  file(STRINGS ${OUT}/parallel/history.csv b)
  list(TRANSFORM a REPLACE "^(${twelve_columns})[^,]*" "\\1")
  list(TRANSFORM b REPLACE "^(${twelve_columns})[^,]*" "\\1")
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "history.csv of the sweep differs from the one-process run's")
  endif()
  file(GLOB pictures RELATIVE ${OUT}/alone ${OUT}/alone/*.svg)
  if(NOT pictures)
    message(FATAL_ERROR "the one-process run drew no pictures")
  endif()
  foreach(picture IN LISTS pictures)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT}/alone/${picture} ${OUT}/parallel/${picture}
                    RESULT_VARIABLE different)
    if(different)
      message(FATAL_ERROR "${picture} of the sweep differs from the one-process run's")
    endif()
  endforeach()
  list(LENGTH pictures count)
  message(STATUS "metrics.json, history.csv and ${count} pictures are bit-identical")
endif()
