#!/usr/bin/env bash
# test_resq_bench.sh BIN_DIR MODEL.resq [EMULATOR...]
#
# resq-bench --profile on the bundled model: it profiles the runs asked for, one table row per node, and the
# runtime's own time it prints is Invoke minus the operators of the same run, so it can be neither negative
# nor most of the run. (The figure this replaced mixed SetInput and medians of different runs and read +4%.)
# Exits 77 (ctest: skipped) when MODEL does not exist.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $# -ge 2 ]] || fail "usage: $0 BIN_DIR MODEL [EMULATOR...]"
bin=$1 model=$2
shift 2
if [[ ! -f $model ]]; then
  echo "skipped: no model at $model"
  exit 77
fi

out=$("$@" "$bin/resq-bench" "$model" --profile --runs 9 --warmup 1)
echo "$out"
grep -q '^9 profiled runs: sum of op medians' <<<"$out" || fail "the number of profiled runs is not printed"
line=$(grep '^per run: ops' <<<"$out") || fail "no per-run line"
# per run: ops A ms, Invoke B ms (medians); runtime's own time C ms = +D% of its ops
read -r ops invoke own <<<"$(sed -E 's/^per run: ops ([0-9.]+) ms, Invoke ([0-9.]+) ms .* time (-?[0-9.]+) ms .*/\1 \2 \3/' <<<"$line")"
awk -v ops="$ops" -v invoke="$invoke" -v own="$own" 'BEGIN {
  if (!(ops > 0 && invoke >= ops && own >= 0 && own < 0.5 * invoke)) exit 1 }' ||
  fail "ops $ops ms, Invoke $invoke ms, own $own ms: Invoke must contain its operators and little else"
echo "ok: ops $ops ms inside Invoke $invoke ms, runtime's own time $own ms"
