#!/usr/bin/python3
"""Build a QDQ int8 ONNX model from a float ONNX ResNet and the int8 .resq that resq-convert made from it,
with the very quantization of the .resq, so ONNX Runtime's int8 and resq's int8 are comparable in accuracy:

  weights      int8, symmetric per output channel: the .resq filter bytes (OHWI -> OIHW) and filter scales,
               zero point 0, DequantizeLinear(axis=0)
  biases       int32: the .resq bias values at scale input_scale * filter_scale[oc], zero point 0
  activations  one QuantizeLinear/DequantizeLinear pair per tensor the .resq quantizes (the model input,
               every Conv/Add output after its fused ReLU, MaxPool, GlobalAveragePool, Flatten, the logits)
               with the .resq activation scale and zero point

--activations u8 stores activations as uint8 with zero point + 128: the same real values and the same
rounding. It is what ONNX Runtime runs on x86 (QDQIsInt8Allowed() is false there: MLAS's fast int8
GEMMs are u8 x s8, and int8 activation pairs are only partly rewritten to uint8, leaving float Convs).
--activations s8 keeps int8, which ONNX Runtime fuses natively on ARM (QDQIsInt8Allowed() is true).

Every weight is checked against the float ONNX weight (|dequantized - float| <= scale / 2 + 1e-6 of the
channel's range) so a name mismatch between the two files cannot go unnoticed.

  make_qdq_onnx.py resnet18.onnx resnet18_int8.resq --activations u8 -o resnet18_qdq_u8.onnx
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resq_model  # noqa: E402


class QdqBuilder:
    def __init__(self, graph, activation_type):
        self.graph = graph
        self.u8 = activation_type == "u8"
        self.initializers = {init.name: init for init in graph.initializer}
        self.new_nodes = []  # (insert after this node name or None for the front, node)

    def consumers(self, tensor):
        return [n for n in self.graph.node if tensor in n.input]

    def add_initializer(self, name, array):
        init = numpy_helper.from_array(array, name)
        self.graph.initializer.append(init)
        self.initializers[name] = init
        return name

    def quantize_activation(self, tensor, resq_tensor):
        """Puts Q -> DQ on `tensor` with the .resq tensor's scale and zero point; consumers read the DQ."""
        scale = np.float32(resq_tensor.scales[0])
        zero_point = resq_tensor.zero_point + 128 if self.u8 else resq_tensor.zero_point
        zp_array = np.array(zero_point, np.uint8 if self.u8 else np.int8)
        base = tensor.replace("/", "_").strip("_")
        scale_name = self.add_initializer(base + "_scale", np.array(scale, np.float32))
        zp_name = self.add_initializer(base + "_zero_point", zp_array)
        outputs = [o.name for o in self.graph.output]
        source = tensor
        if tensor in outputs:  # a graph output keeps its name: the float producer writes to a new one
            source = tensor + "_float"
            for n in self.graph.node:
                n.output[:] = [source if o == tensor else o for o in n.output]
        dequantized = tensor if tensor in outputs else tensor + "_dequantized"
        readers = self.consumers(source)
        q = helper.make_node("QuantizeLinear", [source, scale_name, zp_name], [base + "_quantized"],
                             name=base + "/QuantizeLinear")
        dq = helper.make_node("DequantizeLinear", [base + "_quantized", scale_name, zp_name], [dequantized],
                              name=base + "/DequantizeLinear")
        for n in readers:
            n.input[:] = [dequantized if i == source else i for i in n.input]
        self.new_nodes.append((source, [q, dq]))

    def quantize_weight(self, node, index, values, scales, zero_dtype, name_suffix):
        """Replaces the float initializer node.input[index] by DQ(values, scales per channel, axis 0)."""
        float_name = node.input[index]
        base = float_name.replace("/", "_").replace(":", "_") + name_suffix
        q_name = self.add_initializer(base + "_quantized", values)
        s_name = self.add_initializer(base + "_scale", scales.astype(np.float32))
        z_name = self.add_initializer(base + "_zero_point", np.zeros(len(scales), zero_dtype))
        dq_out = base + "_dequantized"
        dq = helper.make_node("DequantizeLinear", [q_name, s_name, z_name], [dq_out], axis=0,
                              name=base + "/DequantizeLinear")
        node.input[index] = dq_out
        self.new_nodes.append((None, [dq]))

    def finish(self):
        """Inserts the new nodes right after their producers, keeping the graph topologically sorted."""
        ordered = [dq for anchor, nodes in self.new_nodes if anchor is None for dq in nodes]
        after = {}
        for anchor, nodes in self.new_nodes:
            if anchor is not None:
                after.setdefault(anchor, []).extend(nodes)
        for anchor in [i.name for i in self.graph.input]:
            ordered.extend(after.pop(anchor, []))
        for n in list(self.graph.node):
            ordered.append(n)
            for o in n.output:
                ordered.extend(after.pop(o, []))
        if after:
            raise SystemExit("QDQ anchors not found in the graph: %s" % sorted(after))
        # Unused float weights go.
        used = {i for n in ordered for i in n.input}
        kept = [init for init in self.graph.initializer if init.name in used]
        del self.graph.node[:]
        self.graph.node.extend(ordered)
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)


