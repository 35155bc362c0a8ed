#!/bin/bash
# resq-convert's command line: exit codes, one-line errors on stderr, no file left by a failed run,
# and a full int8 conversion with the JSON report, read back by Python's json module from a folder whose name
# has a quote, a backslash, a newline and a byte that is not UTF-8.
#   test_converter_cli.sh RESQ_CONVERT MODEL.onnx CALIBRATION.npy LABELS WORK_DIR PYTHON3
set -u
convert=$1 model=$2 calibration=$3 labels=$4 work=$5 python=$6
if [ ! -x "$python" ]; then
  echo "skipped: no python3 ('$python') to read the JSON report"
  exit 77
fi
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
expect_error "mean in 0..255 units" "--mean value 123.7 is outside [0, 1]: resq's mean and std are on pixel / 255" \
  "$model" -o "$work/out/m.resq" --dtype float32 --mean 123.7
expect_error "std of zero" "--std value 0 is outside [1e-06, 1]" "$model" -o "$work/out/m.resq" --dtype float32 --std 0
expect_error "std of NaN" "--std value nan is outside" "$model" -o "$work/out/m.resq" --dtype float32 --std nan
printf 'ok\nbad \xc3\x28 byte\n' >"$work/bad_utf8_labels.txt"
expect_error "labels not UTF-8" "labels file '$work/bad_utf8_labels.txt': line 2 is not valid UTF-8" \
  "$model" -o "$work/out/m.resq" --dtype float32 --labels "$work/bad_utf8_labels.txt"

expect_error "no output" "--output is required (or --inspect)" "$model" --dtype float32

# --inspect describes the model, writes nothing and exits 0 for a convertible model.
inspected=$("$convert" --inspect "$model" 2>&1)
[ $? -eq 0 ] || fail "--inspect: exit status not 0: $inspected"
for line in "ONNX ops (" "  Conv x" "input 'input': 1x1x28x28" "graph passes:" "after conversion: " "convertible: yes"; do
  grep -qF -- "$line" <<<"$inspected" || fail "--inspect: no '$line' in: $inspected"
done
[ -z "$(ls -A "$work/out" 2>/dev/null)" ] || fail "--inspect left files behind: $(ls "$work/out")"

odd="$work/out/a \"quoted\" \\ dir"$'\n'"next line "$'\xe9'
mkdir -p "$odd"
cp "$model" "$odd/model.onnx"
out=$("$convert" "$odd/model.onnx" -o "$odd/fashion.resq" --calib "$calibration" --calib-count 200 \
      --mean 0.286 --std 0.353 --labels "$labels" --report "$odd/report.json" 2>&1)
status=$?
[ $status -eq 0 ] || fail "int8 conversion: exit status $status: $out"
grep -q "top-1 agreement" <<<"$out" || fail "int8 conversion printed no report: $out"
[ -s "$odd/fashion.resq" ] || fail "int8 conversion wrote no model"
# The paths come back as written, the byte that is not UTF-8 as U+FFFD; the hash is the model file's.
"$python" - "$odd" <<'PYTHON' || fail "report.json does not read back (above)"
import hashlib, json, os, sys
folder = os.fsencode(sys.argv[1])
with open(os.path.join(folder, b"report.json"), encoding="utf-8") as f:
    report = json.load(f)
def shown(path):
    return path.decode("utf-8", "replace")
checks = {
    "source": report["source"] == shown(os.path.join(folder, b"model.onnx")),
    "output": report["output"] == shown(os.path.join(folder, b"fashion.resq")),
    "source_sha256": report["source_sha256"] ==
        hashlib.sha256(open(os.path.join(folder, b"model.onnx"), "rb").read()).hexdigest(),
    "dtype": report["dtype"] == "int8",
    "model_bytes": report["model_bytes"] == os.path.getsize(os.path.join(folder, b"fashion.resq")),
    "layers": len(report["layers"]) > 10 and all(
        isinstance(layer["name"], str) and isinstance(layer["sqnr_db"], (float, type(None))) for layer in report["layers"]),
    "output_accuracy": 0.9 <= report["output_accuracy"]["top1_agreement"] <= 1.0,
}
bad = [key for key, ok in checks.items() if not ok]
if bad:
    sys.exit("report.json: wrong %s in %s" % (", ".join(bad), json.dumps(report, indent=1)[:2000]))
PYTHON
ls "$odd" | grep -q '\.tmp\.' && fail "a temporary file was left behind"

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "resq-convert command line: all checks passed"
