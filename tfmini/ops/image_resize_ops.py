"""`tf.image`'s resizing: the ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic and ResizeArea ops with their
gradient ops and wrappers, then ResizeMethod, resize_images and resize_image_with_pad."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops
from tfmini.ops.image_common import (
    _dimensions,
    _float_type,
    _int_vector,
    _invalid,
    _is_tensor,
    _static_or_none,
    _target_batch,
    _unbatch,
)
from tfmini.ops.image_ops import pad_to_bounding_box

_RESIZE_TYPES = (_dt.int8, _dt.uint8, _dt.int16, _dt.uint16, _dt.int32, _dt.int64, _dt.bfloat16, _dt.float16,
                 _dt.float32, _dt.float64)
_RESIZE_ATTRS = {"align_corners": ("bool", False), "half_pixel_centers": ("bool", False)}


# ----------------------------------------------------------------------------------------------------------
# Interpolation weights along one axis, shared by the resize kernels and their gradient ops
# ----------------------------------------------------------------------------------------------------------
def _resize_shape(op):
    images = op.inputs[0].shape.with_rank(4)
    length = _shape.dimension_value(op.inputs[1].shape.with_rank(1)[0])
    if length is not None and length != 2:
        raise ValueError(f"Dimension must be 2 but is {length}")
    hw = _reg.constant_value(op.inputs[1])
    h, w = (None, None) if hw is None else (int(hw[0]), int(hw[1]))
    return [images[0], h, w, images[3]]


def _check_resize(images: np.ndarray, size: np.ndarray, align_corners: bool, half_pixel_centers: bool):
    if half_pixel_centers and align_corners:
        raise _invalid("If half_pixel_centers is True, align_corners must be False.")
    if images.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(images.shape)}")
    if np.ndim(size) != 1:
        raise _invalid(f"shape_t must be 1-dimensional{list(np.shape(size))}")
    if np.size(size) != 2:
        raise _invalid(f"shape_t must have two elements{list(np.shape(size))}")
    out_h, out_w = int(size[0]), int(size[1])
    if out_h <= 0 or out_w <= 0:
        raise _invalid("output dimensions must be positive")
    if images.shape[1] <= 0 or images.shape[2] <= 0:
        raise _invalid("input image must be of non-zero size")
    return out_h, out_w


def _check_resize_grad(grads: np.ndarray, original_image: np.ndarray, align_corners: bool,
                       half_pixel_centers: bool) -> None:
    if grads.ndim != 4 or original_image.ndim != 4:
        raise _invalid("input_grad and original_image must be 4-dimensional")
    if half_pixel_centers and align_corners:
        raise _invalid("If half_pixel_centers is True, align_corners must be False.")


def _resize_scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    """TF's scale from output to input coordinates, in float32."""
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def _source_coords(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    """The input coordinate of each output pixel's centre, in float32 as TF computes it."""
    scale = _resize_scale(in_size, out_size, align_corners)
    x = np.arange(out_size, dtype=np.float32)
    if half_pixel_centers:
        return (x + np.float32(0.5)) * scale - np.float32(0.5)
    return x * scale


def _linear_taps(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool):
    """Per output pixel: the lower and upper input pixels and the weight of the upper one."""
    src = _source_coords(in_size, out_size, align_corners, half_pixel_centers)
    floor = np.floor(src)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(src), in_size - 1).astype(np.int64)
    return lower, upper, (src - floor).astype(np.float32)


def _linear_matrix(in_size, out_size, align_corners, half_pixel_centers, dtype) -> np.ndarray:
    """The [out, in] matrix of bilinear interpolation weights along one axis."""
    lower, upper, lerp = _linear_taps(in_size, out_size, align_corners, half_pixel_centers)
    m = np.zeros((out_size, in_size), dtype=dtype)
    rows = np.arange(out_size)
    np.add.at(m, (rows, lower), (1 - lerp).astype(dtype))
    np.add.at(m, (rows, upper), lerp.astype(dtype))
    return m


