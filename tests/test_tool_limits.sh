#!/usr/bin/env bash
# The limits every resq program shares (runtime/tools/tool_limits.h; issue 13, findings 5 and 7), through
# resq-run, resq-bench, resq-classify and resq-camera:
#   - models that verify but need a 1 GiB input, an 8 GiB arena or a 2 GiB indirection buffer (made here by
#     make_budget_models, each under 17 KB) are refused before anything is allocated, under a 512 MiB
#     address-space limit (a Raspberry Pi Zero 2 W): the default budget is 3/4 of it;
#   - --memory-budget moves the budget both ways (with K/M/G suffixes);
#   - --threads above the cores this process may run on is capped, with one line saying so;
#   - a model that records no mean/std gets one note from resq-classify, not silent defaults;
#   - labels: control characters escaped in text output, invalid UTF-8 and /dev/zero refused;
#   - resq-camera: --size read without overflow, frames over 4096x4096 pixels refused before their buffers
#     exist, and a reader that closes the output ends the run with a summary (on stderr) and exit 0;
#   - resq-run: NaN or Inf in the input refused;
#   - a usage error is two lines (the error, the --help hint) and exit status 2 in every program;
#   - resq-classify --top above the class count says so.
# Every refused case must take one line on stderr, exit status 1, finish within 10 s and leave no file.
#   test_tool_limits.sh BIN_DIR MAKE_BUDGET_MODELS MODEL.resq PICTURE WORK_DIR
set -uo pipefail
bin=$1 make_models=$2 model=$3 picture=$4 work=$5
limit=$((512 << 20))
command -v prlimit >/dev/null || { echo "skipped: no prlimit (util-linux)"; exit 77; }
rm -rf "$work" && mkdir -p "$work/in" "$work/out" "$work/log"
in=$work/in out=$work/out
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$make_models" "$in" || exit 1
printf '\x93NUMPY\x01\x00\x76\x00%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 2), }" >"$in/x.npy"
head -c 16 /dev/zero >>"$in/x.npy"

# refused NAME EXPECTED CMD...: CMD exits 1 within 10 s under the limit, with one line holding EXPECTED and
# nothing written to the output folder.
refused() {
  local name=$1 expected=$2 status=0
  shift 2
  timeout 10 prlimit --as=$limit "$@" </dev/null >/dev/null 2>"$work/log/stderr" || status=$?
  local err
  err=$(cat "$work/log/stderr")
  case $status in
    0) fail "$name: succeeded" ;;
    1) ;;
    124) fail "$name: still running after 10 s (a hang)" ;;
    *) fail "$name: exit status $status (above 128: killed by signal $((status - 128))): $err" ;;
  esac
  [[ $(wc -l <"$work/log/stderr") == 1 ]] || fail "$name: stderr is not one line: $err"
  grep -qF -- "$expected" "$work/log/stderr" || fail "$name: expected '$expected', got '$err'"
  [[ -z $(ls -A "$out") ]] || fail "$name: left $(ls -A "$out")"
}

# ---- models over the default budget (384 MiB under the 512 MiB limit) ----
default="over the memory budget of 402653184 bytes (384.0 MiB, the default"
for hostile in gap_1gib arena_8gib indirection_2gib; do
  m=$in/$hostile.resq
  [[ $(stat -c %s "$m") -lt 20000 ]] || fail "$hostile.resq is $(stat -c %s "$m") bytes"
  refused "resq-run $hostile" "$default" "$bin/resq-run" "$m" --input "$in/x.npy" --output "$out/y.npy"
  refused "resq-bench $hostile" "$default" "$bin/resq-bench" "$m"
  refused "resq-classify $hostile" "$default" "$bin/resq-classify" "$m" "$picture"
  refused "resq-camera $hostile" "$default" "$bin/resq-camera" "$m" --stdin --format rgb24 --size 28x28
done
refused "the need is named" "model needs up to 2" "$bin/resq-bench" "$in/indirection_2gib.resq"
refused "XNNPACK's share is named" "of activations and at most 2" "$bin/resq-bench" "$in/indirection_2gib.resq"

# ---- --memory-budget ----
refused "a budget below the bundled model's need" "over the memory budget of 65536 bytes (0.1 MiB): raise it" \
  "$bin/resq-bench" "$model" --memory-budget 64K --runs 1 --warmup 0
