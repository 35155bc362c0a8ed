#!/usr/bin/python3
"""Writes models/fashion_mnist_labels.txt and models/imagenet_labels.txt.

ImageNet-1k class names come from torchvision's offline weight metadata
(torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"],
torchvision >= 0.13; no download is needed for the metadata).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist_common as fc  # noqa: E402


def main():
    with open(os.path.join(HERE, "fashion_mnist_labels.txt"), "w") as f:
        f.write("\n".join(fc.CLASS_NAMES) + "\n")
    import torchvision
    cats = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert len(cats) == 1000 and cats[0] == "tench", (len(cats), cats[:3])
    assert all("\n" not in c for c in cats)
    with open(os.path.join(HERE, "imagenet_labels.txt"), "w") as f:
        f.write("\n".join(cats) + "\n")
    print("wrote 10 Fashion-MNIST and %d ImageNet labels (torchvision %s)" % (len(cats), torchvision.__version__))


if __name__ == "__main__":
    main()
