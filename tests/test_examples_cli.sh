#!/usr/bin/env bash
# test_examples_cli.sh BIN_DIR MODEL.resq SAMPLES_DIR LABELS.txt PYTHON3 [EMULATOR...]
#
# The README's job, end to end through the real programs, on the bundled model and pictures:
#   - resq-classify prints each bundled picture's true label (SAMPLES_DIR/<class index>_<name>.png, the
#     index being a line of LABELS.txt), and reports corrupt pictures in one line each with exit 1 while
#     the good ones still print;
#   - its --json lines read back with Python's json module, also for a picture whose path holds a quote, a
#     backslash, a newline and a byte that is not UTF-8 (U+FFFD in the JSON), and labels with quotes and
#     backslashes;
#   - resq-camera --stdin, fed the same pictures as raw 64x48 I420 frames one at a time (so that it must
#     convert colours, resize and crop), names every frame as resq-classify names the picture, and ends
#     cleanly with a summary at the end of the stream;
#   - a burst of frames faster than the model is dropped, not queued; every frame of a recording (stdin a
#     regular file, or --all-frames) is classified in order, each as resq-classify names its picture;
#   - a short read and a missing camera end with one clear line and exit 1.
# EMULATOR: the command that runs target programs (qemu-run.sh ... when cross-compiled), or nothing.
# Exits 77 (ctest: skipped) when MODEL or PYTHON3 does not exist.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 5 ]] || fail "usage: $0 BIN_DIR MODEL SAMPLES_DIR LABELS PYTHON3 [EMULATOR...]"
bin=$1 model=$2 samples=$3 labels=$4 python=$5
shift 5
emulator=("$@")
run() { "${emulator[@]}" "$@"; }

if [[ ! -f $model ]]; then
  echo "skipped: no model at $model (resq-convert makes it from models/fashion_mnist_resnet.onnx)"
  exit 77
fi
if [[ ! -x $python ]]; then
  echo "skipped: no python3 ('$python') to read resq-classify's JSON"
  exit 77
fi
shopt -s nullglob
images=("$samples"/*.png)
[[ ${#images[@]} -gt 0 ]] || fail "no pictures in $samples"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

true_label() { # .../7_sneaker.png -> line 8 of LABELS
  local index=${1##*/}
  index=${index%%_*}
  sed -n "$((index + 1))p" "$labels"
}
# json_top_labels JSONL IMAGE...: reads resq-classify's JSON Lines, one object per IMAGE in order, checks
# each one's keys, their order and types and that its "image" is IMAGE (bytes that are not UTF-8 as U+FFFD),
# and prints each picture's top label, one per line.
json_top_labels() {
  "$python" - "$@" <<'PYTHON'
import json, os, sys
path, images = sys.argv[1], sys.argv[2:]
with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
if lines[-1] != "" or len(lines) - 1 != len(images):
    sys.exit("want %d lines, each ending in a newline, got %r" % (len(images), lines))
for line, image in zip(lines, images):
    record = json.loads(line)
    top = record["top"]
    ok = (list(record) == ["image", "inference_ms", "top"] and
          record["image"] == os.fsencode(image).decode("utf-8", "replace") and
          isinstance(record["inference_ms"], (int, float)) and len(top) > 0 and
          all(list(c) == ["index", "label", "probability"] and isinstance(c["index"], int) and
              isinstance(c["label"], str) and isinstance(c["probability"], (int, float)) for c in top))
    if not ok:
        sys.exit("unexpected JSON for %r: %s" % (image, line))
    print(top[0]["label"])
PYTHON
}
frame_label() { sed -E 's/^frame [0-9]+: (.*) \([0-9.]+\)  inference [0-9.]+ ms, end-to-end [0-9.]+ ms, ([0-9.]+ fps|first frame)$/\1/'; }
lines() { wc -l <"$1" | tr -d ' '; }

echo "== resq-classify names every bundled picture correctly"
run "$bin/resq-classify" "$model" "${images[@]}" --json --top 3 >"$tmp/classify.jsonl" 2>"$tmp/classify.err" ||
  fail "resq-classify exited $?: $(cat "$tmp/classify.err")"
json_top_labels "$tmp/classify.jsonl" "${images[@]}" >"$tmp/top_labels" || fail "resq-classify --json (above)"
declare -A classified
i=0
while IFS= read -r label; do
  image=${images[i]}
  i=$((i + 1))
  want=$(true_label "$image")
  [[ $label == "$want" ]] || fail "resq-classify calls ${image##*/} '$label', it is '$want'"
  classified[$image]=$label
  echo "  ${image##*/}: $label"
done <"$tmp/top_labels"