refused "the same through resq-classify" "over the memory budget of 65536 bytes" \
  "$bin/resq-classify" "$model" "$picture" --memory-budget 64K
status=0
timeout 10 prlimit --as=$limit "$bin/resq-bench" "$model" --memory-budget 2G --runs 1 --warmup 0 \
  >/dev/null 2>"$work/log/stderr" || status=$?
[[ $status == 0 ]] || fail "--memory-budget 2G: exit status $status: $(cat "$work/log/stderr")"
status=0
"$bin/resq-bench" "$model" --memory-budget lots >/dev/null 2>&1 || status=$?
[[ $status != 0 ]] || fail "--memory-budget lots was accepted"

# ---- --threads above the cores ----
if command -v taskset >/dev/null; then
  for tool in resq-bench resq-classify; do
    args=("$model" --threads 4)
    [[ $tool == resq-bench ]] && args+=(--runs 1 --warmup 0) || args+=("$picture")
    status=0
    taskset -c 0 "$bin/$tool" "${args[@]}" >/dev/null 2>"$work/log/stderr" || status=$?
    [[ $status == 0 ]] || fail "$tool --threads 4 on one core: exit status $status"
    grep -qxF "$tool: --threads 4 is more than the 1 cores this process may run on: using 1" "$work/log/stderr" ||
      fail "$tool --threads 4 on one core: no note of the cap, got '$(cat "$work/log/stderr")'"
  done
  status=0
  taskset -c 0 "$bin/resq-bench" "$model" --threads 1 --runs 1 --warmup 0 >/dev/null 2>"$work/log/stderr" || status=$?
  [[ $status == 0 && ! -s $work/log/stderr ]] || fail "--threads 1 on one core: '$(cat "$work/log/stderr")'"
else
  echo "note: no taskset, the --threads cap is not checked"
fi

# ---- a model without mean/std: the picture tools say once what they do ----
status=0
"$bin/resq-classify" "$in/no_metadata.resq" "$picture" "$picture" >/dev/null 2>"$work/log/stderr" || status=$?
[[ $status == 0 ]] || fail "no metadata: exit status $status: $(cat "$work/log/stderr")"
[[ $(cat "$work/log/stderr") == "resq-classify: the model records no mean/std: pictures go in as pixel / 255" ]] ||
  fail "no metadata: expected one note, got '$(cat "$work/log/stderr")'"
status=0
"$bin/resq-classify" "$model" "$picture" >/dev/null 2>"$work/log/stderr" || status=$?
[[ $status == 0 && ! -s $work/log/stderr ]] || fail "a model with mean/std: '$(cat "$work/log/stderr")'"

# ---- labels with control characters: escaped in text, JSON's own escapes in --json ----
printf 'red\x1b[31m\ngreen\nblue\n' >"$in/esc_labels.txt"
text=$("$bin/resq-classify" "$in/no_metadata.resq" "$picture" --labels "$in/esc_labels.txt" --top 3 2>/dev/null)
grep -q $'\x1b' <<<"$text" && fail "text output holds a raw ESC: $text"
grep -qF 'red\x1b[31m' <<<"$text" || fail "text output lacks the escaped label: $text"
json=$("$bin/resq-classify" "$in/no_metadata.resq" "$picture" --labels "$in/esc_labels.txt" --top 3 --json 2>/dev/null)
grep -qF 'red\u001b[31m' <<<"$json" || fail "JSON output lacks the JSON-escaped label: $json"
printf 'ok\nnot \xff utf-8\nthird\n' >"$in/bad_labels.txt"
refused "labels that are not UTF-8" "labels file '$in/bad_labels.txt': line 2 is not valid UTF-8" \
  "$bin/resq-classify" "$in/no_metadata.resq" "$picture" --labels "$in/bad_labels.txt"
refused "/dev/zero as labels" "labels file '/dev/zero' holds more than the 16 MiB limit" \
  "$bin/resq-camera" "$in/no_metadata.resq" --stdin --format rgb24 --size 8x8 --labels /dev/zero

