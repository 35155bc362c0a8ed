#!/usr/bin/python3
"""A tiny ONNX interpreter for the ops of ResNet-style graphs, executed with
torch.nn.functional (no onnxruntime on this machine, and onnx 1.12 has no
reference evaluator). It runs the ONNX graph itself, node by node, so it checks
what the exporter wrote, independently of the PyTorch module it came from.

Also prints a graph summary: inputs/outputs with shapes, op type histogram.

  /usr/bin/python3 models/onnx_eval.py models/fashion_mnist_resnet.onnx
  /usr/bin/python3 models/onnx_eval.py A.onnx --compare B.onnx      # same outputs?
  /usr/bin/python3 models/onnx_eval.py A.onnx --input x.npy [--expect y.npy] [--save out.npy]
"""
import argparse
import collections
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _spatial_pad(x, pads, value=0.0):
    """ONNX pads [b1, b2, ..., e1, e2, ...] -> F.pad on the trailing dims."""
    n = len(pads) // 2
    begin, end = pads[:n], pads[n:]
    torch_pads = []
    for i in reversed(range(n)):
        torch_pads += [begin[i], end[i]]
    if any(torch_pads):
        x = F.pad(x, torch_pads, value=value)
    return x


def _conv(x, w, b, a):
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv auto_pad")
    nd = w.dim() - 2
    strides = a.get("strides", [1] * nd)
    dil = a.get("dilations", [1] * nd)
    group = a.get("group", 1)
    x = _spatial_pad(x, a.get("pads", [0] * (2 * nd)))
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    return fn(x, w, b, stride=strides, dilation=dil, groups=group)


def _pool(x, a, kind):
    k = a["kernel_shape"]
    nd = len(k)
    strides = a.get("strides", [1] * nd)
    pads = a.get("pads", [0] * (2 * nd))
    ceil = bool(a.get("ceil_mode", 0))
    if kind == "max":
        if a.get("dilations", [1] * nd) != [1] * nd:
            raise NotImplementedError("MaxPool dilations")
        x = _spatial_pad(x, pads, value=float("-inf"))
        return F.max_pool2d(x, k, strides, 0, ceil_mode=ceil)
    # AveragePool
    if not any(pads):
        return F.avg_pool2d(x, k, strides, 0, ceil_mode=ceil)
    if pads[:nd] != pads[nd:]:
        raise NotImplementedError("asymmetric AveragePool pads")
    return F.avg_pool2d(x, k, strides, pads[:nd], ceil_mode=ceil,
                        count_include_pad=bool(a.get("count_include_pad", 0)))


def run_node(node, ins):
    op, a = node.op_type, _attrs(node)
    if op == "Conv":
        return [_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)]
    if op == "BatchNormalization":
        if a.get("training_mode", 0) != 0 or len(node.output) != 1:
            raise NotImplementedError("BatchNormalization in training form")
        x, scale, bias, mean, var = ins
        return [F.batch_norm(x, mean, var, scale, bias, training=False, eps=a.get("epsilon", 1e-5))]
    if op == "Relu":
        return [torch.relu(ins[0])]
    if op == "Add":
        return [ins[0] + ins[1]]
    if op == "Mul":
        return [ins[0] * ins[1]]
    if op == "Sub":
        return [ins[0] - ins[1]]
    if op == "MaxPool":
        if len(node.output) > 1:
            raise NotImplementedError("MaxPool indices output")
        return [_pool(ins[0], a, "max")]
    if op == "AveragePool":
        return [_pool(ins[0], a, "avg")]
    if op == "GlobalAveragePool":
        return [ins[0].mean(dim=tuple(range(2, ins[0].dim())), keepdim=True)]
    if op == "Flatten":
        axis = a.get("axis", 1)
        x = ins[0]
        if axis < 0:
            axis += x.dim()
        lead = int(np.prod(x.shape[:axis])) if axis > 0 else 1
        return [x.reshape(lead, -1)]
    if op == "Reshape":
        shape = [int(s) for s in ins[1].tolist()]
        shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return [ins[0].reshape(shape)]
    if op == "Gemm":
        A, B = ins[0], ins[1]
        if a.get("transA", 0):
            A = A.t()
        if a.get("transB", 0):
            B = B.t()
        y = a.get("alpha", 1.0) * (A @ B)
        if len(ins) > 2 and ins[2] is not None:
            y = y + a.get("beta", 1.0) * ins[2]
        return [y]
    if op == "MatMul":
        return [ins[0] @ ins[1]]
    if op == "Identity":
        return [ins[0]]
    if op == "Constant":
        return [torch.from_numpy(numpy_helper.to_array(a["value"]).copy())]
    if op == "Shape":
        return [torch.tensor(list(ins[0].shape), dtype=torch.int64)]
    # option A shortcuts: torch 1.13 writes F.pad(x[:, :, ::2, ::2], channels) as Slice (steps 2) and a
    # Pad whose pads come from a small ConstantOfShape/Concat/Transpose/Cast subgraph
    if op == "Slice":
        x, starts, ends = ins[0], ins[1].tolist(), ins[2].tolist()
        axes = ins[3].tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
        steps = ins[4].tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
        for axis, start, end, step in zip(axes, starts, ends, steps):
            # Python's slice clamps out-of-range starts and ends as ONNX does, negative steps included
            kept = range(*slice(start, end, step).indices(x.shape[axis]))
            x = x.index_select(axis, torch.tensor(list(kept), dtype=torch.int64))
        return [x]
    if op == "Pad":
        if a.get("mode", b"constant") not in (b"constant", "constant"):
            raise NotImplementedError("Pad mode %s" % a["mode"])
        value = float(ins[2]) if len(ins) > 2 and ins[2] is not None else 0.0
        return [_spatial_pad(ins[0], [int(p) for p in ins[1].tolist()], value)]
    if op == "ConstantOfShape":
        value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
        return [torch.from_numpy(np.full([int(d) for d in ins[0].tolist()], value.reshape(-1)[0], value.dtype))]
    if op == "Gather":
        return [torch.from_numpy(np.take(ins[0].numpy(), ins[1].numpy(), axis=a.get("axis", 0)))]
    if op == "Concat":
        return [torch.cat(ins, dim=a["axis"])]
    if op == "Transpose":
        return [ins[0].permute(*a.get("perm", list(reversed(range(ins[0].dim())))))]
    if op == "Cast":
        np_type = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]]
        return [torch.from_numpy(ins[0].numpy().astype(np_type))]
    raise NotImplementedError("op %s" % op)