echo "== resq-classify --json escapes a path with a quote, a backslash and a newline, and odd labels"
odd="$tmp/a \"quoted\" \\ dir"$'\n'"next line "$'\xe9'
mkdir -p "$odd"
cp "${images[0]}" "$odd/picture \"1\".png"
sed 's/.*/"&" \\ C:\\&/' "$labels" >"$tmp/odd_labels.txt" # Sneaker -> "Sneaker" \ C:\Sneaker
run "$bin/resq-classify" "$model" "$odd/picture \"1\".png" --labels "$tmp/odd_labels.txt" --json \
  >"$tmp/odd.jsonl" 2>"$tmp/odd.err" || fail "resq-classify exited $?: $(cat "$tmp/odd.err")"
label=$(json_top_labels "$tmp/odd.jsonl" "$odd/picture \"1\".png") || fail "resq-classify --json (above)"
want=$(true_label "${images[0]}")
[[ $label == "\"$want\" \\ C:\\$want" ]] || fail "odd label '$label', want '\"$want\" \\ C:\\$want'"
echo "  $label"

run "$bin/resq-classify" "$model" "${images[0]}" --top 2 >"$tmp/text"
[[ $(lines "$tmp/text") -eq 3 ]] || fail "text output is not a header and 2 classes: $(cat "$tmp/text")"
grep -Eq "^${images[0]}: [0-9.]+ ms$" "$tmp/text" || fail "text header: $(head -n1 "$tmp/text")"
grep -Eq "^  [01]\.[0-9]{4}  ${classified[${images[0]}]}$" "$tmp/text" || fail "text top class: $(cat "$tmp/text")"

echo "== resq-classify reports corrupt pictures in one line each, exit 1, and still runs the others"
printf '\x89PNG\r\n\x1a\nthis is not a picture' >"$tmp/corrupt.png"
head -c 100 "${images[0]}" >"$tmp/truncated.png"
status=0
run "$bin/resq-classify" "$model" "${images[0]}" "$tmp/corrupt.png" "$tmp/truncated.png" "$tmp/missing.png" \
  "${images[1]}" >"$tmp/out" 2>"$tmp/err" || status=$?
cat "$tmp/err"
[[ $status -eq 1 ]] || fail "exit status $status, want 1"
[[ $(lines "$tmp/err") -eq 3 ]] || fail "want 3 error lines"
grep -q "^resq-classify: image '$tmp/corrupt.png': " "$tmp/err" || fail "no line names corrupt.png"
grep -q "^resq-classify: image '$tmp/truncated.png': " "$tmp/err" || fail "no line names truncated.png"
grep -q "^resq-classify: cannot open image '$tmp/missing.png'" "$tmp/err" || fail "no line names missing.png"
[[ $(grep -c " ms$" "$tmp/out") -eq 2 ]] || fail "the two good pictures were not both classified: $(cat "$tmp/out")"