# ---- resq-camera: frame sizes parsed without overflow and bounded; a closed output ends it cleanly ----
refused "--size past int" "--size '99999999999x1': frame size 99999999999x1 is outside 1x1..16384x16384" \
  "$bin/resq-camera" "$model" --stdin --format rgb24 --size 99999999999x1
refused "--size 16384x16384" "frame size 16384x16384 is 268435456 pixels, more than the 16777216 (4096x4096)" \
  "$bin/resq-camera" "$model" --stdin --format i420 --size 16384x16384
refused "--size not a size" "--size '640x' is not WIDTHxHEIGHT" "$bin/resq-camera" "$model" --stdin --format rgb24 --size 640x
# The reader of the output exits at once (`| true`): writing a result fails with EPIPE, which must stop the
# loop like Ctrl-C, with the summary on stderr and exit status 0 (not death by SIGPIPE, status 141).
status=0
(for i in $(seq 30); do head -c $((28 * 28 * 3)) /dev/urandom; sleep 0.02; done) |
  timeout 10 "$bin/resq-camera" "$model" --stdin --format rgb24 --size 28x28 2>"$work/log/stderr" | true
status=${PIPESTATUS[1]}
[[ $status == 0 ]] || fail "closed output: exit status $status (141: killed by SIGPIPE)"
grep -q '^summary: ' "$work/log/stderr" || fail "closed output: no summary on stderr: $(cat "$work/log/stderr")"

# ---- resq-run: NaN or Inf in the input is an error, not scores ----
# npy FILE LAST_VALUE_HEX: float32 (1, 3, 8, 8), zeros then one value given as 4 little-endian bytes.
npy_ending_in() {
  printf '\x93NUMPY\x01\x00\x76\x00%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8), }" >"$1"
  head -c $((191 * 4)) /dev/zero >>"$1"
  printf "$2" >>"$1"
}
npy_ending_in "$in/nan.npy" '\x00\x00\xc0\x7f'
npy_ending_in "$in/inf.npy" '\x00\x00\x80\xff'
npy_ending_in "$in/finite.npy" '\x00\x00\x80\x3f'
refused "NaN in resq-run's input" "'$in/nan.npy' holds nan at index 191 (input 0): inputs must be finite" \
  "$bin/resq-run" "$in/no_metadata.resq" --input "$in/nan.npy" --output "$out/y.npy"
refused "-Inf in resq-run's input" "'$in/inf.npy' holds -inf at index 191" \
  "$bin/resq-run" "$in/no_metadata.resq" --input "$in/inf.npy" --output "$out/y.npy"
"$bin/resq-run" "$in/no_metadata.resq" --input "$in/finite.npy" --output "$out/y.npy" ||
  fail "a finite input was refused"
rm -f "$out/y.npy"

# ---- usage errors: CLI11's two lines and exit status 2, in every program; --help is 0 ----
for tool in resq-run resq-bench resq-classify resq-camera; do
  status=0
  "$bin/$tool" "$model" --no-such-option >/dev/null 2>"$work/log/stderr" || status=$?
  [[ $status == 2 ]] || fail "$tool --no-such-option: exit status $status, not 2"
  [[ $(wc -l <"$work/log/stderr") == 2 && $(tail -1 "$work/log/stderr") == "Run with --help for more information." ]] ||
    fail "$tool --no-such-option: not the error and the --help hint: $(cat "$work/log/stderr")"
  status=0
  "$bin/$tool" "$model" --threads 0 >/dev/null 2>&1 || status=$?
  [[ $status == 2 ]] || fail "$tool --threads 0: exit status $status, not 2"
  "$bin/$tool" --help >/dev/null 2>&1 || fail "$tool --help: exit status $?"
done

# ---- resq-classify --top above the class count: printed, with one line saying so ----
status=0
lines=$("$bin/resq-classify" "$model" "$picture" --top 2000 2>"$work/log/stderr" | wc -l) || status=$?
[[ $status == 0 && $lines == 11 ]] || fail "--top 2000: exit status $status, $lines lines (want the 10 classes)"
[[ $(cat "$work/log/stderr") == "resq-classify: --top 2000 is more than the model's 10 classes: printing 10" ]] ||
  fail "--top 2000: expected one note, got '$(cat "$work/log/stderr")'"

rm -rf "$work"
if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all limits held"
