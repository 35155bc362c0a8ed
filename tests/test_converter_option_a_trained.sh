#!/usr/bin/env bash
# The paper's own CIFAR network, trained: models/fashion_mnist_resnet20_option_a.onnx (ResNet-20 with option A
# shortcuts, trained on Fashion-MNIST by models/train_fashion_mnist.py --shortcut A) converted to int8 with the
# bundled calibration pictures and evaluated with --eval on the full 10,000-picture test set.
#  - float32 top-1 equals the count PyTorch measured at training time (the model's .json), on the same pictures;
#  - int8 top-1 loses at most MAX_DROP_POINTS (default 0.3) points against float32.
#   test_converter_option_a_trained.sh BIN_DIR SOURCE_DIR PYTHON WORK_DIR [MAX_DROP_POINTS]
set -euo pipefail
bin=$1 source=$2 python=$3 work=$4 max_drop_points=${5:-0.3}
model=$source/models/fashion_mnist_resnet20_option_a
# numpy reads the dataset for make_image_folder.py; torch is needed only to train the model, not here
if ! "$python" -c "import numpy" 2>/dev/null || [[ ! -d /usr/share/datasets/fashion-mnist ]]; then
  echo "skipped: needs numpy and the Fashion-MNIST dataset"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
"$python" "$source/tests/make_image_folder.py" "$work/test_set" --count 10000  # 28x28, as the model was trained

"$bin/resq-convert" "$model.onnx" --calib "$source/models/calibration" \
  --labels "$source/models/fashion_mnist_labels.txt" --mean 0.286 --std 0.353 \
  -o "$work/m.resq" --eval "$work/test_set" --report "$work/report.json" >"$work/out.txt"
tail -n 5 "$work/out.txt"
"$python" - "$work/report.json" "$model.json" "$max_drop_points" <<'PY'
import json, sys
report, meta, max_drop = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), float(sys.argv[3]) / 100
truth = report["eval"]
pictures = meta["test_images"]
assert truth["pictures"] == pictures == 10000 and truth["unreadable"] == 0, truth
trained = round(meta["float_test_accuracy"] * pictures)  # the .json keeps 4 decimals: an exact count of 10,000
f32, i8 = truth["float32"]["top1_count"], truth["int8"]["top1_count"]
print("float32 top-1 %d/%d (PyTorch at training time: %d); int8 %d/%d, a drop of %.2f points (at most %.2f)"
      % (f32, pictures, trained, i8, pictures, 100.0 * (f32 - i8) / pictures, 100 * max_drop))
assert f32 == trained, "float32 top-1 %d differs from the %d PyTorch measured" % (f32, trained)
assert i8 >= f32 - max_drop * pictures + 1e-9, "int8 loses more than %.2f points" % (100 * max_drop)
PY
echo "all passed"
