#!/usr/bin/env python3
"""Classifies pictures with a .resq model and prints the most probable classes of each, like resq-classify.

    python3 classify_photos.py model.resq photo.jpg other.png [--top 3] [--threads 2]

A picture that cannot be read is reported on stderr and makes the exit status 1; the others still run.
"""
import argparse
import sys

import resq


def main(argv=None):
    parser = argparse.ArgumentParser(description="Classify pictures with a .resq model")
    parser.add_argument("model", help="the .resq model")
    parser.add_argument("images", nargs="+", help="JPEG, PNG, BMP or PGM/PPM pictures")
    parser.add_argument("--top", type=int, default=5, help="how many classes to print per picture")
    parser.add_argument("--threads", type=int, default=1, help="worker threads")
    args = parser.parse_args(argv)

    try:
        model = resq.Model(args.model, threads=args.threads)
    except resq.Error as error:
        print(f"classify_photos: {error}", file=sys.stderr)
        return 1
    status = 0
    for path in args.images:
        try:
            top = model.classify(path, top=args.top)
        except resq.Error as error:
            print(f"classify_photos: {error}", file=sys.stderr)
            status = 1
            continue
        print(f"{path}:")
        for label, probability in top:
            print(f"  {probability:.4f}  {label}")
    return status


if __name__ == "__main__":
    sys.exit(main())
