#!/usr/bin/env python3
"""Writes the first COUNT Fashion-MNIST test pictures as binary PGM files in an ImageFolder layout:
DIR/<label, '/' as '_'>/<index>.pgm. Used by test_classify_folder.sh (and the converter's --eval tests)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import fmnist_common  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    images, labels = fmnist_common.load_split("test")
    for index in range(args.count):
        folder = os.path.join(args.dir, fmnist_common.CLASS_NAMES[labels[index]].replace("/", "_"))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "%05d.pgm" % index), "wb") as f:
            f.write(b"P5\n28 28\n255\n" + images[index].tobytes())


if __name__ == "__main__":
    main()
