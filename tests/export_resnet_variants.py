#!/usr/bin/python3
"""ResNet variants users bring, for the converter's tests: exported to ONNX in both forms, with PyTorch's
outputs on real pictures.

  /usr/bin/python3 tests/export_resnet_variants.py OUT_DIR

The pictures are Fashion-MNIST's (Debian's dataset-fashion-mnist), padded from 28x28 to CIFAR's 32x32
and repeated over 3 channels: OUT_DIR/pictures_calib.npy [64,3,32,32] (training split) and
OUT_DIR/pictures_eval.npy [32,3,32,32] (test split), normalized as models/fmnist_common.py does.

Writes, for NAME in the variants below and FORM in folded (the exporter folds BatchNorm into the Conv
before it where it can) and bn (every BatchNormalization kept):
  OUT_DIR/NAME_FORM.onnx, OUT_DIR/NAME_FORM_input.npy [4,3,32,32] (the first eval pictures),
  OUT_DIR/NAME_FORM_output.npy [4,10]
  - optiona:  He et al.'s CIFAR ResNet-20 with option A shortcuts, F.pad(x[:, :, ::2, ::2], channels)
  - preact:   pre-activation ResNet (BN-ReLU-Conv blocks, BN after the residual Add, 1x1 projections)
  - padconv:  nn.ZeroPad2d before a Conv with no padding of its own, and before a MaxPool after a ReLU
  - relu6:    basic blocks with ReLU6 (Clip 0..6) after the convolutions and the residual Adds; also as
              relu6_opset9_folded.onnx, where Clip's bounds are attributes rather than inputs
plus training_mode.onnx: a model exported with training=TrainingMode.TRAINING, which must be refused.
Weights are seeded; BatchNorm gets gamma and beta away from identity and running statistics from
train-mode passes over real pictures (not the default 0 / 1).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import fmnist_common  # noqa: E402


def pictures(split, start, count):
    images, _ = fmnist_common.load_split(split)
    x = fmnist_common.preprocess(images[start:start + count])  # [N,1,28,28]
    x = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=x.min())
    return np.ascontiguousarray(np.repeat(x, 3, axis=1)).astype(np.float32)


class OptionABlock(nn.Module):
    """BasicBlock of He et al. (2016), section 4.2: identity shortcuts, zero-padded channels when the
    width doubles (option A)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2 if stride != 1 or cin != cout else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class OptionAResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(3):
                layers.append(OptionABlock(cin, width, stride if b == 0 else 1))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, int(out.size()[3]))
        return self.linear(out.view(out.size(0), -1))


class PreActBlock(nn.Module):
    """He et al. (2016b), 'Identity Mappings in Deep Residual Networks': BN-ReLU-Conv, twice."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x):
        out = F.relu(self.bn1(x))
        short = x if self.shortcut is None else self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + short


class PreActResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.layers = nn.Sequential(PreActBlock(16, 16, 1), PreActBlock(16, 32, 2), PreActBlock(32, 32, 1),
                                    PreActBlock(32, 64, 2))
        self.bn = nn.BatchNorm2d(64)
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn(self.layers(self.conv1(x))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


class PadConvNet(nn.Module):
    """Explicit zero padding, as onnx-simplifier and some ports write it: nn.ZeroPad2d, then a Conv or a
    MaxPool with no padding of their own."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.ZeroPad2d((2, 1, 2, 1)), nn.Conv2d(3, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(), nn.ZeroPad2d(1), nn.MaxPool2d(3, 2))
        self.conv = nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(16, 32, 3, 2, 0, bias=False), nn.BatchNorm2d(32),
                                  nn.ReLU())
        self.linear = nn.Linear(32, classes)

    def forward(self, x):
        out = self.conv(self.stem(x))
        return self.linear(out.mean([2, 3]))


class ReLU6Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu6(self.bn1(self.conv1(x)))
        return F.relu6(self.bn2(self.conv2(out)) + self.shortcut(x))


class ReLU6Net(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.layers = nn.Sequential(ReLU6Block(16, 16, 1), ReLU6Block(16, 32, 2), ReLU6Block(32, 64, 2))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = self.layers(self.stem(x))
        return self.linear(out.mean([2, 3]))


VARIANTS = (("optiona", OptionAResNet20), ("preact", PreActResNet), ("padconv", PadConvNet), ("relu6", ReLU6Net))


def randomize(model, seed, calib):
    """Seeded weights, BatchNorm gamma and beta away from identity, running statistics from train-mode
    passes over real pictures."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_((1.0 + 0.3 * torch.randn(m.num_features, generator=gen)).clamp_(min=0.2))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=gen))
                m.reset_running_stats()
                m.momentum = None  # the plain average over the passes
        model.train()
        for i in range(0, len(calib), 16):
            model(torch.from_numpy(calib[i:i + 16]))
    model.eval()


def export(model, path, form, training=False, opset=13):
    kwargs = dict(opset_version=opset, input_names=["input"], output_names=["output"])
    if form == "bn":
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    if training:
        model.train()
        kwargs.update(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    torch.onnx.export(model, torch.zeros(1, 3, 32, 32), path, **kwargs)
    model.eval()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/resnet_variants"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    calib, evaluation = pictures("train", 0, 64), pictures("test", 0, 32)
    np.save(os.path.join(out, "pictures_calib.npy"), calib)
    np.save(os.path.join(out, "pictures_eval.npy"), evaluation)
    x = torch.from_numpy(evaluation[:4])
    for seed, (name, cls) in enumerate(VARIANTS, start=1):
        model = cls()
        randomize(model, seed, calib)
        with torch.no_grad():
            y = model(x)
        for form in ("folded", "bn"):
            prefix = os.path.join(out, "%s_%s" % (name, form))
            export(model, prefix + ".onnx", form)
            np.save(prefix + "_input.npy", x.numpy())
            np.save(prefix + "_output.npy", y.numpy().astype(np.float32))
        if name == "relu6":
            prefix = os.path.join(out, "relu6_opset9_folded")
            export(model, prefix + ".onnx", "folded", opset=9)
            np.save(prefix + "_input.npy", x.numpy())
            np.save(prefix + "_output.npy", y.numpy().astype(np.float32))
        if name == "optiona":
            export(model, os.path.join(out, "training_mode.onnx"), "bn", training=True)
    print("wrote ResNet variants to %s" % out)


if __name__ == "__main__":
    main()
