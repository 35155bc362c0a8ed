#!/usr/bin/python3
"""Writes the committed seed inputs of three fuzz targets from real inputs (models/samples and tiny PyTorch
exports); the model_load seeds come from GraphBuilder instead (write_model_seeds.cpp).

  /usr/bin/python3 tests/fuzz/make_seeds.py

  corpus/onnx_reader/    tiny ResNet pieces exported by torch.onnx: BatchNorm kept, strided block with a
                         projection shortcut, max pool and view (shape arithmetic), mean + MatMul + Softmax
  corpus/image_decode/   Fashion-MNIST samples as JPEG, PNG (RGB, non-square), BMP, PGM and PPM
  corpus/camera_frames/  a 5-byte header (see fuzz_camera_frames.cpp) and raw I420, NV12, YUYV or RGB24
                         frames of a sample, some with padded rows, one stream ending inside a frame
Seeded, so a second run writes the same bytes (torch's exporter aside).
"""
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.io

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "models", "samples")


def out_path(target, name):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def write(target, name, data):
    with open(out_path(target, name), "wb") as f:
        f.write(data)


# ---- ONNX ----

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


class IdentityBlockNet(nn.Module):
    """Gray 8x8: stem, identity block, adaptive average pool, flatten, Linear (Gemm)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.block = BasicBlock(4, 4, 1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        out = self.block(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


class StridedBlockNet(nn.Module):
    """RGB 12x12: stem, max pool, strided block with projection, F.avg_pool2d + view (Shape/Gather/...)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, 1, 1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.block = BasicBlock(4, 6, 2)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        out = self.block(self.pool(F.relu(self.stem(x))))
        out = F.avg_pool2d(out, int(out.size()[3]))
        return self.fc(out.view(out.size(0), -1))


class MeanMatMulNet(nn.Module):
    """RGB 6x10: conv with a 3x1 kernel and uneven strides, mean over H and W, MatMul + Add, Softmax."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, (3, 1), (1, 2), (1, 0))
        self.weight = nn.Parameter(torch.randn(5, 4) * 0.3)
        self.bias = nn.Parameter(torch.randn(4) * 0.1)

    def forward(self, x):
        out = F.relu(self.conv(x))
        return torch.softmax(out.mean([2, 3]) @ self.weight + self.bias, dim=1)


def export_onnx():
    torch.manual_seed(0)
    for name, net, shape, opset, keep_bn in (("identity_block_bn.onnx", IdentityBlockNet(), (1, 1, 8, 8), 13, True),
                                             ("strided_block_view.onnx", StridedBlockNet(), (1, 3, 12, 12), 11, False),
                                             ("mean_matmul_softmax.onnx", MeanMatMulNet(), (1, 3, 6, 10), 13, False)):
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.randn(4, *shape[1:]))  # BatchNorm statistics that are not the defaults
        net.eval()
        # PRESERVE keeps BatchNormalization as its own node; otherwise the exporter folds it into the Conv.
        mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
        torch.onnx.export(net, torch.randn(*shape), out_path("onnx_reader", name), opset_version=opset,
                          input_names=["input"], output_names=["output"], do_constant_folding=False,
                          training=mode, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


# ---- pictures ----

def sample(name):
    """A Fashion-MNIST sample as uint8 [H, W] (gray)."""
    data = torchvision.io.read_file(os.path.join(SAMPLES, name))
    return torchvision.io.decode_png(data)[0].numpy()


def tinted(gray):
    """A gray picture as RGB with a colour cast, so that the channels differ."""
    g = gray.astype(np.float32)
    return np.stack([g, g * 0.7 + 30, 255 - g * 0.8], axis=-1).clip(0, 255).astype(np.uint8)


def bmp24(rgb):
    height, width, _ = rgb.shape
    row_bytes = (width * 3 + 3) // 4 * 4
    pixels = b"".join(rgb[y, :, ::-1].tobytes().ljust(row_bytes, b"\0") for y in range(height - 1, -1, -1))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def write_pictures():
    sneaker, bag = sample("7_sneaker.png"), sample("8_bag.png")
    rgb = tinted(sneaker)
    wide = np.concatenate([tinted(bag), tinted(bag)[:, :12]], axis=1)[:20]  # 40x20, crops differently
    chw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))
    write("image_decode", "sneaker_rgb.jpg", torchvision.io.encode_jpeg(chw(rgb), quality=80).numpy().tobytes())
    write("image_decode", "sneaker_gray.jpg",
          torchvision.io.encode_jpeg(torch.from_numpy(sneaker)[None], quality=90).numpy().tobytes())
    write("image_decode", "bag_rgb_40x20.png", torchvision.io.encode_png(chw(wide)).numpy().tobytes())
    write("image_decode", "sneaker_rgb.bmp", bmp24(rgb))
    write("image_decode", "sneaker.pgm", b"P5\n28 28\n255\n" + sneaker.tobytes())
    write("image_decode", "bag_40x20.ppm", b"P6\n40 20\n255\n" + wide.tobytes())


# ---- camera frames ----

FORMATS = {"i420": 0, "nv12": 1, "yuyv": 2, "rgb24": 3}
MODEL_INPUTS = {"fashion_mnist": 0, "imagenet": 1, "stretched": 2}


def rgb_to_yuv(rgb):
    """BT.601 limited range, the inverse of frame_convert.cpp's conversion."""
    r, g, b = (rgb[..., c].astype(np.float32) for c in range(3))
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    return [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y, u, v)]


