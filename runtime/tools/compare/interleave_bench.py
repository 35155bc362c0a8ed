#!/usr/bin/python3
"""resq-bench of several resq builds, interleaved round-robin on the same .resq files: is one build as fast
as another (a change, another XNNPACK generation, another Debian), and what does resq-bench --profile say
about the runtime's overhead over the sum of its operators.

  interleave_bench.py --build NAME=COMMAND [--build NAME=COMMAND ...] [--threads 1,2] [--rounds N]
      [--runs N] [--warmup N] [--profile] [--json FILE] MODEL.resq...

COMMAND runs resq-bench, split on spaces, e.g. `deb12=/tmp/build/bin/resq-bench` or, for a build inside a
Debian 13 root, `deb13=chroot /srv/trixie/root /tmp/build13/bin/resq-bench` (the model paths must then be
valid in both: a root that bind-mounts the tree, or files copied to the same path).

Per model and thread count, each build in turn runs `resq-bench --json` (--warmup untimed, --runs timed
inferences) for --rounds rounds, the first build rotating each round, as compare.py does. A build's figure
is the median of its round medians; the table also shows their range. With --profile each turn also runs
`resq-bench --profile` and reports the overhead it prints, one figure per round and their median: the
runtime's own time (Invoke minus its operators, run by run) over the operators' time. resq-bench builds from
before 2026-11-29 printed instead the median of separate SetInput + Invoke runs over the sum of the op
medians, which reads +1-4% too high (debian13-measurements.md, section 2); both forms are parsed.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

OVERHEAD = re.compile(r"per run: ops ([0-9.]+) ms, Invoke ([0-9.]+) ms .*= ([-+0-9.]+)% of its ops")
OLD_OVERHEAD = re.compile(r"sum of op medians ([0-9.]+) ms .*invoke median ([0-9.]+) ms; overhead ([-+0-9.]+)%")


def bench(command, model, threads, runs, warmup, profile):
    argv = command.split() + [model, "--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup)]
    if profile:
        out = subprocess.run(argv + ["--profile"], check=True, capture_output=True, text=True).stdout
        match = OVERHEAD.search(out) or OLD_OVERHEAD.search(out)
        if not match:
            raise SystemExit("no overhead line in the output of %s" % " ".join(argv))
        return {"sum_ops_ms": float(match.group(1)), "median_ms": float(match.group(2)),
                "overhead_percent": float(match.group(3))}
    figures = json.loads(subprocess.run(argv + ["--json"], check=True, capture_output=True, text=True).stdout)
    return {"median_ms": figures["latency_ms"]["median"], "min_ms": figures["latency_ms"]["min"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--build", action="append", required=True, help="NAME=COMMAND running that build's resq-bench")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="report resq-bench --profile's overhead instead")
    ap.add_argument("--json", help="also write every figure here")
    args = ap.parse_args()
    builds = [tuple(b.split("=", 1)) for b in args.build]
    started = time.time()
    log = lambda text: print("[interleave %4.0fs] %s" % (time.time() - started, text), file=sys.stderr, flush=True)  # noqa

    load_before = os.getloadavg()
    rows = []
    for model in args.models:
        for threads in [int(t) for t in args.threads.split(",")]:
            turns = {name: [] for name, _ in builds}
            for round_index in range(args.rounds):
                start = round_index % len(builds)
                for name, command in builds[start:] + builds[:start]:
                    turns[name].append(bench(command, model, threads, args.runs, args.warmup, args.profile))
            load = os.getloadavg()[0]
            log("%s, %d thread(s): done, 1-min load average %.2f" % (os.path.basename(model), threads, load))
            for name, _ in builds:
                medians = [t["median_ms"] for t in turns[name]]
                row = {"model": os.path.basename(model), "threads": threads, "build": name, "load_average": load,
                       "median_ms": statistics.median(medians), "round_medians_ms": medians, "turns": turns[name]}
                if args.profile:
                    overheads = [t["overhead_percent"] for t in turns[name]]
                    row["overhead_percent"] = statistics.median(overheads)
                    row["overheads_percent"] = overheads
                rows.append(row)
    load_after = os.getloadavg()

    print("1-min load average %.2f before, %.2f after; %d rounds x (%d warm-up + %d timed)%s, %.0f s" % (
        load_before[0], load_after[0], args.rounds, args.warmup, args.runs,
        ", --profile" if args.profile else "", time.time() - started))
    print()
    first = {}
    if args.profile:
        print("| model | threads | build | invoke median ms | round medians ms | overhead median | overhead per round |")
        print("|---|---:|---|---:|---:|---:|---|")
    else:
        print("| model | threads | build | median ms | round medians ms | x first build |")
        print("|---|---:|---|---:|---:|---:|")
    for r in rows:
        key = (r["model"], r["threads"])
        first.setdefault(key, r["median_ms"])
        span = "%.1f-%.1f" % (min(r["round_medians_ms"]), max(r["round_medians_ms"]))
        if args.profile:
            print("| %s | %d | %s | %.2f | %s | %+.2f%% | %s |" % (
                r["model"], r["threads"], r["build"], r["median_ms"], span, r["overhead_percent"],
                " ".join("%+.1f" % o for o in r["overheads_percent"])))
        else:
            print("| %s | %d | %s | %.2f | %s | %.3f |" % (
                r["model"], r["threads"], r["build"], r["median_ms"], span, r["median_ms"] / first[key]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"builds": dict(builds), "load_average_before": load_before, "load_average_after": load_after,
                       "rounds": args.rounds, "runs": args.runs, "warmup": args.warmup, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
