"""The image codecs of tf.image and tf.io: DecodePng, DecodeJpeg, DecodeAndCropJpeg, DecodeGif, DecodeBmp,
DecodeImage, EncodePng, EncodeJpeg, EncodeJpegVariableQuality and ExtractJpegShape, and adjust_jpeg_quality.

PNG is written by `framework/png.py`, as TensorFlow's libpng writes it, and read with Pillow, except 16-bit colour
PNGs, which Pillow reads only at 8 bits and this module unfilters itself. JPEG and BMP go through Pillow
(libjpeg-turbo for JPEG, as in TensorFlow); GIF frames are parsed here, decoded one by one with Pillow and drawn on
the screen as TensorFlow draws them. Pillow is optional (`pip install tfmini[image]`): without it, building a
decode op other than a PNG encode raises ImportError.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import png
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import image_colour_ops, math_ops, random_ops, string_ops

try:  # optional dependency: the codec ops that need it say so when they are built
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - the tests simulate its absence by clearing _PILImage
    _PILImage = None

_PILLOW_HINT = "pip install tfmini[image]"


def _require_pillow(what: str) -> None:
    if _PILImage is None:
        raise ImportError(f"{what} needs Pillow, which is not installed: {_PILLOW_HINT}")


def _invalid(message: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, message)


def _contents(contents: np.ndarray) -> bytes:
    if np.ndim(contents) != 0:
        raise _invalid(f"contents must be scalar, got shape {list(np.shape(contents))}")
    value = contents.item() if isinstance(contents, np.ndarray) else contents
    return value if isinstance(value, bytes) else bytes(value)


def _string_scalar(data: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def _open(data: bytes, kind: str):
    """The Pillow image of `data`, or TF's InvalidArgumentError for data Pillow cannot read."""
    try:
        image = _PILImage.open(io.BytesIO(data))
        image.load()
        return image
    except Exception as e:  # noqa: BLE001 - any decoder failure is invalid input
        raise _invalid(f"Invalid {kind} data, size {len(data)}: {e}") from None


# ----------------------------------------------------------------------------------------------------------
# Channel and bit-depth conversions as libpng/libjpeg apply them in TF's decoders
# ----------------------------------------------------------------------------------------------------------
# libpng's rgb_to_gray with TF's weights 0.299 and 0.587, in 1/32768 fixed point.
_GRAY_WEIGHTS = np.array([9797, 19234, 32768 - 9797 - 19234], dtype=np.int64)


def _to_gray(rgb: np.ndarray) -> np.ndarray:
    """Gray from RGB: truncated for 8-bit samples, rounded for 16-bit ones (libpng's rules)."""
    total = rgb.astype(np.int64) @ _GRAY_WEIGHTS
    if rgb.dtype == np.uint16:
        total = total + 16384
    gray = (total >> 15).astype(rgb.dtype)
    same = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 0] == rgb[..., 2])
    return np.where(same, rgb[..., 0], gray)


def _set_channels(pixels: np.ndarray, channels: int, opaque: int | None = None) -> np.ndarray:
    """[h, w, native] pixels as `channels` (0: unchanged): colour to gray drops alpha, gray is repeated for
    colour, and a missing alpha channel is `opaque` (by default the dtype's largest value)."""
    native = pixels.shape[-1]
    if channels in (0, native):
        return pixels
    if opaque is None:
        opaque = np.iinfo(pixels.dtype).max
    colour = pixels[..., :3] if native >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
    alpha = pixels[..., -1:] if native in (2, 4) else np.full(pixels.shape[:-1] + (1,), opaque, pixels.dtype)
    if channels == 1:
        return pixels[..., :1] if native <= 2 else _to_gray(colour)[..., None]
    if channels == 2:
        gray = pixels[..., :1] if native <= 2 else _to_gray(colour)[..., None]
        return np.concatenate([gray, alpha], axis=-1)
    if channels == 3:
        return colour
    return np.concatenate([colour, alpha], axis=-1)


def _set_depth(pixels: np.ndarray, dtype) -> np.ndarray:
    """8-bit samples widened by 257 (so 255 becomes 65535), 16-bit ones narrowed by dropping the low byte."""
    if pixels.dtype == dtype:
        return pixels
    if dtype == np.uint16:
        return pixels.astype(np.uint16) * np.uint16(257)
    return (pixels >> 8).astype(np.uint8)