def check_weight(name, float_w, q_w, scales):
    """|q * scale - w| <= scale / 2 per channel (plus float slack): the .resq weight is this ONNX weight."""
    deq = q_w.astype(np.float32) * scales.reshape([-1] + [1] * (q_w.ndim - 1))
    err = np.abs(deq - float_w).reshape(len(scales), -1).max(axis=1)
    limit = scales / 2 * 1.001 + 1e-6 * np.abs(float_w).reshape(len(scales), -1).max(axis=1)
    if float_w.shape != q_w.shape or (err > limit).any():
        raise SystemExit("weights of '%s' in the .resq do not match the ONNX model (shape %s vs %s, worst "
                         "error %.3g of a scale)" % (name, list(q_w.shape), list(float_w.shape),
                                                     (err / scales).max() if float_w.shape == q_w.shape else -1))


def build(onnx_path, resq_path, activation_type):
    model = onnx.load(onnx_path)
    graph = model.graph
    resq = resq_model.load(resq_path)
    by_name = {n.name: n for n in graph.node}
    builder = QdqBuilder(graph, activation_type)

    def onnx_node(resq_node):
        if resq_node.name not in by_name:
            raise SystemExit("node '%s' of the .resq is not in %s" % (resq_node.name, onnx_path))
        return by_name[resq_node.name]

    def fused_output(node):
        """The tensor the .resq quantizes: the node's output, or its ReLU's when the converter fused one."""
        out = node.output[0]
        readers = builder.consumers(out)
        if len(readers) == 1 and readers[0].op_type == "Relu":
            return readers[0].output[0]
        return out

    for rn in resq.nodes:
        if rn.op == "Quantize":
            builder.quantize_activation(rn.inputs[0].name, rn.outputs[0])
        elif rn.op == "Im2Col":
            pass  # only gathers windows of the Conv that follows: its input keeps the same pair
        elif rn.op == "Dequantize":
            pass  # the logits' DequantizeLinear comes with the FullyConnected output's pair
        elif rn.op in ("Conv2D", "FullyConnected"):
            node = onnx_node(rn)
            x, w, b = rn.inputs
            float_w = numpy_helper.to_array(builder.initializers[node.input[1]])
            q_w = w.data
            if rn.op == "Conv2D":
                # OHWI -> OIHW; a gathered convolution (Im2Col + 1x1) has the same bytes as [O, 1, 1, KH*KW*C]
                o, c, kh, kw = float_w.shape
                q_w = q_w.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)
            elif node.op_type == "Gemm":
                attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
                if attrs.get("transB", 0) != 1 or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                    raise SystemExit("Gemm '%s': expected transB=1, alpha=beta=1" % node.name)
            check_weight(node.name, float_w, q_w, w.scales)
            builder.quantize_weight(node, 1, np.ascontiguousarray(q_w), w.scales, np.int8, "")
            # b_i32 at scale input_scale * filter_scale[oc], as the runtime reads it
            bias_scales = (np.float32(x.scales[0]) * w.scales).astype(np.float32)
            builder.quantize_weight(node, 2, b.data.astype(np.int32), bias_scales, np.int32, "")
            builder.quantize_activation(fused_output(node), rn.outputs[0])
        elif rn.op in ("Add", "MaxPool2D", "GlobalAveragePool"):
            node = onnx_node(rn)
            builder.quantize_activation(fused_output(node), rn.outputs[0])
            if rn.op == "GlobalAveragePool":
                # The runtime's [1, C] is ONNX's Flatten of [1, C, 1, 1]: the same values, so the same pair.
                for reader in builder.consumers(fused_output(node) + "_dequantized"):
                    if reader.op_type in ("Flatten", "Reshape"):
                        builder.quantize_activation(reader.output[0], rn.outputs[0])
        else:
            raise SystemExit("no QDQ form for .resq op %s at node '%s'" % (rn.op, rn.name))
    builder.finish()
    model.producer_name = "resq make_qdq_onnx.py"
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="the float ONNX model the .resq was converted from")
    ap.add_argument("resq", help="the int8 .resq model")
    ap.add_argument("-o", "--output", required=True, help="the QDQ ONNX model to write")
    ap.add_argument("--activations", choices=["u8", "s8"], required=True)
    args = ap.parse_args()
    model = build(args.onnx, args.resq, args.activations)
    onnx.save(model, args.output)
    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("wrote %s (%s activations): %s" % (args.output, args.activations,
                                              ", ".join("%d %s" % (v, k) for k, v in sorted(ops.items()))))


if __name__ == "__main__":
    main()
