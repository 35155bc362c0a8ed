# Reads a .resq model into plain Python objects, with Python classes that flatc generates from
# runtime/schema/resq.fbs into a temporary folder at run time (the generated code is never committed).
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schema", "resq.fbs")

# ElementType in resq.fbs.
F32, I8, I32 = 0, 1, 2


@dataclass
class Tensor:
    name: str
    shape: list          # NHWC activations, OHWI conv filters, [out, in] fully connected weights
    type: int            # F32, I8 or I32
    scales: np.ndarray   # float32: one per tensor, one per output channel for filters; empty if none
    zero_point: int
    data: np.ndarray     # constants only (int8 filters, int32 biases, float32 weights), else None


@dataclass
class Node:
    name: str            # the ONNX node's name; its output tensor has the same name
    op: str              # Conv2D, Add, MaxPool2D, GlobalAveragePool, FullyConnected, Quantize, Dequantize, Softmax, Im2Col
    inputs: list         # Tensor
    outputs: list        # Tensor


@dataclass
class Model:
    nodes: list = field(default_factory=list)
    tensors: dict = field(default_factory=dict)  # name -> Tensor


def _generated_schema():
    """Imports the flatc-generated package `resq.schema`, generating it into a temporary folder."""
    folder = tempfile.mkdtemp(prefix="resq-schema-py-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # generated modules import lazily: keep until exit
    subprocess.run(["flatc", "--python", "-o", folder, SCHEMA], check=True)
    sys.path.insert(0, folder)
    import resq.schema.Model as model_module
    import resq.schema.Op as op_module
    return model_module, op_module


def load(path):
    model_module, op_module = _generated_schema()
    op_names = {v: k for k, v in vars(op_module.Op).items() if not k.startswith("_")}
    with open(path, "rb") as f:
        buf = f.read()
    # Size-prefixed: 4 bytes of length, then the flatbuffer with identifier RESQ at bytes 4..8 of it.
    if buf[8:12] != b"RESQ":
        raise SystemExit("%s: not a .resq model (no RESQ identifier)" % path)
    root = model_module.Model.GetRootAs(buf, 4)

    def tensor(index):
        t = root.Tensors(index)
        q = t.Quantization()
        scales = np.zeros(0, np.float32)
        zero_point = 0
        if q is not None:
            if q.ScaleLength() > 0:
                scales = q.ScaleAsNumpy().astype(np.float32)
            zero_point = q.ZeroPoint()
        data = None
        if t.DataI8Length() > 0:
            data = t.DataI8AsNumpy().astype(np.int8)
        elif t.DataI32Length() > 0:
            data = t.DataI32AsNumpy().astype(np.int32)
        elif t.DataF32Length() > 0:
            data = t.DataF32AsNumpy().astype(np.float32)
        shape = [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() > 0 else []
        if data is not None:
            data = data.reshape(shape)
        return Tensor(t.Name().decode(), shape, t.Type(), scales, zero_point, data)

    model = Model()
    for i in range(root.TensorsLength()):
        t = tensor(i)
        model.tensors[t.name] = t
    for i in range(root.NodesLength()):
        n = root.Nodes(i)
        ins = [model.tensors[root.Tensors(int(k)).Name().decode()] for k in n.InputsAsNumpy()]
        outs = [model.tensors[root.Tensors(int(k)).Name().decode()] for k in n.OutputsAsNumpy()]
        model.nodes.append(Node(n.Name().decode(), op_names[n.OpType()], ins, outs))
    return model


if __name__ == "__main__":
    for node in load(sys.argv[1]).nodes:
        out = node.outputs[0]
        print("%-18s %-50s -> %s scale %s zero point %d" % (
            node.op, node.name, out.shape, out.scales[:1], out.zero_point))
