#!/usr/bin/env bash
# make-sysroot.sh [--suite bookworm|trixie] ARCH OUTDIR
# make-sysroot.sh [--suite bookworm|trixie] --print-apt-sources
#
# Builds a cross-compilation sysroot for resq from Debian packages of the target
# architecture, for Raspberry Pi OS bookworm (Debian 12, the default) or trixie (Debian 13):
#   ARCH = arm64  (aarch64: Pi 3/4/5, Zero 2 W)
#   ARCH = armhf  (32-bit armv7 hard-float: Pi 2/3/4 in 32-bit mode)
#
# How: a private apt state (sources, lists and cache under the cache dir below) with
# APT::Architecture=ARCH, `apt-get download` fetches the .deb files and `dpkg-deb -x`
# unpacks them into OUTDIR. Nothing is installed on the host and the host's dpkg
# architectures and apt sources are left alone. The private sources are the host's
# Debian entries (/etc/apt/sources.list, /etc/apt/sources.list.d/*.{list,sources}: the
# same mirror, components and keyring) with their release renamed to SUITE, so a
# bookworm host can make a trixie sysroot and no mirror is written into the repository.
# --print-apt-sources prints those sources (deb822) and exits: .ci/check-deb-depends
# uses them too.
#
# The compiler's C library (crt*.o, libc.so, headers, libstdc++) comes from the
# Debian cross toolchain (/usr/<triplet>); the sysroot additionally carries the
# target's own runtime libc6/libgcc-s1/libstdc++6 so that every NEEDED entry of
# the shipped shared libraries resolves inside OUTDIR alone (checked below) and
# qemu can run binaries with `-L OUTDIR`.
#
# OUTDIR also gets what packaging needs to name the target's packages: the suite's
# /etc/os-release (base-files) and a dpkg database of the unpacked packages in
# OUTDIR/var/lib/dpkg (status, file lists, shlibs and symbols files), so that
# `dpkg-query --admindir=OUTDIR/var/lib/dpkg -S FILE` and `--control-show PKG shlibs`
# answer for the target as they would on the Pi (runtime/packaging/CMakeLists.txt).
#
# flatc is NOT taken from the sysroot: use the host's flatc (flatbuffers-compiler,
# amd64). flatbuffers-compiler-dev is deliberately left out (trixie's libflatbuffers-dev
# depends on it, but `apt-get download` takes only what is listed): its
# FlatcTargets.cmake would point flatbuffers::flatc at a non-existent target flatc.
#
# Idempotent: if OUTDIR holds a complete sysroot for the same suite, ARCH and package
# list, it only says so. RESQ_SYSROOT_FORCE=1 rebuilds.
#
# Environment:
#   RESQ_SYSROOT_CACHE   apt state + downloaded .debs
#                        (default: ${XDG_CACHE_HOME:-$HOME/.cache}/resq-sysroot/SUITE-ARCH)
#   RESQ_SYSROOT_FORCE   1 = rebuild even if OUTDIR is complete
#   RESQ_SYSROOT_MIRROR  a Debian mirror URI to use instead of the host's (for hosts whose
#                        apt sources name no Debian release, e.g. Ubuntu); signed by
#                        /usr/share/keyrings/debian-archive-keyring.gpg
set -euo pipefail

prog=make-sysroot.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
say() { echo "$prog: $*"; }
usage="usage: $prog [--suite bookworm|trixie] arm64|armhf OUTDIR, or $prog [--suite SUITE] --print-apt-sources"

suite=bookworm print_sources=0
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --suite) [[ $# -ge 2 ]] || die "$usage"; suite=$2; shift 2 ;;
    --suite=*) suite=${1#--suite=}; shift ;;
    --print-apt-sources) print_sources=1; shift ;;
    -h | --help) echo "$usage"; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) die "unknown option '$1'; $usage" ;;
    *) args+=("$1"); shift ;;
  esac
done