def pad_rows(plane, stride):
    return np.pad(plane, ((0, 0), (0, stride - plane.shape[1])), constant_values=7).tobytes()


def frame_bytes(fmt, rgb, stride_delta):
    """One frame as the camera stack writes it; stride_delta bytes of padding after each packed row."""
    height, width, _ = rgb.shape
    y, u, v = rgb_to_yuv(rgb)
    if fmt in ("i420", "nv12"):
        stride = width + stride_delta
        half = lambda p: p[::2, ::2]  # chroma at half width and height (rounded up)
        ch, cw = (height + 1) // 2, (width + 1) // 2
        if fmt == "i420":
            chroma_stride = (stride + 1) // 2
            return pad_rows(y, stride) + pad_rows(half(u), chroma_stride) + pad_rows(half(v), chroma_stride)
        uv = np.stack([half(u), half(v)], axis=-1).reshape(ch, 2 * cw)
        return pad_rows(y, stride) + pad_rows(uv, (stride + 1) // 2 * 2)
    if fmt == "yuyv":
        packed = np.stack([y[:, 0::2], u[:, 0::2], y[:, 1::2], v[:, 0::2]], axis=-1).reshape(height, 2 * width)
        return pad_rows(packed, 2 * width + stride_delta)
    return pad_rows(rgb.reshape(height, 3 * width), 3 * width + stride_delta)


def write_frames():
    sneaker, coat = tinted(sample("7_sneaker.png")), tinted(sample("4_coat.png"))
    odd = coat[:27, :25]  # odd sizes: chroma rounded up
    cases = (  # name, format, picture, stride padding, model input, frames in the stream, bytes cut off
        ("i420_28x28_fashion", "i420", sneaker, 0, "fashion_mnist", 2, 0),
        ("i420_25x27_padded_imagenet", "i420", odd, 6, "imagenet", 1, 0),
        ("nv12_28x28_stretched", "nv12", sneaker, 0, "stretched", 1, 0),
        ("nv12_25x27_padded_fashion", "nv12", odd, 3, "fashion_mnist", 2, 0),
        ("yuyv_28x28_imagenet", "yuyv", sneaker, 0, "imagenet", 1, 0),
        ("yuyv_24x27_padded_stretched", "yuyv", coat[:27, :24], 4, "stretched", 1, 0),
        ("rgb24_28x28_fashion", "rgb24", sneaker, 0, "fashion_mnist", 1, 0),
        ("rgb24_25x27_short_read", "rgb24", odd, 0, "stretched", 2, 100),
    )
    for name, fmt, rgb, stride_delta, model_input, count, cut in cases:
        height, width, _ = rgb.shape
        header = bytes([FORMATS[fmt], width - 1, height - 1, stride_delta, MODEL_INPUTS[model_input]])
        stream = frame_bytes(fmt, rgb, stride_delta) * count
        write("camera_frames", name + ".frames", header + stream[:len(stream) - cut])


if __name__ == "__main__":
    export_onnx()
    write_pictures()
    write_frames()
