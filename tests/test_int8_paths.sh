#!/usr/bin/env bash
# test_int8_paths.sh RESQ_INT8_PATHS MODEL.resq [EMULATOR...]
#
# resq-int8-paths, on the XNNPACK generation it was built against, on an int8 model:
#   - it creates and runs every int8 convolution on each of the qc8, qs8 and qu8 paths, and qs8 and qu8
#     (the same per-tensor weights, unsigned codes shifted by 128) give the same outputs within 1 code: the
#     paths are set up as the same convolutions, so their timings and instruction counts compare like with like;
#   - --untimed prints the same thing every time (what count_instructions.sh --int8-paths relies on);
#   - --path runs only the chosen paths; the timed mode prints one row per path.
# EMULATOR: the command that runs target programs (qemu-run.sh ... when cross-compiled), or nothing.
# Exits 77 (ctest: skipped) when MODEL does not exist.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 2 ]] || fail "usage: $0 RESQ_INT8_PATHS MODEL [EMULATOR...]"
program=$1 model=$2
shift 2
emulator=("$@")
run() { "${emulator[@]}" "$program" "$@"; }

if [[ ! -f $model ]]; then
  echo "skipped: no model at $model (resq-convert makes it from models/fashion_mnist_resnet.onnx)"
  exit 77
fi

untimed=$(run "$model" --untimed 2 --warmup 1)
echo "$untimed"
for path in qc8 qs8 qu8; do
  grep -q "^ran      $path (xnn_create_convolution2d_nhwc_" <<<"$untimed" || fail "path $path did not run"
done
qs8_qu8=$(sed -n 's/.*qs8 vs qu8: outputs differ by at most \([0-9]*\) codes$/\1/p' <<<"$untimed")
[[ -n $qs8_qu8 ]] || fail "no qs8 vs qu8 agreement line"
((qs8_qu8 <= 1)) || fail "qs8 and qu8 outputs differ by $qs8_qu8 codes: they are not the same convolutions"
[[ $(run "$model" --untimed 2 --warmup 1) == "$untimed" ]] || fail "--untimed printed something else the second time"

only=$(run "$model" --path qu8 --untimed 1 --warmup 0)
[[ $(grep -c '^ran ' <<<"$only") == 1 ]] && grep -q '^ran      qu8 ' <<<"$only" ||
  fail "--path qu8 ran something else: $only"

timed=$(run "$model" --rounds 1 --runs 1 --warmup 0)
echo "$timed"
for path in qc8 qs8 qu8; do
  grep -Eq "^$path +xnn_create_convolution2d_nhwc_[a-z0-9_]+ +[0-9.]+ +[0-9.]+ " <<<"$timed" ||
    fail "no timing row for $path"
done
echo "resq-int8-paths: all paths ran and agree"
