#!/usr/bin/env python3
"""Classifies what a Raspberry Pi camera sees, frame after frame, with Picamera2 and resq.

    python3 picamera2_classify.py model.resq [--format XRGB8888] [--size 640x480] [--top 1] [--frames N]

Each frame comes from Picamera2's capture_array() and goes to Model.classify as it is (no copy, no
colour conversion in Python); one line per frame gives the classes and the frames per second so far.
Ctrl-C stops. Needs python3-picamera2 (Raspberry Pi OS) and python3-resq.
"""
import argparse
import sys
import time

import resq

# The bytes of one pixel of capture_array() for Picamera2's formats (Picamera2 manual, appendix A: its names
# describe the 32-bit word, so "RGB888" is B, G, R in memory), as Model.classify's `order` names them.
ORDER_OF_FORMAT = {"XRGB8888": "BGRX", "XBGR8888": "RGBX", "RGB888": "BGR", "BGR888": "RGB"}


def classify_frames(model, capture_array, picamera2_format, frames=None, top=1, out=sys.stdout,
                    clock=time.monotonic):
    """Captures and classifies `frames` frames (None: until interrupted), printing one line each.

    capture_array: Picamera2.capture_array, or anything that returns arrays of the same layout (the tests
    hand it synthetic frames). Returns how many frames were classified.
    """
    order = ORDER_OF_FORMAT[picamera2_format]
    start = clock()
    count = 0
    while frames is None or count < frames:
        frame = capture_array()
        classes = model.classify(frame, top=top, order=order)
        count += 1
        fps = count / max(clock() - start, 1e-9)
        names = ", ".join(f"{label} ({probability:.2f})" for label, probability in classes)
        print(f"frame {count}: {names}  {fps:.1f} fps", file=out, flush=True)
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description="Classify Picamera2 frames with a .resq model")
    parser.add_argument("model", help="the .resq model")
    parser.add_argument("--format", default="XRGB8888", choices=sorted(ORDER_OF_FORMAT),
                        help="Picamera2's main stream format")
    parser.add_argument("--size", default="640x480", help="frame size WIDTHxHEIGHT")
    parser.add_argument("--top", type=int, default=1, help="classes per frame")
    parser.add_argument("--frames", type=int, default=None, help="stop after this many frames")
    parser.add_argument("--threads", type=int, default=2, help="worker threads per inference")
    args = parser.parse_args(argv)
    width, height = (int(side) for side in args.size.split("x"))

    try:
        from picamera2 import Picamera2  # Raspberry Pi OS only: imported here, so the module imports anywhere
    except ImportError:
        print("picamera2_classify: needs Picamera2: sudo apt install python3-picamera2", file=sys.stderr)
        return 1
    model = resq.Model(args.model, threads=args.threads)
    camera = Picamera2()
    camera.configure(camera.create_preview_configuration(main={"format": args.format, "size": (width, height)}))
    camera.start()
    try:
        classify_frames(model, camera.capture_array, args.format, args.frames, args.top)
    except KeyboardInterrupt:
        pass
    finally:
        camera.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
