#!/bin/bash
# resq-convert's command line: exit codes, one-line errors on stderr, no file left by a failed run,
# and a full int8 conversion with the JSON report.
#   test_converter_cli.sh RESQ_CONVERT MODEL.onnx CALIBRATION.npy LABELS WORK_DIR
set -u
convert=$1 model=$2 calibration=$3 labels=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_error NAME MESSAGE ARGS...: exit status 1, MESSAGE in a single stderr line, nothing written.
expect_error() {
  local name=$1 message=$2
  shift 2
  local err
  err=$("$convert" "$@" 2>&1 >/dev/null)
  local status=$?
  [ $status -eq 1 ] || fail "$name: exit status $status, expected 1"
  grep -qF -- "$message" <<<"$err" || fail "$name: expected '$message', got '$err'"
  [ "$(wc -l <<<"$err")" -eq 1 ] || fail "$name: error is not one line: $err"
  [ -z "$(ls -A "$work/out" 2>/dev/null)" ] || fail "$name: left files behind: $(ls "$work/out")"
}

mkdir -p "$work/out"
echo "plain text" >"$work/text.onnx"
expect_error "not onnx" "is not an ONNX model" "$work/text.onnx" -o "$work/out/m.resq" --dtype float32
head -c 100000 "$model" >"$work/truncated.onnx"
expect_error "truncated" "is truncated" "$work/truncated.onnx" -o "$work/out/m.resq" --dtype float32
expect_error "bad input size" "--input-size '28by28' is not HxW" "$model" -o "$work/out/m.resq" --input-size 28by28
expect_error "int8 without calibration" "needs calibration inputs" "$model" -o "$work/out/m.resq"
expect_error "wrong mean" "--mean has 2 values" "$model" -o "$work/out/m.resq" --dtype float32 --mean 0.1,0.2

out=$("$convert" "$model" -o "$work/out/fashion.resq" --calib "$calibration" --calib-count 200 \
      --mean 0.286 --std 0.353 --labels "$labels" --report "$work/out/report.json" 2>&1)
status=$?
[ $status -eq 0 ] || fail "int8 conversion: exit status $status: $out"
grep -q "top-1 agreement" <<<"$out" || fail "int8 conversion printed no report: $out"
[ -s "$work/out/fashion.resq" ] || fail "int8 conversion wrote no model"
grep -q '"top1_agreement"' "$work/out/report.json" || fail "report.json has no top1_agreement"
grep -q '"sqnr_db"' "$work/out/report.json" || fail "report.json has no per-layer SQNR"
ls "$work/out" | grep -q '\.tmp\.' && fail "a temporary file was left behind"

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "resq-convert command line: all checks passed"
