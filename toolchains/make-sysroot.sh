#!/usr/bin/env bash
# make-sysroot.sh ARCH OUTDIR
#
# Builds a cross-compilation sysroot for resq from Debian 12 (bookworm) packages
# of the target architecture, for Raspberry Pi OS bookworm:
#   ARCH = arm64  (aarch64: Pi 3/4/5, Zero 2 W)
#   ARCH = armhf  (32-bit armv7 hard-float: Pi 2/3/4 in 32-bit mode)
#
# How: a private apt state (lists/cache under the cache dir below) with
# APT::Architecture=ARCH reads the host's own apt sources, `apt-get download`
# fetches the .deb files and `dpkg -x` unpacks them into OUTDIR. Nothing is
# installed on the host and the host's dpkg architectures are left alone.
#
# The compiler's C library (crt*.o, libc.so, headers, libstdc++) comes from the
# Debian cross toolchain (/usr/<triplet>); the sysroot additionally carries the
# target's own runtime libc6/libgcc-s1/libstdc++6 so that every NEEDED entry of
# the shipped shared libraries resolves inside OUTDIR alone (checked below) and
# qemu can run binaries with `-L OUTDIR`.
#
# flatc is NOT taken from the sysroot: use the host's flatc (flatbuffers-compiler,
# amd64). flatbuffers-compiler-dev is deliberately left out: its
# FlatcTargets.cmake would point flatbuffers::flatc at a non-existent target flatc.
#
# Idempotent: if OUTDIR holds a complete sysroot for the same ARCH and package
# list, it only says so. RESQ_SYSROOT_FORCE=1 rebuilds.
#
# Environment:
#   RESQ_SYSROOT_CACHE  apt state + downloaded .debs
#                       (default: ${XDG_CACHE_HOME:-$HOME/.cache}/resq-sysroot/ARCH)
#   RESQ_SYSROOT_FORCE  1 = rebuild even if OUTDIR is complete
set -euo pipefail

prog=make-sysroot.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
say() { echo "$prog: $*"; }

[[ $# -eq 2 ]] || die "usage: $prog arm64|armhf OUTDIR"
arch=$1
case "$arch" in
  arm64) triplet=aarch64-linux-gnu;   loader=ld-linux-aarch64.so.1; elf_machine=AArch64 ;;
  armhf) triplet=arm-linux-gnueabihf; loader=ld-linux-armhf.so.3;   elf_machine=ARM ;;
  *) die "ARCH must be arm64 or armhf, got '$arch'" ;;
esac
[[ -n $2 ]] || die "OUTDIR is empty"
out=$(realpath -m -- "$2")
[[ $out != / ]] || die "refusing to use / as OUTDIR"

# Target packages. Shared libraries and their -dev packages, plus the target's
# C/C++ runtime (see header). Arch:all header-only packages come along as well.
packages=(
  # XNNPACK and what libXNNPACK.so.0 needs (cpuinfo ships clog statically: no libclog0)
  libxnnpack0 libxnnpack-dev
  libpthreadpool0 libpthreadpool-dev
  libcpuinfo0 libcpuinfo-dev
  # image loading, flatbuffers runtime, tests, CLI
  libstb0 libstb-dev
  libflatbuffers2 libflatbuffers-dev
  doctest-dev
  libcli11-dev
  # runtime of the target (NEEDED by the above: libc.so.6 libm.so.6 libgcc_s.so.1 libstdc++.so.6 ld-linux-*)
  libc6 libgcc-s1 libstdc++6
)
stamp_name=.resq-sysroot-complete
stamp_version=1  # bump when the layout produced below changes
stamp_want="v=$stamp_version arch=$arch triplet=$triplet packages=${packages[*]}"

# ---- idempotency -----------------------------------------------------------
if [[ -f $out/$stamp_name && ${RESQ_SYSROOT_FORCE:-0} != 1 ]]; then
  if [[ $(head -n1 "$out/$stamp_name") == "$stamp_want" ]]; then
    say "$out is already a complete $arch sysroot (delete it or set RESQ_SYSROOT_FORCE=1 to rebuild)"
    exit 0
  fi
  say "$out was built by another version of this script: rebuilding"
