#!/bin/bash
# Compare resq (int8, float32) with ONNX Runtime (int8 QDQ with resq's own scales, float32) and PyTorch
# (float32) on torchvision ResNet-18 and ResNet-50 (seeded random weights), 224x224, batch 1, 1 and 2
# threads, back to back and interleaved in one run; prints one Markdown table. See README.md here.
#
#   runtime/tools/compare/compare_runtimes.sh [--quick] [--build DIR] [--work DIR] [--models a,b]
#       [--threads 1,2] [--rounds N] [--runs N] [--warmup N] [--ort-version V] [--ort-cache DIR]
#
# Needs, beyond .ci/packages and .ci/packages-test and a build in build/:
#   apt-get install -y python3-flatbuffers nodejs npm libopenblas0
# (libopenblas0: without it PyTorch's 1-thread 1x1 convolutions run on the reference BLAS, several times
# slower; the table's header names the BLAS PyTorch used.) onnxruntime-node is installed once with npm
# into a cache folder outside the repo (~290 MB). --quick: 3 short rounds, a 1-2 minute smoke run.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PYTHON=/usr/bin/python3   # Debian's, with torch, torchvision, onnx, numpy and flatbuffers

BUILD="$ROOT/build"
WORK=""
MODELS="resnet18,resnet50"
THREADS="1,2"
ROUNDS=7 RUNS=15 WARMUP=3
ORT_VERSION="1.30.0"
ORT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/resq-compare"
CALIB_COUNT=32
PROBES=8
# ONNX Runtime's int8 model stores activations as ONNX Runtime itself prefers them (QDQIsInt8Allowed() in
# its QDQ transformer): uint8 (zero point + 128, the same values) on x86, where MLAS's fast int8 GEMMs are
# u8 x s8 and an int8-activation QDQ model is left partly in float; int8 on ARM.
case "$(uname -m)" in x86_64|i?86) QDQ_ACTIVATIONS=u8 ;; *) QDQ_ACTIVATIONS=s8 ;; esac

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=3 RUNS=5 WARMUP=1 ;;
    --build) BUILD="$(cd "$2" && pwd)"; shift ;;
    --work) WORK="$2"; shift ;;
    --models) MODELS="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --ort-version) ORT_VERSION="$2"; shift ;;
    --ort-cache) ORT_CACHE="$2"; shift ;;
    -h|--help) usage 0 ;;
    *) echo "compare_runtimes.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
  esac
  shift
done
WORK="${WORK:-$BUILD/compare}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
START=$SECONDS
say() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { echo "compare_runtimes.sh: $*" >&2; exit 1; }

# --- prerequisites, each named with the package that brings it --------------------------------------
for tool in resq-convert resq-bench resq-run; do
  [ -x "$BUILD/bin/$tool" ] ||
    die "$BUILD/bin/$tool is missing: build first (cmake -S . -B build -G Ninja && cmake --build build)"
done
command -v flatc >/dev/null || die "flatc is missing: apt-get install -y flatbuffers-compiler"
command -v node >/dev/null || die "node is missing: apt-get install -y nodejs npm"
command -v npm >/dev/null || die "npm is missing: apt-get install -y npm"
"$PYTHON" -c 'import torch, torchvision, onnx, numpy' 2>/dev/null ||
  die "$PYTHON cannot import torch, torchvision, onnx and numpy:" \
    "apt-get install -y python3-torch python3-torchvision python3-onnx python3-numpy"
"$PYTHON" -c 'import flatbuffers' 2>/dev/null ||
  die "$PYTHON cannot import flatbuffers: apt-get install -y python3-flatbuffers"

# --- ONNX Runtime: the npm package ships its CPU libraries, so no install script is needed ------------
ORT_DIR="$ORT_CACHE/onnxruntime-node-$ORT_VERSION"
ORT_MODULES="$ORT_DIR/node_modules"
installed_version() { node -p "require('$ORT_MODULES/onnxruntime-node/package.json').version" 2>/dev/null; }
if [ "$(installed_version)" != "$ORT_VERSION" ]; then
  say "installing onnxruntime-node@$ORT_VERSION into $ORT_DIR"
  mkdir -p "$ORT_DIR"
  npm install --prefix "$ORT_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ORT_VERSION" >&2 || die "npm install onnxruntime-node@$ORT_VERSION failed"
fi
node -e "require('$ORT_MODULES/onnxruntime-node')" ||
  die "onnxruntime-node in $ORT_MODULES does not load in node $(node --version) on $(uname -m)"

# --- models: export, calibrate, convert, and the QDQ model with the .resq's own quantization -----------
# stale TARGET DEPS...: true when TARGET is missing or older than one of DEPS (so a rerun reuses them).
stale() {
  local target="$1"; shift
  [ -e "$target" ] || return 0
  local dep
  for dep in "$@"; do [ "$dep" -nt "$target" ] && return 0; done
  return 1
}

CALIB="$WORK/calibration_${CALIB_COUNT}.npy"
if stale "$CALIB"; then
  say "calibration inputs: $CALIB_COUNT random-normal NCHW pictures"
  "$PYTHON" -c 'import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(2024).standard_normal((int(sys.argv[2]), 3, 224, 224), dtype=np.float32))' \
    "$CALIB" "$CALIB_COUNT"
fi

EXPORT="$ROOT/models/export_torchvision.py"
for model in ${MODELS//,/ }; do
  base="$WORK/$model"
  if stale "$base.onnx" "$EXPORT" || stale "${base}_output.npy" "$EXPORT"; then
    say "$model: exporting ONNX and PyTorch's float32 outputs on $PROBES probe inputs"
    "$PYTHON" "$EXPORT" --model "$model" --out "$base.onnx" --golden "$base" --golden-batch "$PROBES" >/dev/null
  fi
  if stale "${base}_int8.resq" "$base.onnx" "$CALIB" "$BUILD/bin/resq-convert"; then
    say "$model: resq-convert int8 (calibrated on $CALIB_COUNT random-normal inputs)"
    "$BUILD/bin/resq-convert" "$base.onnx" -o "${base}_int8.resq" --calib "$CALIB" --threads 2 --quiet \
      --report "${base}_int8_report.json"
  fi
  if stale "${base}_float32.resq" "$base.onnx" "$BUILD/bin/resq-convert"; then
    say "$model: resq-convert float32"
    "$BUILD/bin/resq-convert" "$base.onnx" -o "${base}_float32.resq" --dtype float32 --quiet
  fi
  qdq="${base}_qdq_$QDQ_ACTIVATIONS.onnx"
  if stale "$qdq" "$base.onnx" "${base}_int8.resq" "$HERE/make_qdq_onnx.py" "$HERE/resq_model.py"; then
    say "$model: QDQ ONNX model with the scales and zero points of ${model}_int8.resq"
    "$PYTHON" "$HERE/make_qdq_onnx.py" "$base.onnx" "${base}_int8.resq" --activations "$QDQ_ACTIVATIONS" \
      -o "$qdq" >&2
  fi
done

# --- measure -------------------------------------------------------------------------------------------
say "measuring: $ROUNDS rounds x ($WARMUP warm-up + $RUNS timed) per contender, models $MODELS, threads $THREADS"
"$PYTHON" "$HERE/compare.py" --work "$WORK" --bin "$BUILD/bin" --node-modules "$ORT_MODULES" \
  --models "$MODELS" --threads "$THREADS" --rounds "$ROUNDS" --runs "$RUNS" --warmup "$WARMUP" \
  --qdq-activations "$QDQ_ACTIVATIONS" --json "$WORK/results.json"
say "done; every figure is in $WORK/results.json"
