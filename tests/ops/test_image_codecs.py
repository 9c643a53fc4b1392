"""The image codecs against TensorFlow's recorded files and decodings (tools/tf_fixtures/gen_image.py): PNG
written byte for byte as TF writes it and read back exactly (8 and 16 bits, 1 to 4 channels, channel
conversions), JPEG encoded as TF encodes it and decoded as libjpeg-turbo decodes it, GIF, BMP, decode_image,
and TF's errors."""

from __future__ import annotations

import importlib.util
import os
import struct
import zlib

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import png
from tfmini.ops import image_codec_ops

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tf", "image")
_spec = importlib.util.spec_from_file_location("gen_image_codecs", os.path.join(ROOT, "tools", "tf_fixtures",
                                                                                "gen_image.py"))
gen_image = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_image)

RECORDED = np.load(os.path.join(FIXTURES, "cases.npz"))
PNG_PIXELS = gen_image._png_pixels()


def _file(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def _run(fetches, feed_dict=None):
    with tf.Graph().as_default() if callable(fetches) else _nullcontext():
        built = fetches() if callable(fetches) else fetches
        with tf.Session() as sess:
            return sess.run(built, feed_dict)


class _nullcontext:  # noqa: N801 - used as a context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ----------------------------------------------------------------------------------------------------------
# PNG
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(PNG_PIXELS))
@pytest.mark.parametrize("level", [-1, 0, 9])
def test_encode_png_writes_tensorflows_bytes(key, level):
    data = _run(lambda: tf.image.encode_png(tf.constant(PNG_PIXELS[key]), compression=level))
    assert data == RECORDED[f"png_bytes_{key}_{level}"].tobytes()


@pytest.mark.parametrize("key", sorted(PNG_PIXELS))
@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_png_round_trips_exactly(key, dtype):
    pixels = PNG_PIXELS[key]
    if (pixels.dtype == np.uint16) != (dtype == "uint16"):
        return
    with tf.Graph().as_default():
        x = tf.placeholder(getattr(tf, dtype), [None, None, pixels.shape[2]])
        back = tf.io.decode_png(tf.io.encode_png(x), dtype=getattr(tf, dtype))
        assert back.shape.as_list() == [None, None, None]
        np.testing.assert_array_equal(_run(back, {x: pixels}), pixels)


@pytest.mark.parametrize("key", sorted(k for k in PNG_PIXELS if not k.startswith("smooth")))
@pytest.mark.parametrize("channels", [0, 1, 3, 4])
@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_decode_png_converts_channels_and_depth_as_tensorflow(key, channels, dtype):
    png = RECORDED[f"png_bytes_{key}_-1"].tobytes()
    got = _run(lambda: tf.image.decode_png(png, channels=channels, dtype=getattr(tf, dtype)))
    want = RECORDED[f"png_decode_{key}_{channels}_{dtype}"]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["palette.png", "bilevel.png"])
@pytest.mark.parametrize("channels", [0, 1, 3, 4])
def test_decode_palette_and_bilevel_png(name, channels):
    got = _run(lambda: tf.image.decode_png(_file(name), channels=channels))
    np.testing.assert_array_equal(got, RECORDED[f"png_file_{name}_{channels}"])


def _png_with_filters(image: np.ndarray) -> bytes:
    """A 16-bit PNG whose row y uses filter y % 5 (None, Sub, Up, Average, Paeth)."""
    height, width, depth = image.shape
    raw = image.astype(">u2").view(np.uint8).reshape(height, -1).astype(np.int64)
    bpp = 2 * depth
    left = np.zeros_like(raw)
    left[:, bpp:] = raw[:, :-bpp]
    up = np.zeros_like(raw)
    up[1:] = raw[:-1]
    up_left = np.zeros_like(raw)
    up_left[1:, bpp:] = raw[:-1, :-bpp]
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    filtered = np.stack([raw, raw - left, raw - up, raw - (left + up) // 2, raw - paeth]) & 0xFF
    kinds = np.arange(height) % 5
    rows = np.concatenate([kinds[:, None], filtered[kinds, np.arange(height)]], axis=1).astype(np.uint8)
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[depth]
    chunk = png.chunk
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))