echo "== resq-camera --stdin names each picture's I420 frame as resq-classify names the picture"
run "$bin/camera_make_frames" "$model" 64x48 "$tmp" "${images[@]}"
camera=("${emulator[@]}" "$bin/resq-camera" "$model" --stdin --format i420 --size 64x48)
coproc CAMERA { exec "${camera[@]}" 2>"$tmp/camera.err"; }
# Our own copies of the pipes: bash forgets CAMERA as soon as the program exits.
exec {to_camera}>&"${CAMERA[1]}" {from_camera}<&"${CAMERA[0]}"
eval "exec ${CAMERA[1]}>&- ${CAMERA[0]}<&-"
camera_pid=$CAMERA_PID
for image in "${images[@]}"; do
  name=${image##*/}
  cat "$tmp/${name%.png}.i420" >&"$to_camera"
  # One frame at a time: the next goes in once this one is classified, so the model never drops one.
  IFS= read -r -t 120 line <&"$from_camera" || fail "no result for $name: $(cat "$tmp/camera.err")"
  label=$(frame_label <<<"$line")
  [[ $label == "${classified[$image]}" ]] || fail "frame of $name: '$line', resq-classify said '${classified[$image]}'"
  echo "  $line"
done
exec {to_camera}>&- # end of stream on a frame boundary
IFS= read -r -t 120 summary <&"$from_camera" || fail "no summary: $(cat "$tmp/camera.err")"
exec {from_camera}<&-
echo "  $summary"
wait "$camera_pid" || fail "resq-camera exited $? at the end of the stream: $(cat "$tmp/camera.err")"
n=${#images[@]}
[[ $summary == "summary: $n frames, $n classified, 0 dropped, 0 skipped, "* ]] || fail "summary: $summary"

echo "== frames that arrive while the model is busy are dropped, not queued"
for _ in 1 2 3 4 5; do cat "$tmp"/*.i420; done | "${camera[@]}" >"$tmp/burst" 2>"$tmp/burst.err" ||
  fail "burst: exit $?: $(cat "$tmp/burst.err")"
summary=$(grep "^summary: " "$tmp/burst")
echo "  $summary"
[[ $summary =~ ^summary:\ ([0-9]+)\ frames,\ ([0-9]+)\ classified,\ ([0-9]+)\ dropped,\ 0\ skipped ]] ||
  fail "burst summary: $summary"
frames=${BASH_REMATCH[1]} done=${BASH_REMATCH[2]} dropped=${BASH_REMATCH[3]}
[[ $frames -eq $((5 * n)) && $((done + dropped)) -eq $frames && $done -ge 1 ]] || fail "burst counts: $summary"
[[ $(grep -c "^frame " "$tmp/burst") -eq $done ]] || fail "burst: $done classified but a different number of lines"

echo "== every frame of a recording, in order: stdin a regular file (the default), or a pipe with --all-frames"
: >"$tmp/recording"
for _ in 1 2 3; do
  for image in "${images[@]}"; do
    name=${image##*/}
    cat "$tmp/${name%.png}.i420" >>"$tmp/recording"
  done
done
total=$((3 * n))
for how in file pipe; do
  if [[ $how == file ]]; then
    "${camera[@]}" <"$tmp/recording" >"$tmp/all" 2>"$tmp/all.err" || fail "recording: exit $?: $(cat "$tmp/all.err")"
  else
    cat "$tmp/recording" | "${camera[@]}" --all-frames >"$tmp/all" 2>"$tmp/all.err" ||
      fail "recording through a pipe: exit $?: $(cat "$tmp/all.err")"
  fi
  [[ $(grep -c "^frame " "$tmp/all") -eq $total ]] || fail "$how: not all $total frames classified: $(tail -n2 "$tmp/all")"
  k=0
  while IFS= read -r line; do
    [[ $line == "frame $k: "* ]] || fail "$how: frame $k out of order: '$line'"
    image=${images[$((k % n))]}
    [[ $(frame_label <<<"$line") == "${classified[$image]}" ]] ||
      fail "$how: frame $k of ${image##*/}: '$line', resq-classify said '${classified[$image]}'"
    k=$((k + 1))
  done < <(grep "^frame " "$tmp/all")
  grep -q "^summary: $total frames, $total classified, 0 dropped, 0 skipped, " "$tmp/all" || fail "$how: $(grep summary "$tmp/all")"
  grep -Eq "^latency: inference p50 [0-9.]+ p90 [0-9.]+ p99 [0-9.]+ ms; end-to-end p50 " "$tmp/all" ||
    fail "$how: no latency percentiles"
  echo "  $how: $(grep '^summary' "$tmp/all")"
done

frame_files=("$tmp"/*.i420)
first=${frame_files[0]}

echo "== Ctrl-C stops it cleanly: the frame in hand finished, a summary, exit 0"
coproc STOPPED { exec "${camera[@]}" 2>"$tmp/sigint.err"; }
exec {to_camera}>&"${STOPPED[1]}" {from_camera}<&"${STOPPED[0]}"
eval "exec ${STOPPED[1]}>&- ${STOPPED[0]}<&-"
camera_pid=$STOPPED_PID
cat "$first" >&"$to_camera"
IFS= read -r -t 120 line <&"$from_camera" || fail "no result before Ctrl-C: $(cat "$tmp/sigint.err")"
kill -INT "$camera_pid"
IFS= read -r -t 120 summary <&"$from_camera" || fail "no summary after Ctrl-C: $(cat "$tmp/sigint.err")"
status=0
wait "$camera_pid" || status=$?
exec {to_camera}>&- {from_camera}<&-
echo "  $summary"
[[ $status -eq 0 ]] || fail "exit status $status after Ctrl-C: $(cat "$tmp/sigint.err")"
[[ $summary == "summary: 1 frames, 1 classified, 0 dropped, 0 skipped, "* ]] || fail "summary: $summary"

echo "== a short read and a missing camera end with one clear line and exit 1"
status=0
{ cat "$first"; head -c 1000 "$first"; } | "${camera[@]}" >"$tmp/short" 2>"$tmp/short.err" || status=$?
cat "$tmp/short.err"
[[ $status -eq 1 ]] || fail "short read: exit status $status, want 1"
[[ $(lines "$tmp/short.err") -eq 1 ]] || fail "short read: want one line on stderr"
grep -q "^resq-camera: stdin ended 1000 bytes into a 4608-byte frame (short read)" "$tmp/short.err" ||
  fail "short read message"
[[ $(grep -c "^frame 0: " "$tmp/short") -eq 1 ]] || fail "short read: the whole frame before it was not classified"

status=0
run "$bin/resq-camera" "$model" --device "$tmp/no-camera" >/dev/null 2>"$tmp/nocam.err" || status=$?
cat "$tmp/nocam.err"
[[ $status -eq 1 && $(lines "$tmp/nocam.err") -eq 1 ]] || fail "missing camera: exit status $status"
grep -q "^resq-camera: cannot open camera '$tmp/no-camera': No such file or directory$" "$tmp/nocam.err" ||
  fail "missing camera message"
echo "all passed"
