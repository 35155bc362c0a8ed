#!/usr/bin/python3
"""Train a CIFAR-style ResNet on Fashion-MNIST and export it to ONNX.

Architecture (He et al. 2016, CIFAR variant, "option B" shortcuts by default):
  conv3x3(1->16) + BN + ReLU
  stage 1: n basic blocks, 16 channels, 28x28
  stage 2: n basic blocks, 32 channels, 14x14 (first block stride 2)
  stage 3: n basic blocks, 64 channels,  7x7 (first block stride 2)
  global average pool, Linear(64 -> 10)
depth = 6n + 2 (20 -> ResNet-20, 14 -> ResNet-14). Stride-2 transitions use a
1x1 conv (stride 2) + BN projection shortcut (option B), or with --shortcut A
the paper's own CIFAR shortcut: parameter-free, every other pixel of the input
with zero channels padded on both sides, F.pad(x[:, :, ::2, ::2], ...), which
torch exports as Slice (steps 2) + Pad.

Preprocessing: x = (pixel/255 - MEAN) / STD with MEAN = 0.2860, STD = 0.3530.

Usage:
  train:        /usr/bin/python3 models/train_fashion_mnist.py --epochs 5
  re-export:    /usr/bin/python3 models/train_fashion_mnist.py --export-only /tmp/fashion_mnist_resnet.pt
  BN kept:      ... --export-only /tmp/fashion_mnist_resnet.pt --keep-batchnorm --out /tmp/fm_bn.onnx
  option A:     /usr/bin/python3 models/train_fashion_mnist.py --shortcut A --epochs 1 --train-images 40000 \
                    --threads 2 --checkpoint /tmp/fashion_mnist_resnet20_option_a.pt
                (writes models/fashion_mnist_resnet20_option_a.onnx and .json)
"""
import argparse
import datetime
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist_common as fc  # noqa: E402

MEAN = 0.2860  # also in fmnist_common.MEAN
STD = 0.3530   # also in fmnist_common.STD
assert MEAN == fc.MEAN and STD == fc.STD

DEFAULT_CKPT = "/tmp/fashion_mnist_resnet.pt"


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, shortcut="B"):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        self.pad_channels = None  # option A: zero channels added on each side of the shortcut
        if stride != 1 or cin != cout:
            if shortcut == "A":
                if stride != 2 or cout != 2 * cin:
                    raise ValueError("option A shortcuts need stride 2 and doubled width")
                self.pad_channels = (cout - cin) // 2
            else:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                    nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.pad_channels is not None:
            p = self.pad_channels
            sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))
        else:
            sc = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + sc)


