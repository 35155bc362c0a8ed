#!/usr/bin/env bash
# count_instructions.sh: guest instructions per inference of an ARM build of resq under qemu-user, counted by
# a TCG plugin (insn_count.c here), for each emulated core. Deterministic, unlike timings under qemu.
#
#   runtime/tools/qemu_insn/count_instructions.sh --build DIR [--sysroot DIR] [--cpus LIST] [--runs N]
#       [--warmup N] [--threads N] [--int8-paths [--paths LIST]] [--qemu-plugin-h FILE] [--json FILE]
#       MODEL.resq...
#
#   --build DIR        an arm64 (or armhf) cross build holding bin/resq-bench, or bin/resq-int8-paths with
#                      --int8-paths (toolchains/README.md)
#   --sysroot DIR      its sysroot; default: RESQ_SYSROOT from DIR/CMakeCache.txt
#   --cpus LIST        qemu -cpu models, comma-separated; default cortex-a72,cortex-a76 (arm64: Pi 4, Pi 5)
#   --runs N           timed inferences of the shorter run; default 2 (the longer one runs 2N)
#   --warmup N         untimed inferences before them, in both runs; default 1
#   --threads N        resq threads; default 1 (the plugin's inline counter is exact with one guest thread)
#   --int8-paths       count bin/resq-int8-paths instead: one inference is then one run of the model's int8
#                      convolutions alone (a chain of XNNPACK convolutions, no other op), once per path
#   --paths LIST       with --int8-paths: which of qc8, qs8, qu8, comma-separated; default all three
#   --qemu-plugin-h F  use this qemu-plugin.h instead of fetching Debian's (it must match the qemu binary)
#   --json FILE        also write every count here
#
# Per model and core, resq-bench runs twice under qemu through toolchains/qemu-run.sh (its fake /proc/cpuinfo
# shim, so XNNPACK's cpuinfo sees the emulated core and picks that core's kernels): with N and with 2N timed
# inferences, both after the same warm-up. Load, prepare (weight packing), warm-up and exit are the same in
# both runs, so (insns(2N) - insns(N)) / N is the instruction count of one inference. The first inference is
# kept out by the warm-up. One line per model and core, as a Markdown table on stdout.
#
# With --int8-paths, resq-int8-paths runs the same way, one path at a time (--path P --untimed N: no clock
# is read, so N more runs are exactly N more chains of convolutions): one line per core, model and path,
# its ratio to qc8 (resq's path), and the fewest instructions marked "best", ties on every path that has them
# (also said on stderr).
#
# The plugin: Debian ships no QEMU plugin binary and no qemu-plugin.h. The header comes from Debian's qemu
# source package, the very version of the installed qemu-user, fetched once with `apt-get source
# --download-only` through a private apt state (deb-src entries made from the host's own Debian apt sources,
# lists and cache under the cache dir; the host's apt state is untouched) and cached with the built plugin in
# ${XDG_CACHE_HOME:-~/.cache}/resq-qemu-insn/<qemu source version>/ (RESQ_QEMU_INSN_CACHE moves it).
# The plugin builds against QEMU 7.2's plugin API (Debian 12's qemu-user, what toolchains/ uses) and against
# QEMU 9+'s (its header needs glib's headers: libglib2.0-dev). Debian 13's qemu-user 10.0 is built without
# plugin support ("unknown option 'plugin'"), so count Debian 13 builds with Debian 12's qemu-user: the
# binaries run with -L on their own sysroot.
# Needs: qemu-user, gcc, dpkg-dev (dpkg-source, only if a Debian patch touches the header), xz-utils.
set -euo pipefail

me=count_instructions.sh
die() { echo "$me: error: $*" >&2; exit 1; }
say() { echo "$me: $*" >&2; }
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