def _interlaced_png(image: np.ndarray) -> bytes:
    """A 16-bit Adam7-interlaced PNG (no filtering)."""
    height, width, depth = image.shape
    rows = []
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        sub = image[y0::dy, x0::dx]
        if sub.size:
            lanes = sub.astype(">u2").view(np.uint8).reshape(sub.shape[0], -1)
            rows.append(np.concatenate([np.zeros((sub.shape[0], 1), np.uint8), lanes], axis=1).tobytes())
    chunk = png.chunk
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[depth]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour, 0, 0, 1))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("shape", [(11, 7, 3), (1, 1, 4), (2, 9, 2), (16, 16, 3)])
def test_decode_interlaced_16_bit_colour_png(shape):
    image = np.random.RandomState(sum(shape)).randint(0, 65536, shape).astype(np.uint16)
    np.testing.assert_array_equal(_run(lambda: tf.io.decode_png(_interlaced_png(image), dtype=tf.uint16)), image)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_decode_16_bit_colour_png_with_every_filter_type(depth):
    image = np.random.RandomState(depth).randint(0, 65536, (11, 7, depth)).astype(np.uint16)
    got = _run(lambda: tf.io.decode_png(_png_with_filters(image), dtype=tf.uint16))
    np.testing.assert_array_equal(got, image)


# ----------------------------------------------------------------------------------------------------------
# JPEG
# ----------------------------------------------------------------------------------------------------------
JPEG = _file("smooth.jpg")


def test_encode_jpeg_writes_tensorflows_bytes():
    assert _run(lambda: tf.image.encode_jpeg(tf.constant(RECORDED["smooth_rgb"]), quality=90)) == JPEG


@pytest.mark.parametrize("channels", [0, 1, 3])
def test_decode_jpeg_accurate_dct_matches_tensorflow_exactly(channels):
    got = _run(lambda: tf.image.decode_jpeg(JPEG, channels=channels, dct_method="INTEGER_ACCURATE"))
    np.testing.assert_array_equal(got, RECORDED[f"jpeg_decode_{channels}_INTEGER_ACCURATE"])


@pytest.mark.parametrize("channels", [0, 1, 3])
@pytest.mark.parametrize("dct", ["", "INTEGER_FAST"])
def test_decode_jpeg_fast_dct_is_within_three_levels(channels, dct):
    # TF's default is libjpeg's fast integer IDCT; Pillow decodes with the accurate one
    got = _run(lambda: tf.image.decode_jpeg(JPEG, channels=channels, dct_method=dct)).astype(int)
    want = RECORDED[f"jpeg_decode_{channels}_{dct}"].astype(int)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 3 and np.abs(got - want).mean() < 1.5


@pytest.mark.parametrize("ratio", [2, 4])
def test_decode_jpeg_ratio_matches_tensorflow(ratio):
    got = _run(lambda: tf.image.decode_jpeg(JPEG, ratio=ratio, dct_method="INTEGER_ACCURATE"))
    np.testing.assert_array_equal(got, RECORDED[f"jpeg_decode_ratio_{ratio}"])


def test_decode_and_crop_jpeg_matches_tensorflow_but_at_the_right_edge():
    crop = _run(lambda: tf.image.decode_and_crop_jpeg(JPEG, [2, 3, 9, 11], dct_method="INTEGER_ACCURATE"))
    want = RECORDED["jpeg_decode_and_crop"]
    # libjpeg-turbo's cropped decoding upsamples chroma as if the window's right edge were the image's
    np.testing.assert_array_equal(crop[:, :-1], want[:, :-1])
    assert np.abs(crop[:, -1].astype(int) - want[:, -1]).max() <= 4