def _nearest_indices(in_size, out_size, align_corners, half_pixel_centers) -> np.ndarray:
    scale = _resize_scale(in_size, out_size, align_corners)
    x = np.arange(out_size, dtype=np.float32)
    src = (x + np.float32(0.5)) * scale if half_pixel_centers else x * scale
    # roundf rounds halves away from zero; the coordinates are non-negative
    idx = np.floor(src + np.float32(0.5)) if align_corners else np.floor(src)
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    return np.maximum(idx, 0) if half_pixel_centers else idx


_CUBIC_TABLE_SIZE = 1024


def _cubic_table(a: float) -> np.ndarray:
    """The Keys cubic convolution weights for offsets i / 1024 (column 0) and 1 + i / 1024 (column 1)."""
    x = np.arange(_CUBIC_TABLE_SIZE + 1, dtype=np.float64) / _CUBIC_TABLE_SIZE
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far_x = x + 1
    far = ((a * far_x - 5 * a) * far_x + 8 * a) * far_x - 4 * a
    return np.stack([near, far], axis=1).astype(np.float32)


_CUBIC_TABLES = {True: _cubic_table(-0.5), False: _cubic_table(-0.75)}


def _cubic_matrix(in_size, out_size, align_corners, half_pixel_centers) -> np.ndarray:
    """The [out, in] matrix of bicubic weights along one axis: TF's table lookup, with the half-pixel
    (Keys) variant dropping taps outside the image and renormalizing, the legacy one repeating edge pixels."""
    src = _source_coords(in_size, out_size, align_corners, half_pixel_centers)
    in_loc = np.floor(src).astype(np.int64)
    delta = (src - in_loc.astype(np.float32)).astype(np.float32)
    offset = np.rint(delta * np.float32(_CUBIC_TABLE_SIZE)).astype(np.int64)
    table = _CUBIC_TABLES[bool(half_pixel_centers)]
    weights = np.stack([table[offset, 1], table[offset, 0], table[_CUBIC_TABLE_SIZE - offset, 0],
                        table[_CUBIC_TABLE_SIZE - offset, 1]], axis=1).astype(np.float64)
    wanted = in_loc[:, None] + np.arange(-1, 3)[None, :]
    index = np.clip(wanted, 0, in_size - 1)
    if half_pixel_centers:
        weights = np.where(index == wanted, weights, 0.0)
        total = weights.sum(axis=1, keepdims=True)
        usable = np.abs(total) >= 1000.0 * np.finfo(np.float32).tiny
        weights = np.where(usable, weights / np.where(usable, total, 1.0), weights)
    m = np.zeros((out_size, in_size))
    np.add.at(m, (np.repeat(np.arange(out_size), 4), index.ravel()), weights.ravel())
    return m


def _area_matrix(in_size, out_size, align_corners) -> np.ndarray:
    """The [out, in] matrix of each input pixel's overlap with each output pixel's area (TF's ResizeArea),
    divided by the area of an output pixel in input pixels."""
    scale = _resize_scale(in_size, out_size, align_corners)
    if scale == 0:  # align_corners on a one-pixel axis: every output pixel is that pixel
        return np.ones((out_size, 1))
    y = np.arange(out_size, dtype=np.float32)
    lo, hi = y * scale, (y + 1) * scale
    start, end = np.floor(lo).astype(np.int64), np.ceil(hi).astype(np.int64)
    taps = int((end - start).max())
    i = start[:, None] + np.arange(taps)[None, :]
    fi = i.astype(np.float32)
    lo2, hi2 = lo[:, None], hi[:, None]
    share = np.where(fi < lo2, np.where(fi + 1 > hi2, scale, fi + 1 - lo2),
                     np.where(fi + 1 > hi2, hi2 - fi, np.float32(1)))
    share = np.where(i < end[:, None], share, 0).astype(np.float64)
    m = np.zeros((out_size, in_size))
    np.add.at(m, (np.repeat(np.arange(out_size), taps), np.clip(i, 0, in_size - 1).ravel()), share.ravel())
    return m / float(scale)