class OnnxModel:
    def __init__(self, path_or_model, dtype=torch.float32):
        self.model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
        self.dtype = dtype
        g = self.model.graph
        self.inits = {}
        for t in g.initializer:
            arr = numpy_helper.to_array(t)
            tt = torch.from_numpy(arr.copy())
            if tt.is_floating_point():
                tt = tt.to(dtype)
            self.inits[t.name] = tt
        self.input_names = [i.name for i in g.input if i.name not in self.inits]
        self.output_names = [o.name for o in g.output]

    @torch.no_grad()
    def run(self, x):
        """x: numpy NCHW float array (any batch: the graph is run per row so a
        fixed batch-1 graph still works). Returns numpy array of the first output."""
        rows = []
        for i in range(x.shape[0]):
            env = dict(self.inits)
            env[self.input_names[0]] = torch.from_numpy(np.ascontiguousarray(x[i:i + 1])).to(self.dtype)
            for node in self.model.graph.node:
                ins = [env[n] if n else None for n in node.input]
                outs = run_node(node, ins)
                for name, val in zip(node.output, outs):
                    env[name] = val
            rows.append(env[self.output_names[0]].to(torch.float64).numpy())
        return np.concatenate(rows, axis=0)


def _shape(vi):
    dims = []
    for d in vi.type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
    return dims


def summary(path_or_model):
    m = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    g = m.graph
    init_names = {t.name for t in g.initializer}
    lines = []
    lines.append("opset: %s" % ", ".join("%s:%d" % (o.domain or "ai.onnx", o.version) for o in m.opset_import))
    for vi in g.input:
        if vi.name not in init_names:
            lines.append("input  %-8s %s %s" % (vi.name, onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type), _shape(vi)))
    for vi in g.output:
        lines.append("output %-8s %s %s" % (vi.name, onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type), _shape(vi)))
    hist = collections.Counter(n.op_type for n in g.node)
    lines.append("nodes: %d, initializers: %d, params: %d" % (
        len(g.node), len(g.initializer), sum(int(np.prod(t.dims)) for t in g.initializer)))
    lines.append("ops: " + ", ".join("%s x%d" % kv for kv in sorted(hist.items())))
    return "\n".join(lines), hist


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--input", help="NCHW float32 .npy; default: seeded random normal batch of 2")
    ap.add_argument("--expect", help=".npy of expected outputs to compare against")
    ap.add_argument("--compare", help="second ONNX model that should give the same outputs")
    ap.add_argument("--save", help="write the outputs to this .npy (float32)")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--double", action="store_true", help="evaluate in float64")
    args = ap.parse_args()

    text, _ = summary(args.model)
    print(args.model)
    print(text)
    if not (args.input or args.expect or args.compare or args.save):
        return 0
    torch.set_num_threads(1)
    dt = torch.float64 if args.double else torch.float32
    m = OnnxModel(args.model, dt)
    if args.input:
        x = np.load(args.input)
    else:
        shp = [d if isinstance(d, int) and d > 0 else 1 for d in _shape(
            [i for i in m.model.graph.input if i.name == m.input_names[0]][0])]
        shp[0] = 2
        x = np.random.RandomState(0).standard_normal(shp).astype(np.float32)
    y = m.run(x)
    ok = True
    if args.save:
        np.save(args.save, y.astype(np.float32))
    for name, ref in (("expect", np.load(args.expect) if args.expect else None),
                      ("compare", OnnxModel(args.compare, dt).run(x) if args.compare else None)):
        if ref is None:
            continue
        err = np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-12)
        same_top1 = bool((y.argmax(1) == ref.argmax(1)).all())
        print("%s: max |diff| / max |ref| = %.3g, same argmax: %s" % (name, err, same_top1))
        ok = ok and err <= args.rtol
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
