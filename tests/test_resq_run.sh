#!/usr/bin/env bash
# resq-run's command line, a contract outside tools use: float32 NCHW .npy in, float32 [N, classes] .npy out.
# The float .resq of the bundled model must reproduce PyTorch's logits for 64 test images to 1e-4, with 1 and
# 2 threads; bad input must fail with one line, exit 1 and no output file.
# usage: test_resq_run.sh BIN_DIR ONNX WORK_DIR PYTHON SOURCE_DIR
set -euo pipefail
bin=$1 onnx=$2 work=$3 python=$4 source=$5
rm -rf "$work" && mkdir -p "$work"

"$python" "$source/models/golden_fashion_mnist.py" --out-prefix "$work/golden" --count 64 >/dev/null
"$bin/resq-convert" "$onnx" -o "$work/float.resq" --dtype float32 --mean 0.286 --std 0.353 --quiet
for threads in 1 2; do
  "$bin/resq-run" "$work/float.resq" --input "$work/golden_input.npy" --output "$work/out$threads.npy" --threads $threads
done
"$python" - "$work" <<'PY'
import sys, numpy as np
work = sys.argv[1]
ref = np.load(work + "/golden_output.npy")
for threads in (1, 2):
    out = np.load(work + "/out%d.npy" % threads)
    assert out.shape == ref.shape and out.dtype == np.float32, (out.shape, out.dtype)
    error = np.abs(out - ref).max() / np.abs(ref).max()
    print("resq-run, %d thread(s): max |resq - pytorch| / max |pytorch| = %.2e" % (threads, error))
    assert error < 1e-4, error
assert np.array_equal(np.load(work + "/out1.npy"), np.load(work + "/out2.npy")), "1 and 2 threads differ"
PY

# fails CMD... EXPECTED: exit 1, one line on stderr containing EXPECTED, no output file.
fails() {
  local expected=${*: -1} status=0
  "${@:1:$#-1}" 2>"$work/stderr" || status=$?
  [[ $status == 1 ]] || { echo "expected exit 1, got $status: ${*:1:$#-1}"; exit 1; }
  [[ $(wc -l <"$work/stderr") == 1 ]] || { echo "expected one line:"; cat "$work/stderr"; exit 1; }
  grep -qF -- "$expected" "$work/stderr" || { echo "expected '$expected' in:"; cat "$work/stderr"; exit 1; }
  [[ ! -e $work/bad.npy ]] || { echo "an output file was left behind"; exit 1; }
}
"$python" -c "import numpy as np; np.save('$work/wrong_shape.npy', np.zeros((2, 3, 28, 28), np.float32))"
printf 'not a model' >"$work/garbage.resq"
fails "$bin/resq-run" "$work/float.resq" --input "$work/missing.npy" --output "$work/bad.npy" "cannot open"
fails "$bin/resq-run" "$work/float.resq" --input "$work/wrong_shape.npy" --output "$work/bad.npy" \
  "has shape 2x3x28x28, model expects Nx1x28x28 (NCHW)"
fails "$bin/resq-run" "$work/garbage.resq" --input "$work/golden_input.npy" --output "$work/bad.npy" \
  "not a resq model"
echo "resq-run: outputs match PyTorch, errors are one line"
