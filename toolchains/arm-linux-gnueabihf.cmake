# CMake toolchain file: resq for 32-bit ARM hard-float (armhf, ARMv7-A + NEON:
# Pi 2, and Pi 3/4/Zero 2 W in 32-bit mode), with Debian 12's cross compiler and a
# sysroot of Debian 12 armhf packages.
#
#   toolchains/make-sysroot.sh armhf toolchains/sysroot-armhf
#   cmake -S . -B build-armhf -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#         [-DRESQ_SYSROOT=/other/sysroot]
#   cmake --build build-armhf && ctest --test-dir build-armhf      # tests run under qemu-arm
#
# Needs: g++-arm-linux-gnueabihf, qemu-user (for ctest). See toolchains/README.md.
# Not for ARMv6 boards (Pi 1, Zero/Zero W): XNNPACK's armv7 path requires NEON.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

set(RESQ_DEB_ARCH armhf)
set(RESQ_TRIPLET arm-linux-gnueabihf)

set(CMAKE_C_COMPILER ${RESQ_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${RESQ_TRIPLET}-g++)

# Debian's armhf default is -march=armv7-a+fp -mfpu=vfpv3-d16 (no NEON); every Pi
# from the Pi 2 on has NEON + VFPv4.
set(_resq_arm_flags "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard")
set(CMAKE_C_FLAGS_INIT "${_resq_arm_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_resq_arm_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_resq_arm_flags}")

include(${CMAKE_CURRENT_LIST_DIR}/resq-cross-common.cmake)
