#!/usr/bin/python3
"""Writes the committed seeds of the picture gate (corpus/image_decode/gate_*) and of the .npy reader
(corpus/npy/), with the standard library alone (make_seeds.py writes the others and needs PyTorch).

  /usr/bin/python3 tests/fuzz/make_gate_seeds.py

  gate_*   each format the gate names by its signature, with a small header (WebP, GIF, PSD, Radiance HDR with a
           zero-length run, TIFF, HEIC), 16-bit, palette and interlaced PNGs, a 16-bit PGM, a 1-bit BMP, and
           headers that claim more pixels than the file holds (PGM, BMP, PNG)
  npy/     float32 arrays of 1 to 4 dimensions, a version 2 header, and the refused kinds: float64, Fortran
           order, a shape claiming more than the file holds
Deterministic: a second run writes the same bytes.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def png(width, height, depth, colour, rows, palette=None, interlace=0):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))
    if palette:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def rows(width, height, bytes_per_pixel):
    return b"".join(b"\0" + bytes((x * 7 + y * 13) & 255 for x in range(width * bytes_per_pixel))
                    for y in range(height))


def adam7_rows(width, height, bytes_per_pixel):
    """The seven interlaced passes' rows, each pass a small picture of its own."""
    out = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        pass_width, pass_height = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if pass_width and pass_height:
            out += rows(pass_width, pass_height, bytes_per_pixel)
    return out


def pictures():
    write("image_decode", "gate_webp.webp", b"RIFF\x24\0\0\0WEBPVP8 " + bytes(24))
    write("image_decode", "gate_gif.gif", b"GIF89a\x10\x27\x10\x27\x80\0\0\0\0\0\xff\xff\xff"
          b"\x2c\0\0\0\0\x10\x27\x10\x27\0\x02\x02\x44\x01\0\x3b")
    write("image_decode", "gate_psd.psd", b"8BPS\0\x01" + bytes(6) + struct.pack(">HIIHH", 3, 10000, 10000, 8, 3)
          + bytes(14))
    write("image_decode", "gate_hdr_zero_run.png",
          b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 8\n\x02\x02\x00\x08" + bytes(4))
    write("image_decode", "gate_tiff.tif", b"II*\0\x08\0\0\0" + bytes(8))
    write("image_decode", "gate_heic.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic")
    write("image_decode", "gate_rgba16.png", png(6, 4, 16, 6, rows(6, 4, 8)))
    write("image_decode", "gate_palette.png", png(5, 3, 8, 3, rows(5, 3, 1), palette=bytes(range(256)) * 3))
    write("image_decode", "gate_interlaced.png", png(9, 7, 8, 2, adam7_rows(9, 7, 3), interlace=1))
    write("image_decode", "gate_gray16.pgm", b"P5 7 5 65535\n" + bytes((i * 11) & 255 for i in range(7 * 5 * 2)))
    bmp_rows = b"".join(bytes([0b10110010 ^ y, 0, 0, 0]) for y in range(6))  # 1 bit per pixel, rows of 4 bytes
    write("image_decode", "gate_1bit.bmp", struct.pack("<2sIHHI", b"BM", 62 + len(bmp_rows), 0, 0, 62)
          + struct.pack("<IiiHHIIiiII", 40, 8, 6, 1, 1, 0, len(bmp_rows), 2835, 2835, 2, 0)
          + b"\0\0\0\0\xff\xff\xff\0" + bmp_rows)
    write("image_decode", "gate_lying.pgm", b"P5 10000 10000 255\n" + bytes(9))
    write("image_decode", "gate_lying.png", png(10000, 10000, 8, 0, rows(4, 4, 1)))
    write("image_decode", "gate_lying.bmp", struct.pack("<2sIHHI", b"BM", 66, 0, 0, 54)
          + struct.pack("<IiiHHIIiiII", 40, 10000, 10000, 1, 24, 0, 0, 0, 0, 0, 0) + bytes(12))


def npy(shape, data, descr="<f4", fortran="False", version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode() + data


def floats(count):
    return struct.pack("<%df" % count, *[(i * 0.37) - 1.5 for i in range(count)])


def arrays():
    write("npy", "vector.npy", npy("(5,)", floats(5)))
    write("npy", "matrix.npy", npy("(2, 3)", floats(6)))
    write("npy", "image_chw.npy", npy("(1, 4, 4)", floats(16)))
    write("npy", "batch_nchw.npy", npy("(2, 1, 3, 3)", floats(18)))
    write("npy", "version2.npy", npy("(3,)", floats(3), version=2))
    write("npy", "float64.npy", npy("(2,)", bytes(16), descr="<f8"))
    write("npy", "fortran.npy", npy("(2, 2)", floats(4), fortran="True"))
    write("npy", "lying_shape.npy", npy("(1000000, 1, 28, 28)", floats(8)))


if __name__ == "__main__":
    pictures()
    arrays()