fi
if [[ -e $out ]]; then
  # Only ever delete what this script created.
  if [[ -f $out/$stamp_name || -f $out/.resq-sysroot-partial ]] || [[ -d $out && -z $(ls -A "$out") ]]; then
    rm -rf -- "$out"
  else
    die "$out exists and is not a resq sysroot: remove it or choose another OUTDIR"
  fi
fi

for tool in apt-get apt-cache dpkg-deb readelf realpath; do
  command -v "$tool" >/dev/null || die "'$tool' not found on the host"
done
command -v "$triplet-gcc" >/dev/null ||
  die "cross compiler $triplet-gcc not found: apt-get install g++-$triplet"
cross_lib=/usr/$triplet/lib
[[ -d $cross_lib ]] || die "$cross_lib missing: the Debian cross toolchain for $triplet is not installed"

t0=$(date +%s)
cache=${RESQ_SYSROOT_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/resq-sysroot/$arch}
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs" || die "cannot create cache dir $cache"
: >"$cache/status"
apt_opts=(
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State::Lists=$cache/lists" -o "Dir::State::status=$cache/status"
  -o "Dir::Cache=$cache" -o "Dir::Cache::archives=$cache/archives"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
  -o "Acquire::Retries=3" -q
)

# ---- package lists (private; ARCH only) -----------------------------------
say "updating $arch package lists (private apt state in $cache)"
if ! apt-get "${apt_opts[@]}" update >"$cache/update.log" 2>&1; then
  # A single stale index (e.g. a mirror in sync) must not stop us as long as
  # every package we need still has a candidate; that is checked right below.
  {
    echo "$prog: warning: apt-get update reported errors (see $cache/update.log):"
    grep -E '^(E|W):' "$cache/update.log" | sed "s/^/$prog:   /" || true
  } >&2
fi

