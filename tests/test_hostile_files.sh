#!/usr/bin/env bash
# Files from outside and output paths, through resq-run and resq-convert (issue 13, findings 2 and 3):
#   - .npy files whose headers claim 64 GiB, terabytes, or 3 GB from 6.4 KB; FIFOs, /dev/zero and device
#     nodes as a model, an array, labels or an ONNX model;
#   - pictures through resq-classify and a --calib folder of resq-convert (findings 1 and 4): a Radiance HDR
#     whose runs have length 0 (stb_image 2.27 hangs on it), also named .png; headers that claim more pixels
#     than the file holds, for every format resq reads; the issue's bombs (PSD, PGM, JPEG, GIF) and a PNG whose
#     data inflates to far more than its header's pixels (stb_image keeps it all); a picture over
#     the pixel budget, and --max-pixels raising it; /dev/zero as a picture;
#   - outputs that are a device node (made with mknod here), a FIFO, a directory or a link to standard
#     output; the same file for -o and --report, however spelt; symbolic links planted where the old fixed
#     temporary names were; a temporary file a killed writer left.
# Every refused case must take one line on stderr, exit status 1 (not a signal), finish within 10 s under a
# 512 MiB address-space limit (a Raspberry Pi Zero 2 W), and leave the input and output folders as they were.
# Inputs are made here; no Python.
#   test_hostile_files.sh BIN_DIR MODEL.onnx LABELS WORK_DIR MAKE_HOSTILE_PICTURES [RESQ_CLASSIFY]
set -uo pipefail
bin=$1 onnx=$2 labels=$3 work=$4 make_pictures=$5 classify=${6:-}
run=$bin/resq-run convert=$bin/resq-convert
limit=$((512 << 20))
command -v prlimit >/dev/null || { echo "skipped: no prlimit (util-linux)"; exit 77; }
rm -rf "$work" && mkdir -p "$work/in" "$work/out" "$work/log"
in=$work/in out=$work/out
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# npy FILE SHAPE DATA_BYTES: a float32 .npy header claiming SHAPE, followed by DATA_BYTES zero bytes.
npy() {
  local header="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
  local unpadded=$((10 + ${#header} + 1))
  header+=$(printf '%*s' $(((64 - unpadded % 64) % 64)) '')$'\n'
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((${#header} & 255)))\\x$(printf %02x $((${#header} >> 8)))"
    printf '%s' "$header"
    head -c "$3" /dev/zero
  } >"$1"
}

# What is on disk where the tools read and write: type, name, size and link target of every entry.
snapshot() { (cd "$work" && find in out -printf '%y %p %s %l\n' | sort); }

# refused NAME EXPECTED CMD...: CMD fails as described above, with EXPECTED in its one line.
refused() {
  local name=$1 expected=$2 status=0
  shift 2
  local before
  before=$(snapshot)
  timeout 10 prlimit --as=$limit "$@" >/dev/null 2>"$work/log/stderr" || status=$?
  local err
  err=$(cat "$work/log/stderr")
  case $status in
    0) fail "$name: succeeded" ;;
    1) ;;
    124) fail "$name: still running after 10 s (a hang)" ;;
    *) fail "$name: exit status $status (above 128: killed by signal $((status - 128)))" ;;
  esac
  [[ $(wc -l <"$work/log/stderr") == 1 ]] || fail "$name: stderr is not one line: $err"
  grep -qF -- "$expected" "$work/log/stderr" || fail "$name: expected '$expected', got '$err'"
  [[ $(snapshot) == "$before" ]] || fail "$name: the files changed: $(diff <(echo "$before") <(snapshot) | tr '\n' ' ')"
}

# succeeds NAME CMD...: CMD exits 0 within 10 s under the same limit.
succeeds() {
  local name=$1 status=0
  shift
  timeout 10 prlimit --as=$limit "$@" >/dev/null 2>"$work/log/stderr" || status=$?
  [[ $status == 0 ]] || fail "$name: exit status $status: $(cat "$work/log/stderr")"
}

"$convert" "$onnx" -o "$in/model.resq" --dtype float32 --mean 0.286 --std 0.353 --quiet || exit 1
model=$in/model.resq
stats=(--mean 0.286 --std 0.353 --quiet)
npy "$in/x.npy" "(2, 1, 28, 28)" $((2 * 28 * 28 * 4))
npy "$in/bomb.npy" "(16384, 1048576)" 0                      # 128 bytes claiming 64 GiB
npy "$in/terabytes.npy" "(1048576, 1, 1024, 1024)" 0          # 4 TiB
npy "$in/lying.npy" "(1000000, 1, 28, 28)" $((2 * 28 * 28 * 4)) # 6.4 KB claiming 3.1 GB
[[ $(stat -c %s "$in/bomb.npy") == 128 ]] || fail "the bomb .npy is $(stat -c %s "$in/bomb.npy") bytes, not 128"
mkfifo "$in/fifo"
succeeds "a valid .npy (the test's own writer)" "$run" "$model" --input "$in/x.npy" --output "$out/y.npy"
rm -f "$out/y.npy"

# ---- sizes claimed before reading ----
for tool in run convert; do
  if [[ $tool == run ]]; then
    reading=("$run" "$model" --output "$out/y.npy" --input)
  else
    reading=("$convert" "$onnx" -o "$out/m.resq" "${stats[@]}" --calib)
  fi
  refused "$tool: .npy claiming 64 GiB" "its shape (16384, 1048576) of float32 needs 68719476736" \
    "${reading[@]}" "$in/bomb.npy"
  refused "$tool: .npy claiming 4 TiB" "needs 4398046511104" "${reading[@]}" "$in/terabytes.npy"
  refused "$tool: .npy lying about its shape" "holds 6272 bytes after its header, but its shape (1000000, 1, 28, 28)" \
    "${reading[@]}" "$in/lying.npy"
  refused "$tool: FIFO as .npy" ".npy file '$in/fifo' is a FIFO or pipe, not a regular file" "${reading[@]}" "$in/fifo"
  refused "$tool: /dev/zero as .npy" "'/dev/zero' is a character device, not a regular file" "${reading[@]}" /dev/zero
done
refused "run: FIFO as model" "model '$in/fifo' is a FIFO or pipe, not a regular file" \
  "$run" "$in/fifo" --input "$in/x.npy" --output "$out/y.npy"
refused "run: /dev/zero as model" "model '/dev/zero' is a character device" \
  "$run" /dev/zero --input "$in/x.npy" --output "$out/y.npy"
refused "convert: FIFO as ONNX model" "ONNX model '$in/fifo' is a FIFO or pipe, not a regular file" \
  "$convert" "$in/fifo" -o "$out/m.resq" --dtype float32 "${stats[@]}"
refused "convert: /dev/zero as ONNX model" "ONNX model '/dev/zero' is a character device" \
  "$convert" /dev/zero -o "$out/m.resq" --dtype float32 "${stats[@]}"
# Labels may come from a pipe, read up to 16 MiB: a FIFO with no writer reads as empty, /dev/zero hits the cap.
refused "convert: FIFO as --labels" "labels file '$in/fifo' is empty" \
  "$convert" "$onnx" -o "$out/m.resq" --dtype float32 --labels "$in/fifo" "${stats[@]}"
refused "convert: /dev/zero as --labels" "labels file '/dev/zero' holds more than the 16 MiB limit" \
  "$convert" "$onnx" -o "$out/m.resq" --dtype float32 --labels /dev/zero "${stats[@]}"
succeeds "convert: --labels from a pipe" \
  "$convert" "$onnx" -o "$out/m.resq" --dtype float32 --labels <(cat "$labels") "${stats[@]}"
[[ -f $out/m.resq ]] || fail "convert: --labels from a pipe wrote no model"
rm -f "$out/m.resq"

# ---- output paths ----
if mknod "$out/null" c 1 3 2>/dev/null; then  # /dev/null's numbers, in the test's own folder
  refused "run: a device node as --output" "cannot write '$out/null': it is a character device, not a regular file" \
    "$run" "$model" --input "$in/x.npy" --output "$out/null"
  refused "convert: a device node as -o" "cannot write '$out/null': it is a character device" \
    "$convert" "$onnx" -o "$out/null" --dtype float32 "${stats[@]}"
  refused "convert: a device node as --report" "cannot write '$out/null': it is a character device" \
    "$convert" "$onnx" -o "$out/m.resq" --report "$out/null" --dtype float32 "${stats[@]}"
  rm "$out/null"
else
  echo "note: mknod is not permitted here: the device-node cases are skipped"
fi
mkfifo "$out/fifo"
refused "run: a FIFO as --output" "cannot write '$out/fifo': it is a FIFO or pipe, not a regular file" \
  "$run" "$model" --input "$in/x.npy" --output "$out/fifo"
refused "convert: a FIFO as -o" "cannot write '$out/fifo': it is a FIFO or pipe" \
  "$convert" "$onnx" -o "$out/fifo" --dtype float32 "${stats[@]}"
rm "$out/fifo"
ln -s /proc/self/fd/1 "$out/stdout"  # what /dev/stdout is, in the test's own folder
refused "run: a link to standard output as --output" "cannot write '$out/stdout': it is a symbolic link (to '/proc/self/fd/1')" \
  "$run" "$model" --input "$in/x.npy" --output "$out/stdout"
refused "convert: a link to standard output as -o" "it is a symbolic link" \
  "$convert" "$onnx" -o "$out/stdout" --dtype float32 "${stats[@]}"
rm "$out/stdout"
mkdir "$out/dir"
refused "run: a directory as --output" "cannot write '$out/dir': it is a directory" \
  "$run" "$model" --input "$in/x.npy" --output "$out/dir"
refused "run: a path ending in / as --output" "cannot write '$out/dir/': it names a directory" \
  "$run" "$model" --input "$in/x.npy" --output "$out/dir/"
rmdir "$out/dir"

# -o and --report naming one file: as written, through '.' and '..', through a linked folder, a hard link.
mkdir "$in/sub"
ln -s ../out "$in/outlink"
for report in "$out/m.resq" "$out/./m.resq" "$in/sub/../../out/m.resq" "$in/outlink/m.resq"; do
  refused "convert: -o and --report '$report'" "are the same file" \
    "$convert" "$onnx" -o "$out/m.resq" --report "$report" --dtype float32 "${stats[@]}"
done
echo "an older model" >"$out/old.resq"
ln "$out/old.resq" "$in/hardlink.json"
refused "convert: --report a hard link of -o" "are the same file" \
  "$convert" "$onnx" -o "$out/old.resq" --report "$in/hardlink.json" --dtype float32 "${stats[@]}"
cp "$onnx" "$in/source.onnx"
refused "convert: -o the ONNX model itself" "are the same file" \
  "$convert" "$in/source.onnx" -o "$in/source.onnx" --dtype float32 "${stats[@]}"
rm "$out/old.resq" "$in/hardlink.json" "$in/outlink"

# A symbolic link where resq-run's temporary file used to go (the fixed name y.npy.tmp) must not redirect the
# write: the victim keeps its content, the link stays a link. The name is now unpredictable.
echo "victim" >"$in/victim"
ln -s "$in/victim" "$out/y.npy.tmp"
succeeds "run: a link at the old temporary name" "$run" "$model" --input "$in/x.npy" --output "$out/y.npy"
succeeds "convert: the same routine" "$convert" "$onnx" -o "$out/m.resq" --dtype float32 "${stats[@]}"
echo victim | cmp -s - "$in/victim" || fail "a planted link redirected the write into the victim"
[[ -L $out/y.npy.tmp ]] || fail "the planted link was replaced"
[[ -f $out/y.npy && ! -L $out/y.npy && -f $out/m.resq ]] || fail "the outputs were not written as regular files"
left=$(cd "$out" && ls -A | grep -v -x -e y.npy -e m.resq -e y.npy.tmp)
[[ -z $left ]] || fail "files left next to the outputs: $left"

# A temporary file a writer killed with SIGKILL left: removed by the next write once its writer is gone and
# it is 10 minutes old; a young one, one of a running writer and one for another target stay.
dead=$(sh -c 'echo $$')  # a pid that has just ended
touch -d '-1 hour' "$out/.y.npy.resq-tmp.$dead.0123456789abcdef" "$out/.y.npy.resq-tmp.$$.0123456789abcdef" \
  "$out/.m.resq.resq-tmp.$dead.0123456789abcdef"
touch "$out/.y.npy.resq-tmp.$dead.fedcba9876543210"
succeeds "run: over stale temporary files" "$run" "$model" --input "$in/x.npy" --output "$out/y.npy"
[[ ! -e $out/.y.npy.resq-tmp.$dead.0123456789abcdef ]] || fail "a stale temporary file of a dead writer was kept"
for kept in ".y.npy.resq-tmp.$$.0123456789abcdef" ".y.npy.resq-tmp.$dead.fedcba9876543210" \
  ".m.resq.resq-tmp.$dead.0123456789abcdef"; do
  [[ -e $out/$kept ]] || fail "$kept was removed: it is not stale, or not the target's"
done

# ---- pictures (findings 1 and 4) ----
mkdir "$in/pictures" "$in/calib"
"$make_pictures" "$in/pictures" || fail "make_hostile_pictures failed"
pictures=$in/pictures
[[ $(stat -c %s "$pictures/bomb.psd") == 40 && $(stat -c %s "$pictures/bomb.pgm") == 28 ]] ||
  fail "the PSD and PGM bombs are not 40 and 28 bytes"
unsupported="(resq reads JPEG, PNG, BMP and PGM/PPM)"
if [[ -n $classify ]]; then
  for ok in ok.png ok.jpg ok.bmp ok.pgm ok.ppm ok16.png ok16.pgm; do
    succeeds "classify: an honest $ok" "$classify" "$model" "$pictures/$ok"
  done
  refused "classify: HDR with zero-length runs" "unsupported picture format Radiance HDR $unsupported" \
    "$classify" "$model" "$pictures/zero_runs.hdr"
  refused "classify: the same HDR named .png" "image '$pictures/zero_runs_named.png': unsupported picture format Radiance HDR" \
    "$classify" "$model" "$pictures/zero_runs_named.png"
  refused "classify: WebP" "unsupported picture format WebP $unsupported" "$classify" "$model" "$pictures/riff.webp"
  refused "classify: 40-byte PSD" "unsupported picture format Photoshop PSD" "$classify" "$model" "$pictures/bomb.psd"
  refused "classify: GIF" "unsupported picture format GIF" "$classify" "$model" "$pictures/bomb.gif"
  refused "classify: text named .png" "not a picture resq reads" "$classify" "$model" "$pictures/text.png"
  refused "classify: 28-byte PGM claiming 10000x10000" \
    "corrupt PGM/PPM: its header claims 10000x10000 pixels, more than its 28 bytes can hold" \
    "$classify" "$model" "$pictures/bomb.pgm"
  for short in short.pgm short.ppm short16.pgm short.bmp; do
    refused "classify: $short (one byte short)" "its header claims 30x20 pixels, more than its" \
      "$classify" "$model" "$pictures/$short"
  done
  # Claims within the pixel budget: only the check of what the file holds refuses them.
  for lying in lying.png:7000x7000 lying16.png:4000x4000 lying.bmp:7000x7000 lying.jpg:7000x7000; do
    refused "classify: ${lying%:*} claiming ${lying#*:}" "its header claims ${lying#*:} pixels, more than its" \
      "$classify" "$model" "$pictures/${lying%:*}"
  done
  refused "classify: a JPEG claiming 10000x10000 (the issue's bomb)" \
    "corrupt JPEG: its header claims 10000x10000 pixels, more than its" \
    "$classify" "$model" "$pictures/bomb.jpg"
  refused "classify: a 100x100 PNG inflating to 64 MB" \
    "corrupt PNG: its compressed data inflates to more than the 10100 bytes its 100x100 pixels need" \
    "$classify" "$model" "$pictures/inflate_bomb.png"
  refused "classify: /dev/zero as a picture" "image '/dev/zero' holds more than the 67116864 bytes limit" \
    "$classify" "$model" /dev/zero --max-pixels 1000
  # (A directory is a folder to classify for resq-classify; LoadImage's word on one: test_preprocess_decode.)
  # The budget: 600 pixels against 599 and 600; a 16-bit picture counts twice.
  refused "classify: over --max-pixels" "a 30x20 picture (600 pixels) is over the pixel budget of 599" \
    "$classify" "$model" "$pictures/ok.png" --max-pixels 599
  succeeds "classify: at --max-pixels" "$classify" "$model" "$pictures/ok.png" --max-pixels 600
  refused "classify: 16-bit over --max-pixels" "(600 pixels, 16-bit: counted twice) is over the pixel budget of 1199" \
    "$classify" "$model" "$pictures/ok16.png" --max-pixels 1199
  # Over the default budget (50 million pixels): a 7200x7200 PGM (51.8 MB, removed at once).
  { printf 'P5 7200 7200 255\n'; head -c $((7200 * 7200)) /dev/zero; } >"$pictures/big.pgm"
  refused "classify: over the default pixel budget" "a 7200x7200 picture (51840000 pixels) is over the pixel budget of 50000000" \
    "$classify" "$model" "$pictures/big.pgm"
  succeeds "classify: --max-pixels raising the budget" "$classify" "$model" "$pictures/big.pgm" --max-pixels 60000000
  rm "$pictures/big.pgm"
else
  echo "note: no resq-classify: the pictures are tried through resq-convert --calib only"
fi
# A --calib folder: the HDR named .png is named, not decoded (it hung) and not left out in silence; with an
# honest picture beside it, it is skipped with a warning naming it.
cp "$pictures/zero_runs_named.png" "$in/calib/evil.png"
refused "convert: HDR named .png in --calib" "image '$in/calib/evil.png': unsupported picture format Radiance HDR" \
  "$convert" "$onnx" -o "$out/m.resq" "${stats[@]}" --calib "$in/calib"
cp "$pictures/bomb.pgm" "$in/calib/bomb.pgm"
cp "$pictures/bomb.gif" "$in/calib/no_extension"
refused "convert: only bombs in --calib" "none of the 3 pictures in '$in/calib' can be read" \
  "$convert" "$onnx" -o "$out/m.resq" "${stats[@]}" --calib "$in/calib"
cp "$pictures/ok.pgm" "$in/calib/ok.pgm"
status=0
timeout 60 prlimit --as=$limit "$convert" "$onnx" -o "$out/m.resq" "${stats[@]}" --calib "$in/calib" \
  >/dev/null 2>"$work/log/stderr" || status=$?
[[ $status == 0 ]] || fail "convert: an honest picture beside the bombs: exit status $status: $(cat "$work/log/stderr")"
for named in "image '$in/calib/evil.png': unsupported picture format Radiance HDR" \
  "image '$in/calib/no_extension': unsupported picture format GIF" "image '$in/calib/bomb.pgm': corrupt PGM/PPM"; do
  grep -qF -- "$named" "$work/log/stderr" || fail "convert: no warning line names '$named'"
done
rm -f "$out/m.resq"
mkdir "$in/calib2" && cp "$pictures/ok.pgm" "$in/calib2/"
refused "convert: --max-pixels in --calib" "a 30x20 picture (600 pixels) is over the pixel budget of 599" \
  "$convert" "$onnx" -o "$out/m.resq" "${stats[@]}" --calib "$in/calib2" --max-pixels 599
succeeds "convert: --max-pixels at the picture's pixels" \
  "$convert" "$onnx" -o "$out/m.resq" "${stats[@]}" --calib "$in/calib2" --max-pixels 600
rm -f "$out/m.resq"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "hostile files and output paths: every case refused in one line, bounded, nothing changed on disk"