build='' sysroot='' cpus='' runs=2 warmup=1 threads=1 plugin_h='' json='' int8_paths=0 paths=qc8,qs8,qu8
models=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --sysroot) sysroot=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --int8-paths) int8_paths=1; shift ;;
    --paths) paths=$2; shift 2 ;;
    --qemu-plugin-h) plugin_h=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (--help)" ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ -n $build ]] || die "--build DIR is required (an arm64 or armhf cross build with bin/resq-bench or resq-int8-paths)"
[[ ${#models[@]} -gt 0 ]] || die "no MODEL.resq given"
[[ $runs =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ && $threads =~ ^[1-9][0-9]*$ ]] ||
  die "--runs and --threads need a positive integer, --warmup a non-negative one"
program_name=resq-bench
if ((int8_paths)); then
  program_name=resq-int8-paths
  for p in ${paths//,/ }; do
    [[ $p == qc8 || $p == qs8 || $p == qu8 ]] || die "--paths: '$p' is not qc8, qs8 or qu8"
  done
fi
program=$build/bin/$program_name
[[ -f $program ]] || die "$program is missing: cmake --build $build --target $program_name"
for m in "${models[@]}"; do [[ -f $m ]] || die "model '$m' not found"; done
if [[ -z $sysroot ]]; then
  sysroot=$(sed -n 's/^RESQ_SYSROOT:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null | head -n1)
  [[ -n $sysroot ]] || sysroot=${RESQ_SYSROOT:-}
  [[ -n $sysroot ]] || die "no sysroot: pass --sysroot DIR"
fi
[[ -f $sysroot/.resq-sysroot-complete ]] || die "$sysroot is not a complete resq sysroot (toolchains/make-sysroot.sh)"

case "$(od -An -tu2 -j18 -N2 -- "$program" | tr -d ' ')" in
  183) qemu=qemu-aarch64 default_cpus=cortex-a72,cortex-a76 ;;
  40) qemu=qemu-arm default_cpus=cortex-a7 ;;
  *) die "$program is neither an AArch64 nor an ARM program" ;;
esac
cpus=${cpus:-$default_cpus}
qemu_path=$(command -v "$qemu") || die "$qemu not found: apt-get install qemu-user"
if [[ $("$qemu_path" -plugin /nonexistent 2>&1 || true) == *"unknown option"* ]]; then
  die "$qemu_path ($("$qemu_path" --version | head -n1)) is built without TCG plugins (Debian 13's qemu-user is): use Debian 12's qemu-user 7.2, e.g. from the Debian 12 host on a build made in a Debian 13 root"
fi

# --- the plugin --------------------------------------------------------------------------------------------
# deb_src_sources: deb822 deb-src entries for the host's Debian release (its own mirrors, components and
# keyrings), from /etc/apt/sources.list, sources.list.d/*.list and sources.list.d/*.sources.
deb_src_sources() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || die "/etc/os-release names no VERSION_CODENAME"
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    # deb [options] URI SUITE COMPONENT...
    awk -v want="$codename" '
      $1 != "deb" { next }
      {
        i = 2; signed = ""
        if ($2 ~ /^\[/) {
          opts = ""
          while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ }
          if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
        }
        uri = $i; suite = $(i + 1); comps = ""
        for (k = i + 2; k <= NF; k++) comps = comps (comps == "" ? "" : " ") $k
        if (suite !~ ("^" want "(-updates|-security|/updates)?$")) next
        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uri, suite, comps
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    # Stanzas of "Field: value" lines (no multi-line values expected besides an inline key, which is skipped).
    awk -v want="$codename" '
      function flush(   n, s, k, suites) {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
          n = split(suites_all, s, " "); suites = ""
          for (k = 1; k <= n; k++) if (s[k] ~ ("^" want "(-updates|-security)?$")) suites = suites (suites == "" ? "" : " ") s[k]
          if (suites != "") {
            printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, suites, comps
            if (signed != "") printf "Signed-By: %s\n", signed
            printf "\n"
          }
        }
        types = uris = suites_all = comps = signed = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[A-Za-z-]+:/ {
        field = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", value)
        if (field == "types") types = value
        else if (field == "uris") uris = value
        else if (field == "suites") suites_all = value
        else if (field == "components") comps = value
        else if (field == "signed-by" && value ~ /^\//) signed = value
        else if (field == "enabled") enabled = tolower(value)
      }
      END { flush() }' "$f"
  done
}

# fetch_plugin_header DIR: DIR/qemu-plugin.h from the Debian source of the installed qemu.
fetch_plugin_header() {
  local dir=$1 pkg src_pkg src_version apt
  pkg=$(dpkg -S "$(readlink -f "$qemu_path")" 2>/dev/null | cut -d: -f1) ||
    die "$qemu_path belongs to no Debian package: pass --qemu-plugin-h FILE from that qemu's source"
  src_pkg=$(dpkg-query -W -f='${source:Package}' "$pkg")
  src_version=$(dpkg-query -W -f='${source:Version}' "$pkg")
  apt=$dir/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$dir/src"
  deb_src_sources >"$apt/sources.list.d/deb-src.sources"
  [[ -s $apt/sources.list.d/deb-src.sources ]] || die "no Debian apt source for this release in /etc/apt"
  : >"$apt/sources.list"
  : >"$apt/status"
  local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status" -o "Dir::Cache=$apt/cache"
    -o "Dir::Etc::preferencesparts=$apt/sources.list.d" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
    -o Acquire::Retries=3 -q)
  say "fetching the source of $src_pkg $src_version for qemu-plugin.h (private apt state in $apt)"
  apt-get "${opts[@]}" update >&2 || die "apt-get update (deb-src) failed"
  (cd "$dir/src" && apt-get "${opts[@]}" source --download-only "$src_pkg=$src_version" >&2) ||
    die "apt-get source --download-only $src_pkg=$src_version failed: pass --qemu-plugin-h FILE"
  local orig debian_tar
  orig=$(ls "$dir/src/"*.orig.tar.* | head -n1)
  debian_tar=$(ls "$dir/src/"*.debian.tar.* 2>/dev/null | head -n1 || true)
  if [[ -n $debian_tar ]] && tar -xaf "$debian_tar" -O --wildcards 'debian/patches/*' 2>/dev/null |
    grep -q '^+++ .*include/qemu/qemu-plugin.h'; then
    say "a Debian patch changes qemu-plugin.h: unpacking the whole source with dpkg-source"
    (cd "$dir/src" && dpkg-source -x ./*.dsc unpacked >&2) || die "dpkg-source -x failed"
    cp "$dir/src/unpacked/include/qemu/qemu-plugin.h" "$dir/qemu-plugin.h"
  else
    tar -xaf "$orig" -O --wildcards '*/include/qemu/qemu-plugin.h' >"$dir/qemu-plugin.h.tmp" ||
      die "no include/qemu/qemu-plugin.h in $orig"
    mv "$dir/qemu-plugin.h.tmp" "$dir/qemu-plugin.h"
  fi
  rm -rf "$dir/src" "$apt/cache"
  echo "$src_pkg $src_version" >"$dir/qemu-plugin.h.source"
}

cache_root=${RESQ_QEMU_INSN_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/resq-qemu-insn}
if [[ -n $plugin_h ]]; then
  [[ -f $plugin_h ]] || die "$plugin_h not found"
  cache=$cache_root/given-$(sha256sum <"$plugin_h" | cut -c1-16)
  mkdir -p "$cache"
  cp "$plugin_h" "$cache/qemu-plugin.h"
else
  qemu_version=$(dpkg-query -W -f='${source:Version}' "$(dpkg -S "$(readlink -f "$qemu_path")" | cut -d: -f1)" \
    2>/dev/null) || die "cannot tell which Debian qemu $qemu_path is: pass --qemu-plugin-h FILE"
  cache=$cache_root/qemu-${qemu_version//[:~]/_}
  [[ -f $cache/qemu-plugin.h ]] || fetch_plugin_header "$cache"
fi
plugin=$cache/libinsn_count-$(cat "$here/insn_count.c" "$cache/qemu-plugin.h" | sha256sum | cut -c1-16).so
if [[ ! -f $plugin ]]; then
  command -v gcc >/dev/null || die "gcc not found"
  glib_cflags=()
  if grep -q '^#include <glib.h>' "$cache/qemu-plugin.h"; then  # QEMU 9+'s header; 7.2's needs no glib
    read -r -a glib_cflags <<<"$(pkg-config --cflags glib-2.0 2>/dev/null)" && [[ ${#glib_cflags[@]} -gt 0 ]] ||
      die "this qemu-plugin.h includes glib.h: apt-get install libglib2.0-dev pkg-config"
  fi
  gcc -shared -fPIC -O2 -Wall "${glib_cflags[@]}" -I "$cache" -o "$plugin.tmp" "$here/insn_count.c" ||
    die "building the plugin failed"
  mv "$plugin.tmp" "$plugin"
fi

# --- count -------------------------------------------------------------------------------------------------
xnnpack=$(sed -n 's/^\(libxnnpack0[^ ]*\) \([^ ]*\) .*/\1 \2/p' "$sysroot/.resq-sysroot-complete" | head -n1)
suite=$(sed -n '1s/.*suite=\([^ ]*\).*/\1/p' "$sysroot/.resq-sysroot-complete")
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# count CPU MODEL RUNS [PATH]: the instructions of one resq-bench run, or of one resq-int8-paths run of PATH
# (stdout: the count; the program's own output in $log_dir/out).
count() {
  local cpu=$1 model=$2 n=$3 path=${4:-} log=$log_dir/insn.log
  local args=("$model" --threads "$threads" --warmup "$warmup" --runs "$n")
  [[ -z $path ]] || args=("$model" --threads "$threads" --warmup "$warmup" --path "$path" --untimed "$n")
  rm -f "$log"
  RESQ_QEMU_CPU=$cpu RESQ_QEMU_ARGS="-plugin $plugin -d plugin -D $log" \
    "$root/toolchains/qemu-run.sh" --sysroot "$sysroot" "$program" "${args[@]}" >"$log_dir/out" 2>&1 ||
    die "$program_name under $qemu -cpu $cpu failed: $(cat "$log_dir/out")"
  local line
  line=$(grep '^insn_count: ' "$log") || die "the plugin wrote no count (log: $(head -c 300 "$log"))"
  if [[ $line != *" vcpus 1 "* ]] && ! grep -q 'QEMU_PLUGIN_VERSION [2-9]' "$cache/qemu-plugin.h"; then
    say "warning: more than one guest thread ran ($line): the inline count may have lost updates"
  fi
  awk '{print $3}' <<<"$line"
}

say "$(basename "$qemu_path") $("$qemu_path" --version | head -n1 | awk '{print $3}'), plugin $plugin"
say "sysroot $sysroot ($suite, ${xnnpack:-libxnnpack0 ?}), $program_name $program"
records=()
if ((int8_paths)); then
  echo "| core | model | path | XNNPACK operator | insns, $warmup+$runs chains | insns, $warmup+$((2 * runs)) chains | insns per inference of the int8 convolutions | / qc8 | best | XNNPACK |"
  echo "|---|---|---|---|---:|---:|---:|---:|---|---|"
else
  echo "| core | model | insns, $warmup+$runs inferences | insns, $warmup+$((2 * runs)) inferences | insns per inference | XNNPACK |"
  echo "|---|---|---:|---:|---:|---|"
fi
for cpu in ${cpus//,/ }; do
  for model in "${models[@]}"; do
    if ((!int8_paths)); then
      start=$SECONDS
      a=$(count "$cpu" "$model" "$runs")
      b=$(count "$cpu" "$model" $((2 * runs)))
      per=$(((b - a) / runs))
      say "$cpu $(basename "$model"): $a and $b instructions, $per per inference ($((SECONDS - start)) s)"
      printf '| %s | %s | %d | %d | %d | %s |\n' "$cpu" "$(basename "$model")" "$a" "$b" "$per" "${xnnpack:-?}"
      records+=("$(printf '{"cpu": "%s", "model": "%s", "runs": %d, "warmup": %d, "threads": %d, "insns_n": %d, "insns_2n": %d, "insns_per_inference": %d, "suite": "%s", "xnnpack": "%s"}' \
        "$cpu" "$model" "$runs" "$warmup" "$threads" "$a" "$b" "$per" "$suite" "$xnnpack")")
      continue
    fi
    # Every path of this core and model first, then the table lines: the ratio and the best need them all.
    declare -A n_insns=() n2_insns=() per_path=() operator=()
    fewest=''
    for path in ${paths//,/ }; do
      start=$SECONDS
      n_insns[$path]=$(count "$cpu" "$model" "$runs" "$path")
      n2_insns[$path]=$(count "$cpu" "$model" $((2 * runs)) "$path")
      operator[$path]=$(sed -n "s/^ran  *$path (\([a-z0-9_]*\)).*/\1/p" "$log_dir/out")
      per_path[$path]=$(((n2_insns[$path] - n_insns[$path]) / runs))
      say "$cpu $(basename "$model") $path: ${n_insns[$path]} and ${n2_insns[$path]} instructions, ${per_path[$path]} per chain of its int8 convolutions ($((SECONDS - start)) s)"
      if [[ -z $fewest ]] || ((per_path[$path] < fewest)); then fewest=${per_path[$path]}; fi
    done
    best=()  # every path with the fewest: a tie is a tie
    for path in ${paths//,/ }; do ((per_path[$path] != fewest)) || best+=("$path"); done
    for path in ${paths//,/ }; do
      ratio=-
      [[ -z ${per_path[qc8]:-} ]] || ratio=$(awk -v a="${per_path[$path]}" -v b="${per_path[qc8]}" 'BEGIN { printf "%.3f", a / b }')
      printf '| %s | %s | %s | %s | %d | %d | %d | %s | %s | %s |\n' "$cpu" "$(basename "$model")" "$path" \
        "${operator[$path]:-?}" "${n_insns[$path]}" "${n2_insns[$path]}" "${per_path[$path]}" "$ratio" \
        "$(((per_path[$path] == fewest)) && echo best || true)" "${xnnpack:-?}"
      records+=("$(printf '{"cpu": "%s", "model": "%s", "program": "resq-int8-paths", "path": "%s", "operator": "%s", "runs": %d, "warmup": %d, "threads": %d, "insns_n": %d, "insns_2n": %d, "insns_per_inference": %d, "best": %s, "suite": "%s", "xnnpack": "%s"}' \
        "$cpu" "$model" "$path" "${operator[$path]:-}" "$runs" "$warmup" "$threads" "${n_insns[$path]}" \
        "${n2_insns[$path]}" "${per_path[$path]}" "$(((per_path[$path] == fewest)) && echo true || echo false)" "$suite" "$xnnpack")")
    done
    if ((${#best[@]} > 1)); then
      say "$cpu $(basename "$model"): fewest instructions on paths $(IFS=' '; echo "${best[*]}") (a tie)"
    else
      say "$cpu $(basename "$model"): fewest instructions on path ${best[0]}"
    fi
    unset n_insns n2_insns per_path operator
  done
done
if [[ -n $json ]]; then
  { echo "["; (IFS=$'\n'; echo "${records[*]}") | sed '$!s/$/,/'; echo "]"; } >"$json"
fi