def _pillow_pixels(image) -> np.ndarray:
    """A Pillow image as [h, w, channels] uint8 or uint16 samples at its own channel count (palettes expanded,
    transparency made an alpha channel, 1/2/4-bit gray scaled to 8 bits)."""
    mode = image.mode
    transparent = "transparency" in image.info
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.uint16)[..., None]
    if mode == "I":
        return np.asarray(image).astype(np.uint16)[..., None]
    if mode == "P":
        image = image.convert("RGBA" if transparent or "A" in image.palette.mode else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode in ("1", "L") and transparent:
        image = image.convert("LA")
    elif mode in ("1",):
        image = image.convert("L")
    elif mode == "RGB" and transparent:
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., None] if pixels.ndim == 2 else pixels


# ----------------------------------------------------------------------------------------------------------
# PNG
# ----------------------------------------------------------------------------------------------------------
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # colour type -> samples per pixel


def _png_header(data: bytes) -> tuple[int, int, int, int, int]:
    """(width, height, bit depth, colour type, interlace) from the IHDR chunk."""
    if len(data) < 33 or not data.startswith(png.SIGNATURE) or data[12:16] != b"IHDR":
        raise _invalid(f"Invalid PNG data, size {len(data)}")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return width, height, depth, colour, interlace


def _png_idat(data: bytes) -> bytes:
    chunks, pos = [], 8
    while pos + 8 <= len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        if kind == b"IEND":
            break
        pos += 12 + length
    return b"".join(chunks)


