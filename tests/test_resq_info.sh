#!/usr/bin/env bash
# test_resq_info.sh BIN_DIR MODEL.resq LABELS.txt PYTHON3 [EMULATOR...]
# resq-info on the bundled model: the input, preprocessing and labels it shows are those the model was
# converted with (28x28 gray, mean 0.286, std 0.353, the labels file), its op counts add up to its node list,
# its arena is the one resq-bench prepares; a file that is not a model is one line and exit 1.
set -euo pipefail
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 4 ]] || fail "usage: $0 BIN_DIR MODEL LABELS PYTHON3 [EMULATOR...]"
bin=$1 model=$2 labels=$3 python=$4
shift 4
if [[ ! -f $model || ! -x $python ]]; then
  echo "skipped: no model at $model or no $python"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$@" "$bin/resq-info" "$model" | tee "$tmp/text"
grep -qx 'input          1x28x28x1 f32 (NHWC)' "$tmp/text" || fail "input line"
grep -q '^preprocessing  grayscale; resize the shorter side to 28, .* mean 0.286, std 0.353$' "$tmp/text" ||
  fail "preprocessing line"
"$@" "$bin/resq-info" "$model" --json --nodes --labels >"$tmp/json"
"$python" - "$tmp/json" "$labels" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
labels = [line.rstrip("\n") for line in open(sys.argv[2]) if line.strip()]
assert info["labels"] == labels, info["labels"]
assert info["input"] == {"shape": [1, 28, 28, 1], "type": "f32"}, info["input"]
assert info["preprocessing"] == {"grayscale": True, "resize_shorter": 28, "mean": [0.286], "std": [0.353]}
assert sum(info["op_counts"].values()) == len(info["nodes"]) > 0
assert info["op_counts"]["Conv2D int8"] == sum(1 for n in info["nodes"] if n["op"] == "Conv2D")
print("json: %d nodes, %d labels, arena %d bytes" % (len(info["nodes"]), len(labels), info["arena_bytes"]))
PY
arena=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["arena_bytes"])' "$tmp/json")
bench=$("$@" "$bin/resq-bench" "$model" --runs 1 --warmup 0 --json 2>/dev/null |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["arena_bytes"])')
[[ $arena == "$bench" ]] || fail "arena $arena bytes, resq-bench prepares $bench"

head -c 100 "$model" >"$tmp/cut.resq"
status=0
"$@" "$bin/resq-info" "$tmp/cut.resq" 2>"$tmp/err" >/dev/null || status=$?
cat "$tmp/err"
[[ $status -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] || fail "a cut model: exit $status"
echo "all passed"