# ---- resolve exact versions -----------------------------------------------
declare -a pins=() missing=()
for p in "${packages[@]}"; do
  v=$(apt-cache "${apt_opts[@]}" policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  if [[ -z $v || $v == "(none)" ]]; then missing+=("$p:$arch"); else pins+=("$p=$v"); fi
done
[[ ${#missing[@]} -eq 0 ]] || die "no candidate in Debian 12 for: ${missing[*]}"

# ---- download (reuses .debs already in the cache) -------------------------
say "downloading ${#pins[@]} packages"
(cd "$cache/debs" && apt-get "${apt_opts[@]}" download "${pins[@]}" >"$cache/download.log" 2>&1) ||
  die "apt-get download failed: $(grep -E '^E:' "$cache/download.log" | head -n1)"

# ---- unpack ----------------------------------------------------------------
tmp="$out.partial.$$"
rm -rf -- "$tmp"
mkdir -p "$tmp"
: >"$tmp/.resq-sysroot-partial"
trap 'rm -rf -- "$tmp"' EXIT
manifest=()
for pin in "${pins[@]}"; do
  p=${pin%%=*} v=${pin#*=}
  # .deb file names encode the epoch colon as %3a
  deb=
  for f in "$cache/debs/${p}_${v/:/%3a}_"{"$arch",all}.deb; do [[ -f $f ]] && { deb=$f; break; }; done
  [[ -n $deb ]] || die "downloaded file for $pin not found in $cache/debs"
  darch=$(dpkg-deb -f "$deb" Architecture)
  [[ $darch == "$arch" || $darch == all ]] || die "$deb has architecture $darch, expected $arch"
  dpkg-deb -x "$deb" "$tmp" || die "dpkg-deb -x $deb failed"
  manifest+=("$p $v $darch")
done

# ---- make absolute symlinks point inside the sysroot ----------------------
nfixed=0
while IFS= read -r -d '' link; do
  target=$(readlink -- "$link")
  [[ $target == /* ]] || continue
  rel=$(realpath -m -s --relative-to="$(dirname -- "$link")" -- "$tmp$target")
  ln -sfn -- "$rel" "$link"
  nfixed=$((nfixed + 1))
done < <(find "$tmp" -type l -print0)
# drop what a cross sysroot never needs (iconv modules are 20 MB on arm64, docs)
rm -rf -- "$tmp/usr/lib/$triplet/gconv" "$tmp/usr/share/doc" "$tmp/usr/share/lintian" "$tmp/usr/share/man"
# guest ld.so must not read the host's x86 /etc/ld.so.cache through qemu -L:
# an empty cache file makes it skip the cache (LD_LIBRARY_PATH and default dirs still apply)
mkdir -p "$tmp/etc" && : >"$tmp/etc/ld.so.cache"

# ---- verify -----------------------------------------------------------------
libdirs=("$tmp/lib/$triplet" "$tmp/usr/lib/$triplet" "$tmp/lib" "$tmp/usr/lib")
[[ -f $tmp/usr/include/xnnpack.h ]] || die "xnnpack.h missing from the sysroot"
[[ -e $tmp/usr/lib/$triplet/libXNNPACK.so ]] || die "libXNNPACK.so missing from the sysroot"
[[ -e $tmp/lib/$loader ]] || die "dynamic loader /lib/$loader missing from the sysroot"
readelf -h "$tmp/usr/lib/$triplet/libXNNPACK.so.0" | grep -q "Machine:.*$elf_machine" ||
  die "libXNNPACK.so.0 is not an $elf_machine ELF"

resolve() { # soname -> 0 if found (following symlinks) in one of the given dirs
  local so=$1 d; shift
  for d in "$@"; do [[ -e $d/$so ]] && return 0; done
  return 1
}
unresolved=() from_cross_only=()
nchecked=0
while IFS= read -r -d '' so; do
  # ELF shared objects only (skip linker scripts, .a, .o)
  [[ $(head -c4 -- "$so" | od -An -c | tr -d ' ') == 177ELF ]] || continue
  nchecked=$((nchecked + 1))
  while read -r need; do
    if ! resolve "$need" "${libdirs[@]}"; then
      if resolve "$need" "$cross_lib"; then from_cross_only+=("${so#"$tmp"/}:$need")
      else unresolved+=("${so#"$tmp"/}:$need"); fi
    fi
  done < <(readelf -d -- "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$tmp/lib/$triplet" "$tmp/usr/lib/$triplet" -maxdepth 1 -type f -name '*.so*' -print0)
[[ ${#unresolved[@]} -eq 0 ]] || die "NEEDED libraries not found in sysroot nor $cross_lib: ${unresolved[*]}"
[[ ${#from_cross_only[@]} -eq 0 ]] ||
  say "note: resolved only by the cross toolchain's $cross_lib: ${from_cross_only[*]}"
xnn_needed=$(readelf -d "$tmp/usr/lib/$triplet/libXNNPACK.so.0" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')

# ---- commit -------------------------------------------------------------------
rm -f -- "$tmp/.resq-sysroot-partial"
{
  echo "$stamp_want"
  echo "# built $(date -u +%Y-%m-%dT%H:%M:%SZ) by toolchains/$prog from:"
  printf '%s\n' "${manifest[@]}"
} >"$tmp/$stamp_name"
mkdir -p "$(dirname -- "$out")"
mv -- "$tmp" "$out"
trap - EXIT

t1=$(date +%s)
say "unpacked ${#manifest[@]} packages for $arch into $out:"
printf '  %s\n' "${manifest[@]}"
say "fixed $nfixed absolute symlink(s); checked NEEDED of $nchecked shared objects: all resolve inside the sysroot"
say "libXNNPACK.so.0 NEEDED: $xnn_needed"
say "size $(du -sh "$out" | cut -f1), $((t1 - t0)) s"
