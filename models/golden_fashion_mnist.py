#!/usr/bin/python3
"""Golden float logits of the trained Fashion-MNIST ResNet for the C++ tests.

Writes (np.save, .npy 1.0):
  PREFIX_input.npy   float32 [N,1,28,28]  first N test images, preprocessed
  PREFIX_output.npy  float32 [N,10]       float logits
  PREFIX_labels.npy  int64   [N]          true labels

The logits come from the PyTorch module when --checkpoint is given (the
state_dict that train_fashion_mnist.py saved, default path used if it
exists), otherwise from the committed ONNX graph evaluated node by node with
torch.nn.functional (models/onnx_eval.py), so CI can regenerate them without
retraining. The two agree to ~1e-6 relative (BN folding only).

  /usr/bin/python3 models/golden_fashion_mnist.py --out-prefix /tmp/fashion_golden
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist_common as fc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-prefix", default="/tmp/fashion_golden")
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--checkpoint", default=None,
                    help="PyTorch checkpoint (default /tmp/fashion_mnist_resnet.pt if it exists, else use --onnx)")
    ap.add_argument("--onnx", default=os.path.join(HERE, "fashion_mnist_resnet.onnx"))
    args = ap.parse_args()
    torch.set_num_threads(1)

    images, labels = fc.load_split("test")
    x = fc.preprocess(images[:args.count])
    ckpt = args.checkpoint
    if ckpt is None and os.path.exists("/tmp/fashion_mnist_resnet.pt"):
        ckpt = "/tmp/fashion_mnist_resnet.pt"
    if ckpt:
        import train_fashion_mnist as tfm
        model, _ = tfm.load_checkpoint(ckpt)
        with torch.no_grad():
            y = model(torch.from_numpy(x)).numpy()
        src = "PyTorch module from " + ckpt
    else:
        import onnx_eval
        y = onnx_eval.OnnxModel(args.onnx).run(x)
        src = "ONNX graph " + args.onnx + " (torch.nn.functional)"
    y = y.astype(np.float32)
    d = os.path.dirname(os.path.abspath(args.out_prefix))
    os.makedirs(d, exist_ok=True)
    np.save(args.out_prefix + "_input.npy", x)
    np.save(args.out_prefix + "_output.npy", y)
    np.save(args.out_prefix + "_labels.npy", labels[:args.count].astype(np.int64))
    acc = float((y.argmax(1) == labels[:args.count]).mean())
    print("wrote %s_{input,output,labels}.npy: %s -> %s from %s; top-1 on these %d: %.4f" % (
        args.out_prefix, list(x.shape), list(y.shape), src, args.count, acc))


if __name__ == "__main__":
    main()