def test_truncated_jpeg_recovers_as_tensorflow_does_but_in_the_last_row_of_blocks():
    data = _file("truncated.jpg")
    with tf.Graph().as_default():
        strict = tf.image.decode_jpeg(data)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
            _run(strict)
    got = _run(lambda: tf.image.decode_jpeg(data, try_recover_truncated=True, dct_method="INTEGER_ACCURATE"))
    want = RECORDED["jpeg_truncated_recovered"]
    rows_equal = np.all(got == want, axis=(1, 2))
    assert got.shape == want.shape == (64, 80, 3)
    assert rows_equal[:24].all() and rows_equal[-8:].all() and rows_equal.mean() > 0.6
    assert (got[-1] == 128).all()


def test_jpeg_shape_ratio_crop_and_is_jpeg():
    np.testing.assert_array_equal(_run(lambda: tf.image.extract_jpeg_shape(JPEG)), RECORDED["jpeg_shape"])
    assert _run(lambda: tf.io.extract_jpeg_shape(JPEG, output_type=tf.int64)).dtype == np.int64
    assert _run(lambda: tf.image.decode_jpeg(JPEG, ratio=2)).shape == (8, 10, 3)
    full = _run(lambda: tf.image.decode_jpeg(JPEG, dct_method="INTEGER_ACCURATE"))
    crop = _run(lambda: tf.image.decode_and_crop_jpeg(JPEG, [2, 3, 5, 7], dct_method="INTEGER_ACCURATE"))
    np.testing.assert_array_equal(crop, full[2:7, 3:10])
    assert _run(lambda: [tf.image.is_jpeg(JPEG), tf.image.is_jpeg(_file("palette.png"))]) == [True, False]


def test_adjust_jpeg_quality_matches_tensorflow_within_jpeg_tolerance():
    image = RECORDED["smooth_rgb"].astype(np.float32) / 255
    got = _run(lambda: tf.image.adjust_jpeg_quality(tf.constant(image), 30))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, RECORDED["adjust_jpeg_quality_30"], atol=3.5 / 255)
    with tf.Graph().as_default():
        quality = tf.placeholder(tf.int32, [])
        out = tf.image.adjust_jpeg_quality(tf.constant(image), quality)
        np.testing.assert_allclose(_run(out, {quality: 30}), got)
        with pytest.raises(ValueError, match="less than"):
            tf.image.random_jpeg_quality(image, 50, 50)
        with pytest.raises(ValueError, match="\\[0,100\\]"):
            tf.image.random_jpeg_quality(image, 50, 150)
        tf.set_random_seed(3)
        assert _run(tf.image.random_jpeg_quality(tf.constant(image), 20, 80)).shape == image.shape


def test_encode_jpeg_options():
    gray = (np.arange(64, dtype=np.uint8).reshape(8, 8, 1) * 4)
    with tf.Graph().as_default():
        data = _run([tf.image.encode_jpeg(gray), tf.image.encode_jpeg(gray, density_unit="cm", x_density=72,
                                                                         y_density=96, progressive=True)])
    assert data[0][13:18] == bytes([1, 1, 44, 1, 44])  # JFIF density: dots per inch, 300 x 300
    assert data[1][13:18] == bytes([2, 0, 72, 0, 96])
    back = _run(lambda: tf.image.decode_jpeg(data[1]))
    assert back.shape == (8, 8, 1) and np.abs(back.astype(int) - gray).max() <= 3
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="3 channels for format 'rgb'"):
            _run(tf.image.encode_jpeg(gray, format="rgb"))


# ----------------------------------------------------------------------------------------------------------
# GIF, BMP, decode_image
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["anim.gif", "partial.gif", "gray_palette.gif"])
def test_decode_gif_matches_tensorflow(name):
    # partial.gif: frames smaller than the screen with transparent pixels (drawn over the previous frame);
    # gray_palette.gif: an interlaced image with a gray palette that is not the identity ramp
    got = _run(lambda: tf.io.decode_gif(_file(name)))
    np.testing.assert_array_equal(got, RECORDED[f"gif_decode_{name}"])


