# The fuzz targets, for both builds that use them: the libFuzzer build (CMakeLists.txt here, -DRESQ_FUZZ=ON)
# and the replay tests of the normal suite (replay.cmake). Target NAME is fuzz_NAME.cpp here; it links
# resq_fuzz_NAME_libs, includes resq_fuzz_NAME_includes and starts from resq_fuzz_NAME_seeds (folders or
# files: committed seeds and the project's own real inputs); crash inputs, once fixed, go to regressions/NAME/.
set(RESQ_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

set(resq_fuzz_targets model_load image_decode npy)
set(resq_fuzz_model_load_libs resq resq_builder resq_preprocess)
set(resq_fuzz_model_load_seeds ${RESQ_FUZZ_DIR}/corpus/model_load ${PROJECT_SOURCE_DIR}/tests/data/fashion_mnist_int8.resq)
set(resq_fuzz_image_decode_libs resq_preprocess ${STB_LIBRARY})
set(resq_fuzz_image_decode_includes ${STB_INCLUDE_DIR})
set(resq_fuzz_image_decode_seeds ${RESQ_FUZZ_DIR}/corpus/image_decode ${PROJECT_SOURCE_DIR}/models/samples)
set(resq_fuzz_npy_libs resq_npy)
set(resq_fuzz_npy_seeds ${RESQ_FUZZ_DIR}/corpus/npy)

if(TARGET resq_examples)
  list(APPEND resq_fuzz_targets camera_frames)
  set(resq_fuzz_camera_frames_libs resq_examples)
  set(resq_fuzz_camera_frames_seeds ${RESQ_FUZZ_DIR}/corpus/camera_frames)
endif()

if(TARGET resq_convert_lib)
  list(APPEND resq_fuzz_targets onnx_reader)
  set(resq_fuzz_onnx_reader_libs resq_convert_lib)
  set(resq_fuzz_onnx_reader_seeds ${RESQ_FUZZ_DIR}/corpus/onnx_reader ${PROJECT_SOURCE_DIR}/models/fashion_mnist_resnet.onnx)
endif()
