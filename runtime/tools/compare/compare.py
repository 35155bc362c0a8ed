#!/usr/bin/python3
"""The measuring half of compare_runtimes.sh: latency, agreement with PyTorch and peak RSS of resq int8,
resq float32, ONNX Runtime int8 (QDQ) and float32, and PyTorch float32, printed as one Markdown table.

Interleaved: for each model and thread count, every contender runs `--warmup` untimed and `--runs` timed
inferences per turn, round-robin over the contenders (the starting contender rotates each round), for
`--rounds` rounds; a contender's figure is the median of its per-round medians, so a burst of load from
other processes hits every contender alike instead of one. ONNX Runtime and PyTorch stay loaded in their
own worker processes (ort_worker.js, torch_worker.py) across rounds; resq runs `resq-bench --json`
once per turn (its load and prepare are not timed).

Agreement: each contender runs the fixed probe inputs WORK/MODEL_input.npy (batch 1 each) and is compared
with WORK/MODEL_output.npy, PyTorch's float32 logits written by the exporter: the worst relative error
||y - ref|| / ||ref|| and cosine over the inputs, and how many inputs keep PyTorch's top-1 class.

Expects in WORK, for each model: MODEL.onnx, MODEL_qdq_u8.onnx (or _s8), MODEL_int8.resq, MODEL_float32.resq,
MODEL_input.npy, MODEL_output.npy (compare_runtimes.sh makes them).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_INT8 = "ONNX Runtime int8 (QDQ)"


class Worker:
    """A contender kept loaded in its own process, spoken to with one JSON line each way."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = self._read()
        if not self.info.get("ready"):
            raise SystemExit("worker %s did not start: %s" % (argv, self.info))

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("worker %s exited with %s" % (self.proc.args, self.proc.wait()))
        return json.loads(line)

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def predict(self, npy):
        return np.array(self.ask(op="predict", input=npy)["output"], np.float32)

    def time(self, warmup, runs):
        return statistics.median(self.ask(op="time", warmup=warmup, runs=runs)["ms"])

    def close(self):
        rss = self.ask(op="rss")["peak_rss_bytes"]
        self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
        self.proc.stdin.close()
        self.proc.wait()
        return rss


class Resq:
    """resq through its own programs: resq-bench for latency and peak RSS, resq-run for outputs."""

    def __init__(self, bin_dir, model, threads):
        self.bin_dir, self.model, self.threads = bin_dir, model, threads
        self.peak_rss = 0

    def predict(self, npy):
        out = "%s_%dt_probe_output.npy" % (os.path.splitext(self.model)[0], self.threads)
        subprocess.run([os.path.join(self.bin_dir, "resq-run"), self.model, "--input", npy, "--output", out,
                        "--threads", str(self.threads)], check=True, stdout=subprocess.DEVNULL)
        return np.load(out)

    def time(self, warmup, runs):
        out = subprocess.run([os.path.join(self.bin_dir, "resq-bench"), self.model, "--threads", str(self.threads),
                              "--runs", str(runs), "--warmup", str(warmup), "--json"],
                             check=True, capture_output=True, text=True).stdout
        figures = json.loads(out)
        self.peak_rss = max(self.peak_rss, figures["peak_rss_bytes"])
        return figures["latency_ms"]["median"]

    def close(self):
        return self.peak_rss


def op_counts(onnx_path):
    """{op type: count} of the graph ONNX Runtime saved after its optimizations."""
    import onnx
    counts = {}
    for node in onnx.load(onnx_path).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def agreement(y, ref):
    y, ref = y.astype(np.float64), ref.astype(np.float64)
    rel = np.linalg.norm(y - ref, axis=1) / np.linalg.norm(ref, axis=1)
    cos = (y * ref).sum(1) / (np.linalg.norm(y, axis=1) * np.linalg.norm(ref, axis=1))
    top1 = int((y.argmax(1) == ref.argmax(1)).sum())
    return {"max_rel_err": float(rel.max()), "min_cosine": float(cos.min()), "top1": top1, "inputs": len(ref)}


