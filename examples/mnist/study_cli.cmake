# mnist_smoothing's command line (cli.cpp), compiled once for the study and for its fuzz target
# (tests/fuzz/fuzz_study_args.cpp): CLI11, header-only, takes a quarter of a minute to compile.
# Built only for a target that links it.
find_package(CLI11 CONFIG REQUIRED)
add_library(study_cli OBJECT EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/cli.cpp)
target_link_libraries(study_cli PUBLIC humble::humble CLI11::CLI11)
target_compile_options(study_cli PRIVATE -Wall -Wextra -Wpedantic)
