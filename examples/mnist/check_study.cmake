# Runs mnist_smoothing for 1 epoch on 10,000 real MNIST images with ε = 0 and ε = 0.1, then checks
# metrics.json: both reach test accuracy >= 0.90, and ε = 0.1 gives lower mean test confidence.
# Usage: cmake -DPROGRAM=... -DDATA_DIR=... -DOUT=... -P check_study.cmake
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${PROGRAM} --data-dir ${DATA_DIR} --epochs 1 --train-limit 10000 --eps 0,0.1 --out ${OUT}
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "mnist_smoothing exited with ${status}")
endif()
file(READ ${OUT}/metrics.json metrics)
foreach(i 0 1)
  string(JSON eps GET "${metrics}" runs ${i} eps)
  string(JSON accuracy GET "${metrics}" runs ${i} test_accuracy)
  string(JSON confidence_${i} GET "${metrics}" runs ${i} mean_confidence)
  message(STATUS "eps ${eps}: test accuracy ${accuracy}, mean confidence ${confidence_${i}}")
  if(accuracy LESS 0.90)
    message(FATAL_ERROR "eps ${eps}: test accuracy ${accuracy} < 0.90")
  endif()
endforeach()
if(NOT confidence_1 LESS confidence_0)
  message(FATAL_ERROR "eps 0.1 mean confidence ${confidence_1} is not below eps 0 ${confidence_0}")
endif()
foreach(picture reliability.svg confidence_histograms.svg training_curves.svg logit_gap.svg penultimate.svg sweep.svg
                report.html history.csv)
  if(NOT EXISTS ${OUT}/${picture})
    message(FATAL_ERROR "missing ${OUT}/${picture}")
  endif()
endforeach()
