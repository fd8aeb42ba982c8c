# skip_without_data(): for the real-data study tests. Without MNIST in DATA_DIR the test reports
# itself skipped (ctest's SKIP_REGULAR_EXPRESSION "SKIPPED:") with the reason and stops, unless real
# data was asked for (HUMBLE_REAL_DATA=1, as scripts/test sets it after fetching the data): then it
# fails. A macro, so that its return() ends the calling script.
macro(skip_without_data)
  if(NOT EXISTS ${DATA_DIR}/train-images-idx3-ubyte AND NOT EXISTS ${DATA_DIR}/train-images-idx3-ubyte.gz)
    if("$ENV{HUMBLE_REAL_DATA}" STREQUAL "1")
      message(FATAL_ERROR "HUMBLE_REAL_DATA=1 but ${DATA_DIR} holds no MNIST: run scripts/fetch-data mnist")
    endif()
    message("SKIPPED: ${DATA_DIR} holds no MNIST; run scripts/fetch-data mnist to run this test")
    return()
  endif()
endmacro()
