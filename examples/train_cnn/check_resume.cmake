# train_cnn run whole, and stopped and resumed at step 20 (mid-epoch: 32 batches an epoch) and at
# step 64 (between epochs 2 and 3): the final checkpoints (weights, AdamW's moments, the schedule,
# Dropout's generator, the loader's state, the step) must be the same bytes.
# Usage: cmake -DPROGRAM=... -DOUT=... -P check_resume.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
function(run)
  execute_process(COMMAND ${PROGRAM} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE output)
  message(STATUS "train_cnn ${ARGN}:\n${output}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "train_cnn ${ARGN} exited with ${status}")
  endif()
endfunction()
run(--checkpoint ${OUT}/whole.ckpt)
foreach(stop 20 64)
  run(--stop-after ${stop} --checkpoint ${OUT}/stopped-${stop}.ckpt)
  run(--resume ${OUT}/stopped-${stop}.ckpt --checkpoint ${OUT}/resumed-${stop}.ckpt)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT}/whole.ckpt ${OUT}/resumed-${stop}.ckpt
                  RESULT_VARIABLE different)
  if(different)
    message(FATAL_ERROR "stopped at step ${stop} and resumed: the final checkpoint differs from the whole run's")
  endif()
  # The stopped run's state is not the final one (the check above could not pass by accident).
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT}/whole.ckpt ${OUT}/stopped-${stop}.ckpt
                  RESULT_VARIABLE different)
  if(NOT different)
    message(FATAL_ERROR "the checkpoint at step ${stop} equals the final one")
  endif()
endforeach()
