#!/usr/bin/python3
"""Export a torchvision ResNet to ONNX (opset 13, fixed batch 1, input "input"
[1,3,S,S] float32 NCHW, output "logits" [1,num_classes]) and optionally write
golden input/output arrays computed by PyTorch.

Forms:
  --form folded  default torch.onnx.export: eval mode + constant folding, the
                 exporter folds every BatchNorm into the preceding Conv.
  --form bn      BatchNormalization nodes kept: model in eval(), exported with
                 training=TrainingMode.PRESERVE (this skips the exporter's
                 Conv+BN fusion pass, and BN is emitted in its inference form
                 because the module is in eval mode) and do_constant_folding=False.

Weights:
  --pretrained   torchvision's ImageNet weights (needs internet or a warm
                 torch hub cache; --num-classes must stay 1000).
  default        seeded random weights with realistic BatchNorm statistics:
                 gamma ~ 1 + 0.1 N(0,1) (clamped >= 0.2), beta ~ 0.1 N(0,1),
                 except the last BN of each residual branch (bn2 of a
                 BasicBlock, bn3 of a Bottleneck), whose gamma is scaled by
                 --last-bn-gamma (0.25): trained ResNets keep their residual
                 branches small like this, and with gamma ~ 1 everywhere a
                 random ResNet-101/152 amplifies float32 rounding so much that
                 PyTorch's own float32 logits are 6e-4 (relative to max |logit|)
                 away from the float64 ones, too much for 1e-4 golden tests;
                 then --calib-passes forward passes in train() mode on
                 random-normal inputs with cumulative-average BN momentum, so
                 running_mean/var are the true batch statistics; then eval().

Examples:
  /usr/bin/python3 models/export_torchvision.py --model resnet18 --out /tmp/resnet18.onnx
  /usr/bin/python3 models/export_torchvision.py --model resnet50 --form bn --out /tmp/resnet50_bn.onnx \
      --golden /tmp/resnet50
  -> /tmp/resnet50_input.npy  float32 [2,3,224,224]
     /tmp/resnet50_output.npy float32 [2,1000]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision

MODELS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
          "wide_resnet50_2", "resnext50_32x4d"]


def build(name, pretrained, num_classes, seed, calib_passes=8, calib_batch=2, input_size=224,
          last_bn_gamma=0.25):
    torch.manual_seed(seed)
    ctor = getattr(torchvision.models, name)
    if pretrained:
        if num_classes != 1000:
            raise SystemExit("--pretrained needs --num-classes 1000")
        weights = torchvision.models.get_model_weights(name).DEFAULT
        model = ctor(weights=weights)
        model.eval()
        return model, str(weights)
    model = ctor(weights=None, num_classes=num_classes)
    gen = torch.Generator().manual_seed(seed + 1)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    last_bns = set()  # last BN of each residual branch
    for m in model.modules():
        if isinstance(m, torchvision.models.resnet.Bottleneck):
            last_bns.add(id(m.bn3))
        elif isinstance(m, torchvision.models.resnet.BasicBlock):
            last_bns.add(id(m.bn2))
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            scale = last_bn_gamma if id(bn) in last_bns else 1.0
            bn.weight.copy_(scale * (1.0 + 0.1 * torch.randn(c, generator=gen)).clamp_(min=0.2))
            bn.bias.copy_(0.1 * torch.randn(c, generator=gen))
            bn.reset_running_stats()
            bn.momentum = None  # cumulative moving average over the calibration passes
        model.train()
        for _ in range(calib_passes):
            x = torch.randn(calib_batch, 3, input_size, input_size, generator=gen)
            model(x)
    for bn in bns:
        bn.momentum = 0.1
    model.eval()
    return model, "random(seed=%d)" % seed


def export(model, out, form, input_size):
    model.eval()
    dummy = torch.zeros(1, 3, input_size, input_size)
    kwargs = dict(opset_version=13, input_names=["input"], output_names=["logits"])
    if form == "bn":
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    else:
        kwargs.update(training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    torch.onnx.export(model, dummy, out, **kwargs)
    import onnx
    m = onnx.load(out)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    has_bn = "BatchNormalization" in ops
    if form == "bn" and not has_bn:
        raise RuntimeError("no BatchNormalization node in the bn form")
    if form == "folded" and has_bn:
        raise RuntimeError("BatchNormalization left in the folded form")
    for n in m.graph.node:
        if n.op_type == "BatchNormalization":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            if len(n.output) != 1 or attrs.get("training_mode", 0) != 0:
                raise RuntimeError("BatchNormalization exported in training form")
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet18", choices=MODELS)
    ap.add_argument("--out", help="ONNX output path (default: /tmp/<model>_<form>.onnx)")
    ap.add_argument("--form", default="folded", choices=["folded", "bn"])
    ap.add_argument("--pretrained", action="store_true")
    ap.add_argument("--input-size", type=int, default=224)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calib-passes", type=int, default=8)
    ap.add_argument("--calib-batch", type=int, default=2)
    ap.add_argument("--last-bn-gamma", type=float, default=0.25,
                    help="gamma scale of the last BN of each residual branch (random weights)")
    ap.add_argument("--golden", metavar="OUT_PREFIX",
                    help="write OUT_PREFIX_input.npy (seeded float32 NCHW) and OUT_PREFIX_output.npy (PyTorch logits)")
    ap.add_argument("--golden-batch", type=int, default=2)
    ap.add_argument("--verify", action="store_true",
                    help="run the exported ONNX graph with models/onnx_eval.py and compare with PyTorch")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: 2 threads are 4x slower when other jobs load the cores)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    out = args.out or "/tmp/%s_%s.onnx" % (args.model, args.form)
    t0 = time.time()
    model, source = build(args.model, args.pretrained, args.num_classes, args.seed,
                          args.calib_passes, args.calib_batch, args.input_size,
                          args.last_bn_gamma)
    export(model, out, args.form, args.input_size)
    print("exported %s (%s form, weights %s, %d params) in %.1fs" % (
        out, args.form, source, sum(p.numel() for p in model.parameters()), time.time() - t0))

    x = None
    if args.golden or args.verify:
        g = torch.Generator().manual_seed(args.seed + 12345)
        x = torch.randn(args.golden_batch, 3, args.input_size, args.input_size, generator=g)
        with torch.no_grad():
            y = model(x)
    if args.golden:
        d = os.path.dirname(os.path.abspath(args.golden))
        os.makedirs(d, exist_ok=True)
        np.save(args.golden + "_input.npy", x.numpy().astype(np.float32))
        np.save(args.golden + "_output.npy", y.numpy().astype(np.float32))
        print("golden: %s_input.npy %s, %s_output.npy %s" % (
            args.golden, list(x.shape), args.golden, list(y.shape)))
    if args.verify:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import onnx_eval
        yo = onnx_eval.OnnxModel(out).run(x.numpy())
        err = np.abs(yo - y.numpy()).max() / np.abs(y.numpy()).max()
        print("verify: ONNX graph vs PyTorch max rel err %.3g, same argmax %s" % (
            err, bool((yo.argmax(1) == y.numpy().argmax(1)).all())))
        import copy
        with torch.no_grad():
            y64 = copy.deepcopy(model).double()(x.double()).numpy()
        err64 = np.abs(y.numpy() - y64).max() / np.abs(y64).max()
        print("verify: PyTorch float32 vs float64 max rel err %.3g (noise floor of the golden output)" % err64)
        if err > 1e-4:
            raise SystemExit("verify failed")
    print("total %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
