#!/usr/bin/env python3
"""Tests of the Python module `resq` (runtime/python/) and its examples (examples/python/), on the bundled
Fashion-MNIST model, against the C++ programs it must agree with.

    test_module.py --model M.resq --small-model S.resq --samples DIR --labels FILE --bin DIR --work DIR
                   [-- EMULATOR... ---] [unittest arguments]

--bin holds resq-classify and resq-run; EMULATOR runs them (qemu-run.sh ... when cross-compiled). The
module and examples/python must be on PYTHONPATH. ctest runs it natively and under qemu (tests/python/).
"""
import argparse
import io
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import threading
import time
import unittest
import zlib

import numpy as np

import resq

ARGS = None  # the command line, parsed in __main__


def program(name, *args):
    """Runs one of the C++ programs (through the emulator when cross-compiled) and returns its stdout."""
    command = ARGS.emulator + [os.path.join(ARGS.bin, name)] + [str(a) for a in args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{name} exited {done.returncode}: {done.stderr}")
    return done.stdout


def resq_classify_json(images, top):
    """resq-classify --json on the pictures: [[(label, probability), ...] per picture]."""
    lines = program("resq-classify", ARGS.model, *images, "--json", "--top", top).splitlines()
    return [[(c["label"], c["probability"]) for c in json.loads(line)["top"]] for line in lines]


def rounded(classes):
    """classify's pairs with the probabilities rounded as resq-classify --json rounds them (6 decimals)."""
    return [(label, round(probability, 6)) for label, probability in classes]


def smooth_picture(width, height, channels, seed):
    """A picture with shapes a classifier can tell apart: smooth waves in each channel."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [128 + 120 * np.sin(rng.uniform(0.05, 0.4) * x + rng.uniform(0.05, 0.4) * y + rng.uniform(0, 6))
              for _ in range(channels)]
    return np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)


def write_pnm(path, pixels):
    """A binary PGM (H x W) or PPM (H x W x 3, R G B), the files resq-classify reads the same pixels from."""
    magic = b"P5" if pixels.ndim == 2 else b"P6"
    with open(path, "wb") as f:
        f.write(b"%s\n%d %d\n255\n" % (magic, pixels.shape[1], pixels.shape[0]))
        f.write(np.ascontiguousarray(pixels).tobytes())


def read_gray_png(path):
    """The pixels of an 8-bit gray, non-interlaced PNG (the bundled samples), with zlib alone."""
    data = pathlib.Path(path).read_bytes()
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[at + 8:at + 8 + length])
        elif kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert (depth, colour, interlace) == (8, 0, 0), f"{path}: not an 8-bit gray non-interlaced PNG"
    raw = zlib.decompress(idat)
    rows, previous = [], bytearray(width)
    for r in range(height):
        kind, line = raw[r * (width + 1)], bytearray(raw[r * (width + 1) + 1:(r + 1) * (width + 1)])
        for i in range(width):  # the five PNG filters (PNG specification, section 9)
            left, up = (line[i - 1] if i else 0), previous[i]
            corner = previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return np.frombuffer(b"".join(rows), np.uint8).reshape(height, width)


def vm_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


class ModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = resq.Model(ARGS.model)
        cls.work = pathlib.Path(ARGS.work)
        cls.work.mkdir(parents=True, exist_ok=True)
        cls.samples = sorted(str(p) for p in pathlib.Path(ARGS.samples).glob("*.png"))
        cls.label_names = pathlib.Path(ARGS.labels).read_text().splitlines()
        assert cls.samples, f"no pictures in {ARGS.samples}"


class Properties(ModelTest):
    def test_metadata_of_the_bundled_model(self):
        self.assertEqual(self.model.input_shape, (1, 28, 28, 1))
        self.assertEqual(self.model.labels, self.label_names)
        pre = self.model.preprocessing
        self.assertEqual(set(pre), {"grayscale", "resize_shorter", "mean", "std"})
        self.assertIs(pre["grayscale"], True)
        self.assertAlmostEqual(pre["mean"][0], 0.286, places=6)
        self.assertAlmostEqual(pre["std"][0], 0.353, places=6)
        self.assertIsInstance(self.model.arena_bytes, int)
        self.assertGreater(self.model.arena_bytes, 0)

    def test_everything_has_a_docstring(self):
        for thing in (resq, resq.Error, resq.Model, resq.Model.run, resq.Model.classify, resq.Model.classify_frame,
                      resq.Model.input_shape, resq.Model.labels, resq.Model.preprocessing, resq.Model.arena_bytes):
            self.assertTrue(thing.__doc__ and len(thing.__doc__) > 40, f"{thing!r} has no docstring")


class AgreesWithThePrograms(ModelTest):
    def test_classify_gives_resq_classifys_top_k_on_the_bundled_pictures(self):
        want = resq_classify_json(self.samples, 3)
        got = [rounded(self.model.classify(path, top=3)) for path in self.samples]
        self.assertEqual(got, want)
        # and every picture's class is the one its file name gives (7_sneaker.png: line 8 of the labels)
        for path, classes in zip(self.samples, got):
            self.assertEqual(classes[0][0], self.label_names[int(os.path.basename(path).split("_")[0])])

    def test_arrays_in_every_layout_give_what_resq_classify_gives_for_the_same_pixels(self):
        rgb = smooth_picture(40, 30, 3, seed=1)
        write_pnm(self.work / "picture.ppm", rgb)
        gray = smooth_picture(40, 30, 1, seed=2)[:, :, 0]
        write_pnm(self.work / "picture.pgm", gray)
        want_rgb, want_gray = resq_classify_json([self.work / "picture.ppm", self.work / "picture.pgm"], 5)
        x = np.full((30, 40, 1), 255, np.uint8)
        bgrx = np.concatenate([rgb[:, :, ::-1], x], axis=2)
        rgbx = np.concatenate([rgb, x], axis=2)
        padded = np.zeros((30, 48, 4), np.uint8)  # Picamera2's rows padded to its stride
        padded[:, :40] = bgrx
        layouts = {
            "RGB": (rgb, None),
            "BGR (a reversed view)": (rgb[:, :, ::-1], "BGR"),
            "BGR (contiguous)": (np.ascontiguousarray(rgb[:, :, ::-1]), "BGR"),
            "BGRX (4 channels, default)": (bgrx, None),
            "RGBX": (rgbx, "RGBX"),
            "BGRX with padded rows": (padded[:, :40], "BGRX"),
        }
        for name, (array, order) in layouts.items():
            with self.subTest(name):
                self.assertEqual(rounded(self.model.classify(array, top=5, order=order)), want_rgb)
        self.assertEqual(rounded(self.model.classify(gray, top=5)), want_gray)
        # the channel order matters for a gray model (stb_image's luma weighs R and B differently)
        self.assertNotEqual(self.model.classify(rgb, top=10), self.model.classify(rgb, top=10, order="BGR"))

    def test_run_matches_resq_run_bit_for_bit(self):
        x = np.random.default_rng(3).normal(0, 1, (4, 1, 28, 28)).astype(np.float32)
        np.save(self.work / "x.npy", x)
        program("resq-run", ARGS.model, "--input", self.work / "x.npy", "--output", self.work / "y.npy")
        want = np.load(self.work / "y.npy")
        got = self.model.run(x)
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, (4, 10))
        self.assertTrue(np.array_equal(got.view(np.uint32), want.view(np.uint32)), f"{got}\n!=\n{want}")
        # one H x W x C picture, and N x C x H x W as a strided view of NHWC data: the same bits
        self.assertTrue(np.array_equal(self.model.run(x[1].transpose(1, 2, 0)).view(np.uint32),
                                       want[1:2].view(np.uint32)))
        nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        self.assertTrue(np.array_equal(self.model.run(nhwc.transpose(0, 3, 1, 2)).view(np.uint32),
                                       want.view(np.uint32)))
        self.assertEqual(self.model.run(np.zeros((0, 1, 28, 28), np.float32)).shape, (0, 10))

    def test_two_threads_give_the_same_bits(self):
        x = np.random.default_rng(4).normal(0, 1, (3, 1, 28, 28)).astype(np.float32)
        two = resq.Model(ARGS.model, threads=2)
        self.assertTrue(np.array_equal(two.run(x).view(np.uint32), self.model.run(x).view(np.uint32)))
        self.assertEqual(two.classify(self.samples[0], top=10), self.model.classify(self.samples[0], top=10))


class CameraFrames(ModelTest):
    def frames(self, rgb):
        """The picture as I420, NV12, YUYV (BT.601 limited range) and RGB24 bytes."""
        r, g, b = (rgb[:, :, c].astype(np.float64) for c in range(3))
        y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
        u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
        v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
        byte = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)
        u2 = byte(u.reshape(u.shape[0] // 2, 2, u.shape[1] // 2, 2).mean(axis=(1, 3)))
        v2 = byte(v.reshape(v.shape[0] // 2, 2, v.shape[1] // 2, 2).mean(axis=(1, 3)))
        y8 = byte(y)
        yuyv = np.empty((rgb.shape[0], rgb.shape[1] * 2), np.uint8)
        yuyv[:, 0::2] = y8
        yuyv[:, 1::4] = byte(u.reshape(u.shape[0], -1, 2).mean(axis=2))
        yuyv[:, 3::4] = byte(v.reshape(v.shape[0], -1, 2).mean(axis=2))
        return {
            "i420": y8.tobytes() + u2.tobytes() + v2.tobytes(),
            "nv12": y8.tobytes() + np.stack([u2, v2], axis=-1).tobytes(),
            "yuyv": yuyv.tobytes(),
            "rgb24": rgb.tobytes(),
        }

    def test_every_format_names_the_picture_as_classify_does(self):
        for path in self.samples:
            want_label, want_probability = self.model.classify(path, top=1)[0]
            # the bundled picture as a colour 56 x 56 frame: the converter must resize it to 28 x 28
            pixels = read_gray_png(path)
            self.assertEqual(self.model.classify(pixels, top=10), self.model.classify(path, top=10))
            rgb = np.repeat(np.repeat(np.repeat(pixels[:, :, None], 3, axis=2), 2, axis=0), 2, axis=1)
            for name, frame in self.frames(rgb).items():
                with self.subTest(path=path, format=name):
                    label, probability = self.model.classify_frame(frame, name, 56, 56, top=1)[0]
                    self.assertEqual(label, want_label)
                    self.assertAlmostEqual(probability, want_probability, delta=0.05)

    def test_frames_with_padded_rows_use_the_stride(self):
        rgb = smooth_picture(32, 24, 3, seed=5)
        padded = np.zeros((24, 40 * 3), np.uint8)
        padded[:, :96] = rgb.reshape(24, 96)
        self.assertEqual(self.model.classify_frame(padded, "rgb24", 32, 24, top=10, stride=120),
                         self.model.classify_frame(rgb.tobytes(), "rgb24", 32, 24, top=10))


class ClearErrors(ModelTest):
    def test_runtime_failures_are_resq_errors_with_the_message(self):
        with self.assertRaises(resq.Error) as caught:
            resq.Model(self.work / "missing.resq")
        self.assertIsInstance(caught.exception, RuntimeError)
        self.assertIn("cannot open model", str(caught.exception))
        self.assertIn("missing.resq", str(caught.exception))
        (self.work / "garbage.resq").write_bytes(b"\x01" * 4096)
        with self.assertRaisesRegex(resq.Error, "not a resq model"):
            resq.Model(self.work / "garbage.resq")
        with self.assertRaisesRegex(resq.Error, "cannot open image '.*nowhere.png'"):
            self.model.classify(self.work / "nowhere.png")
        (self.work / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
        with self.assertRaisesRegex(resq.Error, "broken.png"):
            self.model.classify(str(self.work / "broken.png"))
        with self.assertRaisesRegex(resq.Error, "needs 1728 bytes, got 100"):
            self.model.classify_frame(b"\0" * 100, "rgb24", 24, 24)

    def test_wrong_dtype_shape_or_layout_is_a_clear_exception(self):
        m = self.model
        cases = [
            (TypeError, "float32.*float64", lambda: m.run(np.zeros((1, 1, 28, 28)))),
            (TypeError, "numpy float32 array", lambda: m.run([[0.0]])),
            (TypeError, "float32.*>f4", lambda: m.run(np.zeros((1, 1, 28, 28), ">f4"))),
            (ValueError, r"N x 1 x 28 x 28.*got shape \(1, 28, 28\)", lambda: m.run(np.zeros((1, 28, 28), np.float32))),
            (ValueError, r"got shape \(2, 28, 28, 1\)", lambda: m.run(np.zeros((2, 28, 28, 1), np.float32))),
            (ValueError, r"got shape \(784,\)", lambda: m.run(np.zeros(784, np.float32))),
            (TypeError, "uint8 pixels, not float32", lambda: m.classify(np.zeros((28, 28, 3), np.float32))),
            (TypeError, "a path or a numpy uint8 array, not int", lambda: m.classify(7)),
            (ValueError, r"got shape \(28, 28, 2\)", lambda: m.classify(np.zeros((28, 28, 2), np.uint8))),
            (ValueError, r"got shape \(0, 28, 3\)", lambda: m.classify(np.zeros((0, 28, 3), np.uint8))),
            (ValueError, "'BGR' is for H x W x 3", lambda: m.classify(np.zeros((28, 28, 4), np.uint8), order="BGR")),
            (ValueError, "not 'XRGB'", lambda: m.classify(np.zeros((28, 28, 4), np.uint8), order="XRGB")),
            (ValueError, "top must be at least 1", lambda: m.classify(self.samples[0], top=0)),
            (ValueError, "threads must be 1..64", lambda: resq.Model(ARGS.model, threads=0)),
            (ValueError, "unknown pixel format 'h264'", lambda: m.classify_frame(b"\0" * 64, "h264", 4, 4)),
            (TypeError, "contiguous", lambda: m.classify_frame(np.zeros((8, 8), np.uint8)[:, ::2], "i420", 4, 8)),
            (resq.Error, "yuyv frame needs an even width", lambda: m.classify_frame(b"\0" * 64, "yuyv", 3, 4)),
        ]
        for kind, message, call in cases:
            with self.subTest(message):
                with self.assertRaisesRegex(kind, message):
                    call()


class ReleasesTheGil(ModelTest):
    def test_another_python_thread_progresses_while_run_works(self):
        one = np.zeros((1, 1, 28, 28), np.float32)
        start = time.perf_counter()
        self.model.run(one)
        per_picture = max(time.perf_counter() - start, 1e-5)
        batch = np.zeros((max(8, int(0.4 / per_picture)), 1, 28, 28), np.float32)  # about 0.4 s of work
        stamps, stop = [], threading.Event()

        def count():
            while not stop.is_set():
                stamps.append(time.perf_counter())

        worker = threading.Thread(target=count)
        worker.start()
        while not stamps:
            time.sleep(0.001)
        began = time.perf_counter()
        self.model.run(batch)
        ended = time.perf_counter()
        stop.set()
        worker.join()
        # The middle half of the call, far from the 5 ms in which the interpreter hands the GIL over.
        low, high = began + (ended - began) / 4, ended - (ended - began) / 4
        inside = sum(low < t < high for t in stamps)
        self.assertGreater(inside, 10, f"the other thread ran {inside} times in the middle {high - low:.3f} s of run")


class MemoryIsFlat(ModelTest):
    def test_rss_is_flat_over_10000_calls(self):
        # What the module allocates per call does not depend on the model's size: a small one keeps the
        # 11,000 calls to seconds under qemu.
        model = resq.Model(ARGS.small_model)
        self.assertEqual(model.input_shape, (1, 6, 6, 3))
        x = np.zeros((1, 3, 6, 6), np.float32)
        frame = smooth_picture(32, 24, 3, seed=6).tobytes()
        for _ in range(500):  # warm up: the allocators' pools, qemu's translated code
            model.run(x)
            model.classify_frame(frame, "rgb24", 32, 24, top=2)
        before = vm_rss_kib()
        for _ in range(10000):
            model.run(x)
        for _ in range(1000):
            model.classify_frame(frame, "rgb24", 32, 24, top=2)
        grown = vm_rss_kib() - before
        # A leaked result array (an ndarray object and its 8 bytes) would be over 1 MiB over these calls.
        self.assertLess(grown, 256, f"RSS grew by {grown} KiB over 11,000 calls")


class Examples(ModelTest):
    def test_classify_photos_names_every_bundled_picture(self):
        import classify_photos
        out = io.StringIO()
        saved, sys.stdout = sys.stdout, out
        try:
            status = classify_photos.main([ARGS.model, *self.samples, "--top", "1"])
        finally:
            sys.stdout = saved
        self.assertEqual(status, 0)
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 2 * len(self.samples))
        for path, line in zip(self.samples, lines[1::2]):
            self.assertEqual(line.split("  ")[-1], self.label_names[int(os.path.basename(path).split("_")[0])])

    def test_the_picamera2_loop_classifies_frames_in_each_of_picamera2s_layouts(self):
        import picamera2_classify
        rgb = smooth_picture(64, 48, 3, seed=7)
        want = self.model.classify(rgb, top=2)
        x = np.full((48, 64, 1), 255, np.uint8)
        # capture_array()'s arrays, as the Picamera2 manual gives each format's bytes; rows padded to a stride
        layouts = {"XRGB8888": np.concatenate([rgb[:, :, ::-1], x], axis=2),
                   "XBGR8888": np.concatenate([rgb, x], axis=2),
                   "RGB888": np.ascontiguousarray(rgb[:, :, ::-1]),
                   "BGR888": rgb}
        for name, pixels in layouts.items():
            with self.subTest(name):
                buffer = np.zeros((48, 80, pixels.shape[2]), np.uint8)
                buffer[:, :64] = pixels
                out = io.StringIO()
                count = picamera2_classify.classify_frames(self.model, lambda: buffer[:, :64], name, frames=3,
                                                           top=2, out=out)
                self.assertEqual(count, 3)
                names = re.escape(", ".join(f"{label} ({p:.2f})" for label, p in want))
                lines = out.getvalue().splitlines()
                self.assertEqual(len(lines), 3)
                for i, line in enumerate(lines):
                    self.assertRegex(line, rf"^frame {i + 1}: {names}  [0-9.]+ fps$")

    def test_the_picamera2_example_imports_without_picamera2(self):
        import picamera2_classify
        self.assertEqual(picamera2_classify.ORDER_OF_FORMAT["RGB888"], "BGR")


def parse(argv):
    parser = argparse.ArgumentParser()
    for name in ("model", "small-model", "samples", "labels", "bin", "work"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    # EMULATOR... up to the unittest arguments (which start with '-' or name a test)
    args.emulator, args.unittest = [], []
    if "---" in rest:
        cut = rest.index("---")
        args.emulator, args.unittest = rest[:cut], rest[cut + 1:]
    else:
        args.emulator = rest
    return args


if __name__ == "__main__":
    ARGS = parse(sys.argv[1:])
    if not os.path.isfile(ARGS.model):
        print(f"skipped: no model at {ARGS.model} (resq-convert makes it from models/fashion_mnist_resnet.onnx)")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], "-v", *ARGS.unittest])