# Target packages per suite. Shared libraries and their -dev packages, plus the target's C/C++ runtime (see
# header) and base-files (/etc/os-release says which release the sysroot is). Arch:all header-only packages
# come along as well. Run-time package names follow sonames and Debian's transitions, so they differ between
# releases: checked with apt-cache against each suite's own lists.
case "$suite" in
  bookworm)
    packages=(
      # XNNPACK and what libXNNPACK.so.0 needs (cpuinfo ships clog statically: no libclog0)
      libxnnpack0 libxnnpack-dev
      libpthreadpool0 libpthreadpool-dev
      libcpuinfo0 libcpuinfo-dev
      # image loading, flatbuffers runtime, tests, CLI
      libstb0 libstb-dev
      libexif12 libexif-dev
      libflatbuffers2 libflatbuffers-dev
      doctest-dev
      libcli11-dev nlohmann-json3-dev
      # runtime of the target (NEEDED by the above: libc.so.6 libm.so.6 libgcc_s.so.1 libstdc++.so.6 ld-linux-*)
      libc6 libgcc-s1 libstdc++6
      base-files
      # the Python module (runtime/python/): headers and pybind11 to build it; the interpreter, its standard
      # library and numpy to run its tests under qemu; and the libraries their C modules load (NEEDED deeper
      # than usr/lib/<triplet>, so not checked below: the tests' imports check them)
      pybind11-dev libpython3.11-dev libpython3.11 python3.11-minimal python3-minimal libpython3.11-minimal
      libpython3.11-stdlib python3-numpy libblas3 liblapack3 libgfortran5
      libexpat1 zlib1g libssl3 libffi8 libbz2-1.0 liblzma5 libuuid1
    ) ;;
  trixie)
    packages=(
      # XNNPACK 2024-11, packaged under its soname libXNNPACK.so.0.20241108
      libxnnpack0.20241108 libxnnpack-dev
      libpthreadpool0 libpthreadpool-dev
      libcpuinfo0 libcpuinfo-dev
      # stb after the 64-bit time_t transition (t64); flatbuffers' runtime is named after its version
      libstb0t64 libstb-dev
      libexif12 libexif-dev
      libflatbuffers23.5.26 libflatbuffers-dev
      doctest-dev
      libcli11-dev nlohmann-json3-dev
      libc6 libgcc-s1 libstdc++6
      base-files
      # the Python module, as for bookworm (Python 3.13; numpy 2 ships its headers in python3-numpy-dev, which
      # nothing here needs)
      pybind11-dev libpython3.13-dev libpython3.13 python3.13-minimal python3-minimal libpython3.13-minimal
      libpython3.13-stdlib python3-numpy libblas3 liblapack3 libgfortran5
      libexpat1 zlib1g libssl3t64 libzstd1 libffi8 libbz2-1.0 liblzma5 libuuid1
    ) ;;
  *) die "SUITE must be bookworm or trixie, got '$suite'" ;;
esac

