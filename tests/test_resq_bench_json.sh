#!/usr/bin/env bash
# test_resq_bench_json.sh RESQ_BENCH MAKE_ODD_NAMES_MODEL WORK_DIR PYTHON3 [EMULATOR...]
#
# resq-bench --json --profile on a model whose path and node names hold a quote, a backslash, a newline
# (and a tab, and bytes that are not UTF-8): the output is one JSON object that Python's json module reads,
# with the path and names as given (bytes that are not UTF-8 as U+FFFD), every key, and numbers as numbers.
# The text output still runs. EMULATOR: the command that runs target programs (qemu-run.sh ... when
# cross-compiled), or nothing. Exits 77 (ctest: skipped) without python3.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 4 ]] || fail "usage: $0 RESQ_BENCH MAKE_ODD_NAMES_MODEL WORK_DIR PYTHON3 [EMULATOR...]"
bench=$1 make_model=$2 work=$3 python=$4
shift 4
emulator=("$@")
run() { "${emulator[@]}" "$@"; }
if [[ ! -x $python ]]; then
  echo "skipped: no python3 ('$python') to read the JSON"
  exit 77
fi

rm -rf -- "$work" && mkdir -p "$work"
dir="$work/a \"quoted\" \\ dir"$'\n'"next line "$'\xe9'
mkdir -p "$dir"
model="$dir/odd \"names\".resq"
run "$make_model" "$model" >"$work/names.hex" || fail "make_odd_names_model exited $?"

echo "== resq-bench --json --profile: $(printf %q "$model")"
run "$bench" "$model" --json --profile --runs 3 --warmup 1 >"$work/bench.json" 2>"$work/bench.err" ||
  fail "resq-bench exited $?: $(cat "$work/bench.err")"
"$python" - "$model" "$work/names.hex" "$work/bench.json" <<'PYTHON' || fail "the JSON does not read back (above)"
import json, os, sys
model, names_hex, output = sys.argv[1:]
with open(output, encoding="utf-8") as f:
    figures = json.load(f)  # one object, nothing after it
names = [bytes.fromhex(line).decode("utf-8", "replace") for line in open(names_hex).read().split()]
keys = ["model", "model_bytes", "threads", "runs", "warmup", "input", "open_ms", "load_ms", "measure_ms", "prepare_ms",
        "arena_bytes", "activation_bytes", "xnnpack_bytes", "peak_rss_bytes", "latency_ms", "heap_allocations", "ops"]
problems = []
if list(figures) != keys:
    problems.append("keys %s, want %s" % (list(figures), keys))
if figures.get("model") != os.fsencode(model).decode("utf-8", "replace"):
    problems.append("model %r, want %r" % (figures.get("model"), model))
if figures.get("model_bytes") != os.path.getsize(os.fsencode(model)):
    problems.append("model_bytes")
if (figures.get("threads"), figures.get("runs"), figures.get("warmup")) != (1, 3, 1):
    problems.append("threads, runs, warmup")
if figures.get("input") != "pseudo-random (uniform -1.5..1.5)":
    problems.append("input %r" % figures.get("input"))
for key in ["open_ms", "load_ms", "measure_ms", "prepare_ms"]:
    if not isinstance(figures.get(key), (int, float)):
        problems.append(key + " is not a number")
for key in ["arena_bytes", "activation_bytes", "xnnpack_bytes", "peak_rss_bytes", "heap_allocations"]:
    if not isinstance(figures.get(key), int):
        problems.append(key + " is not an integer")
latency = figures.get("latency_ms", {})
if list(latency) != ["min", "median", "p90", "p99", "stddev"] or not all(isinstance(v, (int, float)) for v in latency.values()):
    problems.append("latency_ms %r" % latency)
ops = figures.get("ops", [])
if [op.get("name") for op in ops] != names:
    problems.append("op names %r, want %r" % ([op.get("name") for op in ops], names))
for op in ops:
    if list(op) != ["op", "name", "shape", "macs", "ms"] or not isinstance(op["macs"], int) or \
            not isinstance(op["ms"], (int, float)):
        problems.append("op %r" % op)
if problems:
    sys.exit("resq-bench --json: " + "; ".join(problems) + "\n" + open(output, encoding="utf-8", errors="replace").read())
print("  %d ops read back: %s" % (len(ops), ", ".join(repr(name) for name in names)))
PYTHON

echo "== resq-bench without --json still prints its text"
run "$bench" "$model" --runs 2 --warmup 0 >"$work/bench.txt" || fail "resq-bench (text) exited $?"
grep -q "^latency      min " "$work/bench.txt" || fail "no latency line: $(cat "$work/bench.txt")"
echo "all passed"