def _unfilter(raw: bytes, height: int, row_bytes: int, bpp: int) -> np.ndarray:
    """Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth) on 8-bit lanes.

    A pixel's bytes depend on the decoded pixels to its left, above and above-left, so the pixels of one
    anti-diagonal (y + x constant) are independent: the image is decoded one diagonal at a time, each pixel
    with its row's filter.
    """
    stride = row_bytes + 1
    if len(raw) < height * stride:
        raise _invalid("Invalid PNG data: the image data is truncated")
    rows = np.frombuffer(raw, dtype=np.uint8, count=height * stride).reshape(height, stride)
    kinds = rows[:, 0].astype(np.int64)
    if np.any(kinds > 4):
        raise _invalid(f"Invalid PNG data: unknown filter type {int(kinds.max())}")
    width = row_bytes // bpp
    filtered = rows[:, 1:].reshape(height, width, bpp).astype(np.int16)
    # one zero row above and one zero pixel to the left stand for the image's outside
    out = np.zeros((height + 1, width + 1, bpp), dtype=np.int16)
    for d in range(height + width - 1):
        ys = np.arange(max(0, d - width + 1), min(height, d + 1))
        xs = d - ys
        a, b, c = out[ys + 1, xs], out[ys, xs + 1], out[ys, xs]
        estimate = a + b - c
        pa, pb, pc = np.abs(estimate - a), np.abs(estimate - b), np.abs(estimate - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        kind = kinds[ys][:, None]
        predicted = np.select([kind == 1, kind == 2, kind == 3, kind == 4], [a, b, (a + b) >> 1, paeth], 0)
        out[ys + 1, xs + 1] = (filtered[ys, xs] + predicted) & 0xFF
    return out[1:, 1:].astype(np.uint8).reshape(height, row_bytes)


# Adam7 interlacing: the (first column, first row, column step, row step) of each of the seven passes.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _decode_png_16bit_colour(data: bytes, width: int, height: int, samples: int, interlaced: bool) -> np.ndarray:
    try:
        raw = zlib.decompress(_png_idat(data))
    except zlib.error:
        raise _invalid(f"Invalid PNG data, size {len(data)}") from None
    bpp = samples * 2

    def image(raw: bytes, w: int, h: int) -> np.ndarray:
        return _unfilter(raw, h, w * bpp, bpp).view(">u2").astype(np.uint16).reshape(h, w, samples)

    if not interlaced:
        return image(raw, width, height)
    out = np.zeros((height, width, samples), dtype=np.uint16)
    pos = 0
    for x0, y0, dx, dy in _ADAM7:
        w, h = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if w <= 0 or h <= 0:
            continue
        size = h * (1 + w * bpp)
        out[y0::dy, x0::dx] = image(raw[pos:pos + size], w, h)
        pos += size
    return out


def _png_pixels(data: bytes, channels: int) -> np.ndarray:
    """A PNG's samples with `channels` channels (0: its own), at 8 or 16 bits as stored."""
    width, height, depth, colour, interlace = _png_header(data)
    if depth == 16 and colour in (2, 4, 6):
        pixels = _decode_png_16bit_colour(data, width, height, _PNG_CHANNELS[colour], bool(interlace))
    else:
        pixels = _pillow_pixels(_open(data, "PNG"))
    # libpng fills an added alpha channel with the file's largest sample value: 1 for a 1-bit image
    return _set_channels(pixels, channels, opaque=(1 << depth) - 1 if depth < 8 else None)


def _decode_shape(op):
    _require_pillow(f"the {op.type} op")
    op.inputs[0].shape.with_rank(0)
    channels = op.get_attr("channels")
    return [None, None, channels or None]


def _encoded_shape(op, needs_pillow: bool = True):
    """An encoder's output, a scalar string, from a [height, width, channels] image."""
    if needs_pillow:
        _require_pillow(f"the {op.type} op")
    op.inputs[0].shape.with_rank(3)
    return _shape.scalar()


def _decode_gif_shape(op):
    _require_pillow("the DecodeGif op")
    op.inputs[0].shape.with_rank(0)
    return [None, None, None, 3]


def _check_channels(channels: int, allowed=(0, 1, 3, 4)) -> None:
    if channels not in allowed:
        raise _invalid(f"channels must be {', '.join(map(str, allowed[:-1]))} or {allowed[-1]}, got {channels}")


@register_op("DecodePng", inputs=["contents: string"], outputs=["image: dtype"],
             attrs={"channels": ("int", 0), "dtype": ("type", _dt.uint8)}, allowed={"dtype": (_dt.uint8, _dt.uint16)},
             shape=_decode_shape)
def _decode_png(contents, *, channels, dtype):
    """A PNG as [height, width, channels] uint8 or uint16 samples."""
    _check_channels(channels)
    return _set_depth(_png_pixels(_contents(contents), channels), np.dtype(dtype.as_numpy_dtype))


@register_op("EncodePng", inputs=["image: T"], outputs=["contents: string"],
             attrs={"compression": ("int", -1), "T": ("type", _dt.uint8)}, allowed={"T": (_dt.uint8, _dt.uint16)},
             shape=lambda op: _encoded_shape(op, needs_pillow=False))
def _encode_png(image, *, compression):
    """A [height, width, channels] image (1 to 4 channels) as PNG bytes; compression -1 (zlib's default) to 9."""
    if image.ndim != 3:
        raise _invalid(f"image must be 3-dimensional{list(image.shape)}")
    if not 1 <= image.shape[2] <= 4:
        raise _invalid(f"image must have 1, 2, 3, or 4 channels, got {image.shape[2]}")
    if not -1 <= compression <= 9:
        raise _invalid(f"compression should be in [-1,9], got {compression}")
    if image.shape[0] * image.shape[1] == 0:
        raise _invalid(f"Invalid image of shape {list(image.shape)}: height and width must be positive")
    return _string_scalar(png.encode(image, compression))


# ----------------------------------------------------------------------------------------------------------
# JPEG
# ----------------------------------------------------------------------------------------------------------
_JPEG_ATTRS = {"channels": ("int", 0), "ratio": ("int", 1), "fancy_upscaling": ("bool", True),
               "try_recover_truncated": ("bool", False), "acceptable_fraction": ("float", 1.0),
               "dct_method": ("string", "")}


def _open_jpeg(data: bytes, channels: int, ratio: int):
    """The decoded Pillow image and the channel count wanted (the file's own for `channels` 0)."""
    image = _PILImage.open(io.BytesIO(data))
    if image.format != "JPEG":
        raise ValueError("not a JPEG")
    want = channels or (1 if image.mode == "L" else 3)
    width, height = image.size
    image.draft("L" if want == 1 else "RGB", (-(-width // ratio), -(-height // ratio)))
    image.load()
    return image, want


def _jpeg_pixels(data: bytes, channels: int, ratio: int, try_recover_truncated: bool) -> np.ndarray:
    """libjpeg-turbo's decoding (through Pillow): gray output is the luma plane, as TF asks libjpeg for it.
    A truncated file is decoded with `try_recover_truncated` as libjpeg decodes a premature end: the missing
    blocks are gray."""
    _check_channels(channels)
    if ratio not in (1, 2, 4, 8):
        raise _invalid(f"ratio must be 1, 2, 4, or 8, got {ratio}")
    if not data.startswith(b"\xff\xd8"):
        raise _invalid(f"Invalid JPEG data or crop window, data size {len(data)}")
    try:
        image, want = _open_jpeg(data, channels, ratio)
    except Exception as e:  # noqa: BLE001 - any decoder failure is invalid input
        failure = e
        image = None
        if try_recover_truncated and not data.endswith(b"\xff\xd9"):
            try:  # an end-of-image marker where the data stops makes libjpeg finish the image
                image, want = _open_jpeg(data + b"\xff\xd9", channels, ratio)
            except Exception as again:  # noqa: BLE001 - still invalid input
                failure = again
        if image is None:
            raise _invalid(f"Invalid JPEG data or crop window, data size {len(data)}: {failure}") from None
    if image.mode not in ("L", "RGB"):
        image = image.convert("L" if want == 1 else "RGB")
    pixels = np.asarray(image, dtype=np.uint8)
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    if want == 1 and pixels.shape[-1] != 1:
        pixels = np.asarray(image.convert("L"), dtype=np.uint8)[..., None]
    return _set_channels(pixels, want)


def _check_dct(dct_method: str) -> None:
    if dct_method not in ("", "INTEGER_FAST", "INTEGER_ACCURATE"):
        raise _invalid(f"The value of 'dct_method' must be one of '', 'INTEGER_FAST', 'INTEGER_ACCURATE', "
                       f"got '{dct_method}'")


@register_op("DecodeJpeg", inputs=["contents: string"], outputs=["image: uint8"], attrs=dict(_JPEG_ATTRS),
             shape=_decode_shape)
def _decode_jpeg(contents, *, channels, ratio, try_recover_truncated, dct_method):
    """A JPEG as [height / ratio, width / ratio, channels] uint8 samples."""
    _check_dct(dct_method)
    return _jpeg_pixels(_contents(contents), channels, ratio, try_recover_truncated)


def _crop_jpeg_shape(op):
    _require_pillow(f"the {op.type} op")
    op.inputs[0].shape.with_rank(0)
    op.inputs[1].shape.with_rank(1)
    return [None, None, op.get_attr("channels") or None]


@register_op("DecodeAndCropJpeg", inputs=["contents: string", "crop_window: int32"], outputs=["image: uint8"],
             attrs=dict(_JPEG_ATTRS), shape=_crop_jpeg_shape)
def _decode_and_crop_jpeg(contents, crop_window, *, channels, ratio, try_recover_truncated, dct_method):
    """The [y, x, height, width] window of a decoded JPEG."""
    _check_dct(dct_method)
    if np.shape(crop_window) != (4,):
        raise _invalid(f"crop_window must be shape [4], got {list(np.shape(crop_window))}")
    data = _contents(contents)
    pixels = _jpeg_pixels(data, channels, ratio, try_recover_truncated)
    y, x, h, w = (int(v) for v in crop_window)
    if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > pixels.shape[0] or x + w > pixels.shape[1]:
        raise _invalid(f"Invalid JPEG data or crop window, data size {len(data)}")
    return np.ascontiguousarray(pixels[y:y + h, x:x + w])


def _jpeg_bytes(image: np.ndarray, *, format: str, quality: int, progressive: bool,  # noqa: A002
                optimize_size: bool, chroma_downsampling: bool, density_unit: str, x_density: int, y_density: int,
                xmp_metadata: str) -> bytes:
    if image.ndim != 3:
        raise _invalid(f"image must be 3-dimensional{list(image.shape)}")
    channels = image.shape[2]
    wanted = {"": None, "grayscale": 1, "rgb": 3}.get(format, -1)
    if wanted == -1:
        raise _invalid(f"format must be '', 'grayscale' or 'rgb', got '{format}'")
    if wanted is None and channels not in (1, 3):
        raise _invalid(f"image must have 1 or 3 channels, got {list(image.shape)}")
    if wanted is not None and channels != wanted:
        raise _invalid(f"Image must have {wanted} channels for format '{format}', got {channels}")
    if not 0 <= quality <= 100:
        raise _invalid(f"quality must be in [0,100], got {quality}")
    if density_unit not in ("in", "cm"):
        raise _invalid(f"density_unit must be 'in' or 'cm', got '{density_unit}'")
    if image.shape[0] * image.shape[1] == 0:
        raise _invalid(f"Invalid image of shape {list(image.shape)}")
    picture = _PILImage.fromarray(image[..., 0] if channels == 1 else image, "L" if channels == 1 else "RGB")
    options = {"quality": max(int(quality), 1), "progressive": bool(progressive), "optimize": bool(optimize_size),
               "subsampling": 2 if chroma_downsampling else 0}
    if xmp_metadata:
        options["xmp"] = xmp_metadata.encode()
    buf = io.BytesIO()
    picture.save(buf, format="JPEG", **options)
    data = bytearray(buf.getvalue())
    # JFIF density: unit (1 dots per inch, 2 per cm) and the two densities, right after "JFIF\0" and the version
    at = data.find(b"JFIF\x00")
    if at >= 0:
        struct.pack_into(">BHH", data, at + 7, 1 if density_unit == "in" else 2, x_density, y_density)
    return bytes(data)


_ENCODE_JPEG_ATTRS = {"format": ("string", ""), "quality": ("int", 95), "progressive": ("bool", False),
                      "optimize_size": ("bool", False), "chroma_downsampling": ("bool", True),
                      "density_unit": ("string", "in"), "x_density": ("int", 300), "y_density": ("int", 300),
                      "xmp_metadata": ("string", "")}


def _encode_jpeg_factory(op, ctx):
    options = {name: op.get_attr(name) for name in _ENCODE_JPEG_ATTRS}
    options = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in options.items()}

    def kernel(image):
        return _string_scalar(_jpeg_bytes(image, **options))

    return kernel


register_op("EncodeJpeg", inputs=["image: uint8"], outputs=["contents: string"], attrs=dict(_ENCODE_JPEG_ATTRS),
            shape=_encoded_shape, factory=_encode_jpeg_factory,
            doc="A [height, width, 1 or 3] uint8 image as JPEG bytes.")


@register_op("EncodeJpegVariableQuality", inputs=["images: uint8", "quality: int32"], outputs=["contents: string"],
             shape=_encoded_shape)
def _encode_jpeg_variable_quality(images, quality):
    """EncodeJpeg with the quality as an input."""
    if np.ndim(quality) != 0:
        raise _invalid(f"quality must be scalar: {list(np.shape(quality))}")
    options = {name: default for name, (_, default) in _ENCODE_JPEG_ATTRS.items()}
    options["quality"] = int(quality)
    return _string_scalar(_jpeg_bytes(images, **options))


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_shape(data: bytes) -> tuple[int, int, int]:
    """(height, width, components) from the first start-of-frame segment."""
    if not data.startswith(b"\xff\xd8"):
        raise _invalid(f"Invalid JPEG data or crop window, data size {len(data)}")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF_MARKERS and pos + 10 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return height, width, data[pos + 9]
        pos += 2 + length
    raise _invalid(f"Invalid JPEG data or crop window, data size {len(data)}")


@register_op("ExtractJpegShape", inputs=["contents: string"], outputs=["image_shape: output_type"],
             attrs={"output_type": ("type", _dt.int32)}, allowed={"output_type": (_dt.int32, _dt.int64)},
             shape=lambda op: _shape.vector(3))
def _extract_jpeg_shape(contents, *, output_type):
    """[height, width, channels] of a JPEG, read from its header without decoding it."""
    return np.array(_jpeg_shape(_contents(contents)), dtype=output_type.as_numpy_dtype)


# ----------------------------------------------------------------------------------------------------------
# GIF and BMP
# ----------------------------------------------------------------------------------------------------------
class _GifFrame:
    """One image of a GIF: its place on the screen, colour table, transparent index and LZW-coded pixels."""

    def __init__(self, left: int, top: int, width: int, height: int, interlaced: bool, palette: bytes,
                 transparent: int | None, code_size: int, blocks: bytes):
        self.left, self.top, self.width, self.height = left, top, width, height
        self.interlaced, self.palette, self.transparent = interlaced, palette, transparent
        self.code_size, self.blocks = code_size, blocks

    def indices(self) -> np.ndarray:
        """The frame's colour indices, [height, width]: Pillow decodes the frame as a one-image GIF."""
        bits = max(len(self.palette) // 3, 2).bit_length() - 2
        header = b"GIF89a" + struct.pack("<HHBBB", self.width, self.height, 0x80 | bits, 0, 0)
        table = self.palette.ljust(3 << (bits + 1), b"\0")
        descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, self.width, self.height, 0x40 if self.interlaced else 0)
        image = _open(header + table + descriptor + bytes([self.code_size]) + self.blocks + b"\x3b", "GIF")
        if image.mode not in ("P", "L"):
            raise _invalid("Invalid GIF data: a frame did not decode to colour indices")
        return np.asarray(image, dtype=np.uint8)


def _gif_sub_blocks(data: bytes, pos: int) -> tuple[bytes, int]:
    """The data sub-blocks starting at `pos` (with their length bytes) and the position after them."""
    start = pos
    while True:
        if pos >= len(data):
            raise _invalid(f"Invalid GIF data (size {len(data)}): truncated")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return data[start:pos], pos


def _gif_parse(data: bytes) -> tuple[int, int, list[_GifFrame]]:
    """The logical screen size and the frames of a GIF, from its block structure."""
    if not data.startswith((b"GIF87a", b"GIF89a")) or len(data) < 13:
        raise _invalid(f"Invalid GIF data (size {len(data)}), not a GIF")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    pos = 13
    global_palette = b""
    if flags & 0x80:
        size = 3 << ((flags & 7) + 1)
        global_palette, pos = data[pos:pos + size], pos + size
    frames, transparent = [], None
    while pos < len(data) and data[pos] != 0x3B:
        kind = data[pos]
        if kind == 0x21:  # extension: a graphic control block sets the next image's transparent index
            label = data[pos + 1]
            if label == 0xF9 and pos + 7 <= len(data):
                transparent = data[pos + 6] if data[pos + 3] & 1 else None
            _, pos = _gif_sub_blocks(data, pos + 2)
        elif kind == 0x2C:
            if pos + 10 > len(data):
                raise _invalid(f"Invalid GIF data (size {len(data)}): truncated")
            left, top, w, h, image_flags = struct.unpack("<HHHHB", data[pos + 1:pos + 10])
            pos += 10
            palette = global_palette
            if image_flags & 0x80:
                size = 3 << ((image_flags & 7) + 1)
                palette, pos = data[pos:pos + size], pos + size
            if pos >= len(data):
                raise _invalid(f"Invalid GIF data (size {len(data)}): truncated")
            code_size = data[pos]
            blocks, pos = _gif_sub_blocks(data, pos + 1)
            frames.append(_GifFrame(left, top, w, h, bool(image_flags & 0x40), palette, transparent, code_size,
                                    blocks))
            transparent = None
        else:
            raise _invalid(f"Invalid GIF data (size {len(data)}): unknown block 0x{kind:02x}")
    if not frames:
        raise _invalid(f"Invalid GIF data (size {len(data)}): no image in the file")
    return width, height, frames


def _gif_frames(data: bytes) -> np.ndarray:
    """Every frame of a GIF as [frames, height, width, 3] on the logical screen, as TensorFlow draws them:
    each frame starts from the previous one (the first from black), and its pixels that are not transparent
    replace those below; disposal methods are not applied."""
    width, height, frames = _gif_parse(data)
    out = np.zeros((len(frames), height, width, 3), dtype=np.uint8)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    for k, frame in enumerate(frames):
        indices = frame.indices()
        colours = np.frombuffer(frame.palette, dtype=np.uint8).reshape(-1, 3)
        if len(colours) == 0:
            raise _invalid(f"Invalid GIF data (size {len(data)}): a frame has no colour table")
        rows = slice(frame.top, min(frame.top + frame.height, height))
        cols = slice(frame.left, min(frame.left + frame.width, width))
        visible = indices[:rows.stop - rows.start, :cols.stop - cols.start]
        drawn = np.ones(visible.shape, dtype=bool) if frame.transparent is None else visible != frame.transparent
        region = canvas[rows, cols]
        region[drawn] = colours[np.minimum(visible[drawn], len(colours) - 1)]
        out[k] = canvas
    return out


@register_op("DecodeGif", inputs=["contents: string"], outputs=["image: uint8"],
             shape=_decode_gif_shape)
def _decode_gif(contents):
    """The frames of a (possibly animated) GIF as [num_frames, height, width, 3] uint8."""
    return _gif_frames(_contents(contents))


def _bmp_pixels(data: bytes, channels: int) -> np.ndarray:
    if not data.startswith(b"BM"):
        raise _invalid(f"Invalid BMP data, size {len(data)}: not a BMP")
    return _set_channels(_pillow_pixels(_open(data, "BMP")), channels)


@register_op("DecodeBmp", inputs=["contents: string"], outputs=["image: uint8"], attrs={"channels": ("int", 0)},
             shape=_decode_shape)
def _decode_bmp(contents, *, channels):
    """A BMP as [height, width, channels] uint8."""
    _check_channels(channels)
    return _bmp_pixels(_contents(contents), channels)


# ----------------------------------------------------------------------------------------------------------
# DecodeImage: any of the four formats, by their magic bytes
# ----------------------------------------------------------------------------------------------------------
def _decode_image_shape(op):
    _require_pillow(f"the {op.type} op")
    op.inputs[0].shape.with_rank(0)
    if op.get_attr("expand_animations"):
        return _shape.unknown_shape()
    return [None, None, op.get_attr("channels") or None]


@register_op("DecodeImage", inputs=["contents: string"], outputs=["image: dtype"],
             attrs={"channels": ("int", 0), "dtype": ("type", _dt.uint8), "expand_animations": ("bool", True)},
             allowed={"dtype": (_dt.uint8, _dt.uint16, _dt.float32)}, shape=_decode_image_shape)
def _decode_image(contents, *, channels, dtype, expand_animations):
    """A JPEG, PNG, GIF or BMP as [height, width, channels] (an animated GIF: [frames, height, width, 3] unless
    `expand_animations` is false, which keeps the first frame); float32 results are scaled to [0, 1]. PNGs are
    read at their own depth (8-bit samples widen to 16 bits by 257), the 8-bit formats as convert_image_dtype
    converts."""
    _check_channels(channels)
    data = _contents(contents)
    target = np.dtype(dtype.as_numpy_dtype)
    if data.startswith(png.SIGNATURE):
        pixels = _png_pixels(data, channels)
        if target == np.float32:
            return pixels.astype(np.float32) / np.float32(np.iinfo(pixels.dtype).max)
        return _set_depth(pixels, target)
    if data.startswith(b"\xff\xd8\xff"):
        pixels = _jpeg_pixels(data, channels, 1, False)
    elif data.startswith(b"GIF8"):
        if channels not in (0, 3):
            raise _invalid(f"Channels must be in (None, 0, 3) when decoding GIF images, got {channels}")
        pixels = _gif_frames(data)
        if not expand_animations:
            pixels = pixels[0]
    elif data.startswith(b"BM"):
        pixels = _bmp_pixels(data, channels)
    else:
        raise _invalid("Unknown image file format. One of JPEG, PNG, GIF, BMP required.")
    # 8-bit formats convert as convert_image_dtype does: times 256 for uint16, times 1/255 for float32
    if target == np.float32:
        return pixels.astype(np.float32) * np.float32(1 / 255)
    return pixels.astype(np.uint16) * np.uint16(256) if target == np.uint16 else pixels


for _op_type in ("DecodePng", "DecodeJpeg", "DecodeAndCropJpeg", "DecodeGif", "DecodeBmp", "DecodeImage",
                 "EncodePng", "EncodeJpeg", "EncodeJpegVariableQuality", "ExtractJpegShape"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
@tf_export("io.decode_png", "image.decode_png")
def decode_png(contents, channels: int = 0, dtype=_dt.uint8, name=None) -> _ops.Tensor:
    """Decodes a PNG into a [height, width, channels] uint8 or uint16 tensor (channels 0: the file's own)."""
    _require_pillow("tf.io.decode_png")
    return apply_op("DecodePng", [contents], {"channels": int(channels), "dtype": _dt.as_dtype(dtype)},
                    name=name).outputs[0]


@tf_export("io.decode_jpeg", "image.decode_jpeg")
def decode_jpeg(contents, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1, dct_method: str = "",
                name=None) -> _ops.Tensor:
    """Decodes a JPEG into a [height, width, channels] uint8 tensor, downscaled by `ratio` (1, 2, 4 or 8).

    Decoding goes through Pillow's libjpeg-turbo, which always uses the accurate integer IDCT and fancy chroma
    upsampling: `dct_method="INTEGER_ACCURATE"` gives TensorFlow's pixels exactly, the default (TF's fast IDCT)
    within a few levels; `fancy_upscaling=False` is accepted but decodes as True. With `try_recover_truncated`
    a truncated file decodes with gray where its data stops (whatever `acceptable_fraction`, as libjpeg-turbo
    fills every line); TF's pixels in the last, partly present row of blocks can differ."""
    _require_pillow("tf.io.decode_jpeg")
    attrs = {"channels": int(channels), "ratio": int(ratio), "fancy_upscaling": bool(fancy_upscaling),
             "try_recover_truncated": bool(try_recover_truncated),
             "acceptable_fraction": float(acceptable_fraction), "dct_method": dct_method}
    return apply_op("DecodeJpeg", [contents], attrs, name=name).outputs[0]


@tf_export("io.decode_and_crop_jpeg", "image.decode_and_crop_jpeg")
def decode_and_crop_jpeg(contents, crop_window, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                         try_recover_truncated: bool = False, acceptable_fraction: float = 1,
                         dct_method: str = "", name=None) -> _ops.Tensor:
    """Decodes the [y, x, height, width] window of a JPEG."""
    _require_pillow("tf.io.decode_and_crop_jpeg")
    attrs = {"channels": int(channels), "ratio": int(ratio), "fancy_upscaling": bool(fancy_upscaling),
             "try_recover_truncated": bool(try_recover_truncated),
             "acceptable_fraction": float(acceptable_fraction), "dct_method": dct_method}
    return apply_op("DecodeAndCropJpeg", [contents, crop_window], attrs, name=name).outputs[0]


@tf_export("io.decode_gif", "image.decode_gif")
def decode_gif(contents, name=None) -> _ops.Tensor:
    """Decodes the frames of a GIF into a [num_frames, height, width, 3] uint8 tensor."""
    _require_pillow("tf.io.decode_gif")
    return apply_op("DecodeGif", [contents], name=name).outputs[0]


@tf_export("io.decode_bmp", "image.decode_bmp")
def decode_bmp(contents, channels: int = 0, name=None) -> _ops.Tensor:
    """Decodes a BMP into a [height, width, channels] uint8 tensor."""
    _require_pillow("tf.io.decode_bmp")
    return apply_op("DecodeBmp", [contents], {"channels": int(channels)}, name=name).outputs[0]


@tf_export("io.decode_image", "image.decode_image")
def decode_image(contents, channels=None, dtype=_dt.uint8, name=None, expand_animations: bool = True):
    """Decodes a BMP, GIF, JPEG or PNG by its header; other dtypes than uint8/uint16/float32 are converted
    with convert_image_dtype. Animated GIFs give 4-D results unless `expand_animations` is False."""
    _require_pillow("tf.io.decode_image")
    if channels not in (None, 0, 1, 3, 4):
        raise ValueError("channels must be in (None, 0, 1, 3, 4)")
    dtype = _dt.as_dtype(dtype)
    with _ops.name_scope(name, "decode_image"):
        direct = dtype in (_dt.uint8, _dt.uint16, _dt.float32)
        attrs = {"channels": int(channels or 0), "dtype": dtype if direct else _dt.uint8,
                 "expand_animations": bool(expand_animations)}
        decoded = apply_op("DecodeImage", [contents], attrs).outputs[0]
        return decoded if direct else image_colour_ops.convert_image_dtype(decoded, dtype)


@tf_export("io.encode_png", "image.encode_png")
def encode_png(image, compression: int = -1, name=None) -> _ops.Tensor:
    """Encodes a [height, width, channels] uint8 or uint16 image as a PNG string."""
    image = _ops.convert_to_tensor(image, name="image")
    return apply_op("EncodePng", [image], {"compression": int(compression)}, name=name).outputs[0]


@tf_export("io.encode_jpeg", "image.encode_jpeg")
def encode_jpeg(image, format: str = "", quality: int = 95, progressive: bool = False,  # noqa: A002
                optimize_size: bool = False, chroma_downsampling: bool = True, density_unit: str = "in",
                x_density: int = 300, y_density: int = 300, xmp_metadata: str = "", name=None) -> _ops.Tensor:
    """Encodes a [height, width, 1 or 3] uint8 image as a JPEG string."""
    _require_pillow("tf.io.encode_jpeg")
    attrs = {"format": format, "quality": int(quality), "progressive": bool(progressive),
             "optimize_size": bool(optimize_size), "chroma_downsampling": bool(chroma_downsampling),
             "density_unit": density_unit, "x_density": int(x_density), "y_density": int(y_density),
             "xmp_metadata": xmp_metadata}
    return apply_op("EncodeJpeg", [image], attrs, name=name).outputs[0]


@tf_export("io.extract_jpeg_shape", "image.extract_jpeg_shape")
def extract_jpeg_shape(contents, output_type=_dt.int32, name=None) -> _ops.Tensor:
    """[height, width, channels] of a JPEG, read from its header."""
    return apply_op("ExtractJpegShape", [contents], {"output_type": _dt.as_dtype(output_type)}, name=name).outputs[0]


@tf_export("io.is_jpeg", "image.is_jpeg")
def is_jpeg(contents, name=None) -> _ops.Tensor:
    """Whether `contents` starts with JPEG's magic bytes (a boolean tensor)."""
    with _ops.name_scope(name, "is_jpeg"):
        head = string_ops.substr(contents, 0, 3)
        return math_ops.equal(head, b"\xff\xd8\xff", name=name)


@tf_export("image.adjust_jpeg_quality")
def adjust_jpeg_quality(image, jpeg_quality, name=None) -> _ops.Tensor:
    """`image` encoded as a JPEG of `jpeg_quality` (0-100) and decoded again, in the image's dtype."""
    _require_pillow("tf.image.adjust_jpeg_quality")
    with _ops.name_scope(name, "adjust_jpeg_quality", [image]) as scope:
        image = _ops.convert_to_tensor(image, name="image")
        original = image.dtype.base_dtype
        pixels = image_colour_ops.convert_image_dtype(image, _dt.uint8, saturate=True)
        if isinstance(jpeg_quality, _ops.Tensor):
            encoded = apply_op("EncodeJpegVariableQuality", [pixels, math_ops.cast(jpeg_quality, _dt.int32)])
        else:
            encoded = apply_op("EncodeJpeg", [pixels], {"quality": int(jpeg_quality)})
        decoded = apply_op("DecodeJpeg", [encoded.outputs[0]], {"channels": 0}).outputs[0]
        decoded.set_shape(pixels.shape)
        return image_colour_ops.convert_image_dtype(decoded, original, saturate=True, name=scope)


@tf_export("image.random_jpeg_quality")
def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None) -> _ops.Tensor:
    """adjust_jpeg_quality with a quality drawn uniformly from [min_jpeg_quality, max_jpeg_quality)."""
    if not (0 <= min_jpeg_quality <= 100 and 0 <= max_jpeg_quality <= 100):
        raise ValueError("jpeg_quality must be in [0,100]")
    if min_jpeg_quality >= max_jpeg_quality:
        raise ValueError("`min_jpeg_quality` must be less than `max_jpeg_quality`.")
    quality = random_ops.random_uniform([], min_jpeg_quality, max_jpeg_quality, seed=seed, dtype=_dt.int32)
    return adjust_jpeg_quality(image, quality)

