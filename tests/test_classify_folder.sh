#!/usr/bin/env bash
# test_classify_folder.sh BIN_DIR MODEL.resq SOURCE_DIR PYTHON3 [EMULATOR...]
#
# resq-classify on a folder: Fashion-MNIST test pictures written in the ImageFolder layout (one subfolder per
# class) are classified one by one, and the accuracy it reports (text and the JSON summary) equals a count
# made here, independently, from its per-picture lines and the folder each picture lies in. A folder not named
# as a class, an empty folder, and a folder of loose pictures (no accuracy) are checked too.
# Exits 77 (ctest: skipped) when MODEL, PYTHON3 or the dataset is missing.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 4 ]] || fail "usage: $0 BIN_DIR MODEL SOURCE_DIR PYTHON3 [EMULATOR...]"
bin=$1 model=$2 source=$3 python=$4
shift 4
classify=("$@" "$bin/resq-classify" "$model")
for need in "$model" "$python" /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz; do
  if [[ ! -e $need ]]; then
    echo "skipped: no $need"
    exit 77
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" "$source/tests/make_image_folder.py" "$tmp/test" --count 300

echo "== top-1 and top-5 of a folder equal an independent count over its pictures"
"${classify[@]}" "$tmp/test" --json --top 5 >"$tmp/out.jsonl"
"$python" - "$tmp/out.jsonl" <<'PY'
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
pictures, summary = lines[:-1], lines[-1]["summary"]
top1 = top5 = 0
per_class = {}
for p in pictures:
    folder = os.path.basename(os.path.dirname(p["image"]))
    labels = [t["label"] for t in p["top"]]
    truth = p["truth"]
    assert truth.replace("/", "_") == folder, (truth, folder)
    top1 += labels[0] == truth
    top5 += truth in labels
    n, ok = per_class.get(truth, (0, 0))
    per_class[truth] = (n + 1, ok + (labels[0] == truth))
assert len(pictures) == 300 == summary["pictures"], (len(pictures), summary)
assert summary["top1_count"] == top1 and summary["top5_count"] == top5, (summary, top1, top5)
assert abs(summary["top1"] - top1 / 300) < 1e-6
got = {c["label"]: (c["pictures"], c["top1_count"]) for c in summary["classes"]}
assert got == per_class, (got, per_class)
assert 0.8 < top1 / 300 <= 1, top1  # the bundled model is about 90% accurate on Fashion-MNIST
print("  top-1 %d/300, top-5 %d/300, per class as counted" % (top1, top5))
PY
text=$("${classify[@]}" "$tmp/test" --top 1)
read -r top1 top5 <<<"$("$python" -c '
import json, sys
s = json.loads(open(sys.argv[1]).readlines()[-1])["summary"]
print(s["top1_count"], s["top5_count"])' "$tmp/out.jsonl")"
grep -Eq "^accuracy on 300 pictures with a class folder: top-1 [0-9.]+% \($top1\), top-5 [0-9.]+% \($top5\)$" <<<"$text" ||
  fail "the text summary differs from the JSON one: $(grep accuracy <<<"$text")"
grep -Eq "^  Sandal +[0-9.]+% \([0-9]+/[0-9]+\) " <<<"$text" || fail "no per-class line for Sandal"

echo "== a subfolder named as no class, and an empty folder, are one-line errors with exit 1"
mkdir -p "$tmp/odd/Sandal" "$tmp/odd/holiday photos" "$tmp/empty"
sandals=("$tmp"/test/Sandal/*.pgm)
cp "${sandals[0]}" "$tmp/odd/Sandal/"
for dir in odd empty; do
  status=0
  "${classify[@]}" "$tmp/$dir" >"$tmp/$dir.out" 2>"$tmp/$dir.err" || status=$?
  [[ $status -eq 1 && $(wc -l <"$tmp/$dir.err") -eq 1 ]] || fail "$dir: exit $status: $(cat "$tmp/$dir.err")"
  cat "$tmp/$dir.err"
done
grep -q "folder '$tmp/odd/holiday photos' is not named as a class" "$tmp/odd.err" || fail "odd folder message"
grep -q "folder '$tmp/empty' holds no pictures" "$tmp/empty.err" || fail "empty folder message"

echo "== loose pictures in a folder are classified without an accuracy"
mkdir -p "$tmp/loose"
cp "${sandals[@]:0:5}" "$tmp/loose/"
out=$("${classify[@]}" "$tmp/loose" --top 1)
[[ $(grep -c ' ms$' <<<"$out") -eq 5 ]] || fail "loose pictures: $out"
! grep -q '^accuracy' <<<"$out" || fail "an accuracy without classes: $out"
echo "all passed"