class CifarResNet(nn.Module):
    def __init__(self, depth=20, widths=(16, 32, 64), in_channels=1, num_classes=10, shortcut="B"):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError("depth must be 6n+2")
        n = (depth - 2) // 6
        self.shortcut_kind = shortcut  # "A" or "B", for export paths and metadata
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers = []
        cin = widths[0]
        for i, w in enumerate(widths):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(BasicBlock(cin, w, stride, shortcut))
                cin = w
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # zero-init the last BN of each residual branch (helps short schedules)
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def build_model(depth, shortcut="B"):
    return CifarResNet(depth=depth, shortcut=shortcut)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def augment(xb, gen):
    """Random crop 28x28 from the 2-pixel zero-padded (in normalized space:
    padded with the value of a black pixel) image, plus horizontal flip."""
    b = xb.shape[0]
    pad_val = (0.0 - MEAN) / STD
    padded = F.pad(xb, (2, 2, 2, 2), value=pad_val)
    oy = torch.randint(0, 5, (b,), generator=gen)
    ox = torch.randint(0, 5, (b,), generator=gen)
    ar = torch.arange(28)
    rows = (oy[:, None] + ar[None, :])[:, :, None]  # b,28,1
    cols = (ox[:, None] + ar[None, :])[:, None, :]  # b,1,28
    out = padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(b, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out.contiguous()


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        logits = model(x[i:i + batch])
        correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


def export_onnx(model, out_path, keep_batchnorm=False):
    """Export with a fixed 1x1x28x28 input named 'input', output 'logits'.

    Default form: eval mode + constant folding; the exporter's eval peephole
    pass folds BatchNorm into the preceding Conv.
    keep_batchnorm: training=TrainingMode.PRESERVE on a model in eval() mode
    skips that peephole pass, and do_constant_folding=False keeps the BN
    parameters as separate initializers, so BatchNormalization nodes
    (inference form: 1 output, running statistics) stay in the graph.
    """
    model.eval()
    dummy = torch.zeros(1, 1, fc.INPUT_SIZE, fc.INPUT_SIZE)
    kwargs = dict(opset_version=13, input_names=["input"], output_names=["logits"])
    if keep_batchnorm:
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    else:
        kwargs.update(training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    torch.onnx.export(model, dummy, out_path, **kwargs)
    import onnx
    m = onnx.load(out_path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    if keep_batchnorm:
        if "BatchNormalization" not in ops:
            raise RuntimeError("BatchNormalization nodes missing from --keep-batchnorm export")
        for n in m.graph.node:
            if n.op_type == "BatchNormalization":
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                if len(n.output) != 1 or attrs.get("training_mode", 0) != 0:
                    raise RuntimeError("BatchNormalization exported in training form")
    elif "BatchNormalization" in ops:
        raise RuntimeError("BatchNormalization was not folded in the default export")
    # run the exported graph itself (models/onnx_eval.py) on a few test images
    import onnx_eval
    xs, _ = fc.load_split("test")
    x = fc.preprocess(xs[:8])
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = onnx_eval.OnnxModel(m).run(x)
    err = float(np.abs(got - ref).max() / np.abs(ref).max())
    print("ONNX graph vs PyTorch on 8 test images: max rel err %.3g" % err)
    if err > 1e-4 or not (got.argmax(1) == ref.argmax(1)).all():
        raise RuntimeError("exported ONNX graph does not match the PyTorch model")
    return m


def save_checkpoint(model, path, depth, shortcut):
    torch.save({"depth": depth, "shortcut": shortcut, "state_dict": model.state_dict()}, path)


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    model = build_model(ck["depth"], ck.get("shortcut", "B"))  # checkpoints before --shortcut are option B
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck["depth"]


def default_out(shortcut, depth):
    """The committed models' paths: option B is the bundled model, option A has its own file."""
    name = "fashion_mnist_resnet.onnx" if shortcut == "B" else "fashion_mnist_resnet%d_option_a.onnx" % depth
    return os.path.join(HERE, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=20, help="6n+2: 20 (ResNet-20) or 14 (ResNet-14)")
    ap.add_argument("--shortcut", choices=("A", "B"), default="B",
                    help="B: 1x1 conv + BN projection (the bundled model); A: subsample + zero channels")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train-images", type=int, default=0, metavar="N",
                    help="train on N pictures of a seeded shuffle of the 60,000 (0: all); for a short budget")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.2, help="peak LR of the one-cycle schedule (SGD, nesterov)")
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-only", type=int, default=0, metavar="STEPS",
                    help="time STEPS training steps, print the estimated epoch time, exit")
    ap.add_argument("--checkpoint", default=DEFAULT_CKPT, help="where training saves the state_dict")
    ap.add_argument("--export-only", metavar="CHECKPOINT", help="skip training; export from this checkpoint")
    ap.add_argument("--keep-batchnorm", action="store_true", help="export with BatchNormalization nodes kept")
    ap.add_argument("--out", default=None, help="ONNX output path (default models/fashion_mnist_resnet.onnx, "
                    "with --shortcut A models/fashion_mnist_resnet<depth>_option_a.onnx)")
    ap.add_argument("--json", default=None, help="metadata output after training (default: ONNX path with .json)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    xte_u8, yte = fc.load_split("test")
    xte = torch.from_numpy(fc.preprocess(xte_u8))
    yte_t = torch.from_numpy(yte)

    if args.export_only:
        model, depth = load_checkpoint(args.export_only)
        out = args.out or default_out(model.shortcut_kind, depth)
        export_onnx(model, out, keep_batchnorm=args.keep_batchnorm)
        print("exported %s (%s form) from %s" % (out, "bn" if args.keep_batchnorm else "folded", args.export_only))
        acc = evaluate(model, xte, yte_t)
        print("float test accuracy (PyTorch, %d images) %.4f" % (xte.shape[0], acc))
        return

    out = args.out or default_out(args.shortcut, args.depth)
    xtr_u8, ytr = fc.load_split("train")
    if args.train_images:
        keep = torch.randperm(xtr_u8.shape[0], generator=torch.Generator().manual_seed(args.seed))
        keep = keep[:args.train_images].numpy()
        xtr_u8, ytr = xtr_u8[keep], ytr[keep]
    xtr = torch.from_numpy(fc.preprocess(xtr_u8))
    ytr_t = torch.from_numpy(ytr)

    model = build_model(args.depth, args.shortcut)
    nparams = count_params(model)
    shortcut_desc = {"B": "1x1 projection shortcuts",
                     "A": "option A shortcuts: stride-2 subsampling + zero-padded channels"}[args.shortcut]
    arch = "ResNet-%d (CIFAR-style, widths 16/32/64, %s)" % (args.depth, shortcut_desc)
    print("%s: %d params" % (arch, nparams), flush=True)

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim == 1 else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = math.ceil(xtr.shape[0] / args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    if args.time_only:
        total_steps = max(total_steps, args.time_only)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps,
                                                pct_start=0.25, div_factor=20, final_div_factor=200,
                                                anneal_strategy="cos")
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.time()
    c0 = time.process_time()
    step = 0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        tl, tc, tn = 0.0, 0, 0
        te = time.time()
        for i in range(0, xtr.shape[0], args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb = augment(xtr[idx], gen)
            yb = ytr_t[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            tl += loss.item() * yb.shape[0]
            tc += (logits.argmax(1) == yb).sum().item()
            tn += yb.shape[0]
            if args.time_only and step == args.time_only:
                dt = time.time() - te
                print("%d steps in %.1fs -> estimated epoch time %.0fs" %
                      (step, dt, dt / step * steps_per_epoch))
                return
            if step % 50 == 0:
                print("epoch %d step %d/%d loss %.4f acc %.4f lr %.4f elapsed %.0fs" %
                      (epoch + 1, step, total_steps, tl / tn, tc / tn, sched.get_last_lr()[0],
                       time.time() - t0), flush=True)
        acc = evaluate(model, xte, yte_t)
        print("== epoch %d done: train loss %.4f train acc %.4f test acc %.4f epoch time %.0fs total %.0fs" %
              (epoch + 1, tl / tn, tc / tn, acc, time.time() - te, time.time() - t0), flush=True)
    train_time = time.time() - t0
    train_cpu = time.process_time() - c0

    save_checkpoint(model, args.checkpoint, args.depth, args.shortcut)
    print("saved checkpoint %s" % args.checkpoint)
    acc = evaluate(model, xte, yte_t)
    export_onnx(model, out, keep_batchnorm=args.keep_batchnorm)
    print("exported %s" % out)
    meta = {
        "model": os.path.basename(out),
        "architecture": "resnet%d_cifar" % args.depth,
        "architecture_description": arch,
        "shortcut": args.shortcut,
        "param_count": nparams,
        "float_test_accuracy": round(acc, 4),
        "test_images": int(xte.shape[0]),
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
        "num_classes": 10,
        "labels_file": "fashion_mnist_labels.txt",
        "input_name": "input",
        "output_name": "logits",
        "input_shape": [1, 1, fc.INPUT_SIZE, fc.INPUT_SIZE],
        "output_shape": [1, 10],
        "input_size": fc.INPUT_SIZE,
        "channels": 1,
        "layout": "NCHW",
        "preprocessing": "x = (pixel / 255 - mean) / std",
        "mean": [MEAN],
        "std": [STD],
        "onnx_opset": 13,
        "onnx_form": "bn" if args.keep_batchnorm else "folded",
        "train_images": int(xtr.shape[0]),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": "SGD nesterov momentum 0.9, one-cycle cosine LR peak %g, wd %g, label smoothing 0.05"
                     % (args.lr, args.weight_decay),
        "augmentation": "random crop 28 from 2-pixel padding, horizontal flip",
        "seed": args.seed,
        "train_threads": args.threads,
        "training_time_seconds": round(train_time, 1),
        "training_cpu_seconds": round(train_cpu, 1),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "torch_version": torch.__version__,
        "created": datetime.date.today().isoformat(),
    }
    jpath = args.json or os.path.splitext(out)[0] + ".json"
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