# apt_sources: the host's Debian entries as one deb822 file on stdout, each suite's release renamed to $suite
# (bookworm -> trixie, bookworm-updates -> trixie-updates, bookworm-security -> trixie-security): the same
# mirrors, components and Signed-By as the host's. Other archives' suites (nodistro, cloud-sdk-bookworm, ...),
# deb-src and disabled entries are left out; Architectures is dropped (the private state sets it).
known_releases='buster|bullseye|bookworm|trixie|forky|duke'
apt_sources() {
  if [[ -n ${RESQ_SYSROOT_MIRROR:-} ]]; then
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' \
      "$RESQ_SYSROOT_MIRROR" "$suite" "$suite" /usr/share/keyrings/debian-archive-keyring.gpg
    return
  fi
  local f
  {
    # one-line format (deb [options] URI SUITE COMPONENTS...) -> deb822, renamed below like the rest
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      awk '{ sub(/#.*/, "") }
        $1 == "deb" {
          i = 2; opts = ""
          if ($2 ~ /^\[/) { opts = $2; while (opts !~ /\]$/ && i < NF) { i++; opts = opts " " $i }; i++ }
          gsub(/[\[\]]/, "", opts)
          printf "Types: deb\nURIs: %s\nSuites: %s\n", $i, $(i + 1)
          comps = ""
          for (j = i + 2; j <= NF; j++) comps = comps " " $j
          if (comps != "") printf "Components:%s\n", comps
          n = split(opts, o, " ")
          for (k = 1; k <= n; k++) {
            split(o[k], kv, "=")
            if (kv[1] == "signed-by") printf "Signed-By: %s\n", kv[2]
            else if (kv[1] == "trusted") printf "Trusted: %s\n", kv[2]
          }
          printf "\n"
        }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f ]] || continue  # (not `[[ ]] && ...`: a false test last would fail the pipeline)
      cat -- "$f"
      printf '\n\n'
    done
  } | awk -v want="$suite" -v releases="$known_releases" '
    BEGIN { RS = ""; FS = "\n" }
    {
      delete val; delete orig; nf = 0; name = ""
      for (i = 1; i <= NF; i++) {
        line = $i
        if (line ~ /^#/) continue
        if (line ~ /^[ \t]/) { if (name != "") val[name] = val[name] "\n" line; continue }
        p = index(line, ":")
        if (p == 0) continue
        name = tolower(substr(line, 1, p - 1))
        v = substr(line, p + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
        if (!(name in val)) order[++nf] = name
        val[name] = v; orig[name] = substr(line, 1, p - 1)
      }
      if ((" " val["types"] " ") !~ /[ \t]deb[ \t]/ || tolower(val["enabled"]) == "no") next
      n = split(val["suites"], s, /[ \t]+/); suites = ""
      for (k = 1; k <= n; k++) {
        if (s[k] !~ ("^(" releases ")(-updates|-security)?$")) continue
        suffix = s[k]; sub("^(" releases ")", "", suffix)
        if (index(" " suites " ", " " want suffix " ") == 0) suites = suites (suites == "" ? "" : " ") want suffix
      }
      if (suites == "") next
      out = "Types: deb\nURIs: " val["uris"] "\nSuites: " suites "\n"
      if ("components" in val) out = out "Components: " val["components"] "\n"
      for (k = 1; k <= nf; k++) {
        f = order[k]
        if (f ~ /^(types|uris|suites|components|enabled|architectures)$/) continue
        out = out orig[f] ": " val[f] "\n"
      }
      if (!(out in seen)) { seen[out] = 1; printf "%s\n", out }
    }'
}
no_sources="no Debian release (${known_releases//|/, }) in the host's apt sources (/etc/apt/sources.list,"
no_sources+=" /etc/apt/sources.list.d/) to take the mirror from: set RESQ_SYSROOT_MIRROR=URI"

if [[ $print_sources == 1 ]]; then
  [[ ${#args[@]} -eq 0 ]] || die "--print-apt-sources takes no ARCH or OUTDIR; $usage"
  sources=$(apt_sources)
  [[ -n $sources ]] || die "$no_sources"
  printf '%s\n' "$sources"
  exit 0
fi

[[ ${#args[@]} -eq 2 ]] || die "$usage"
arch=${args[0]}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu;   loader=ld-linux-aarch64.so.1; elf_machine=AArch64 ;;
  armhf) triplet=arm-linux-gnueabihf; loader=ld-linux-armhf.so.3;   elf_machine=ARM ;;
  *) die "ARCH must be arm64 or armhf, got '$arch'" ;;
esac
[[ -n ${args[1]} ]] || die "OUTDIR is empty"
out=$(realpath -m -- "${args[1]}")
[[ $out != / ]] || die "refusing to use / as OUTDIR"

stamp_name=.resq-sysroot-complete
stamp_version=3  # bump when the layout produced below changes (2: suite, dpkg database, /lib of merged /usr;
                 # 3: the BLAS and LAPACK alternatives' links)
stamp_want="v=$stamp_version suite=$suite arch=$arch triplet=$triplet packages=${packages[*]}"

# ---- idempotency -----------------------------------------------------------
if [[ -f $out/$stamp_name && ${RESQ_SYSROOT_FORCE:-0} != 1 ]]; then
  if [[ $(head -n1 "$out/$stamp_name") == "$stamp_want" ]]; then
    say "$out is already a complete $suite $arch sysroot (delete it or set RESQ_SYSROOT_FORCE=1 to rebuild)"
    exit 0
  fi
  say "$out was built by another version of this script or for another suite: rebuilding"
fi
if [[ -e $out ]]; then
  # Only ever delete what this script created.
  if [[ -f $out/$stamp_name || -f $out/.resq-sysroot-partial ]] || [[ -d $out && -z $(ls -A "$out") ]]; then
    rm -rf -- "$out"
  else
    die "$out exists and is not a resq sysroot: remove it or choose another OUTDIR"
  fi
fi

for tool in apt-get apt-cache dpkg-deb dpkg-query readelf realpath tar; do
  command -v "$tool" >/dev/null || die "'$tool' not found on the host"
done
command -v "$triplet-gcc" >/dev/null ||
  die "cross compiler $triplet-gcc not found: apt-get install g++-$triplet"
cross_lib=/usr/$triplet/lib
[[ -d $cross_lib ]] || die "$cross_lib missing: the Debian cross toolchain for $triplet is not installed"

t0=$(date +%s)
cache=${RESQ_SYSROOT_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/resq-sysroot/$suite-$arch}
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs" "$cache/apt" ||
  die "cannot create cache dir $cache"
: >"$cache/status"
# The private sources: the host's Debian mirror(s) naming $suite, and nothing else (no sources.list.d, no
# pinning of the host's), so the same command gives the same sysroot on hosts with other extra sources.
sources_file=$cache/apt/resq-$suite.sources
apt_sources >"$sources_file"
[[ -s $sources_file ]] || die "$no_sources"
rm -rf -- "$cache/apt/empty.d" && mkdir -p "$cache/apt/empty.d"
apt_opts=(
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::Etc::sourcelist=$sources_file" -o "Dir::Etc::sourceparts=$cache/apt/empty.d"
  -o "Dir::Etc::preferences=$cache/apt/empty.d/none" -o "Dir::Etc::preferencesparts=$cache/apt/empty.d"
  -o "Dir::State::Lists=$cache/lists" -o "Dir::State::status=$cache/status"
  -o "Dir::Cache=$cache" -o "Dir::Cache::archives=$cache/archives"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
  -o "Acquire::Retries=3" -q
)

# ---- package lists (private; ARCH only) -----------------------------------
say "updating $suite $arch package lists (private apt state in $cache; sources: $(
  sed -n 's/^URIs: //p' "$sources_file" | tr '\n' ' ')-> $(sed -n 's/^Suites: //p' "$sources_file" | tr '\n' ' '))"
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
[[ ${#missing[@]} -eq 0 ]] || die "no candidate in Debian $suite for: ${missing[*]}"

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
dpkgdb=$tmp/var/lib/dpkg
mkdir -p "$dpkgdb/info" "$dpkgdb/updates" && echo 1 >"$dpkgdb/info/format" &&
  : >"$dpkgdb/status" && : >"$dpkgdb/available"

# register DEB PKG ARCH: records DEB in OUTDIR's dpkg database as installed: its control fields in status, its
# file list, shlibs and symbols files in info/ (named PKG:ARCH for Multi-Arch: same packages, as dpkg does).
# Maintainer scripts are not run (nothing in a sysroot needs them) and not recorded.
register() {
  local deb=$1 p=$2 darch=$3 name=$2 ctl=$tmp/.control f
  [[ $(dpkg-deb -f "$deb" Multi-Arch) == same ]] && name=$p:$darch
  { dpkg-deb -f "$deb" | awk 'NR == 1 { print; print "Status: install ok installed"; next } { print }' && echo; } \
    >>"$dpkgdb/status" || return 1
  dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|^/$|/.|' -e 's|\(.\)/$|\1|' \
    >"$dpkgdb/info/$name.list" || return 1
  rm -rf -- "$ctl" && dpkg-deb -e "$deb" "$ctl" || return 1
  for f in shlibs symbols; do
    if [[ -f $ctl/$f ]]; then cp -- "$ctl/$f" "$dpkgdb/info/$name.$f" || return 1; fi
  done
  rm -rf -- "$ctl"
}

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
  register "$deb" "$p" "$darch" || die "cannot record $deb in $dpkgdb"
  manifest+=("$p $v $darch")
done

# Debian 13 packages ship everything under /usr (libc6: /usr/lib/ld-linux-*, /usr/lib/<triplet>/libc.so.6) and
# its base-files the merged-/usr links (/lib -> usr/lib, ...). Programs ask for /lib/ld-linux-* (PT_INTERP,
# which qemu -L looks up in the sysroot), and the toolchain files and qemu-run.sh name /lib/<triplet>: should
# no package make /lib, the link is made here. Debian 12's packages still ship /lib themselves.
[[ -e $tmp/lib ]] || ln -s usr/lib "$tmp/lib"
merged_usr=no
[[ -L $tmp/lib ]] && merged_usr=yes
# libblas3 and liblapack3 ship usr/lib/<triplet>/{blas,lapack}/lib*.so.3 and leave the links programs load
# (usr/lib/<triplet>/libblas.so.3) to update-alternatives in their postinst, which dpkg-deb -x does not run:
# the links made here are the ones those scripts make when no other BLAS is installed. numpy NEEDs them.
for alt in blas lapack; do
  if [[ -e $tmp/usr/lib/$triplet/$alt/lib$alt.so.3 && ! -e $tmp/usr/lib/$triplet/lib$alt.so.3 ]]; then
    ln -s "$alt/lib$alt.so.3" "$tmp/usr/lib/$triplet/lib$alt.so.3"
  fi
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
# drop what a cross sysroot never needs (iconv modules are 20 MB on arm64, docs); the dpkg file lists still
# name them, as they would after `dpkg --path-exclude`
rm -rf -- "$tmp/usr/lib/$triplet/gconv" "$tmp/usr/share/doc" "$tmp/usr/share/lintian" "$tmp/usr/share/man"
# guest ld.so must not read the host's x86 /etc/ld.so.cache through qemu -L:
# an empty cache file makes it skip the cache (LD_LIBRARY_PATH and default dirs still apply)
mkdir -p "$tmp/etc" && : >"$tmp/etc/ld.so.cache"

# ---- verify -----------------------------------------------------------------
libdirs=("$tmp/lib/$triplet" "$tmp/usr/lib/$triplet" "$tmp/lib" "$tmp/usr/lib")
scandirs=("$tmp/usr/lib/$triplet")  # each library once: /lib may be a link to usr/lib
[[ -L $tmp/lib ]] || scandirs+=("$tmp/lib/$triplet")
[[ -f $tmp/usr/include/xnnpack.h ]] || die "xnnpack.h missing from the sysroot"
[[ -e $tmp/usr/lib/$triplet/libXNNPACK.so ]] || die "libXNNPACK.so missing from the sysroot"
[[ -e $tmp/lib/$loader ]] || die "dynamic loader /lib/$loader missing from the sysroot"
grep -q "^VERSION_CODENAME=$suite\$" "$tmp/etc/os-release" ||
  die "the sysroot's /etc/os-release does not say VERSION_CODENAME=$suite"
# The run-time file is whatever libXNNPACK.so's SONAME says (libXNNPACK.so.0 in Debian 12,
# libXNNPACK.so.0.20241108 in Debian 13).
xnn_soname=$(readelf -d "$tmp/usr/lib/$triplet/libXNNPACK.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p') || true
[[ -n $xnn_soname ]] || die "libXNNPACK.so has no SONAME"
[[ -f $tmp/usr/lib/$triplet/$xnn_soname ]] ||
  die "$xnn_soname (the SONAME of libXNNPACK.so) missing from the sysroot: is its run-time package in the list?"
readelf -h "$tmp/usr/lib/$triplet/$xnn_soname" | grep -q "Machine:.*$elf_machine" ||
  die "$xnn_soname is not an $elf_machine ELF"
# A -dev package's libfoo.so link with nothing behind it: its run-time package was renamed and the list not.
dangling=()
while IFS= read -r -d '' link; do
  [[ -e $link ]] || dangling+=("${link#"$tmp"/} -> $(readlink -- "$link")")
done < <(find "${scandirs[@]}" -maxdepth 1 -type l -name 'lib*.so*' -print0)
[[ ${#dangling[@]} -eq 0 ]] ||
  die "library links to files no listed package ships (a renamed run-time package?): ${dangling[*]}"

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
done < <(find "${scandirs[@]}" -maxdepth 1 -type f -name '*.so*' -print0)
[[ ${#unresolved[@]} -eq 0 ]] || die "NEEDED libraries not found in sysroot nor $cross_lib: ${unresolved[*]}"
[[ ${#from_cross_only[@]} -eq 0 ]] ||
  say "note: resolved only by the cross toolchain's $cross_lib: ${from_cross_only[*]}"
xnn_needed=$(readelf -d "$tmp/usr/lib/$triplet/$xnn_soname" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
# The dpkg database answers what packaging will ask: which package has the library, and its shlibs line.
# (`|| true`: a failed command substitution would end the script here without a word)
xnn_pkg=$(dpkg-query --admindir="$dpkgdb" -S "*/$triplet/$xnn_soname" 2>/dev/null | sed -n '1s/[:,].*//p') || true
[[ -n $xnn_pkg ]] || die "the sysroot's dpkg database does not know which package has $xnn_soname"
xnn_shlibs=$(dpkg-query --admindir="$dpkgdb" --control-show "$xnn_pkg" shlibs 2>/dev/null) || true
xnn_shlibs=$(awk '!/^udeb:/ && !done { print; done = 1 }' <<<"$xnn_shlibs")
[[ -n $xnn_shlibs ]] || xnn_shlibs="(no shlibs file)"

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
say "unpacked ${#manifest[@]} packages of Debian $suite for $arch into $out (merged /usr: $merged_usr):"
printf '  %s\n' "${manifest[@]}"
say "fixed $nfixed absolute symlink(s); checked NEEDED of $nchecked shared objects: all resolve inside the sysroot"
say "$xnn_soname (package $xnn_pkg; shlibs: $xnn_shlibs) NEEDED: $xnn_needed"
say "size $(du -sh "$out" | cut -f1), $((t1 - t0)) s"
