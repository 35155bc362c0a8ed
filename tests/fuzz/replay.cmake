# Replays every fuzz target's seeds and regression inputs in the normal test suite (any compiler, no
# fuzzer): test_fuzz_NAME links replay_inputs.cpp with the target's own fuzz_NAME.cpp.
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)

foreach(target ${resq_fuzz_targets})
  resq_test(test_fuzz_${target} ${RESQ_FUZZ_DIR}/replay_inputs.cpp ${RESQ_FUZZ_DIR}/fuzz_${target}.cpp)
  target_link_libraries(test_fuzz_${target} PRIVATE ${resq_fuzz_${target}_libs})
  target_include_directories(test_fuzz_${target} PRIVATE ${RESQ_FUZZ_DIR} ${resq_fuzz_${target}_includes})
  string(REPLACE ";" "|" seeds "${resq_fuzz_${target}_seeds}")
  target_compile_definitions(test_fuzz_${target} PRIVATE RESQ_FUZZ_SEEDS="${seeds}"
                             RESQ_FUZZ_REGRESSIONS="${RESQ_FUZZ_DIR}/regressions/${target}")
endforeach()

# The GraphBuilder seeds of model_load are written by a skipped test case of the same program.
target_sources(test_fuzz_model_load PRIVATE ${RESQ_FUZZ_DIR}/write_model_seeds.cpp)
target_include_directories(test_fuzz_model_load PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(test_fuzz_model_load PRIVATE RESQ_FUZZ_DIR="${RESQ_FUZZ_DIR}")
