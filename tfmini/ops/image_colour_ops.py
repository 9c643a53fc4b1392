"""`tf.image`'s colours: the RGBToHSV, HSVToRGB, AdjustHue, AdjustSaturation and AdjustContrastv2 ops, each
followed by its wrappers, convert_image_dtype, the adjust_* and random_* colour augmentations, and the grayscale,
YIQ and YUV conversions."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import apply_op, register_op
from tfmini.ops import array_ops, control_flow_ops, math_ops, random_ops
from tfmini.ops.image_common import _HALF_FLOAT, _assert, _float_type, _invalid, _is_tensor, _with_checks


# ----------------------------------------------------------------------------------------------------------
# Image dtypes: the conversion every colour adjustment goes through
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.convert_image_dtype")
def convert_image_dtype(image, dtype, saturate: bool = False, name=None) -> _ops.Tensor:
    """Converts `image` to `dtype`, rescaling: floats are in [0, 1], integers span 0..dtype.max. Float to
    integer multiplies by (max + 0.5) and truncates; integer to integer shifts bits (floor division or
    multiplication by a power of two); `saturate` clamps before a cast that could overflow."""
    image = _ops.convert_to_tensor(image, name="image")
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    source = image.dtype.base_dtype
    if dtype == source:
        return array_ops.identity(image, name=name)
    with _ops.name_scope(name, "convert_image", [image]) as scope:
        cast = math_ops.saturate_cast if saturate else math_ops.cast
        if source.is_integer and dtype.is_integer:
            scale_in, scale_out = source.max, dtype.max
            if scale_in > scale_out:
                scaled = math_ops.floordiv(image, np.asarray((scale_in + 1) // (scale_out + 1),
                                                             dtype=source.as_numpy_dtype))
                return cast(scaled, dtype, name=scope)
            return math_ops.multiply(cast(image, dtype), np.asarray((scale_out + 1) // (scale_in + 1),
                                                                     dtype=dtype.as_numpy_dtype), name=scope)
        if source.is_floating and dtype.is_floating:
            return math_ops.cast(image, dtype, name=scope)
        if source.is_integer:
            return math_ops.multiply(math_ops.cast(image, dtype),
                                     np.asarray(1.0 / source.max, dtype=dtype.as_numpy_dtype), name=scope)
        scaled = math_ops.multiply(image, np.asarray(dtype.max + 0.5, dtype=source.as_numpy_dtype))
        return cast(scaled, dtype, name=scope)


def _as_float(image: _ops.Tensor) -> _ops.Tensor:
    """float16/float32 images as they are; anything else converted to float32 (as TF's adjust_* do)."""
    if image.dtype.base_dtype in (_dt.float16, _dt.float32):
        return image
    return convert_image_dtype(image, _dt.float32)


def _adjusted(image, name: str | None, default_name: str, values: list, adjust) -> _ops.Tensor:
    with _ops.name_scope(name, default_name, [image, *values]) as scope:
        image = _ops.convert_to_tensor(image, name="image")
        original = image.dtype.base_dtype
        adjusted = adjust(_as_float(image))
        return convert_image_dtype(adjusted, original, saturate=True, name=scope)


# ----------------------------------------------------------------------------------------------------------
# RGBToHSV and HSVToRGB
# ----------------------------------------------------------------------------------------------------------
def _last_dim_3(op):
    shape = op.inputs[0].shape.with_rank_at_least(1)
    depth = _shape.dimension_value(shape[-1])
    if depth is not None and depth != 3:
        raise ValueError(f"Dimension must be 3 but is {depth}")
    return shape


def _check_rgb(images: np.ndarray, what: str = "input") -> None:
    if images.ndim < 1 or images.shape[-1] != 3:
        raise _invalid(f"{what} must have 3 channels but {what} only has "
                       f"{images.shape[-1] if images.ndim else 0} channels.")


def _rgb_to_hsv_np(rgb: np.ndarray) -> np.ndarray:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    span = v - np.minimum(np.minimum(r, g), b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(v > 0, span / v, 0)
        norm = 1 / (6 * span)
        h = np.where(r == v, norm * (g - b), np.where(g == v, norm * (b - r) + 2 / 6, norm * (r - g) + 4 / 6))
    h = np.where(span > 0, h, 0)
    h = np.where(h < 0, h + 1, h)
    return np.stack([h, s, v], axis=-1).astype(rgb.dtype, copy=False)


def _hsv_to_rgb_np(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    dh = h * 6
    dr = np.clip(np.abs(dh - 3) - 1, 0, 1)
    dg = np.clip(2 - np.abs(dh - 2), 0, 1)
    db = np.clip(2 - np.abs(dh - 4), 0, 1)
    one_minus_s = 1 - s
    return np.stack([(one_minus_s + s * c) * v for c in (dr, dg, db)], axis=-1).astype(hsv.dtype, copy=False)


def _colour_kernel(fn):
    def kernel(images):
        _check_rgb(images)
        ct = _float_type(images.dtype)
        return fn(images.astype(ct, copy=False)).astype(images.dtype, copy=False)

    kernel.__doc__ = fn.__doc__
    return kernel


_COLOUR_TYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
register_op("RGBToHSV", inputs=["images: T"], outputs=["output: T"], attrs={"T": ("type", _dt.float32)},
            allowed={"T": _COLOUR_TYPES}, shape=_last_dim_3)(_colour_kernel(_rgb_to_hsv_np))


@tf_export("image.rgb_to_hsv")
def rgb_to_hsv(images, name=None) -> _ops.Tensor:
    """RGB to HSV, all channels in [0, 1] (float images)."""
    return apply_op("RGBToHSV", [images], name=name).outputs[0]


register_op("HSVToRGB", inputs=["images: T"], outputs=["output: T"], attrs={"T": ("type", _dt.float32)},
            allowed={"T": _COLOUR_TYPES}, shape=_last_dim_3)(_colour_kernel(_hsv_to_rgb_np))


@tf_export("image.hsv_to_rgb")
def hsv_to_rgb(images, name=None) -> _ops.Tensor:
    """HSV to RGB, all channels in [0, 1] (float images)."""
    return apply_op("HSVToRGB", [images], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# AdjustHue, AdjustSaturation, AdjustContrastv2 and the brightness and gamma adjustments
# ----------------------------------------------------------------------------------------------------------
def _check_adjust(images, scalar, what: str) -> None:
    if images.ndim < 3:
        raise _invalid(f"input must be at least 3-D, got shape{list(images.shape)}")
    if np.ndim(scalar) != 0:
        raise _invalid(f"{what} must be scalar: {list(np.shape(scalar))}")
    _check_rgb(images)


def _check_range(lower, upper) -> None:
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


def _hue_sectors(rgb: np.ndarray):
    """TF's AdjustHue decomposition: hue in [0, 6) by sector, and each pixel's min and max channel."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    r_lt_g = r < g
    conditions = [r_lt_g & (b < r), r_lt_g & (b > g), r_lt_g, b > r, b < g]
    category = np.select(conditions, [1, 3, 2, 4, 0], default=5)
    v_max = np.select(conditions, [g, b, g, b, r], default=r)
    v_mid = np.select(conditions, [r, g, b, r, g], default=b)
    v_min = np.select(conditions, [b, r, r, g, b], default=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (v_mid - v_min) / (v_max - v_min)
    increase = (category & 1) == 0
    hue = category + np.where(increase, ratio, 1 - ratio)
    return np.where(v_max == v_min, 0, hue).astype(rgb.dtype), v_min, v_max


def _sectors_to_rgb(hue, v_min, v_max):
    category = hue.astype(np.int64)
    ratio = hue - category
    ratio = np.where((category & 1) == 0, ratio, 1 - ratio)
    v_mid = v_min + ratio * (v_max - v_min)
    sel = [category == k for k in range(5)]
    r = np.select(sel, [v_max, v_mid, v_min, v_min, v_mid], default=v_max)
    g = np.select(sel, [v_mid, v_max, v_max, v_mid, v_min], default=v_min)
    b = np.select(sel, [v_min, v_min, v_mid, v_max, v_max], default=v_mid)
    return np.stack([r, g, b], axis=-1)


@register_op("AdjustHue", inputs=["images: T", "delta: float32"], outputs=["output: T"],
             attrs={"T": ("type", _dt.float32)}, allowed={"T": _HALF_FLOAT}, shape=lambda op: op.inputs[0].shape)
def _adjust_hue(images, delta):
    """Rotates the hue of RGB pixels by `delta` (a fraction of the colour wheel)."""
    _check_adjust(images, delta, "delta")
    hue, v_min, v_max = _hue_sectors(images.astype(np.float32, copy=False))
    hue = np.fmod(hue + np.float32(delta) * np.float32(6), np.float32(6))
    hue = np.where(hue < 0, hue + np.float32(6), hue)
    return _sectors_to_rgb(hue, v_min, v_max).astype(images.dtype, copy=False)




@tf_export("image.adjust_hue")
def adjust_hue(image, delta, name=None) -> _ops.Tensor:
    """Rotates the hue of RGB images by `delta` (in [-1, 1], a fraction of the colour wheel)."""
    return _adjusted(image, name, "adjust_hue", [delta], lambda f: apply_op(
        "AdjustHue", [f, math_ops.cast(delta, _dt.float32)]).outputs[0])


@tf_export("image.random_hue")
def random_hue(image, max_delta, seed=None) -> _ops.Tensor:
    """adjust_hue by a delta drawn uniformly from [-max_delta, max_delta); max_delta must be in [0, 0.5]."""
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_hue(image, delta)


@register_op("AdjustSaturation", inputs=["images: T", "scale: float32"], outputs=["output: T"],
             attrs={"T": ("type", _dt.float32)}, allowed={"T": _HALF_FLOAT}, shape=lambda op: op.inputs[0].shape)
def _adjust_saturation(images, scale):
    """Scales the HSV saturation of RGB pixels by `scale`, clipped to [0, 1]."""
    _check_adjust(images, scale, "scale")
    hsv = _rgb_to_hsv_np(images.astype(np.float32, copy=False))
    s = np.clip(hsv[..., 1] * np.float32(scale), 0, 1)
    h, v = hsv[..., 0], hsv[..., 2]
    c = s * v
    m = v - c
    dh = h * 6
    category = dh.astype(np.int64)
    x = c * (1 - np.abs(np.mod(dh, 2) - 1))
    zero = np.zeros_like(c)
    sel = [category == k for k in range(6)]
    r = np.select(sel, [c, x, zero, zero, x, c], default=zero)
    g = np.select(sel, [x, c, c, x, zero, zero], default=zero)
    b = np.select(sel, [zero, zero, x, c, c, x], default=zero)
    return (np.stack([r, g, b], axis=-1) + m[..., None]).astype(images.dtype, copy=False)




@tf_export("image.adjust_saturation")
def adjust_saturation(image, saturation_factor, name=None) -> _ops.Tensor:
    """Multiplies the HSV saturation of RGB images by `saturation_factor` (clipped to [0, 1])."""
    return _adjusted(image, name, "adjust_saturation", [saturation_factor], lambda f: apply_op(
        "AdjustSaturation", [f, math_ops.cast(saturation_factor, _dt.float32)]).outputs[0])


@tf_export("image.random_saturation")
def random_saturation(image, lower, upper, seed=None) -> _ops.Tensor:
    """adjust_saturation by a factor drawn uniformly from [lower, upper)."""
    _check_range(lower, upper)
    factor = random_ops.random_uniform([], lower, upper, seed=seed)
    return adjust_saturation(image, factor)


@register_op("AdjustContrastv2", inputs=["images: T", "contrast_factor: float32"], outputs=["output: T"],
             attrs={"T": ("type", _dt.float32)}, allowed={"T": _HALF_FLOAT},
             shape=lambda op: op.inputs[0].shape.with_rank_at_least(3))
def _adjust_contrast(images, contrast_factor):
    """(x - mean) * contrast_factor + mean, with the mean of each channel of each image."""
    if images.ndim < 3:
        raise _invalid(f"input must be at least 3-D, got shape{list(images.shape)}")
    if np.ndim(contrast_factor) != 0:
        raise _invalid(f"contrast_factor must be scalar: {list(np.shape(contrast_factor))}")
    x = images.astype(np.float32, copy=False)
    mean = np.mean(x, axis=(-3, -2), keepdims=True, dtype=np.float64).astype(np.float32)
    return ((x - mean) * np.float32(contrast_factor) + mean).astype(images.dtype, copy=False)




@tf_export("image.adjust_contrast")
def adjust_contrast(images, contrast_factor) -> _ops.Tensor:
    """(x - mean) * contrast_factor + mean for each channel of each image."""
    return _adjusted(images, None, "adjust_contrast", [contrast_factor], lambda f: apply_op(
        "AdjustContrastv2", [f, math_ops.cast(contrast_factor, _dt.float32)]).outputs[0])


@tf_export("image.random_contrast")
def random_contrast(image, lower, upper, seed=None) -> _ops.Tensor:
    """adjust_contrast by a factor drawn uniformly from [lower, upper)."""
    _check_range(lower, upper)
    factor = random_ops.random_uniform([], lower, upper, seed=seed)
    return adjust_contrast(image, factor)


@tf_export("image.adjust_brightness")
def adjust_brightness(image, delta) -> _ops.Tensor:
    """Adds `delta` to every channel (in the [0, 1] float scale for integer images, saturating back)."""
    return _adjusted(image, None, "adjust_brightness", [delta], lambda f: math_ops.add(
        f, math_ops.cast(delta, f.dtype), name="adjust_brightness"))


@tf_export("image.random_brightness")
def random_brightness(image, max_delta, seed=None) -> _ops.Tensor:
    """adjust_brightness by a delta drawn uniformly from [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


@tf_export("image.adjust_gamma")
def adjust_gamma(image, gamma=1, gain=1) -> _ops.Tensor:
    """gain * image ** gamma on the [0, 1] float scale; `gamma` must be non-negative."""
    with _ops.name_scope(None, "adjust_gamma", [image, gamma, gain]) as scope:
        image = _ops.convert_to_tensor(image, name="image")
        original = image.dtype.base_dtype
        flt = _as_float(image)
        checks = _assert(gamma >= 0, ValueError, "Gamma should be a non-negative real number.") \
            if not _is_tensor(gamma) else [control_flow_ops.Assert(
                math_ops.greater_equal(gamma, 0), ["Gamma should be a non-negative real number."])]
        gamma_t = _with_checks(checks, math_ops.cast(gamma, flt.dtype))
        adjusted = math_ops.cast(gain, flt.dtype) * math_ops.pow(flt, gamma_t)
        return convert_image_dtype(adjusted, original, saturate=True, name=scope)


# ----------------------------------------------------------------------------------------------------------
# Grayscale, YIQ and YUV
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.rgb_to_grayscale")
def rgb_to_grayscale(images, name=None) -> _ops.Tensor:
    """Luma (0.2989 R + 0.5870 G + 0.1140 B) of RGB images, keeping a channel axis of size 1."""
    with _ops.name_scope(name, "rgb_to_grayscale", [images]) as scope:
        images = _ops.convert_to_tensor(images, name="images")
        original = images.dtype.base_dtype
        flt = convert_image_dtype(images, _dt.float32)
        weights = _ops.convert_to_tensor(np.array([0.2989, 0.5870, 0.1140], dtype=np.float32))
        gray = math_ops.tensordot(flt, weights, [[-1], [-1]]) if images.shape.ndims is not None else \
            math_ops.reduce_sum(flt * weights, axis=-1)
        gray = array_ops.expand_dims(gray, -1)
        return convert_image_dtype(gray, original, name=scope)


@tf_export("image.grayscale_to_rgb")
def grayscale_to_rgb(images, name=None) -> _ops.Tensor:
    """Repeats the single channel of grayscale images three times."""
    with _ops.name_scope(name, "grayscale_to_rgb", [images]) as scope:
        images = _ops.convert_to_tensor(images, name="images")
        shape = images.shape
        if shape.ndims is not None:
            if shape.ndims < 2:
                raise ValueError(f"A grayscale image (shape {shape}) must be at least two-dimensional.")
            if _shape.dimension_value(shape[-1]) not in (None, 1):
                raise ValueError(f"Last dimension of a grayscale image should be size 1. Got {shape}")
        if shape.ndims is not None:
            multiples = _ops.convert_to_tensor(np.array([1] * (shape.ndims - 1) + [3], dtype=np.int32))
        else:
            rank = array_ops.rank(images)
            multiples = array_ops.concat([array_ops.ones(array_ops.reshape(rank - 1, [1]), _dt.int32), [3]], 0)
        return array_ops.tile(images, multiples, name=scope)


_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617], [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021], [0.6208248, -0.64720424, 1.70423049]]
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512], [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]


def _colour_matrix(images, matrix) -> _ops.Tensor:
    images = _ops.convert_to_tensor(images, name="images")
    kernel = _ops.convert_to_tensor(np.asarray(matrix, dtype=images.dtype.base_dtype.as_numpy_dtype),
                                    name="kernel")
    ndims = images.shape.ndims
    if ndims is None:
        raise ValueError("images must have a known rank")
    return math_ops.tensordot(images, kernel, axes=[[ndims - 1], [0]])


@tf_export("image.rgb_to_yiq")
def rgb_to_yiq(images) -> _ops.Tensor:
    """RGB (float, [0, 1]) to YIQ."""
    return _colour_matrix(images, _RGB_TO_YIQ)


@tf_export("image.yiq_to_rgb")
def yiq_to_rgb(images) -> _ops.Tensor:
    """YIQ to RGB."""
    return _colour_matrix(images, _YIQ_TO_RGB)


@tf_export("image.rgb_to_yuv")
def rgb_to_yuv(images) -> _ops.Tensor:
    """RGB (float, [0, 1]) to YUV."""
    return _colour_matrix(images, _RGB_TO_YUV)


@tf_export("image.yuv_to_rgb")
def yuv_to_rgb(images) -> _ops.Tensor:
    """YUV to RGB."""
    return _colour_matrix(images, _YUV_TO_RGB)
