"""PNG files written byte for byte as TensorFlow's libpng writes them, for tf.io.encode_png and the image summaries:
adaptive per-row filtering (the filter whose output bytes, read as signed, have the smallest absolute sum), zlib
with the filtered strategy and a window shrunk to the image's size, IDAT chunks of at most 8192 bytes. Knows
nothing of ops or tensors."""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
IDAT_CHUNK = 8192
# samples per pixel -> PNG colour type: gray, gray + alpha, RGB, RGBA
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
_BIT_DEPTHS = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _filtered_rows(lanes: np.ndarray) -> np.ndarray:
    """The rows of [height, width, bytes per pixel] bytes, each prefixed by the number of the filter libpng's
    heuristic picks and filtered by it."""
    height, width, bpp = lanes.shape
    raw = lanes.reshape(height, width * bpp).astype(np.int16)
    left = np.zeros_like(raw)
    left[:, bpp:] = raw[:, :-bpp]
    up = np.zeros_like(raw)
    up[1:] = raw[:-1]
    up_left = np.zeros_like(raw)
    up_left[1:, bpp:] = raw[:-1, :-bpp]
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    candidates = np.stack([raw, raw - left, raw - up, raw - (left + up) // 2, raw - paeth]) & 0xFF
    allowed = np.ones(5, dtype=bool)
    if height == 1:  # libpng drops the filters that would only look at the zero row above
        allowed[[2, 3, 4]] = False
    if width == 1:  # ... or at the zero pixel to the left
        allowed[[1, 3, 4]] = False
    cost = np.minimum(candidates, 256 - candidates).sum(axis=2)
    cost[~allowed] = np.iinfo(cost.dtype).max
    choice = np.argmin(cost, axis=0)  # ties go to the first filter, as in libpng
    rows = candidates[choice, np.arange(height)]
    return np.concatenate([choice[:, None], rows], axis=1).astype(np.uint8)


def _zlib_window_bits(data_size: int) -> int:
    """The smallest zlib window libpng asks for that still covers `data_size` bytes (from 2^9 to 2^15)."""
    bits = 15
    if data_size <= 16384:
        half = 1 << (bits - 1)
        while data_size + 262 <= half:
            half >>= 1
            bits -= 1
    return max(bits, 9)  # zlib's smallest window


def _tighten_zlib_header(stream: bytes, data_size: int) -> bytes:
    """libpng rewrites the zlib header's window size to the smallest that covers the data."""
    cmf = stream[0]
    if data_size > 16384 or (cmf & 0x0F) != 8 or (cmf & 0xF0) > 0x70:
        return stream
    cinfo = cmf >> 4
    half = 1 << (cinfo + 7)
    if data_size > half:
        return stream
    while True:
        half >>= 1
        cinfo -= 1
        if not (cinfo > 0 and data_size <= half):
            break
    cmf = (cmf & 0x0F) | (cinfo << 4)
    flg = stream[1] & 0xE0
    flg += 0x1F - ((cmf << 8) + flg) % 0x1F
    return bytes([cmf, flg]) + stream[2:]


def encode(pixels: np.ndarray, compression: int = -1) -> bytes:
    """A [height, width, channels] image (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA channels) as PNG bytes. The bit
    depth is the samples' dtype: uint8 writes 8 bits, uint16 16 bits (big-endian, as PNG stores them).
    `compression` is the zlib level, -1 (zlib's default, level 6) to 9."""
    if pixels.dtype not in _BIT_DEPTHS:
        raise TypeError(f"PNG samples must be uint8 or uint16, got {pixels.dtype}")
    if pixels.ndim != 3 or pixels.shape[2] not in COLOUR_TYPES:
        raise ValueError(f"a PNG image is [height, width, channels] with 1 to 4 channels, got shape "
                         f"{list(pixels.shape)}")
    if not -1 <= compression <= 9:
        raise ValueError(f"the zlib compression level must be in [-1, 9], got {compression}")
    height, width, channels = pixels.shape
    bit_depth = _BIT_DEPTHS[pixels.dtype]
    lanes = pixels.astype(">u2").view(np.uint8) if bit_depth == 16 else pixels
    data = _filtered_rows(lanes.reshape(height, width, -1)).tobytes()
    deflate = zlib.compressobj(compression, zlib.DEFLATED, _zlib_window_bits(len(data)), 8, zlib.Z_FILTERED)
    stream = _tighten_zlib_header(deflate.compress(data) + deflate.flush(), len(data))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, COLOUR_TYPES[channels], 0, 0, 0)
    chunks = [chunk(b"IHDR", header)]
    chunks += [chunk(b"IDAT", stream[i:i + IDAT_CHUNK]) for i in range(0, len(stream), IDAT_CHUNK)]
    chunks.append(chunk(b"IEND", b""))
    return SIGNATURE + b"".join(chunks)