def measure(args, model, threads, log):
    path = lambda suffix: os.path.join(args.work, model + suffix)  # noqa: E731
    ort_js = os.path.join(HERE, "ort_worker.js")
    ort_qdq = path("_qdq_%s.onnx" % args.qdq_activations)
    ort_optimized = path("_qdq_%s_as_run_by_onnxruntime.onnx" % args.qdq_activations)
    contenders = [
        ("resq int8", "int8", lambda: Resq(args.bin, path("_int8.resq"), threads)),
        ("resq float32", "float32", lambda: Resq(args.bin, path("_float32.resq"), threads)),
        (ORT_INT8, "int8", lambda: Worker(["node", ort_js, args.node_modules, ort_qdq, str(threads), ort_optimized])),
        ("ONNX Runtime float32", "float32",
         lambda: Worker(["node", ort_js, args.node_modules, path(".onnx"), str(threads)])),
        ("PyTorch float32", "float32",
         lambda: Worker(["/usr/bin/python3", os.path.join(HERE, "torch_worker.py"), model, str(threads)])),
    ]
    runners = {}
    for name, _, make in contenders:
        runners[name] = make()
    infos = {name: getattr(r, "info", {}) for name, r in runners.items()}

    reference = np.load(path("_output.npy"))
    agree = {}
    for name, _, _ in contenders:
        agree[name] = agreement(runners[name].predict(path("_input.npy")), reference)

    medians = {name: [] for name, _, _ in contenders}
    for round_index in range(args.rounds):
        log("%s, %d thread%s: round %d/%d" % (model, threads, "s"[:threads > 1], round_index + 1, args.rounds))
        start = round_index % len(contenders)
        for name, _, _ in contenders[start:] + contenders[:start]:
            medians[name].append(runners[name].time(args.warmup, args.runs))

    rows = []
    rss = {name: runners[name].close() for name, _, _ in contenders}
    infos[ORT_INT8]["ops_as_run"] = op_counts(ort_optimized)
    load = os.getloadavg()[0]
    log("%s, %d thread%s: done, 1-min load average %.2f" % (model, threads, "s"[:threads > 1], load))
    for name, dtype, _ in contenders:
        rows.append({"model": model, "threads": threads, "contender": name, "dtype": dtype, "load_average": load,
                     "median_ms": statistics.median(medians[name]), "round_medians_ms": medians[name],
                     "peak_rss_bytes": rss[name], **agree[name], "info": infos[name]})
    by_name = {r["contender"]: r for r in rows}
    for r in rows:
        r["vs_resq_int8"] = r["median_ms"] / by_name["resq int8"]["median_ms"]
        r["vs_resq_same_dtype"] = r["median_ms"] / by_name["resq " + r["dtype"]]["median_ms"]
    return rows


def markdown(rows):
    lines = ["| model | threads | contender | median ms | round medians ms | x resq int8 | x resq same dtype "
             "| max rel err | min cosine | top-1 | peak RSS MiB |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append("| %s | %d | %s | %.1f | %.1f-%.1f | %.2f | %.2f | %.2g | %.6f | %d/%d | %.0f |" % (
            r["model"], r["threads"], r["contender"], r["median_ms"], min(r["round_medians_ms"]),
            max(r["round_medians_ms"]), r["vs_resq_int8"], r["vs_resq_same_dtype"], r["max_rel_err"],
            r["min_cosine"], r["top1"], r["inputs"], r["peak_rss_bytes"] / 2**20))
    return "\n".join(lines)


