#!/usr/bin/env bash
# resq-convert --eval DIR: accuracy against ground truth on Fashion-MNIST test pictures written here in the
# ImageFolder layout. The float32 top-1 it reports must equal an independent count: PyTorch's logits for the
# same pictures (models/golden_fashion_mnist.py) against the dataset's labels. The int8 top-1 must stay within
# 2 points of float32. Without --eval, the printout says that its figures are int8 against float on the
# calibration inputs, not accuracy.
#   test_converter_eval.sh BIN_DIR SOURCE_DIR PYTHON_WITH_TORCH WORK_DIR
set -euo pipefail
bin=$1 source=$2 python=$3 work=$4
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
if ! "$python" -c "import torch, numpy" 2>/dev/null || [[ ! -d /usr/share/datasets/fashion-mnist ]]; then
  echo "skipped: needs torch, numpy and the Fashion-MNIST dataset"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
count=300
"$python" "$source/tests/make_image_folder.py" "$work/eval" --count $count
"$python" "$source/models/golden_fashion_mnist.py" --out-prefix "$work/golden" --count $count >/dev/null

convert=("$bin/resq-convert" "$source/models/fashion_mnist_resnet.onnx" --calib "$source/models/calibration"
  --labels "$source/models/fashion_mnist_labels.txt" --mean 0.286 --std 0.353)
"${convert[@]}" -o "$work/m.resq" --eval "$work/eval" --report "$work/report.json" >"$work/out.txt"
tail -n 5 "$work/out.txt"  # the printout after its per-layer lines
"$python" - "$work" $count <<'PY'
import json, sys
import numpy as np
work, count = sys.argv[1], int(sys.argv[2])
logits = np.load(work + "/golden_output.npy")
labels = np.load(work + "/golden_labels.npy")
independent = int((logits.argmax(axis=1) == labels).sum())
report = json.load(open(work + "/report.json"))
truth = report["eval"]
assert truth["measured_on"] == work + "/eval", truth["measured_on"]
assert truth["pictures"] == count and truth["unreadable"] == 0, truth
assert truth["float32"]["top1_count"] == independent, (truth["float32"], independent)
drop = truth["float32"]["top1"] - truth["int8"]["top1"]
assert drop <= 0.02, "int8 loses %.2f points" % (100 * drop)
assert report["output_accuracy"]["measured_on"] == "calibration inputs"
print("float32 top-1 %d/%d as PyTorch counts it; int8 %d/%d" % (independent, count, truth["int8"]["top1_count"], count))
PY
grep -Eq "^accuracy against ground truth on $count pictures of '$work/eval':$" "$work/out.txt" ||
  fail "the printout does not name the evaluation set"
grep -q "^int8 against float over the [0-9]* calibration inputs (agreement, not accuracy" "$work/out.txt" ||
  fail "the printout does not say its agreement figures come from the calibration inputs"

echo "== --eval of a folder without class subfolders is a one-line error, and nothing is written"
mkdir -p "$work/loose"
cp "$source"/models/calibration/train_0000[0-4].png "$work/loose/"
status=0
"${convert[@]}" -o "$work/loose.resq" --eval "$work/loose" 2>"$work/err" >/dev/null || status=$?
cat "$work/err"
[[ $status -eq 1 && $(wc -l <"$work/err") -eq 1 ]] || fail "exit $status"
grep -q "has no class subfolders" "$work/err" || fail "message"
[[ ! -e $work/loose.resq ]] || fail "a model was written"
echo "all passed"