def test_decode_bmp_matches_tensorflow():
    np.testing.assert_array_equal(_run(lambda: tf.io.decode_bmp(_file("rgb.bmp"))), RECORDED["bmp_decode"])
    np.testing.assert_array_equal(_run(lambda: tf.io.decode_bmp(_file("rgb.bmp"), channels=4)),
                                  RECORDED["bmp_decode_4"])


@pytest.mark.parametrize("name, dtypes", [("anim.gif", ["uint8"]), ("rgb.bmp", ["uint8", "uint16", "float32"]),
                                          ("palette.png", ["uint8", "uint16", "float32"])])
def test_decode_image_matches_tensorflow(name, dtypes):
    for dtype in dtypes:
        got = _run(lambda dtype=dtype: tf.io.decode_image(_file(name), dtype=getattr(tf, dtype)))
        want = RECORDED[f"decode_image_{name}_{dtype}"]
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-7)


def test_decode_image_shapes_and_conversions():
    with tf.Graph().as_default():
        assert tf.io.decode_image(b"x").shape.ndims is None
        still = tf.io.decode_image(_file("anim.gif"), expand_animations=False)
        assert still.shape.as_list() == [None, None, None]
        assert _run(still).shape == (16, 20, 3)
        wide = tf.image.decode_image(_file("rgb.bmp"), dtype=tf.float64)
        assert wide.dtype == tf.float64
        np.testing.assert_allclose(_run(wide), RECORDED["bmp_decode"] / 255.0)
        with pytest.raises(ValueError, match="channels must be in"):
            tf.io.decode_image(b"x", channels=2)


def test_codec_errors_are_invalid_argument_and_session_stays_usable():
    with tf.Graph().as_default():
        contents = tf.placeholder(tf.string)
        png = tf.io.decode_png(contents)
        jpeg = tf.io.decode_jpeg(contents)
        image = tf.io.decode_image(contents)
        gif = tf.io.decode_image(contents, channels=1)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid PNG data"):
                sess.run(png, {contents: b"not a png"})
            with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
                sess.run(jpeg, {contents: JPEG[:2] + b"garbage"})
            with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
                sess.run(image, {contents: b"????"})
            with pytest.raises(tf.errors.InvalidArgumentError, match="\\(None, 0, 3\\) when decoding GIF"):
                sess.run(gif, {contents: _file("anim.gif")})
            for cut in (10, 30, 200, len(_file("anim.gif")) - 5):
                with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid GIF data"):
                    sess.run(image, {contents: _file("anim.gif")[:cut]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="contents must be scalar"):
                sess.run(png, {contents: [b"a", b"b"]})
            assert sess.run(png, {contents: _file("palette.png")}).shape == (16, 20, 3)
        with pytest.raises(ValueError, match="rank 0"):
            tf.io.decode_png(["a", "b"])
        with pytest.raises(ValueError, match="rank 0"):
            tf.io.decode_gif(["a"])
        with pytest.raises(ValueError, match="rank 3"):
            tf.io.encode_png(tf.zeros([2, 2], tf.uint8))
        with pytest.raises(ValueError, match="rank 3"):
            tf.io.encode_jpeg(tf.zeros([1, 2, 2, 3], tf.uint8))
        with pytest.raises(TypeError):
            tf.io.encode_png(tf.zeros([2, 2, 1]))
        bad = tf.io.encode_png(tf.zeros([2, 2, 5], tf.uint8))
        with pytest.raises(tf.errors.InvalidArgumentError, match="1, 2, 3, or 4 channels"):
            _run(bad)


def test_codecs_without_pillow_raise_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setattr(image_codec_ops, "_PILImage", None)
    with tf.Graph().as_default():
        for build in (lambda: tf.io.decode_png(b""), lambda: tf.io.decode_jpeg(b""),
                      lambda: tf.io.decode_image(b""), lambda: tf.io.encode_jpeg(tf.zeros([1, 1, 3], tf.uint8))):
            with pytest.raises(ImportError, match="pip install tfmini\\[image\\]"):
                build()
        # PNG encoding needs no Pillow
        assert tf.io.encode_png(tf.zeros([1, 1, 3], tf.uint8)).dtype == tf.string
