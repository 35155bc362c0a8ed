#!/usr/bin/python3
"""Small CIFAR-style ResNets for the converter's golden tests, exported to ONNX in both forms, with
PyTorch's outputs on seeded inputs.

  /usr/bin/python3 tests/export_cifar_resnets.py OUT_DIR

Writes, for NAME in resnet20 (basic blocks, F.avg_pool2d + view + Linear: the classic CIFAR spelling)
and bottleneck (bottleneck blocks, x.mean([2, 3]) + MatMul/Add + Softmax), and FORM in folded and bn:
  OUT_DIR/NAME_FORM.onnx, OUT_DIR/NAME_FORM_input.npy [2,3,32,32], OUT_DIR/NAME_FORM_output.npy [2,10]
plus bottleneck_dynamic.onnx: the folded form with dynamic batch, height and width (same golden files as
bottleneck_folded). Weights are seeded random with BatchNorm statistics from a few train-mode passes, as
models/export_torchvision.py does.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
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
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(3):
                layers.append(BasicBlock(cin, width, stride if b == 0 else 1))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.avg_pool2d(out, int(out.size()[3]))
        out = out.view(out.size(0), -1)
        return self.linear(out)


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = 4 * mid
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False, groups=2)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class BottleneckNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.blocks = nn.Sequential(Bottleneck(16, 8, 1), Bottleneck(32, 8, 1), Bottleneck(32, 16, 2))
        self.weight = nn.Parameter(torch.randn(64, classes) * 0.1)
        self.bias = nn.Parameter(torch.randn(classes) * 0.1)

    def forward(self, x):
        out = self.blocks(self.pool(self.stem(x)))
        out = out.mean([2, 3])
        return torch.softmax(torch.matmul(out, self.weight) + self.bias, dim=1)


def randomize(model, seed):
    """Seeded weights, BatchNorm affine parameters away from identity, statistics from train passes."""
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_((1.0 + 0.2 * torch.randn(bn.num_features, generator=gen)).clamp_(min=0.2))
            bn.bias.copy_(0.1 * torch.randn(bn.num_features, generator=gen))
            bn.reset_running_stats()
            bn.momentum = None
        model.train()
        for _ in range(4):
            model(torch.randn(8, 3, 32, 32, generator=gen))
    model.eval()


def export(model, path, form, dynamic=False):
    kwargs = dict(opset_version=13, input_names=["input"], output_names=["output"])
    if form == "bn":
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch", 2: "height", 3: "width"}, "output": {0: "batch"}}
    torch.onnx.export(model, torch.zeros(1, 3, 32, 32), path, **kwargs)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/cifar_resnets"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    for name, cls in (("resnet20", ResNet20), ("bottleneck", BottleneckNet)):
        model = cls()
        randomize(model, 1)
        x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            y = model(x)
        for form in ("folded", "bn"):
            prefix = os.path.join(out, "%s_%s" % (name, form))
            export(model, prefix + ".onnx", form)
            np.save(prefix + "_input.npy", x.numpy().astype(np.float32))
            np.save(prefix + "_output.npy", y.numpy().astype(np.float32))
        if name == "bottleneck":
            export(model, os.path.join(out, "bottleneck_dynamic.onnx"), "folded", dynamic=True)
    print("wrote CIFAR-style ResNets to %s" % out)


if __name__ == "__main__":
    main()
