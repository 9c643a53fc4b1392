"""framework/png.py: PNG bytes as TensorFlow writes them (recorded by tools/tf_fixtures/gen_image.py), read back by
an independent decoder written here (chunks and CRCs, inflate, the five row filters), libpng's filter choice, the
zlib window and IDAT chunking, and the errors for what PNG cannot hold."""

from __future__ import annotations

import importlib.util
import os
import struct
import zlib

import numpy as np
import pytest

from tfmini.framework import png

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tf", "image")
_spec = importlib.util.spec_from_file_location("gen_image_for_png", os.path.join(ROOT, "tools", "tf_fixtures",
                                                                                 "gen_image.py"))
gen_image = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_image)

RECORDED = np.load(os.path.join(FIXTURES, "cases.npz"))
TF_PIXELS = gen_image._png_pixels()


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk, checking the signature, the lengths and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        out.append((kind, body))
        pos += 12 + length
    assert pos == len(data) and out[0][0] == b"IHDR" and out[-1] == (b"IEND", b"")
    return out


def _filters_and_rows(data: bytes) -> tuple[list[int], np.ndarray]:
    """Each row's filter type and the decoded samples [height, width, channels] (uint8 or uint16)."""
    chunks = _chunks(data)
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (compression, filtering, interlace) == (0, 0, 0)
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    bpp = channels * depth // 8
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + width * bpp
    assert len(raw) == height * stride
    previous = [0] * (width * bpp)
    kinds, rows = [], []
    for y in range(height):
        kind, line = raw[y * stride], list(raw[y * stride + 1:(y + 1) * stride])
        for i, value in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            p = a + b - c
            paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
            predicted = [0, a, b, (a + b) // 2, paeth][kind]
            line[i] = (value + predicted) & 0xFF
        kinds.append(kind)
        rows.append(line)
        previous = line
    samples = np.array(rows, dtype=np.uint8).reshape(height, width * bpp)
    if depth == 16:
        samples = samples.view(">u2").astype(np.uint16)
    return kinds, samples.reshape(height, width, channels)


@pytest.mark.parametrize("key", sorted(TF_PIXELS))
@pytest.mark.parametrize("level", [-1, 0, 9])
def test_encode_writes_tensorflows_bytes(key, level):
    assert png.encode(TF_PIXELS[key], level) == RECORDED[f"png_bytes_{key}_{level}"].tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (12, 17)])
def test_decodes_back_to_the_samples_with_the_header_of_their_layout(dtype, channels, shape):
    pixels = np.random.RandomState(channels).randint(0, np.iinfo(dtype).max + 1, shape + (channels,)).astype(dtype)
    data = png.encode(pixels)
    width, height, depth, colour = struct.unpack(">IIBB", _chunks(data)[0][1][:10])
    assert (height, width, depth, colour) == (*shape, 8 * np.dtype(dtype).itemsize, png.COLOUR_TYPES[channels])
    np.testing.assert_array_equal(_filters_and_rows(data)[1], pixels)


def test_rows_take_the_filter_with_the_smallest_signed_sum():
    # Rows rising by 5 a pixel, each row 7 above the one before: Sub leaves 5s and the row's first value, Average
    # 6s, Up 7s. Paeth predicts from the left as Sub does but the first pixel from above (7): it wins once the first
    # value passes 7, and ties with Sub (the lower number wins) on row 1.
    ramp = (np.arange(32)[None, :, None] * 5 + np.arange(6)[:, None, None] * 7).astype(np.uint8)
    assert _filters_and_rows(png.encode(ramp))[0] == [1, 1, 4, 4, 4, 4]
    rows = np.random.RandomState(0).randint(0, 256, (1, 32, 1))
    repeated = np.repeat(rows, 5, axis=0).astype(np.uint8)  # noise, every row the one above it
    assert _filters_and_rows(png.encode(repeated))[0][1:] == [2] * 4  # Up
    flat = np.full((4, 8, 3), 200, np.uint8)
    assert _filters_and_rows(png.encode(flat))[0] == [1, 2, 2, 2]  # ties go to the lower filter number


def test_filters_that_read_outside_a_single_row_or_column_are_not_used():
    column = (60 + np.arange(10) * 10).astype(np.uint8).reshape(10, 1, 1)  # a top-to-bottom ramp one pixel wide
    kinds = _filters_and_rows(png.encode(column))[0]
    assert set(kinds) <= {0, 2} and kinds[1:] == [2] * 9
    row = np.random.RandomState(1).randint(0, 256, (1, 40, 3)).astype(np.uint8)
    assert _filters_and_rows(png.encode(row))[0][0] in (0, 1)


def test_the_zlib_window_shrinks_to_the_image_and_stays_valid():
    # zlib is asked for the smallest window of at least data + 262 bytes; libpng then writes into the header the
    # smallest one covering the data alone, unless the data is larger than the window zlib used (40x40x4)
    for shape, window in [((1, 1, 1), 8), ((16, 16, 3), 10), ((40, 40, 4), 13), ((80, 80, 4), 15)]:
        data = png.encode(np.zeros(shape, np.uint8))
        stream = b"".join(body for kind, body in _chunks(data) if kind == b"IDAT")
        cmf, flg = stream[0], stream[1]
        assert cmf & 0x0F == 8 and ((cmf << 8) | flg) % 31 == 0
        assert (cmf >> 4) + 8 == window
        assert zlib.decompress(stream) == bytes(shape[0] * (1 + shape[1] * shape[2]))


def test_large_images_are_split_into_idat_chunks_of_8192_bytes():
    noise = np.random.RandomState(2).randint(0, 256, (64, 64, 4)).astype(np.uint8)
    sizes = [len(body) for kind, body in _chunks(png.encode(noise)) if kind == b"IDAT"]
    assert len(sizes) > 2 and set(sizes[:-1]) == {png.IDAT_CHUNK} and 0 < sizes[-1] <= png.IDAT_CHUNK


def test_compression_minus_one_is_zlibs_level_six_and_zero_stores():
    image = TF_PIXELS["smooth_u8_3"]
    assert png.encode(image, -1) == png.encode(image, 6) == png.encode(image)
    assert len(png.encode(image, 0)) > len(png.encode(image, 9))
    np.testing.assert_array_equal(_filters_and_rows(png.encode(image, 0))[1], image)


def test_what_png_cannot_hold_is_refused():
    with pytest.raises(TypeError, match="uint8 or uint16"):
        png.encode(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(TypeError, match="uint8 or uint16"):
        png.encode(np.zeros((2, 2, 3), np.int16))
    with pytest.raises(ValueError, match="1 to 4 channels"):
        png.encode(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="1 to 4 channels"):
        png.encode(np.zeros((2, 2, 5), np.uint8))
    for level in (-2, 10):
        with pytest.raises(ValueError, match=r"\[-1, 9\]"):
            png.encode(np.zeros((2, 2, 1), np.uint8), level)