def _apply_separable(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """rows @ image @ cols.T for every image and channel of an NHWC batch."""
    out = np.einsum("yh,bhwc->bywc", rows, images, optimize=True)
    return np.einsum("xw,bywc->byxc", cols, out, optimize=True)


def _resize_attrs(op) -> dict:
    return {"align_corners": op.get_attr("align_corners"), "half_pixel_centers": op.get_attr("half_pixel_centers")}


def _resize_op(op_type: str, images, size, align_corners, half_pixel_centers, name) -> _ops.Tensor:
    attrs = {"align_corners": bool(align_corners)}
    if op_type != "ResizeArea":
        attrs["half_pixel_centers"] = bool(half_pixel_centers)
    return apply_op(op_type, [images, size], attrs, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# ResizeBilinear
# ----------------------------------------------------------------------------------------------------------
@register_op("ResizeBilinear", inputs=["images: T", "size: int32"], outputs=["resized_images: float32"],
             attrs=dict(_RESIZE_ATTRS), allowed={"T": _RESIZE_TYPES}, shape=_resize_shape)
def _resize_bilinear(images, size, *, align_corners, half_pixel_centers):
    """Bilinear interpolation, computed in float32 with TF's lerp order."""
    out_h, out_w = _check_resize(images, size, align_corners, half_pixel_centers)
    img = images.astype(np.float32, copy=False)
    top, bottom, y_lerp = _linear_taps(images.shape[1], out_h, align_corners, half_pixel_centers)
    left, right, x_lerp = _linear_taps(images.shape[2], out_w, align_corners, half_pixel_centers)
    y_lerp, x_lerp = y_lerp[None, :, None, None], x_lerp[None, None, :, None]
    upper, lower = img[:, top], img[:, bottom]
    top_row = upper[:, :, left] + (upper[:, :, right] - upper[:, :, left]) * x_lerp
    bottom_row = lower[:, :, left] + (lower[:, :, right] - lower[:, :, left]) * x_lerp
    return (top_row + (bottom_row - top_row) * y_lerp).astype(np.float32, copy=False)


@register_op("ResizeBilinearGrad", inputs=["grads: float32", "original_image: T"], outputs=["output: T"],
             attrs=dict(_RESIZE_ATTRS), allowed={"T": (_dt.float32, _dt.bfloat16, _dt.float16, _dt.float64)},
             shape=lambda op: op.inputs[1].shape.with_rank(4))
def _resize_bilinear_grad(grads, original_image, *, align_corners, half_pixel_centers):
    """Spreads each output gradient over the (up to four) input pixels it was interpolated from."""
    _check_resize_grad(grads, original_image, align_corners, half_pixel_centers)
    ct = _float_type(original_image.dtype)
    _, in_h, in_w, _ = original_image.shape
    rows = _linear_matrix(in_h, grads.shape[1], align_corners, half_pixel_centers, ct)
    cols = _linear_matrix(in_w, grads.shape[2], align_corners, half_pixel_centers, ct)
    out = _apply_separable(grads.astype(ct, copy=False), rows.T, cols.T)
    return out.astype(original_image.dtype, copy=False)


@RegisterGradient("ResizeBilinear")
def _resize_bilinear_gradient(op, grad):
    if op.inputs[0].dtype.base_dtype not in (_dt.float16, _dt.float32, _dt.float64, _dt.bfloat16):
        return [None, None]
    return [apply_op("ResizeBilinearGrad", [grad, op.inputs[0]], _resize_attrs(op)).outputs[0], None]


@tf_export("image.resize_bilinear")
def resize_bilinear(images, size, align_corners: bool = False, name=None,
                    half_pixel_centers: bool = False) -> _ops.Tensor:
    """Resizes a batch of images [batch, height, width, channels] to `size` by bilinear interpolation
    (float32 result)."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


# ----------------------------------------------------------------------------------------------------------
# ResizeNearestNeighbor
# ----------------------------------------------------------------------------------------------------------
@register_op("ResizeNearestNeighbor", inputs=["images: T", "size: int32"], outputs=["resized_images: T"],
             attrs=dict(_RESIZE_ATTRS), allowed={"T": _RESIZE_TYPES}, shape=_resize_shape)
def _resize_nearest(images, size, *, align_corners, half_pixel_centers):
    out_h, out_w = _check_resize(images, size, align_corners, half_pixel_centers)
    ys = _nearest_indices(images.shape[1], out_h, align_corners, half_pixel_centers)
    xs = _nearest_indices(images.shape[2], out_w, align_corners, half_pixel_centers)
    return images[:, ys][:, :, xs]


def _nearest_grad_shape(op):
    grads = op.inputs[0].shape.with_rank(4)
    hw = _reg.constant_value(op.inputs[1])
    h, w = (None, None) if hw is None else (int(hw[0]), int(hw[1]))
    return [grads[0], h, w, grads[3]]


@register_op("ResizeNearestNeighborGrad", inputs=["grads: T", "size: int32"], outputs=["output: T"],
             attrs=dict(_RESIZE_ATTRS),
             allowed={"T": (_dt.uint8, _dt.int8, _dt.int32, _dt.float16, _dt.float32, _dt.float64, _dt.bfloat16)},
             shape=_nearest_grad_shape)
def _resize_nearest_grad(grads, size, *, align_corners, half_pixel_centers):
    """Adds each output gradient into the input pixel the output was copied from."""
    if grads.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(grads.shape)}")
    if np.ndim(size) != 1 or np.size(size) != 2:
        raise _invalid(f"shape_t must be 1-dimensional and have two elements{list(np.shape(size))}")
    in_h, in_w = int(size[0]), int(size[1])
    if in_h <= 0 or in_w <= 0:
        raise _invalid("size dimensions must be positive")
    ys = _nearest_indices(in_h, grads.shape[1], align_corners, half_pixel_centers)
    xs = _nearest_indices(in_w, grads.shape[2], align_corners, half_pixel_centers)
    ct = np.float64 if grads.dtype.kind == "f" else np.int64
    rows = np.zeros((in_h, grads.shape[1]), dtype=ct)
    rows[ys, np.arange(len(ys))] = 1
    cols = np.zeros((in_w, grads.shape[2]), dtype=ct)
    cols[xs, np.arange(len(xs))] = 1
    return _apply_separable(grads.astype(ct), rows, cols).astype(grads.dtype)


@RegisterGradient("ResizeNearestNeighbor")
def _resize_nearest_gradient(op, grad):
    image = op.inputs[0]
    hw = image.shape[1:3]
    size = hw.as_list() if hw.is_fully_defined() else array_ops.shape(image)[1:3]
    return [apply_op("ResizeNearestNeighborGrad", [grad, size], _resize_attrs(op)).outputs[0], None]


@tf_export("image.resize_nearest_neighbor")
def resize_nearest_neighbor(images, size, align_corners: bool = False, name=None,
                            half_pixel_centers: bool = False) -> _ops.Tensor:
    """Resizes a batch of images to `size` by copying the nearest pixel (keeps the dtype)."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers, name)


# ----------------------------------------------------------------------------------------------------------
# ResizeBicubic
# ----------------------------------------------------------------------------------------------------------
@register_op("ResizeBicubic", inputs=["images: T", "size: int32"], outputs=["resized_images: float32"],
             attrs=dict(_RESIZE_ATTRS), allowed={"T": tuple(t for t in _RESIZE_TYPES if t != _dt.bfloat16)},
             shape=_resize_shape)
def _resize_bicubic(images, size, *, align_corners, half_pixel_centers):
    out_h, out_w = _check_resize(images, size, align_corners, half_pixel_centers)
    rows = _cubic_matrix(images.shape[1], out_h, align_corners, half_pixel_centers)
    cols = _cubic_matrix(images.shape[2], out_w, align_corners, half_pixel_centers)
    return _apply_separable(images.astype(np.float64), rows, cols).astype(np.float32)


@register_op("ResizeBicubicGrad", inputs=["grads: float32", "original_image: T"], outputs=["output: T"],
             attrs=dict(_RESIZE_ATTRS), allowed={"T": (_dt.float32, _dt.float64)},
             shape=lambda op: op.inputs[1].shape.with_rank(4))
def _resize_bicubic_grad(grads, original_image, *, align_corners, half_pixel_centers):
    _check_resize_grad(grads, original_image, align_corners, half_pixel_centers)
    _, in_h, in_w, _ = original_image.shape
    rows = _cubic_matrix(in_h, grads.shape[1], align_corners, half_pixel_centers)
    cols = _cubic_matrix(in_w, grads.shape[2], align_corners, half_pixel_centers)
    return _apply_separable(grads.astype(np.float64), rows.T, cols.T).astype(original_image.dtype)


@RegisterGradient("ResizeBicubic")
def _resize_bicubic_gradient(op, grad):
    if op.inputs[0].dtype.base_dtype not in (_dt.float32, _dt.float64):
        return [None, None]
    return [apply_op("ResizeBicubicGrad", [grad, op.inputs[0]], _resize_attrs(op)).outputs[0], None]


@tf_export("image.resize_bicubic")
def resize_bicubic(images, size, align_corners: bool = False, name=None,
                   half_pixel_centers: bool = False) -> _ops.Tensor:
    """Resizes a batch of images to `size` by bicubic interpolation (float32 result)."""
    return _resize_op("ResizeBicubic", images, size, align_corners, half_pixel_centers, name)


# ----------------------------------------------------------------------------------------------------------
# ResizeArea
# ----------------------------------------------------------------------------------------------------------
@register_op("ResizeArea", inputs=["images: T", "size: int32"], outputs=["resized_images: float32"],
             attrs={"align_corners": ("bool", False)},
             allowed={"T": tuple(t for t in _RESIZE_TYPES if t != _dt.bfloat16) + (_dt.bfloat16,)},
             shape=_resize_shape)
def _resize_area(images, size, *, align_corners):
    """Each output pixel is the mean of the input area it covers (partly covered pixels count by their share)."""
    out_h, out_w = _check_resize(images, size, align_corners, False)
    in_h, in_w = images.shape[1:3]
    rows = _area_matrix(in_h, out_h, align_corners)
    cols = _area_matrix(in_w, out_w, align_corners)
    return _apply_separable(images.astype(np.float64), rows, cols).astype(np.float32)




@tf_export("image.resize_area")
def resize_area(images, size, align_corners: bool = False, name=None) -> _ops.Tensor:
    """Resizes a batch of images to `size` by area averaging (float32 result)."""
    return _resize_op("ResizeArea", images, size, align_corners, False, name)


# ----------------------------------------------------------------------------------------------------------
# resize_images and resize_image_with_pad
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.ResizeMethod")
class ResizeMethod:
    """The interpolation methods of `tf.image.resize_images` (TF 1.x's integer codes)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_METHOD_NAMES = {"bilinear": 0, "nearest": 1, "bicubic": 2, "area": 3}
_RESIZE_OPS = {0: "ResizeBilinear", 1: "ResizeNearestNeighbor", 2: "ResizeBicubic", 3: "ResizeArea"}


def _method_code(method) -> int:
    code = _METHOD_NAMES.get(method, method) if isinstance(method, str) else method
    if code not in _RESIZE_OPS:
        raise ValueError("Resize method is not implemented.")
    return int(code)


@tf_export("image.resize_images", "image.resize")
def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners: bool = False,
                  preserve_aspect_ratio: bool = False, name=None) -> _ops.Tensor:
    """Resizes `images` (3-D or 4-D) to `size` = [new_height, new_width] with `method`; with
    `preserve_aspect_ratio` the result fits inside `size` keeping the aspect ratio. An image already of the
    requested (static) size is returned as it is."""
    with _ops.name_scope(name, "resize", [images, size]):
        images = _ops.convert_to_tensor(images, name="images")
        if images.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        if images.shape.ndims == 3:
            images, is_batch = array_ops.expand_dims(images, 0), False
        elif images.shape.ndims == 4:
            is_batch = True
        else:
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        _, height, width, _ = images.shape.as_list()
        try:
            size = _ops.convert_to_tensor(size, _dt.int32, name="size")
        except (TypeError, ValueError) as e:
            raise ValueError("'size' must be a 1-D int32 Tensor") from e
        if not size.shape.is_compatible_with([2]):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        code = _method_code(method)
        known = _reg.constant_value(size)
        new_h, new_w = (None, None) if known is None else (int(known[0]), int(known[1]))
        if preserve_aspect_ratio:
            size, new_h, new_w = _fit_size(images, size, new_h, new_w)
        if None not in (new_h, new_w, height, width) and (new_h, new_w) == (height, width):
            return _unbatch(images, is_batch)
        resized = _resize_op(_RESIZE_OPS[code], images, size, align_corners, False, None)
        resized.set_shape([None, new_h, new_w, None])
        return _unbatch(resized, is_batch)


def _fit_size(images: _ops.Tensor, size: _ops.Tensor, new_h, new_w):
    """The largest size inside `size` with the images' aspect ratio, as TF rounds it."""
    _, height, width, _ = _dimensions(images, 4)
    if None not in (new_h, new_w) and not _is_tensor(height) and not _is_tensor(width):
        scale = min(np.float32(new_h) / np.float32(height), np.float32(new_w) / np.float32(width))
        h, w = int(np.rint(np.float32(scale) * np.float32(height))), int(np.rint(np.float32(scale) * width))
        return _int_vector([h, w]), h, w
    target = math_ops.cast(size, _dt.float32)
    current = math_ops.cast(_int_vector([height, width]), _dt.float32)
    scale = math_ops.reduce_min(target / current)
    fitted = math_ops.cast(math_ops.round(scale * current), _dt.int32)
    return fitted, None, None


@tf_export("image.resize_image_with_pad")
def resize_image_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR,
                          align_corners: bool = False) -> _ops.Tensor:
    """Resizes `image` to fit in [target_height, target_width] keeping its aspect ratio, then pads it with
    zeros (centred) to exactly that size."""
    with _ops.name_scope(None, "resize_image_with_pad", [image]):
        image, is_batch = _target_batch(image, target_height, target_width)
        _, height, width, _ = _dimensions(image, 4)
        static = not any(_is_tensor(v) for v in (height, width, target_height, target_width))
        if static:  # TF's float32 arithmetic, done now
            h, w, th, tw = (np.float32(v) for v in (height, width, target_height, target_width))
            ratio = max(w / tw, h / th)
            new_h, new_w = int(np.floor(h / ratio)), int(np.floor(w / ratio))
            pad_h = max(0, int(np.floor((th - h / ratio) / np.float32(2))))
            pad_w = max(0, int(np.floor((tw - w / ratio) / np.float32(2))))
        else:
            f = [math_ops.cast(v, _dt.float32) for v in (height, width, target_height, target_width)]
            ratio = math_ops.maximum(f[1] / f[3], f[0] / f[2])
            new_h = math_ops.cast(math_ops.floor(f[0] / ratio), _dt.int32)
            new_w = math_ops.cast(math_ops.floor(f[1] / ratio), _dt.int32)
            pad_h = math_ops.maximum(0, math_ops.cast(math_ops.floor((f[2] - f[0] / ratio) / 2), _dt.int32))
            pad_w = math_ops.maximum(0, math_ops.cast(math_ops.floor((f[3] - f[1] / ratio) / 2), _dt.int32))
        resized = resize_images(image, _int_vector([new_h, new_w]), method, align_corners)
        padded = pad_to_bounding_box(resized, pad_h, pad_w, target_height, target_width)
        padded.set_shape(_static_or_none([None, target_height, target_width, None]))
        return _unbatch(padded, is_batch)
