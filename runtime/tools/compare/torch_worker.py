#!/usr/bin/python3
"""One PyTorch (Debian's torch, float32, eager) model in its own process, driven by compare.py over
stdin/stdout with the same line protocol as ort_worker.js (predict / time / rss / quit).

The model is rebuilt with models/export_torchvision.py's build() and the same seed as the exported ONNX,
so it has the same weights; compare.py checks that its outputs match the exporter's golden outputs.
Peak RSS is reset (/proc/self/clear_refs, 5) after the build: the random-weight construction (training-
mode passes for the BatchNorm statistics) is not what a deployed model costs; loading torch and holding
the model is.

With one thread, PyTorch 1.13 runs unstrided 1x1 convolutions at batch 1 as im2col + the system BLAS
(aten::_slow_conv2d_forward) instead of oneDNN: the BLAS that libblas.so.3 resolves to (Debian's reference
libblas3 unless libopenblas0 is installed) decides much of its 1-thread latency, so "ready" names it.
OpenBLAS gets THREADS threads, like PyTorch.

Usage: torch_worker.py MODEL_NAME THREADS [SEED]
"""
import gc
import json
import os
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[2]  # before numpy and torch load a BLAS

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "models"))
import export_torchvision  # noqa: E402


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def blas_library():
    """The BLAS library mapped into this process (libblas.so.3's target, OpenBLAS, MKL), or '?'."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "/" in line}
    for path in sorted(paths):
        name = os.path.basename(path)
        if name.startswith(("libblas.so", "libopenblas", "libmkl_rt", "libblis")):
            return os.path.realpath(path)
    return "?"


def main():
    name, threads = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    torch.set_num_threads(threads)
    model, _ = export_torchvision.build(name, False, 1000, seed)
    model.eval()
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
    except OSError:
        pass

    # The timed input: fixed pseudo-random values (the kernels' speed does not depend on them).
    timed = torch.from_numpy(np.random.default_rng(1).uniform(-1.5, 1.5, (1, 3, 224, 224)).astype(np.float32))

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()})
    with torch.inference_mode():
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "predict":
                x = torch.from_numpy(np.load(cmd["input"]).astype(np.float32))
                rows = [model(x[i:i + 1])[0].numpy().tolist() for i in range(x.shape[0])]
                reply({"output": rows})
            elif cmd["op"] == "time":
                for _ in range(cmd["warmup"]):
                    model(timed)
                ms = []
                for _ in range(cmd["runs"]):
                    begin = time.perf_counter()
                    model(timed)
                    ms.append((time.perf_counter() - begin) * 1000)
                reply({"ms": ms})
            elif cmd["op"] == "rss":
                reply({"peak_rss_bytes": peak_rss_bytes()})
            elif cmd["op"] == "quit":
                break
            else:
                raise SystemExit("torch_worker: unknown command %s" % line)


if __name__ == "__main__":
    main()
