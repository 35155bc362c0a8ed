# CMake toolchain file: resq for Raspberry Pi OS bookworm, 64-bit (arm64/aarch64:
# Pi 3, Pi 4, Pi 5, Zero 2 W), with Debian 12's cross compiler and a sysroot of
# Debian 12 arm64 packages.
#
#   toolchains/make-sysroot.sh arm64 toolchains/sysroot-arm64
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#         [-DRESQ_SYSROOT=/other/sysroot]
#   cmake --build build-arm64 && ctest --test-dir build-arm64      # tests run under qemu-aarch64
#
# Needs: g++-aarch64-linux-gnu, qemu-user (for ctest). See toolchains/README.md.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(RESQ_DEB_ARCH arm64)
set(RESQ_TRIPLET aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${RESQ_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${RESQ_TRIPLET}-g++)

# ARMv8-A baseline (what Debian arm64 and every 64-bit Pi provide). XNNPACK picks
# NEON-dot / Cortex-A53/A55-tuned kernels at run time; no -mcpu here on purpose.

include(${CMAKE_CURRENT_LIST_DIR}/resq-cross-common.cmake)
