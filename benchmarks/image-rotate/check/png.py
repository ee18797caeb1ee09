"""Seeded RGB test images and lossless PNG, in plain Python (zlib only): no Pillow, which the handler uses."""
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


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def decode(data):
    """(width, height, rgb) of an 8-bit, non-interlaced RGB or RGBA PNG (alpha dropped)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, header = 8, b"", None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous, rows = bytearray(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            line[i] = (line[i] + (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]) & 0xFF
        rows.append(line)
        previous = line
    pixels = b"".join(rows)
    if channels == 4:
        pixels = bytes(b for i, b in enumerate(pixels) if i % 4 != 3)
    return width, height, pixels


def rotate90(width, height, rgb):
    """A quarter turn counter-clockwise (Pillow's ROTATE_90): out(x, y) = in(width - 1 - y, x)."""
    out = bytearray(len(rgb))
    for y in range(width):
        for x in range(height):
            src = (x * width + (width - 1 - y)) * 3
            dst = (y * height + x) * 3
            out[dst : dst + 3] = rgb[src : src + 3]
    return height, width, bytes(out)
