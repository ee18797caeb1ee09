"""Seeded RGB test images as lossless PNG, in plain Python (zlib only), as image-rotate's checker makes them."""
import struct
import zlib

import faas_check


def generate(seed, width, height):
    """Red is seeded noise, green a horizontal and blue a vertical ramp, so any flip, transpose or wrong turn
    changes the pixels. Rows top to bottom, RGB bytes (as Pillow's tobytes() for mode RGB)."""
    next_ = faas_check.rng(seed)
    rgb = bytearray(width * height * 3)
    for y in range(height):
        for x in range(width):
            at = (y * width + x) * 3
            rgb[at] = int(next_() * 256)
            rgb[at + 1] = (x * 255) // max(1, width - 1)
            rgb[at + 2] = (y * 255) // max(1, height - 1)
    return width, height, bytes(rgb)


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode(width, height, rgb):
    """An 8-bit RGB PNG, every row unfiltered."""
    stride = width * 3
    raw = b"".join(b"\0" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