def xnnpack_package(bin_dir):
    """'PACKAGE VERSION' of the XNNPACK resq-bench runs with, or '?': the package that has the libXNNPACK.so.*
    ld.so loads for it (libxnnpack0 on Debian 12, libxnnpack0.20241108 on Debian 13: the name follows the soname)."""
    ldd = subprocess.run(["ldd", os.path.join(bin_dir, "resq-bench")], capture_output=True, text=True).stdout
    path = next((line.split("=>")[1].split()[0] for line in ldd.splitlines()
                 if "libXNNPACK.so" in line and "=>" in line), None)
    if not path:
        return "?"
    # dpkg knows the file by its real path (/usr/lib/..., where ld.so may name /lib/...)
    for pattern in (os.path.realpath(path), "*/" + os.path.basename(os.path.realpath(path))):
        owner = subprocess.run(["dpkg-query", "-S", pattern], capture_output=True, text=True).stdout
        if owner:
            package = owner.split(":")[0].split(",")[0].strip()
            version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                                     capture_output=True, text=True).stdout
            return "%s %s" % (package, version or "?")
    return "?"


def environment(rows, bin_dir):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.machine())
    xnnpack = xnnpack_package(bin_dir)
    ort = next((r["info"] for r in rows if r["contender"].startswith("ONNX")), {})
    torch = next((r["info"] for r in rows if r["contender"].startswith("PyTorch")), {})
    return {"cpu": cpu, "cores": os.cpu_count(), "xnnpack": xnnpack, "onnxruntime_node": ort.get("onnxruntime"),
            "node": ort.get("node"), "torch": torch.get("torch"), "torch_blas": torch.get("blas")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, help="folder with the models and probe inputs")
    ap.add_argument("--bin", required=True, help="folder with resq-bench and resq-run")
    ap.add_argument("--node-modules", required=True, help="node_modules folder holding onnxruntime-node")
    ap.add_argument("--qdq-activations", choices=["u8", "s8"], default="u8",
                    help="which MODEL_qdq_<u8|s8>.onnx ONNX Runtime's int8 runs")
    ap.add_argument("--models", default="resnet18,resnet50")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=15, help="timed inferences per contender per round")
    ap.add_argument("--warmup", type=int, default=3, help="untimed inferences before each turn's timed ones")
    ap.add_argument("--json", help="also write every figure here")
    args = ap.parse_args()

    started = time.time()
    log = lambda text: print("[compare %4.0fs] %s" % (time.time() - started, text), file=sys.stderr, flush=True)  # noqa
    load_before = os.getloadavg()
    rows = []
    for model in args.models.split(","):
        for threads in [int(t) for t in args.threads.split(",")]:
            rows.extend(measure(args, model, threads, log))
    load_after = os.getloadavg()
    env = environment(rows, args.bin)
    env.update(load_average_before=load_before, load_average_after=load_after,
               rounds=args.rounds, runs=args.runs, warmup=args.warmup, seconds=time.time() - started)

    print("%s, %d cores; %s, onnxruntime-node %s (node %s), torch %s (BLAS %s)" % (
        env["cpu"], env["cores"], env["xnnpack"], env["onnxruntime_node"], env["node"], env["torch"],
        env["torch_blas"]))
    if "/blas/libblas.so" in (env["torch_blas"] or ""):
        print("WARNING: PyTorch runs on Debian's reference BLAS (libblas3): at 1 thread its 1x1 convolutions go "
              "through it and are several times slower than with OpenBLAS (apt-get install libopenblas0)")
    print("1-min load average %.2f before, %.2f after; %d rounds x (%d warm-up + %d timed) per contender, "
          "%.0f s" % (load_before[0], load_after[0], args.rounds, args.warmup, args.runs, env["seconds"]))
    for r in rows:
        if r["contender"] == ORT_INT8 and r["threads"] == int(args.threads.split(",")[0]):
            ops = r["info"]["ops_as_run"]
            print("ONNX Runtime ran %s's QDQ model (%s activations) as: %s" % (
                r["model"], args.qdq_activations, ", ".join("%d %s" % (n, op) for op, n in ops.items())))
            if ops.get("Conv", 0) or ops.get("FusedConv", 0):
                print("WARNING: float convolutions left in ONNX Runtime's int8 graph: its int8 figures are not "
                      "int8 throughout")
    print()
    print(markdown(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
