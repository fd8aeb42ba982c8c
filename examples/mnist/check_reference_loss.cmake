# Trains the same short run twice, once with the fused loss kernel and once with --reference-loss
# (cross_entropy_reference), and checks that the science is the same: both reach test accuracy
# >= 0.90, their accuracies and mean confidences differ by at most 0.02 (the two paths' gradients
# agree within float rounding, so the runs drift apart only slowly), and metrics.json records which
# path trained.
# Usage: cmake -DPROGRAM=... -DDATA_DIR=... -DOUT=... -P check_reference_loss.cmake
cmake_minimum_required(VERSION 3.25)  # quoted strings in if() are strings, not variable names
include(${CMAKE_CURRENT_LIST_DIR}/skip_without_data.cmake)
skip_without_data()
file(REMOVE_RECURSE ${OUT})
foreach(path fast reference)
  set(flags "")
  if(path STREQUAL "reference")
    set(flags "--reference-loss")
  endif()
  execute_process(COMMAND ${PROGRAM} --data-dir ${DATA_DIR} --epochs 1 --train-limit 10000 --eps 0.1 ${flags}
                          --out ${OUT}/${path} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "mnist_smoothing ${flags} exited with ${status}")
  endif()
  file(READ ${OUT}/${path}/metrics.json metrics)
  string(JSON uses_reference GET "${metrics}" reference_loss)
  string(JSON accuracy_${path} GET "${metrics}" runs 0 test_accuracy)
  string(JSON confidence_${path} GET "${metrics}" runs 0 mean_confidence)
  message(STATUS "${path}: reference_loss ${uses_reference}, test accuracy ${accuracy_${path}}, "
                 "mean confidence ${confidence_${path}}")
  if(accuracy_${path} LESS 0.90)
    message(FATAL_ERROR "${path}: test accuracy ${accuracy_${path}} < 0.90")
  endif()
  if((path STREQUAL "reference") AND NOT uses_reference)
    message(FATAL_ERROR "metrics.json of the --reference-loss run says reference_loss ${uses_reference}")
  endif()
  if((path STREQUAL "fast") AND uses_reference)
    message(FATAL_ERROR "metrics.json of the fused run says reference_loss ${uses_reference}")
  endif()
endforeach()
# CMake's math is integer-only: compare in millionths. A value in [0, 1] as printed by metrics.json
# ("0.9123", "1.0", "0.5") becomes an integer of millionths.
function(to_millionths value out)
  string(REGEX MATCH "^([0-9]+)(\\.([0-9]*))?" ignored "${value}")
  set(fraction "${CMAKE_MATCH_3}000000")
  string(SUBSTRING "${fraction}" 0 6 fraction)
  math(EXPR result "${CMAKE_MATCH_1} * 1000000 + 1${fraction} - 1000000")
  set(${out} ${result} PARENT_SCOPE)
endfunction()
foreach(metric accuracy confidence)
  to_millionths(${${metric}_fast} a)
  to_millionths(${${metric}_reference} b)
  math(EXPR difference "${a} - ${b}")
  if(difference GREATER 20000 OR difference LESS -20000)
    message(FATAL_ERROR "${metric}: fused ${${metric}_fast} and reference ${${metric}_reference} differ by more than 0.02")
  endif()
endforeach()
