"""Shared helpers for the Fashion-MNIST scripts in models/.

Only numpy + torch are needed. The dataset is read from Debian's
``dataset-fashion-mnist`` package (IDX files, gzip compressed).
"""
import gzip
import os

import numpy as np

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")

# Preprocessing: x = (pixel / 255 - MEAN) / STD, single channel.
MEAN = 0.2860
STD = 0.3530
INPUT_SIZE = 28

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


def slug(name):
    """'T-shirt/top' -> 'tshirt_top', 'Ankle boot' -> 'ankle_boot'."""
    out = name.lower().replace("-", "").replace("/", "_").replace(" ", "_")
    return out


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0:
        raise ValueError("%s: bad IDX magic" % path)
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise ValueError("%s: only unsigned byte IDX files are supported" % path)
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    arr = np.frombuffer(data, dtype=np.uint8, offset=offset)
    expected = int(np.prod(dims))
    if arr.size != expected:
        raise ValueError("%s: expected %d values, got %d" % (path, expected, arr.size))
    return arr.reshape(dims)


def load_split(split):
    """Returns (images uint8 [N,28,28], labels int64 [N]) for 'train' or 'test'."""
    prefix = {"train": "train", "test": "t10k"}[split]
    images = _read_idx(os.path.join(DATA_DIR, prefix + "-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(DATA_DIR, prefix + "-labels-idx1-ubyte.gz"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError("image/label count mismatch")
    return images, labels.astype(np.int64)


def preprocess(images_u8):
    """uint8 [N,28,28] -> float32 NCHW [N,1,28,28], normalized."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)
