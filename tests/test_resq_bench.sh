#!/usr/bin/env bash
# test_resq_bench.sh BIN_DIR MODEL.resq PICTURE [EMULATOR...]
#
# resq-bench --profile on the bundled model: it profiles the runs asked for, one table row per node, and the
# runtime's own time it prints is Invoke minus the operators of the same run, so it can be neither negative
# nor most of the run. (The figure this replaced mixed SetInput and medians of different runs and read +4%.)
# The table cuts nothing, and --input feeds a real picture or .npy, or names what is wrong with it.
# Exits 77 (ctest: skipped) when MODEL does not exist.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 3 ]] || fail "usage: $0 BIN_DIR MODEL PICTURE [EMULATOR...]"
bin=$1 model=$2 picture=$3
shift 3
if [[ ! -f $model ]]; then
  echo "skipped: no model at $model"
  exit 77
fi

out=$("$@" "$bin/resq-bench" "$model" --profile --runs 9 --warmup 1)
echo "$out"
grep -q '^9 profiled runs: sum of op medians' <<<"$out" || fail "the number of profiled runs is not printed"
line=$(grep '^per run: ops' <<<"$out") || fail "no per-run line"
# per run: ops A ms, Invoke B ms (medians); runtime's own time C ms = +D% of its ops
read -r ops invoke own <<<"$(sed -E 's/^per run: ops ([0-9.]+) ms, Invoke ([0-9.]+) ms .* time (-?[0-9.]+) ms .*/\1 \2 \3/' <<<"$line")"
awk -v ops="$ops" -v invoke="$invoke" -v own="$own" 'BEGIN {
  if (!(ops > 0 && invoke >= ops && own >= 0 && own < 0.5 * invoke)) exit 1 }' ||
  fail "ops $ops ms, Invoke $invoke ms, own $own ms: Invoke must contain its operators and little else"
echo "ok: ops $ops ms inside Invoke $invoke ms, runtime's own time $own ms"

# Names and shapes longer than the old fixed 28-character columns, printed whole and apart from the next column.
for whole in '/layer2/layer2.0/shortcut/shortcut.0/Conv ' 'GlobalAveragePool  ' '1x14x14x32 -> 1x14x14x32 '; do
  grep -qF -- "$whole" <<<"$out" || fail "the profile table cuts or crowds '$whole'"
done
grep -qE '^spread +standard deviation [0-9.]+ ms' <<<"$out" || fail "no spread line"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An .npy header for a float32 array of shape ($1): NumPy format 1.0, padded so the data starts at byte 128.
npy_header() {
  local dict="{'descr': '<f4', 'fortran_order': False, 'shape': ($1), }"
  printf '\x93NUMPY\x01\x00\x76\x00%-117s\n' "$dict"
}
npy_header '1,' >"$tmp/wrong.npy" && head -c 4 /dev/zero >>"$tmp/wrong.npy"
if err=$("$@" "$bin/resq-bench" "$model" --runs 1 --warmup 0 --input "$tmp/wrong.npy" 2>&1); then
  fail "an .npy of the wrong shape was benchmarked: $err"
fi
# resq-bench: '.../wrong.npy' has shape 1, model expects Nx1x28x28 (NCHW)
dims=$(sed -nE 's/.*model expects Nx([0-9]+)x([0-9]+)x([0-9]+) \(NCHW\).*/\1 \2 \3/p' <<<"$err")
[[ -n $dims ]] || fail "the wrong-shape message does not name the model's input: $err"
read -r c h w <<<"$dims"
npy_header "2, $c, $h, $w" >"$tmp/zeros.npy" && head -c $((2 * c * h * w * 4)) /dev/zero >>"$tmp/zeros.npy"
out=$("$@" "$bin/resq-bench" "$model" --runs 2 --warmup 0 --input "$tmp/zeros.npy")
grep -qF "input        $tmp/zeros.npy (the first of 2 pictures)" <<<"$out" || fail "--input X.npy was not fed: $out"
out=$("$@" "$bin/resq-bench" "$model" --runs 2 --warmup 0 --input "$picture")
grep -qE "^input +$picture \([0-9]+x[0-9]+, preprocessed\)" <<<"$out" || fail "--input PICTURE was not fed: $out"
echo "ok: whole names and shapes in the table, --input takes a picture and an .npy"
