# Shared part of toolchains/aarch64-linux-gnu.cmake and toolchains/arm-linux-gnueabihf.cmake.
# Not a toolchain file by itself. The including file sets CMAKE_SYSTEM_PROCESSOR,
# the compilers, RESQ_DEB_ARCH (arm64|armhf) and RESQ_TRIPLET.
#
# RESQ_SYSROOT (cache PATH): sysroot made by `toolchains/make-sysroot.sh <arch> DIR`.
#   Default: $ENV{RESQ_SYSROOT} if set, else toolchains/sysroot-<arch> next to this file
#   (i.e. `toolchains/make-sysroot.sh arm64 toolchains/sysroot-arm64`).

set(CMAKE_SYSTEM_NAME Linux)

if(DEFINED ENV{RESQ_SYSROOT} AND NOT "$ENV{RESQ_SYSROOT}" STREQUAL "")
  set(_resq_sysroot_default "$ENV{RESQ_SYSROOT}")
else()
  set(_resq_sysroot_default "${CMAKE_CURRENT_LIST_DIR}/sysroot-${RESQ_DEB_ARCH}")
endif()
set(RESQ_SYSROOT "${_resq_sysroot_default}" CACHE PATH
    "Sysroot for ${RESQ_TRIPLET} made by toolchains/make-sysroot.sh ${RESQ_DEB_ARCH} DIR")
get_filename_component(RESQ_SYSROOT "${RESQ_SYSROOT}" ABSOLUTE)
if(NOT EXISTS "${RESQ_SYSROOT}/.resq-sysroot-complete")
  message(FATAL_ERROR "RESQ_SYSROOT=${RESQ_SYSROOT} is not a complete resq sysroot: "
                      "run toolchains/make-sysroot.sh ${RESQ_DEB_ARCH} ${RESQ_SYSROOT}")
endif()
# try_compile/try_run projects re-read this file: hand them the same sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RESQ_SYSROOT)

# Debian's cross gcc keeps finding its own C library (/usr/<triplet>/{include,lib},
# relative to its install prefix) under --sysroot and adds the sysroot's
# /usr/include and multiarch lib dirs (/usr/lib/<triplet>) for XNNPACK & co.
set(CMAKE_SYSROOT "${RESQ_SYSROOT}")
set(CMAKE_LIBRARY_ARCHITECTURE ${RESQ_TRIPLET})

# find_*: target libraries/headers/CMake packages only from the sysroot (and the cross
# libc root, for e.g. find_library(m)); programs (flatc, pkg-config) from the host.
set(CMAKE_FIND_ROOT_PATH "${RESQ_SYSROOT}" "/usr/${RESQ_TRIPLET}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Let ld resolve the NEEDED entries of sysroot libraries (libXNNPACK -> libcpuinfo, ...).
set(_resq_rpath_link "-Wl,-rpath-link,${RESQ_SYSROOT}/usr/lib/${RESQ_TRIPLET}:${RESQ_SYSROOT}/lib/${RESQ_TRIPLET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_resq_rpath_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_resq_rpath_link}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_resq_rpath_link}")

# pkg-config (host binary) reading the target's .pc files, paths prefixed with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${RESQ_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${RESQ_SYSROOT}/usr/lib/${RESQ_TRIPLET}/pkgconfig:${RESQ_SYSROOT}/usr/share/pkgconfig:${RESQ_SYSROOT}/usr/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest / add_custom_command run target binaries under qemu-user (CPU: $RESQ_QEMU_CPU).
set(CMAKE_CROSSCOMPILING_EMULATOR
    "${CMAKE_CURRENT_LIST_DIR}/qemu-run.sh;--sysroot;${RESQ_SYSROOT};--arch;${RESQ_DEB_ARCH}")
