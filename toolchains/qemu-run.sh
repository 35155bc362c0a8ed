#!/usr/bin/env bash
# qemu-run.sh [--sysroot DIR] [--arch arm64|armhf] [--] PROGRAM [ARGS...]
#
# Runs a cross-built resq binary under qemu-user, as CMAKE_CROSSCOMPILING_EMULATOR
# (set by toolchains/aarch64-linux-gnu.cmake and arm-linux-gnueabihf.cmake, so that
# ctest and add_custom_command(... COMMAND <target>) go through it):
#
#   qemu-aarch64|qemu-arm -L SYSROOT -cpu $RESQ_QEMU_CPU
#       -E LD_LIBRARY_PATH=SYSROOT/lib/<triplet>:SYSROOT/usr/lib/<triplet>
#       -E LD_PRELOAD=<fake-cpuinfo shim> -E RESQ_QEMU_CPU=... PROGRAM ARGS...
#
# The shim (toolchains/fake-cpuinfo.c) makes /proc/cpuinfo in the guest describe the
# emulated core, so XNNPACK's cpuinfo detects the right microarchitecture. It is
# built on first use with the cross compiler into a cache dir keyed by the hash of
# its source (concurrent ctest -j runs are safe: atomic rename).
#
# --arch defaults to the ELF machine of PROGRAM; --sysroot to $RESQ_SYSROOT.
#
# Environment:
#   RESQ_QEMU_CPU    qemu -cpu model; default cortex-a72 (arm64) / cortex-a7 (armhf).
#                    With the shim: arm64 cortex-a53|cortex-a72|cortex-a76, armhf cortex-a7.
#   RESQ_QEMU_SHIM   0 = run without the fake /proc/cpuinfo shim (default 1)
#   RESQ_QEMU_CACHE  where the shim is built (default ${XDG_CACHE_HOME:-$HOME/.cache}/resq-qemu)
#   RESQ_QEMU_ARGS   extra qemu options, word-split (e.g. "-d in_asm -D /tmp/q.log", "-g 1234")
#   RESQ_SYSROOT     sysroot if --sysroot is not given
#   RESQ_FAKE_CPUINFO_FILE, RESQ_FAKE_CPUINFO_VERBOSE   passed to the shim (see fake-cpuinfo.c)
set -euo pipefail

me="qemu-run.sh"
die() { echo "$me: error: $*" >&2; exit 127; }
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

sysroot=${RESQ_SYSROOT:-}
arch=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sysroot) [[ $# -ge 2 ]] || die "--sysroot needs a value"; sysroot=$2; shift 2 ;;
    --sysroot=*) sysroot=${1#*=}; shift ;;
    --arch) [[ $# -ge 2 ]] || die "--arch needs a value"; arch=$2; shift 2 ;;
    --arch=*) arch=${1#*=}; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1 (usage: $me [--sysroot DIR] [--arch arm64|armhf] [--] PROGRAM [ARGS...])" ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || die "usage: $me [--sysroot DIR] [--arch arm64|armhf] [--] PROGRAM [ARGS...]"
prog=$1; shift
if [[ $prog != */* ]]; then prog=$(command -v -- "$prog") || die "program '$1' not found"; fi
[[ -f $prog ]] || die "program '$prog' not found"

if [[ -z $arch ]]; then
  # e_machine (little-endian u16 at offset 18): 183 = AArch64, 40 = ARM
  [[ $(head -c4 -- "$prog" | od -An -c | tr -d ' ') == 177ELF ]] || die "'$prog' is not an ELF file"
  case "$(od -An -tu2 -j18 -N2 -- "$prog" | tr -d ' ')" in
    183) arch=arm64 ;;
    40) arch=armhf ;;
    *) die "'$prog' is neither an AArch64 nor an ARM ELF (pass --arch)" ;;
  esac
fi
case "$arch" in
  arm64) qemu="qemu-aarch64"; triplet=aarch64-linux-gnu;   default_cpu=cortex-a72 ;;
  armhf) qemu="qemu-arm";     triplet=arm-linux-gnueabihf; default_cpu=cortex-a7 ;;
  *) die "--arch must be arm64 or armhf, got '$arch'" ;;
esac
command -v "$qemu" >/dev/null || die "$qemu not found: apt-get install qemu-user"
[[ -n $sysroot ]] || die "no sysroot: pass --sysroot DIR or set RESQ_SYSROOT (toolchains/make-sysroot.sh $arch DIR builds one)"
sysroot=$(realpath -- "$sysroot" 2>/dev/null) || die "sysroot '$sysroot' does not exist"
[[ -f $sysroot/.resq-sysroot-complete ]] ||
  die "$sysroot is not a complete resq sysroot (run toolchains/make-sysroot.sh $arch $sysroot)"
cpu=${RESQ_QEMU_CPU:-$default_cpu}

guest_env=(
  -E "LD_LIBRARY_PATH=$sysroot/lib/$triplet:$sysroot/usr/lib/$triplet"
  -E "RESQ_QEMU_CPU=$cpu"
)

if [[ ${RESQ_QEMU_SHIM:-1} != 0 ]]; then
  src=$here/fake-cpuinfo.c
  [[ -f $src ]] || die "$src missing"
  cc=$triplet-gcc
  command -v "$cc" >/dev/null || die "$cc not found: apt-get install gcc-$triplet"
  key=$( { cat -- "$src"; "$cc" --version | head -n1; } | sha256sum | cut -c1-16)
  cache=${RESQ_QEMU_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/resq-qemu}
  shim=$cache/$arch-$key/libfakecpuinfo.so
  if [[ ! -f $shim ]]; then
    mkdir -p -- "${shim%/*}" || die "cannot create $cache"
    tmp=$(mktemp -- "$shim.XXXXXX")
    # The shim defines open and open64 itself; Debian 13's armhf compiler makes 64-bit off_t and time_t the
    # default, which turns open into open64 and the two definitions into one symbol defined twice.
    if ! err=$("$cc" -shared -fPIC -O2 -Wall -U_FILE_OFFSET_BITS -U_TIME_BITS -o "$tmp" "$src" 2>&1); then
      rm -f -- "$tmp"
      die "building the cpuinfo shim failed: $(echo "$err" | head -n1)"
    fi
    mv -f -- "$tmp" "$shim"
  fi
  guest_env+=(-E "LD_PRELOAD=$shim")
  for v in RESQ_FAKE_CPUINFO_FILE RESQ_FAKE_CPUINFO_VERBOSE; do
    if [[ -n ${!v:-} ]]; then guest_env+=(-E "$v=${!v}"); fi
  done
fi

# shellcheck disable=SC2086  # RESQ_QEMU_ARGS is meant to be word-split
exec "$qemu" -L "$sysroot" -cpu "$cpu" "${guest_env[@]}" ${RESQ_QEMU_ARGS:-} "$prog" "$@"
