#!/usr/bin/env bash
# resq-convert's calibration warnings fire on a set that misleads, and stay quiet on a good one: 5 one-colour
# pictures, one a duplicate, are too few, one colour and repeated (three warnings); the bundled 300 Fashion-MNIST
# pictures give no warning at all.
#   test_converter_warnings.sh RESQ_CONVERT SOURCE_DIR WORK_DIR
set -euo pipefail
convert=$1 source=$2 work=$3
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
rm -rf "$work" && mkdir -p "$work/one-colour"
for grey in 0 80 160 240; do
  { printf 'P5\n28 28\n255\n' && head -c 784 /dev/zero | tr '\0' "\\$(printf '%03o' $grey)"; } >"$work/one-colour/$grey.pgm"
done
cp "$work/one-colour/80.pgm" "$work/one-colour/80-again.pgm"
args=("$source/models/fashion_mnist_resnet.onnx" --labels "$source/models/fashion_mnist_labels.txt" --mean 0.286
  --std 0.353 -q)

"$convert" "${args[@]}" -o "$work/one-colour.resq" --calib "$work/one-colour" 2>"$work/one-colour.err"
cat "$work/one-colour.err"
grep -q "^resq-convert: warning: calibrating on 5 inputs: ranges from fewer than 32 " "$work/one-colour.err" ||
  fail "no warning about too few inputs"
grep -q "^resq-convert: warning: 5 of 5 calibration inputs are one colour" "$work/one-colour.err" ||
  fail "no warning about one-colour inputs"
grep -q "^resq-convert: warning: 1 of 5 calibration inputs repeat an earlier one exactly" "$work/one-colour.err" ||
  fail "no warning about duplicates"

"$convert" "${args[@]}" -o "$work/good.resq" --calib "$source/models/calibration" 2>"$work/good.err"
[[ ! -s $work/good.err ]] || fail "warnings on the bundled calibration set: $(cat "$work/good.err")"
echo "all passed"
