#!/usr/bin/python3
"""Test data from the Fashion-MNIST set (Debian's dataset-fashion-mnist).

Default: writes models/samples/<label>_<name>.png, 10 28x28 8-bit grayscale
PNGs, one per class: the first test image of each class that the trained
float model (models/fashion_mnist_resnet.onnx, run with models/onnx_eval.py,
or --checkpoint for the PyTorch state_dict) classifies correctly.

  /usr/bin/python3 models/make_test_data.py                    # samples
  /usr/bin/python3 models/make_test_data.py --npy /tmp/fm_test.npy --labels-out /tmp/fm_test_labels.npy
  /usr/bin/python3 models/make_test_data.py --npy /tmp/calib.npy --labels-out /tmp/calib_labels.npy \
      --count 500 --split train

--npy writes a float32 NCHW [N,1,28,28] array preprocessed as
x = (pixel/255 - 0.2860) / 0.3530, --labels-out an int64 [N] array (np.save,
.npy format 1.0). N = --count, default the whole split; the first N images.
"""
import argparse
import os
import struct
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist_common as fc  # noqa: E402


def write_png_gray8(path, img):
    """Minimal PNG writer: 8-bit grayscale, no interlace, filter 0 per row."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def read_png_gray8(path):
    """Reader for exactly what write_png_gray8 writes (used as a self-check)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype == 0
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, w + 1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].copy()


def predictor(checkpoint, onnx_path):
    if checkpoint:
        import torch
        import train_fashion_mnist as tfm
        torch.set_num_threads(1)
        model, _ = tfm.load_checkpoint(checkpoint)

        def pred(x):
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy().argmax(1)
        return pred, checkpoint
    import onnx_eval
    m = onnx_eval.OnnxModel(onnx_path)
    return (lambda x: m.run(x).argmax(1)), onnx_path


def make_samples(out_dir, checkpoint, onnx_path):
    images, labels = fc.load_split("test")
    pred, src = predictor(checkpoint, onnx_path)
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old.endswith(".png"):
            os.remove(os.path.join(out_dir, old))
    for c, name in enumerate(fc.CLASS_NAMES):
        idxs = np.nonzero(labels == c)[0]
        chosen = None
        for k, i in enumerate(idxs[:50]):
            p = int(pred(fc.preprocess(images[i:i + 1]))[0])
            if p == c:
                chosen = i
                break
            print("class %d (%s): test image %d predicted as %d, skipping" % (c, name, i, p))
        if chosen is None:
            raise SystemExit("no correctly classified image among the first 50 of class %d" % c)
        path = os.path.join(out_dir, "%d_%s.png" % (c, fc.slug(name)))
        write_png_gray8(path, images[chosen])
        assert np.array_equal(read_png_gray8(path), images[chosen])
        print("%s <- test image %d (%s), model %s" % (path, chosen, name, os.path.basename(src)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples-dir", default=os.path.join(HERE, "samples"))
    ap.add_argument("--onnx", default=os.path.join(HERE, "fashion_mnist_resnet.onnx"),
                    help="model used to check that the samples are classified correctly")
    ap.add_argument("--checkpoint", help="use this PyTorch checkpoint instead of --onnx for the check")
    ap.add_argument("--npy", help="write preprocessed float32 NCHW images here (instead of the samples)")
    ap.add_argument("--labels-out", help="write int64 labels here")
    ap.add_argument("--png-dir", help="write the first --count images of --split as PNGs <index>.png here "
                                      "(models/calibration: what resq-convert calibrates the bundled model on)")
    ap.add_argument("--count", type=int, default=None, help="first N images (default: all)")
    ap.add_argument("--split", default="test", choices=["test", "train"])
    args = ap.parse_args()

    if args.png_dir:
        images, _ = fc.load_split(args.split)
        n = images.shape[0] if args.count is None else min(args.count, images.shape[0])
        os.makedirs(args.png_dir, exist_ok=True)
        for i in range(n):
            write_png_gray8(os.path.join(args.png_dir, "%s_%05d.png" % (args.split, i)), images[i])
        print("wrote %d %s images to %s" % (n, args.split, args.png_dir))
        return
    if not (args.npy or args.labels_out):
        make_samples(args.samples_dir, args.checkpoint, args.onnx)
        return
    images, labels = fc.load_split(args.split)
    n = images.shape[0] if args.count is None else min(args.count, images.shape[0])
    if args.npy:
        x = fc.preprocess(images[:n])
        np.save(args.npy, x)
        print("wrote %s float32 %s" % (args.npy, list(x.shape)))
    if args.labels_out:
        np.save(args.labels_out, labels[:n].astype(np.int64))
        print("wrote %s int64 [%d]" % (args.labels_out, n))


if __name__ == "__main__":
    main()
