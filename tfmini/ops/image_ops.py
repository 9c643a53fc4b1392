"""`tf.image`: the resize ops and their gradients, crop_and_resize, non-max suppression, colour-space and
colour-adjustment ops, bounding-box drawing and sampling, and the Python API built on them (crop, pad, flip,
rotate, standardize, convert dtypes, random augmentations, image metrics).

The image codecs live in `image_codec_ops`. Images are NHWC (or HWC where TF accepts a single image).
"""

from __future__ import annotations

import heapq

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, control_flow_ops, depthwise_conv_ops, math_ops, nn_ops, random_ops

_RESIZE_TYPES = (_dt.int8, _dt.uint8, _dt.int16, _dt.uint16, _dt.int32, _dt.int64, _dt.bfloat16, _dt.float16,
                 _dt.float32, _dt.float64)
_HALF_FLOAT = (_dt.float16, _dt.float32)
_BOX_IMAGE_TYPES = (_dt.uint8, _dt.uint16, _dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.float16, _dt.float32,
                    _dt.float64)
_RESIZE_ATTRS = {"align_corners": ("bool", False), "half_pixel_centers": ("bool", False)}
_SEED_ATTRS = {"seed": ("int", 0), "seed2": ("int", 0)}


def _invalid(message: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, message)


def _float_type(dtype: np.dtype) -> type:
    """The type TF's CPU kernels compute a float op in: float for half precision, else the input's."""
    return np.float64 if dtype == np.float64 else np.float32


# ----------------------------------------------------------------------------------------------------------
# Resizing: ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic, ResizeArea and the gradient ops
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
    if grads.ndim != 4 or original_image.ndim != 4:
        raise _invalid("input_grad and original_image must be 4-dimensional")
    if half_pixel_centers and align_corners:
        raise _invalid("If half_pixel_centers is True, align_corners must be False.")
    ct = _float_type(original_image.dtype)
    _, in_h, in_w, _ = original_image.shape
    rows = _linear_matrix(in_h, grads.shape[1], align_corners, half_pixel_centers, ct)
    cols = _linear_matrix(in_w, grads.shape[2], align_corners, half_pixel_centers, ct)
    out = _apply_separable(grads.astype(ct, copy=False), rows.T, cols.T)
    return out.astype(original_image.dtype, copy=False)


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
    if grads.ndim != 4 or original_image.ndim != 4:
        raise _invalid("input_grad and original_image must be 4-dimensional")
    if half_pixel_centers and align_corners:
        raise _invalid("If half_pixel_centers is True, align_corners must be False.")
    _, in_h, in_w, _ = original_image.shape
    rows = _cubic_matrix(in_h, grads.shape[1], align_corners, half_pixel_centers)
    cols = _cubic_matrix(in_w, grads.shape[2], align_corners, half_pixel_centers)
    return _apply_separable(grads.astype(np.float64), rows.T, cols.T).astype(original_image.dtype)


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


def _resize_attrs(op) -> dict:
    return {"align_corners": op.get_attr("align_corners"), "half_pixel_centers": op.get_attr("half_pixel_centers")}


@RegisterGradient("ResizeBilinear")
def _resize_bilinear_gradient(op, grad):
    if op.inputs[0].dtype.base_dtype not in (_dt.float16, _dt.float32, _dt.float64, _dt.bfloat16):
        return [None, None]
    return [apply_op("ResizeBilinearGrad", [grad, op.inputs[0]], _resize_attrs(op)).outputs[0], None]


@RegisterGradient("ResizeBicubic")
def _resize_bicubic_gradient(op, grad):
    if op.inputs[0].dtype.base_dtype not in (_dt.float32, _dt.float64):
        return [None, None]
    return [apply_op("ResizeBicubicGrad", [grad, op.inputs[0]], _resize_attrs(op)).outputs[0], None]


@RegisterGradient("ResizeNearestNeighbor")
def _resize_nearest_gradient(op, grad):
    image = op.inputs[0]
    hw = image.shape[1:3]
    size = hw.as_list() if hw.is_fully_defined() else array_ops.shape(image)[1:3]
    return [apply_op("ResizeNearestNeighborGrad", [grad, size], _resize_attrs(op)).outputs[0], None]


NotDifferentiable("ResizeArea")


# ----------------------------------------------------------------------------------------------------------
# CropAndResize and its gradients
# ----------------------------------------------------------------------------------------------------------
def _crop_shape(op):
    image = op.inputs[0].shape.with_rank(4)
    boxes = op.inputs[1].shape.with_rank(2)
    op.inputs[2].shape.with_rank(1)
    size = _reg.constant_value(op.inputs[3])
    h, w = (None, None) if size is None else (int(size[0]), int(size[1]))
    return [boxes[0], h, w, image[3]]


def _check_boxes(boxes, box_ind, batch: int) -> None:
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise _invalid(f"boxes must be 2-D[num_boxes, 4]: {list(boxes.shape)}")
    if box_ind.ndim != 1:
        raise _invalid(f"box_index must be 1-D{list(box_ind.shape)}")
    if box_ind.shape[0] != boxes.shape[0]:
        raise _invalid("box_index has incompatible shape")
    if np.any((box_ind < 0) | (box_ind >= batch)):
        raise _invalid(f"box_index has values outside [0, batch_size), batch_size = {batch}")


def _crop_coords(boxes, image_h: int, image_w: int, crop_h: int, crop_w: int):
    """The float32 sampling coordinates [num_boxes, crop_h] and [num_boxes, crop_w], and the per-box
    derivative of each coordinate with respect to the box's first and second corner."""
    b = boxes.astype(np.float32)
    y1, x1, y2, x2 = b[:, 0:1], b[:, 1:2], b[:, 2:3], b[:, 3:4]

    def axis(c1, c2, image_size, crop_size):
        span = np.float32(image_size - 1)
        if crop_size > 1:
            t = np.arange(crop_size, dtype=np.float32)[None, :]
            scale = (c2 - c1) * span / np.float32(crop_size - 1)
            coord = c1 * span + t * scale
            ratio = span / np.float32(crop_size - 1)
            d2 = np.broadcast_to(t * ratio, coord.shape)
            d1 = span - d2
        else:
            coord = np.float32(0.5) * (c1 + c2) * span
            d1 = d2 = np.full(coord.shape, 0.5 * span, dtype=np.float32)
        return coord.astype(np.float32), d1, d2

    return axis(y1, y2, image_h, crop_h), axis(x1, x2, image_w, crop_w)


@register_op("CropAndResize", inputs=["image: T", "boxes: float32", "box_ind: int32", "crop_size: int32"],
             outputs=["crops: float32"],
             attrs={"method": ("string", "bilinear"), "extrapolation_value": ("float", 0.0)},
             allowed={"T": _BOX_IMAGE_TYPES}, shape=_crop_shape)
def _crop_and_resize(image, boxes, box_ind, crop_size, *, method, extrapolation_value):
    """Samples a crop_size grid over each box (normalized corner coordinates) of image[box_ind]; samples
    outside the image get `extrapolation_value`."""
    if image.ndim != 4:
        raise _invalid(f"input image must be 4-D{list(image.shape)}")
    batch, image_h, image_w, depth = image.shape
    if image_h <= 0 or image_w <= 0:
        raise _invalid("image dimensions must be positive")
    _check_boxes(boxes, box_ind, batch)
    if np.ndim(crop_size) != 1 or np.size(crop_size) != 2:
        raise _invalid(f"crop_size must be 1-D with two elements{list(np.shape(crop_size))}")
    crop_h, crop_w = int(crop_size[0]), int(crop_size[1])
    if crop_h <= 0 or crop_w <= 0:
        raise _invalid("crop dimensions must be positive")
    method = method.decode() if isinstance(method, bytes) else method
    if method not in ("bilinear", "nearest"):
        raise _invalid(f"method must be 'bilinear' or 'nearest', got {method}")
    (ys, _, _), (xs, _, _) = _crop_coords(boxes, image_h, image_w, crop_h, crop_w)
    inside = (((ys >= 0) & (ys <= image_h - 1))[:, :, None] & ((xs >= 0) & (xs <= image_w - 1))[:, None, :])
    img = image.astype(np.float32, copy=False)
    b = box_ind.astype(np.int64)[:, None, None]
    if method == "bilinear":
        top = np.clip(np.floor(ys), 0, image_h - 1).astype(np.int64)
        bottom = np.clip(np.ceil(ys), 0, image_h - 1).astype(np.int64)
        left = np.clip(np.floor(xs), 0, image_w - 1).astype(np.int64)
        right = np.clip(np.ceil(xs), 0, image_w - 1).astype(np.int64)
        y_lerp = (ys - np.floor(ys))[:, :, None, None]
        x_lerp = (xs - np.floor(xs))[:, None, :, None]
        t, bt, lf, rt = top[:, :, None], bottom[:, :, None], left[:, None, :], right[:, None, :]
        top_row = img[b, t, lf] + (img[b, t, rt] - img[b, t, lf]) * x_lerp
        bottom_row = img[b, bt, lf] + (img[b, bt, rt] - img[b, bt, lf]) * x_lerp
        crops = top_row + (bottom_row - top_row) * y_lerp
    else:
        yi = np.clip(np.floor(ys + np.float32(0.5)), 0, image_h - 1).astype(np.int64)
        xi = np.clip(np.floor(xs + np.float32(0.5)), 0, image_w - 1).astype(np.int64)
        crops = img[b, yi[:, :, None], xi[:, None, :]]
    crops = np.where(inside[..., None], crops, np.float32(extrapolation_value))
    return crops.astype(np.float32, copy=False).reshape(len(boxes), crop_h, crop_w, depth)


def _crop_grad_image_shape(op):
    size = _reg.constant_value(op.inputs[3])
    return _shape.unknown_shape(4) if size is None else [int(d) for d in size]


@register_op("CropAndResizeGradImage",
             inputs=["grads: float32", "boxes: float32", "box_ind: int32", "image_size: int32"],
             outputs=["output: T"], attrs={"method": ("string", "bilinear")},
             allowed={"T": (_dt.float32, _dt.float16, _dt.float64)}, shape=_crop_grad_image_shape)
def _crop_and_resize_grad_image(grads, boxes, box_ind, image_size, *, T, method):  # noqa: N803 - TF's attr
    """The gradient of CropAndResize with respect to the image: each crop gradient added back onto the
    pixels it was sampled from, with the sampling weights."""
    if grads.ndim != 4:
        raise _invalid(f"grads image must be 4-D{list(grads.shape)}")
    if np.size(image_size) != 4:
        raise _invalid(f"image_size must be 1-D with 4 elements{list(np.shape(image_size))}")
    batch, image_h, image_w, depth = (int(d) for d in image_size)
    if image_h <= 0 or image_w <= 0:
        raise _invalid("image dimensions must be positive")
    _check_boxes(boxes, box_ind, batch)
    if grads.shape[0] != boxes.shape[0] or grads.shape[3] != depth:
        raise _invalid("boxes and grads have incompatible shape")
    method = method.decode() if isinstance(method, bytes) else method
    crop_h, crop_w = grads.shape[1:3]
    (ys, _, _), (xs, _, _) = _crop_coords(boxes, image_h, image_w, crop_h, crop_w)
    inside = (((ys >= 0) & (ys <= image_h - 1))[:, :, None] & ((xs >= 0) & (xs <= image_w - 1))[:, None, :])
    g = grads.astype(np.float64) * inside[..., None]
    out = np.zeros((batch, image_h, image_w, depth))
    b = np.broadcast_to(box_ind.astype(np.int64)[:, None, None], inside.shape)

    def scatter(yi, xi, weight):
        yy = np.broadcast_to(yi[:, :, None], inside.shape)
        xx = np.broadcast_to(xi[:, None, :], inside.shape)
        np.add.at(out, (b.ravel(), yy.ravel(), xx.ravel()), (g * weight).reshape(-1, depth))

    if method == "bilinear":
        top = np.clip(np.floor(ys), 0, image_h - 1).astype(np.int64)
        bottom = np.clip(np.ceil(ys), 0, image_h - 1).astype(np.int64)
        left = np.clip(np.floor(xs), 0, image_w - 1).astype(np.int64)
        right = np.clip(np.ceil(xs), 0, image_w - 1).astype(np.int64)
        y_lerp = (ys - np.floor(ys)).astype(np.float64)[:, :, None, None]
        x_lerp = (xs - np.floor(xs)).astype(np.float64)[:, None, :, None]
        scatter(top, left, (1 - y_lerp) * (1 - x_lerp))
        scatter(top, right, (1 - y_lerp) * x_lerp)
        scatter(bottom, left, y_lerp * (1 - x_lerp))
        scatter(bottom, right, y_lerp * x_lerp)
    else:
        yi = np.clip(np.floor(ys + np.float32(0.5)), 0, image_h - 1).astype(np.int64)
        xi = np.clip(np.floor(xs + np.float32(0.5)), 0, image_w - 1).astype(np.int64)
        scatter(yi, xi, 1.0)
    return out.astype(T.as_numpy_dtype)


@register_op("CropAndResizeGradBoxes",
             inputs=["grads: float32", "image: T", "boxes: float32", "box_ind: int32"],
             outputs=["output: float32"], attrs={"method": ("string", "bilinear")},
             allowed={"T": _BOX_IMAGE_TYPES}, shape=lambda op: op.inputs[2].shape)
def _crop_and_resize_grad_boxes(grads, image, boxes, box_ind, *, method):
    """The gradient of bilinear CropAndResize with respect to the box corners (samples outside the image
    contribute nothing; at whole-pixel coordinates the one-sided slope is zero, as in TF)."""
    if grads.ndim != 4 or image.ndim != 4:
        raise _invalid("grads and image must be 4-D")
    batch, image_h, image_w, depth = image.shape
    _check_boxes(boxes, box_ind, batch)
    if grads.shape[0] != boxes.shape[0] or grads.shape[3] != depth:
        raise _invalid("boxes and grads have incompatible shape")
    crop_h, crop_w = grads.shape[1:3]
    (ys, dy1, dy2), (xs, dx1, dx2) = _crop_coords(boxes, image_h, image_w, crop_h, crop_w)
    inside = (((ys >= 0) & (ys <= image_h - 1))[:, :, None] & ((xs >= 0) & (xs <= image_w - 1))[:, None, :])
    img = image.astype(np.float64)
    b = box_ind.astype(np.int64)[:, None, None]
    top = np.clip(np.floor(ys), 0, image_h - 1).astype(np.int64)[:, :, None]
    bottom = np.clip(np.ceil(ys), 0, image_h - 1).astype(np.int64)[:, :, None]
    left = np.clip(np.floor(xs), 0, image_w - 1).astype(np.int64)[:, None, :]
    right = np.clip(np.ceil(xs), 0, image_w - 1).astype(np.int64)[:, None, :]
    y_lerp = (ys - np.floor(ys)).astype(np.float64)[:, :, None, None]
    x_lerp = (xs - np.floor(xs)).astype(np.float64)[:, None, :, None]
    tl, tr, bl, br = img[b, top, left], img[b, top, right], img[b, bottom, left], img[b, bottom, right]
    grad_y = (1 - x_lerp) * (bl - tl) + x_lerp * (br - tr)
    grad_x = (1 - y_lerp) * (tr - tl) + y_lerp * (br - bl)
    g = grads.astype(np.float64) * inside[..., None]
    gy = (g * grad_y).sum(axis=(2, 3))  # [num_boxes, crop_h]
    gx = (g * grad_x).sum(axis=(1, 3))  # [num_boxes, crop_w]
    out = np.stack([(gy * dy1).sum(1), (gx * dx1).sum(1), (gy * dy2).sum(1), (gx * dx2).sum(1)], axis=1)
    return out.astype(np.float32)


@RegisterGradient("CropAndResize")
def _crop_and_resize_gradient(op, grad):
    image, boxes, box_ind = op.inputs[0], op.inputs[1], op.inputs[2]
    image_shape = image.shape.as_list() if image.shape.is_fully_defined() else array_ops.shape(image)
    grad_image = None
    if image.dtype.base_dtype in (_dt.float16, _dt.float32, _dt.float64):
        grad_image = apply_op("CropAndResizeGradImage", [grad, boxes, box_ind, image_shape],
                              {"T": image.dtype.base_dtype, "method": op.get_attr("method")}).outputs[0]
    grad_boxes = apply_op("CropAndResizeGradBoxes", [grad, image, boxes, box_ind]).outputs[0]
    return [grad_image, grad_boxes, None, None]


NotDifferentiable("CropAndResizeGradImage")
NotDifferentiable("CropAndResizeGradBoxes")


# ----------------------------------------------------------------------------------------------------------
# Non-max suppression
# ----------------------------------------------------------------------------------------------------------
def _iou_with(boxes: np.ndarray):
    """A function giving the intersection over union of box i with boxes js, in float32 as TF computes it
    ([y1, x1, y2, x2] with the corners in either order; 0 when either box is empty)."""
    b = boxes.astype(np.float32)
    ymin, ymax = np.minimum(b[:, 0], b[:, 2]), np.maximum(b[:, 0], b[:, 2])
    xmin, xmax = np.minimum(b[:, 1], b[:, 3]), np.maximum(b[:, 1], b[:, 3])
    area = (ymax - ymin) * (xmax - xmin)

    def iou(i: int, js: np.ndarray) -> np.ndarray:
        ih = np.maximum(np.minimum(ymax[i], ymax[js]) - np.maximum(ymin[i], ymin[js]), np.float32(0))
        iw = np.maximum(np.minimum(xmax[i], xmax[js]) - np.maximum(xmin[i], xmin[js]), np.float32(0))
        inter = ih * iw
        with np.errstate(divide="ignore", invalid="ignore"):
            value = inter / (area[i] + area[js] - inter)
        return np.where((area[i] <= 0) | (area[js] <= 0), np.float32(0), value)

    return iou


def _greedy_suppression(similarities, scores: np.ndarray, max_output_size: int, threshold: float,
                        score_threshold: float, soft_nms_sigma: float = 0.0):
    """TF's greedy selection: take the best remaining candidate unless it overlaps a selected one by more than
    `threshold` (soft NMS: decay its score by exp(-iou^2 / (2 sigma)) for each box selected since it was last
    looked at, newest first, and put it back). Ties in score go to the lower index. `similarities(i, js)`
    gives candidate i's overlaps with boxes js. Returns the selected indices and their (possibly decayed)
    scores."""
    soft = soft_nms_sigma > 0
    scale = np.float32(-0.5 / soft_nms_sigma) if soft else None
    heap = [(-float(s), i, i, 0) for i, s in enumerate(scores) if s > score_threshold]
    heapq.heapify(heap)
    selected = np.zeros(min(len(scores), max(max_output_size, 0)), dtype=np.int64)
    kept_scores = np.zeros(len(selected), dtype=np.float32)
    count = 0
    while heap and count < max_output_size:
        neg_score, _, index, begin = heapq.heappop(heap)
        original = score = np.float32(-neg_score)
        if count > begin:
            sims = similarities(index, selected[begin:count][::-1])
            if not soft:
                if np.any(sims > threshold):
                    continue
            else:
                weights = np.exp(scale * sims * sims).astype(np.float32)
                running = np.cumprod(np.concatenate([[score], weights]).astype(np.float32), dtype=np.float32)[1:]
                low = np.flatnonzero(running <= score_threshold)
                score = running[low[0]] if len(low) else running[-1]
        if score == original:
            selected[count], kept_scores[count] = index, score
            count += 1
        elif score > score_threshold:
            heapq.heappush(heap, (-float(score), index, index, count))
    return selected[:count].astype(np.int32), kept_scores[:count]


def _check_nms_inputs(boxes, scores, max_output_size, iou_threshold):
    if np.ndim(max_output_size) != 0:
        raise _invalid(f"max_output_size must be 0-D, got shape {list(np.shape(max_output_size))}")
    if np.ndim(iou_threshold) != 0:
        raise _invalid(f"iou_threshold must be 0-D, got shape {list(np.shape(iou_threshold))}")
    if not 0 <= float(iou_threshold) <= 1:
        raise _invalid("iou_threshold must be in [0, 1]")
    if boxes.ndim != 2:
        raise _invalid(f"boxes must be 2-D{list(boxes.shape)}")
    if boxes.shape[1] != 4:
        raise _invalid(f"boxes must have 4 columns{list(boxes.shape)}")
    if scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        raise _invalid(f"scores has incompatible shape{list(scores.shape)}")


def _nms(boxes, scores, max_output_size, iou_threshold, score_threshold, sigma=0.0):
    _check_nms_inputs(boxes, scores, max_output_size, iou_threshold)
    if np.ndim(score_threshold) != 0:
        raise _invalid(f"score_threshold must be 0-D, got shape {list(np.shape(score_threshold))}")
    return _greedy_suppression(_iou_with(boxes), scores.astype(np.float32), int(max_output_size),
                               float(iou_threshold), float(np.float32(score_threshold)), float(sigma))


def _nms_shape(op):
    op.inputs[0].shape.with_rank(2)
    op.inputs[1].shape.with_rank(1)
    return _shape.TensorShape([None])


_NMS_TYPES = {"T": _HALF_FLOAT, "T_threshold": _HALF_FLOAT}


@register_op("NonMaxSuppression", inputs=["boxes: float32", "scores: float32", "max_output_size: int32"],
             outputs=["selected_indices: int32"], attrs={"iou_threshold": ("float", 0.5)}, shape=_nms_shape)
def _nms_v1(boxes, scores, max_output_size, *, iou_threshold):
    return _nms(boxes, scores, max_output_size, iou_threshold, np.finfo(np.float32).min)[0]


@register_op("NonMaxSuppressionV2",
             inputs=["boxes: T", "scores: T", "max_output_size: int32", "iou_threshold: T_threshold"],
             outputs=["selected_indices: int32"], attrs={"T": ("type", _dt.float32),
                                                         "T_threshold": ("type", _dt.float32)},
             allowed=_NMS_TYPES, shape=_nms_shape)
def _nms_v2(boxes, scores, max_output_size, iou_threshold):
    return _nms(boxes, scores, max_output_size, iou_threshold, np.finfo(np.float32).min)[0]


@register_op("NonMaxSuppressionV3",
             inputs=["boxes: T", "scores: T", "max_output_size: int32", "iou_threshold: T_threshold",
                     "score_threshold: T_threshold"],
             outputs=["selected_indices: int32"], attrs={"T": ("type", _dt.float32),
                                                         "T_threshold": ("type", _dt.float32)},
             allowed=_NMS_TYPES, shape=_nms_shape)
def _nms_v3(boxes, scores, max_output_size, iou_threshold, score_threshold):
    return _nms(boxes, scores, max_output_size, iou_threshold, score_threshold)[0]


def _padded(indices: np.ndarray, max_output_size, pad: bool) -> tuple[np.ndarray, np.int32]:
    valid = np.int32(len(indices))
    if pad:
        out = np.zeros(int(max_output_size), dtype=indices.dtype)
        out[:valid] = indices
        return out, valid
    return indices, valid


def _nms_padded_shape(op):
    _nms_shape(op)
    n = _reg.constant_value(op.inputs[2]) if op.get_attr("pad_to_max_output_size") else None
    return [_shape.TensorShape([None if n is None else int(n)])] * (len(op.outputs) - 1) + [_shape.scalar()]


@register_op("NonMaxSuppressionV4",
             inputs=["boxes: T", "scores: T", "max_output_size: int32", "iou_threshold: T_threshold",
                     "score_threshold: T_threshold"],
             outputs=["selected_indices: int32", "valid_outputs: int32"],
             attrs={"T": ("type", _dt.float32), "T_threshold": ("type", _dt.float32),
                    "pad_to_max_output_size": ("bool", False)},
             allowed=_NMS_TYPES, shape=_nms_padded_shape)
def _nms_v4(boxes, scores, max_output_size, iou_threshold, score_threshold, *, pad_to_max_output_size):
    return _padded(_nms(boxes, scores, max_output_size, iou_threshold, score_threshold)[0], max_output_size,
                   pad_to_max_output_size)


@register_op("NonMaxSuppressionV5",
             inputs=["boxes: T", "scores: T", "max_output_size: int32", "iou_threshold: T", "score_threshold: T",
                     "soft_nms_sigma: T"],
             outputs=["selected_indices: int32", "selected_scores: T", "valid_outputs: int32"],
             attrs={"T": ("type", _dt.float32), "pad_to_max_output_size": ("bool", False)},
             allowed={"T": _HALF_FLOAT}, shape=_nms_padded_shape)
def _nms_v5(boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma, *,
            pad_to_max_output_size):
    if np.ndim(soft_nms_sigma) != 0:
        raise _invalid(f"soft_nms_sigma must be 0-D, got shape {list(np.shape(soft_nms_sigma))}")
    if soft_nms_sigma < 0:
        raise _invalid("soft_nms_sigma must be non-negative")
    indices, kept = _nms(boxes, scores, max_output_size, iou_threshold, score_threshold, float(soft_nms_sigma))
    kept = kept.astype(scores.dtype)
    out, valid = _padded(indices, max_output_size, pad_to_max_output_size)
    return out, _padded(kept, max_output_size, pad_to_max_output_size)[0], valid


@register_op("NonMaxSuppressionWithOverlaps",
             inputs=["overlaps: float32", "scores: float32", "max_output_size: int32", "overlap_threshold: float32",
                     "score_threshold: float32"],
             outputs=["selected_indices: int32"], shape=_nms_shape)
def _nms_overlaps(overlaps, scores, max_output_size, overlap_threshold, score_threshold):
    if overlaps.ndim != 2 or overlaps.shape[0] != overlaps.shape[1]:
        raise _invalid(f"overlaps must be 2-D and square{list(overlaps.shape)}")
    if scores.ndim != 1 or scores.shape[0] != overlaps.shape[0]:
        raise _invalid(f"scores has incompatible shape{list(scores.shape)}")
    if np.ndim(max_output_size) != 0 or np.ndim(overlap_threshold) != 0 or np.ndim(score_threshold) != 0:
        raise _invalid("max_output_size, overlap_threshold and score_threshold must be 0-D")
    return _greedy_suppression(lambda i, j: overlaps[i, j], scores, int(max_output_size), float(overlap_threshold),
                               float(score_threshold))[0]


for _op_type in ("NonMaxSuppression", "NonMaxSuppressionV2", "NonMaxSuppressionV3", "NonMaxSuppressionV4",
                 "NonMaxSuppressionV5", "NonMaxSuppressionWithOverlaps"):
    NotDifferentiable(_op_type)


def _combined_nms_shape(op):
    boxes = [_shape.dimension_value(d) for d in op.inputs[0].shape.with_rank(4)]
    scores = [_shape.dimension_value(d) for d in op.inputs[1].shape.with_rank(3)]
    total = _reg.constant_value(op.inputs[3])
    per_class = _reg.constant_value(op.inputs[2])
    size = None if total is None else int(total)
    if size is not None and op.get_attr("pad_per_class"):
        size = None if per_class is None or scores[2] is None else min(size, int(per_class) * scores[2])
    batch = boxes[0] if boxes[0] is not None else scores[0]
    return [[batch, size, 4], [batch, size], [batch, size], [batch]]


@register_op("CombinedNonMaxSuppression",
             inputs=["boxes: float32", "scores: float32", "max_output_size_per_class: int32",
                     "max_total_size: int32", "iou_threshold: float32", "score_threshold: float32"],
             outputs=["nmsed_boxes: float32", "nmsed_scores: float32", "nmsed_classes: float32",
                      "valid_detections: int32"],
             attrs={"pad_per_class": ("bool", False), "clip_boxes": ("bool", True)}, shape=_combined_nms_shape)
def _combined_nms(boxes, scores, max_output_size_per_class, max_total_size, iou_threshold, score_threshold, *,
                  pad_per_class, clip_boxes):
    """Per image: NMS within each class, then the best `max_total_size` detections over all classes, padded
    with zeros."""
    if boxes.ndim != 4 or boxes.shape[3] != 4:
        raise _invalid(f"boxes must be 4-D [batch, num_boxes, q, 4]: {list(boxes.shape)}")
    if scores.ndim != 3 or scores.shape[:2] != boxes.shape[:2]:
        raise _invalid(f"scores must be 3-D [batch, num_boxes, num_classes] matching boxes: {list(scores.shape)}")
    batch, _, q, _ = boxes.shape
    num_classes = scores.shape[2]
    if q not in (1, num_classes):
        raise _invalid("third dimension of boxes must be either 1 or num_classes")
    per_class, total = int(max_output_size_per_class), int(max_total_size)
    if per_class <= 0 or total <= 0:
        raise _invalid("max_output_size_per_class and max_total_size must be > 0")
    if not 0 <= float(iou_threshold) <= 1:
        raise _invalid("iou_threshold must be in [0, 1]")
    size = min(total, per_class * num_classes) if pad_per_class else total
    out_boxes = np.zeros((batch, size, 4), np.float32)
    out_scores = np.zeros((batch, size), np.float32)
    out_classes = np.zeros((batch, size), np.float32)
    valid = np.zeros(batch, np.int32)
    for b in range(batch):
        found = []
        for c in range(num_classes):
            class_boxes = boxes[b, :, 0 if q == 1 else c]
            kept, kept_scores = _nms(class_boxes, scores[b, :, c], per_class, iou_threshold, score_threshold)
            found += [(float(s), c, i) for i, s in zip(kept.tolist(), kept_scores.tolist())]
        found.sort(key=lambda t: -t[0])
        found = found[:size]
        n = len(found)
        valid[b] = n
        if n:
            out_scores[b, :n] = [f[0] for f in found]
            out_classes[b, :n] = [f[1] for f in found]
            out_boxes[b, :n] = [boxes[b, f[2], 0 if q == 1 else f[1]] for f in found]
    if clip_boxes:
        out_boxes = np.clip(out_boxes, 0, 1)
    return out_boxes, out_scores, out_classes, valid


NotDifferentiable("CombinedNonMaxSuppression")


# ----------------------------------------------------------------------------------------------------------
# ExtractImagePatches
# ----------------------------------------------------------------------------------------------------------
def _patch_geometry(op_or_attrs, height, width):
    """Per spatial axis: (output size, padding before) for the op's ksizes, strides, rates and padding."""
    get = op_or_attrs.get_attr if hasattr(op_or_attrs, "get_attr") else op_or_attrs.__getitem__
    ksizes, strides, rates, padding = get("ksizes"), get("strides"), get("rates"), get("padding")
    padding = padding.decode() if isinstance(padding, bytes) else padding
    rows = nn_ops.window_output(height, ksizes[1], strides[1], rates[1], padding)
    cols = nn_ops.window_output(width, ksizes[2], strides[2], rates[2], padding)
    return rows, cols


def _check_patch_attrs(ksizes, strides, rates) -> None:
    for what, values in (("ksizes", ksizes), ("strides", strides), ("rates", rates)):
        if len(values) != 4:
            raise ValueError(f"{what} must be a list of 4 ints, got {list(values)}")
        if values[0] != 1 or values[3] != 1:
            raise ValueError(f"ExtractImagePatches: {what} in the batch and depth dimensions must be 1, got "
                             f"{list(values)}")


def _extract_patches_shape(op):
    batch, height, width, depth = (_shape.dimension_value(d) for d in op.inputs[0].shape.with_rank(4))
    ksizes = op.get_attr("ksizes")
    _check_patch_attrs(ksizes, op.get_attr("strides"), op.get_attr("rates"))
    (out_h, _, _), (out_w, _, _) = _patch_geometry(op, height, width)
    return [batch, out_h, out_w, None if depth is None else depth * ksizes[1] * ksizes[2]]


@register_op("ExtractImagePatches", inputs=["images: T"], outputs=["patches: T"],
             attrs={"ksizes": ("list(int)", _reg.REQUIRED), "strides": ("list(int)", _reg.REQUIRED),
                    "rates": ("list(int)", _reg.REQUIRED), "padding": ("string", _reg.REQUIRED)},
             allowed={"T": (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64, _dt.int8, _dt.int16, _dt.int32,
                            _dt.int64, _dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64, _dt.complex64,
                            _dt.complex128, _dt.bool_)},
             shape=_extract_patches_shape)
def _extract_image_patches(images, *, ksizes, strides, rates, padding):
    """Each ksizes[1] x ksizes[2] window (dilated by rates, every strides pixels) flattened into the depth
    axis, row by row, channels innermost; SAME windows read zeros outside the image."""
    if images.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(images.shape)}")
    attrs = {"ksizes": ksizes, "strides": strides, "rates": rates, "padding": padding}
    batch, height, width, depth = images.shape
    (out_h, top, bottom), (out_w, left, right) = _patch_geometry(attrs, height, width)
    padded = np.pad(images, [(0, 0), (top, bottom), (left, right), (0, 0)])
    rows = np.arange(out_h)[:, None] * strides[1] + np.arange(ksizes[1])[None, :] * rates[1]
    cols = np.arange(out_w)[:, None] * strides[2] + np.arange(ksizes[2])[None, :] * rates[2]
    patches = padded[:, rows[:, None, :, None], cols[None, :, None, :]]
    return np.ascontiguousarray(patches.reshape(batch, out_h, out_w, ksizes[1] * ksizes[2] * depth))


@RegisterGradient("ExtractImagePatches")
def _extract_image_patches_gradient(op, grad):
    """Adds each patch element's gradient back onto the pixel it was copied from: the patches of an image of
    pixel numbers (1-based, 0 where padding was read) give each element's pixel."""
    images = op.inputs[0]
    shape = array_ops.shape(images, out_type=_dt.int64)
    batch, height, width, depth = array_ops.unstack(shape, 4)
    pixels = height * width
    numbers = array_ops.reshape(array_ops.range(1, pixels + 1, dtype=_dt.int64), array_ops.stack([1, height, width, 1]))
    attrs = {name: op.get_attr(name) for name in ("ksizes", "strides", "rates", "padding")}
    sources = array_ops.reshape(apply_op("ExtractImagePatches", [numbers], attrs).outputs[0], [-1])
    window = op.get_attr("ksizes")[1] * op.get_attr("ksizes")[2]
    # grad [batch, out_h, out_w, window * depth] -> [out_h * out_w * window, batch * depth]
    flat = array_ops.reshape(grad, array_ops.stack([batch, -1, window, depth]))
    flat = array_ops.reshape(array_ops.transpose(flat, [1, 2, 0, 3]), array_ops.stack([-1, batch * depth]))
    summed = math_ops.unsorted_segment_sum(flat, sources, pixels + 1)[1:]
    summed = array_ops.reshape(summed, array_ops.stack([height, width, batch, depth]))
    return [array_ops.transpose(summed, [2, 0, 1, 3])]


# ----------------------------------------------------------------------------------------------------------
# ExtractGlimpse
# ----------------------------------------------------------------------------------------------------------
def _glimpse_shape(op):
    images = op.inputs[0].shape.with_rank(4)
    size = _reg.constant_value(op.inputs[1])
    h, w = (None, None) if size is None else (int(size[0]), int(size[1]))
    return [images[0], h, w, images[3]]


@register_op("ExtractGlimpse", inputs=["input: float32", "size: int32", "offsets: float32"],
             outputs=["glimpse: float32"],
             attrs={"centered": ("bool", True), "normalized": ("bool", True), "uniform_noise": ("bool", True),
                    "noise": ("string", "uniform")},
             shape=_glimpse_shape)
def _extract_glimpse(input, size, offsets, *, centered, normalized, uniform_noise, noise):  # noqa: A002
    """A size[0] x size[1] window of each image around its offset (y, x): in pixels from the top-left, or
    relative to the centre (`centered`, [-1, 1]) and/or as fractions of the image (`normalized`). Positions
    outside the image get noise drawn from the image's range ('uniform'), its mean and spread ('gaussian',
    clipped to the range) or zeros ('zero')."""
    if input.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(input.shape)}")
    if np.shape(size) != (2,):
        raise _invalid(f"size must be a vector of 2 elements, got shape {list(np.shape(size))}")
    if offsets.ndim != 2 or offsets.shape[1] != 2 or offsets.shape[0] != input.shape[0]:
        raise _invalid(f"offsets must be [batch_size, 2], got shape {list(offsets.shape)}")
    noise = noise.decode() if isinstance(noise, bytes) else noise
    if uniform_noise and noise not in ("", "uniform"):
        raise _invalid("The uniform_noise and noise should not be specified at the same time")
    if not noise:
        noise = "uniform" if uniform_noise else "gaussian"
    if noise not in ("uniform", "gaussian", "zero"):
        raise _invalid(f"noise must be 'uniform', 'gaussian' or 'zero', got '{noise}'")
    batch, height, width, depth = input.shape
    out_h, out_w = int(size[0]), int(size[1])
    if out_h <= 0 or out_w <= 0:
        raise _invalid("size must be positive")
    y = offsets[:, 0].astype(np.float32)
    x = offsets[:, 1].astype(np.float32)
    if normalized:
        y, x = y * np.float32(height), x * np.float32(width)
    if centered:
        y, x = y / 2 + np.float32(height / 2), x / 2 + np.float32(width / 2)
    top = np.trunc(y - np.float32(out_h / 2)).astype(np.int64)
    left = np.trunc(x - np.float32(out_w / 2)).astype(np.int64)
    rows = top[:, None] + np.arange(out_h)[None, :]
    cols = left[:, None] + np.arange(out_w)[None, :]
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    b = np.arange(batch)[:, None, None]
    values = input[b, np.clip(rows, 0, height - 1)[:, :, None], np.clip(cols, 0, width - 1)[:, None, :]]
    if noise == "zero" or inside.all():
        fill = np.zeros_like(values)
    else:
        rng = np.random.default_rng()
        low = input.min(axis=(1, 2, 3))[:, None, None, None]
        high = input.max(axis=(1, 2, 3))[:, None, None, None]
        if noise == "uniform":
            fill = low + (high - low) * rng.random(values.shape, dtype=np.float32)
        else:
            mean = input.mean(axis=(1, 2, 3))[:, None, None, None]
            spread = input.std(axis=(1, 2, 3))[:, None, None, None]
            fill = np.clip(mean + spread * rng.standard_normal(values.shape, dtype=np.float32), low, high)
    return np.where(inside[..., None], values, fill).astype(np.float32)


NotDifferentiable("ExtractGlimpse")


# ----------------------------------------------------------------------------------------------------------
# Colour spaces and colour adjustments
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
register_op("HSVToRGB", inputs=["images: T"], outputs=["output: T"], attrs={"T": ("type", _dt.float32)},
            allowed={"T": _COLOUR_TYPES}, shape=_last_dim_3)(_colour_kernel(_hsv_to_rgb_np))
NotDifferentiable("RGBToHSV")
NotDifferentiable("HSVToRGB")


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


def _check_adjust(images, scalar, what: str) -> None:
    if images.ndim < 3:
        raise _invalid(f"input must be at least 3-D, got shape{list(images.shape)}")
    if np.ndim(scalar) != 0:
        raise _invalid(f"{what} must be scalar: {list(np.shape(scalar))}")
    _check_rgb(images)


@register_op("AdjustHue", inputs=["images: T", "delta: float32"], outputs=["output: T"],
             attrs={"T": ("type", _dt.float32)}, allowed={"T": _HALF_FLOAT}, shape=lambda op: op.inputs[0].shape)
def _adjust_hue(images, delta):
    """Rotates the hue of RGB pixels by `delta` (a fraction of the colour wheel)."""
    _check_adjust(images, delta, "delta")
    hue, v_min, v_max = _hue_sectors(images.astype(np.float32, copy=False))
    hue = np.fmod(hue + np.float32(delta) * np.float32(6), np.float32(6))
    hue = np.where(hue < 0, hue + np.float32(6), hue)
    return _sectors_to_rgb(hue, v_min, v_max).astype(images.dtype, copy=False)


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


for _op_type in ("AdjustHue", "AdjustSaturation", "AdjustContrastv2"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# Bounding boxes: DrawBoundingBoxes(V2), SampleDistortedBoundingBox(V2)
# ----------------------------------------------------------------------------------------------------------
_DEFAULT_BOX_COLOURS = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
                                 [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]],
                                dtype=np.float32)


def _draw_boxes(images, boxes, colours):
    if images.ndim != 4:
        raise _invalid(f"The rank of the images should be 4{list(images.shape)}")
    batch, height, width, depth = images.shape
    if depth not in (1, 3, 4):
        raise _invalid("Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA)")
    if boxes.ndim != 3 or boxes.shape[0] != batch or boxes.shape[2] != 4:
        raise _invalid(f"boxes must be of shape [batch, num_boxes, 4]: {list(boxes.shape)}")
    if colours.ndim != 2 or colours.shape[1] < depth or len(colours) == 0:
        raise _invalid(f"colors must be [num_colors, channels] with at least {depth} channels")
    colours = colours.astype(np.float32).copy()
    if depth == 1:
        colours[:, 0] = 1  # boxes on grayscale images are white
    canvas = images.copy()
    for n in range(batch):
        for k in range(boxes.shape[1]):
            colour = colours[k % len(colours), :depth].astype(images.dtype)
            top, left, bottom, right = (int(np.floor(np.float32(boxes[n, k, i]) * np.float32(size - 1)))
                                        for i, size in ((0, height), (1, width), (2, height), (3, width)))
            if top > bottom or left > right:
                continue
            if top >= height or bottom < 0 or left >= width or right < 0:
                continue
            rows = slice(max(top, 0), min(bottom, height - 1) + 1)
            cols = slice(max(left, 0), min(right, width - 1) + 1)
            if top >= 0:
                canvas[n, top, cols] = colour
            if bottom < height:
                canvas[n, bottom, cols] = colour
            if left >= 0:
                canvas[n, rows, left] = colour
            if right < width:
                canvas[n, rows, right] = colour
    return canvas


@register_op("DrawBoundingBoxes", inputs=["images: T", "boxes: float32"], outputs=["output: T"],
             attrs={"T": ("type", _dt.float32)}, allowed={"T": (_dt.float32, _dt.float16)},
             shape=lambda op: op.inputs[0].shape.with_rank(4))
def _draw_bounding_boxes(images, boxes):
    """Draws each box's outline (normalized [y_min, x_min, y_max, x_max]) in a colour from TF's table."""
    return _draw_boxes(images, boxes, _DEFAULT_BOX_COLOURS)


@register_op("DrawBoundingBoxesV2", inputs=["images: T", "boxes: float32", "colors: float32"],
             outputs=["output: T"], attrs={"T": ("type", _dt.float32)}, allowed={"T": (_dt.float32, _dt.float16)},
             shape=lambda op: op.inputs[0].shape.with_rank(4))
def _draw_bounding_boxes_v2(images, boxes, colors):
    """DrawBoundingBoxes with the colours given (box k gets colors[k % len(colors)]); none: TF's table."""
    return _draw_boxes(images, boxes, colors if np.size(colors) else _DEFAULT_BOX_COLOURS)


NotDifferentiable("DrawBoundingBoxes")
NotDifferentiable("DrawBoundingBoxesV2")


def _random_crop_rect(gen, height: int, width: int, aspect_ratio: float, min_area: float, max_area: float):
    """One draw of TF's GenerateRandomCrop: a (y, x, h, w) rectangle of about the given aspect ratio whose
    area lies in [min_area, max_area], or None when no such rectangle fits."""
    crop_h = int(np.rint(np.sqrt(min_area / aspect_ratio)))
    max_h = int(np.rint(np.sqrt(max_area / aspect_ratio)))
    if np.rint(max_h * aspect_ratio) > width:
        max_h = int((width + 0.5 - 1e-7) / aspect_ratio)
        if np.rint(max_h * aspect_ratio) > width:
            max_h -= 1
    max_h = min(max_h, height)
    crop_h = min(crop_h, max_h)
    if crop_h < max_h:
        crop_h += int(gen.integers(0, max_h - crop_h + 1))
    crop_w = int(np.rint(crop_h * aspect_ratio))
    area = crop_w * crop_h
    if area < min_area:
        crop_h += 1
        crop_w = int(np.rint(crop_h * aspect_ratio))
        area = crop_w * crop_h
    if area > max_area:
        crop_h -= 1
        crop_w = int(np.rint(crop_h * aspect_ratio))
        area = crop_w * crop_h
    if area < min_area or area > max_area or crop_w > width or crop_h > height or crop_w <= 0 or crop_h <= 0:
        return None
    y = int(gen.integers(0, height - crop_h + 1))
    x = int(gen.integers(0, width - crop_w + 1))
    return y, x, crop_h, crop_w


def _covers(rect, boxes: np.ndarray, min_covered: float) -> bool:
    """Whether the rectangle covers at least `min_covered` of some box's area (pixel boxes [y0, x0, y1, x1])."""
    y, x, h, w = rect
    ih = np.minimum(y + h, boxes[:, 2]) - np.maximum(y, boxes[:, 0])
    iw = np.minimum(x + w, boxes[:, 3]) - np.maximum(x, boxes[:, 1])
    inter = np.where((ih > 0) & (iw > 0), ih * iw, 0)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return bool(np.any((area > 0) & (inter / area >= min_covered)))


def _sample_box_factory(op, ctx):
    seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
    gen = ctx.generator(op, None if seed == 0 and seed2 == 0 else [seed, seed2])
    aspect_range = [float(a) for a in op.get_attr("aspect_ratio_range")]
    area_range = [float(a) for a in op.get_attr("area_range")]
    attempts = op.get_attr("max_attempts")
    use_image = op.get_attr("use_image_if_no_bounding_boxes")
    fixed_cover = op.get_attr("min_object_covered") if op.type == "SampleDistortedBoundingBox" else None

    def kernel(image_size, bounding_boxes, min_object_covered=None):
        covered = float(fixed_cover if min_object_covered is None else min_object_covered)
        if np.ndim(image_size) != 1 or np.size(image_size) != 3:
            raise _invalid(f"image_size must be 1-dimensional with 3 elements, got shape "
                           f"{list(np.shape(image_size))}")
        if bounding_boxes.ndim != 3 or bounding_boxes.shape[-1] != 4:
            raise _invalid(f"input boxes must be 3-dimensional [batch, num_boxes, coords]: "
                           f"{list(bounding_boxes.shape)}")
        if covered < 0:
            raise _invalid(f"min_object_covered must be non-negative: {covered}")
        if len(aspect_range) != 2 or min(aspect_range) <= 0:
            raise _invalid("aspect_ratio_range must have two positive elements")
        if len(area_range) != 2 or not 0 < area_range[0] <= area_range[1] <= 1:
            raise _invalid("area_range must be in (0, 1] with area_range[0] <= area_range[1]")
        height, width = int(image_size[0]), int(image_size[1])
        if height <= 0 or width <= 0:
            raise _invalid(f"image height and width must be positive, got {height} and {width}")
        boxes = bounding_boxes.reshape(-1, 4).astype(np.float64)
        if len(boxes) == 0:
            if not use_image:
                raise _invalid("No bounding boxes provided as input. One must enable "
                               "use_image_if_no_bounding_boxes if you wish to not provide any bounding boxes.")
            boxes = np.array([[0.0, 0.0, 1.0, 1.0]])
        if np.any((boxes < 0) | (boxes > 1)) or np.any(boxes[:, 0:2] >= boxes[:, 2:4]):
            raise _invalid("All bounding box coordinates must be in [0.0, 1.0] and min < max.")
        pixel_boxes = boxes * np.array([height, width, height, width])
        rect = (0, 0, height, width)
        for _ in range(attempts):
            aspect = gen.uniform(aspect_range[0], aspect_range[1])
            found = _random_crop_rect(gen, height, width, aspect, area_range[0] * height * width,
                                      area_range[1] * height * width)
            if found is not None and _covers(found, pixel_boxes, covered):
                rect = found
                break
        y, x, h, w = rect
        t = image_size.dtype
        bbox = np.array([[[y / height, x / width, (y + h) / height, (x + w) / width]]], dtype=np.float32)
        return np.array([y, x, 0], dtype=t), np.array([h, w, -1], dtype=t), bbox

    return kernel


def _sample_box_shape(op):
    op.inputs[0].shape.with_rank(1)
    op.inputs[1].shape.with_rank(3)
    return [_shape.vector(3), _shape.vector(3), _shape.TensorShape([1, 1, 4])]


_SAMPLE_ATTRS = {**_SEED_ATTRS, "aspect_ratio_range": ("list(float)", [0.75, 1.33]),
                 "area_range": ("list(float)", [0.05, 1.0]), "max_attempts": ("int", 100),
                 "use_image_if_no_bounding_boxes": ("bool", False)}
_SAMPLE_TYPES = {"T": (_dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64)}
register_op("SampleDistortedBoundingBox", inputs=["image_size: T", "bounding_boxes: float32"],
            outputs=["begin: T", "size: T", "bboxes: float32"],
            attrs={**_SAMPLE_ATTRS, "min_object_covered": ("float", 0.1)}, allowed=_SAMPLE_TYPES,
            shape=_sample_box_shape, stateful=True, factory=_sample_box_factory,
            doc="A random crop of an image covering enough of one of the given boxes.")
register_op("SampleDistortedBoundingBoxV2",
            inputs=["image_size: T", "bounding_boxes: float32", "min_object_covered: float32"],
            outputs=["begin: T", "size: T", "bboxes: float32"], attrs=dict(_SAMPLE_ATTRS), allowed=_SAMPLE_TYPES,
            shape=_sample_box_shape, stateful=True, factory=_sample_box_factory,
            doc="SampleDistortedBoundingBox with min_object_covered as an input.")
NotDifferentiable("SampleDistortedBoundingBox")
NotDifferentiable("SampleDistortedBoundingBoxV2")


# ----------------------------------------------------------------------------------------------------------
# Python API: shape checks shared by the image functions
# ----------------------------------------------------------------------------------------------------------
def _is_tensor(x) -> bool:
    return isinstance(x, _ops.Tensor)


def _assert(cond, exc_type, message: str) -> list:
    """A run-time Assert when `cond` is a tensor; otherwise raise `exc_type` now if it is false."""
    if _is_tensor(cond):
        return [control_flow_ops.Assert(cond, [message])]
    if not cond:
        raise exc_type(message)
    return []


def _with_checks(checks: list, image: _ops.Tensor) -> _ops.Tensor:
    return control_flow_ops.with_dependencies(checks, image) if checks else image


def _dimensions(image: _ops.Tensor, rank: int) -> list:
    """Each dimension of `image`: a Python int where it is known statically, else a scalar tensor."""
    static = image.shape.with_rank(rank).as_list()
    if all(d is not None for d in static):
        return static
    dynamic = array_ops.unstack(array_ops.shape(image), rank)
    return [s if s is not None else d for s, d in zip(static, dynamic)]


def _check_at_least_3d(image: _ops.Tensor, require_static: bool = True) -> list:
    """TF's checks that `image` is an image: rank >= 3 and no empty dimension among the last three."""
    shape = image.shape
    if shape.ndims is None:
        if require_static:
            raise ValueError(f"'image' ({image.name}) must be fully defined.")
        return []
    if shape.ndims < 3:
        raise ValueError(f"'image' (shape {shape}) must be at least three-dimensional.")
    last = shape.as_list()[-3:]
    if require_static and any(d is None for d in last):
        raise ValueError(f"'image' (shape {shape}) must be fully defined.")
    if any(d == 0 for d in last):
        raise ValueError(f"all dims of 'image.shape' must be > 0: {shape}")
    if any(d is None for d in last):
        dims = array_ops.shape(image)[-3:]
        return [control_flow_ops.Assert(math_ops.reduce_all(math_ops.greater(dims, 0)),
                                        ["all dims of 'image.shape' must be > 0."])]
    return []


def _as_batch(image: _ops.Tensor) -> tuple[_ops.Tensor, bool]:
    """`image` as a 4-D batch, and whether it was one already (rank 3 gets a batch dimension)."""
    ndims = image.shape.ndims
    if ndims == 3:
        return array_ops.expand_dims(image, 0), False
    if ndims is None:
        image = array_ops.expand_dims(image, 0)
        image.set_shape([None] * 4)
        return image, False
    if ndims != 4:
        raise ValueError("'image' must have either 3 or 4 dimensions.")
    return image, True


def _unbatch(image: _ops.Tensor, is_batch: bool) -> _ops.Tensor:
    return image if is_batch else array_ops.squeeze(image, axis=[0])


def _int_vector(values) -> _ops.Tensor:
    """A 1-D int32 tensor of ints and scalar tensors."""
    if not any(_is_tensor(v) for v in values):
        return _ops.convert_to_tensor(np.asarray(values, dtype=np.int32))
    return array_ops.stack([math_ops.cast(v, _dt.int32) if _is_tensor(v) else
                            _ops.convert_to_tensor(np.int32(v)) for v in values])


def _static_or_none(values) -> list:
    return [None if _is_tensor(v) else v for v in values]


# ----------------------------------------------------------------------------------------------------------
# Python API: resizing
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


def _resize_op(op_type: str, images, size, align_corners, half_pixel_centers, name) -> _ops.Tensor:
    attrs = {"align_corners": bool(align_corners)}
    if op_type != "ResizeArea":
        attrs["half_pixel_centers"] = bool(half_pixel_centers)
    return apply_op(op_type, [images, size], attrs, name=name).outputs[0]


@tf_export("image.resize_bilinear")
def resize_bilinear(images, size, align_corners: bool = False, name=None,
                    half_pixel_centers: bool = False) -> _ops.Tensor:
    """Resizes a batch of images [batch, height, width, channels] to `size` by bilinear interpolation
    (float32 result)."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


@tf_export("image.resize_nearest_neighbor")
def resize_nearest_neighbor(images, size, align_corners: bool = False, name=None,
                            half_pixel_centers: bool = False) -> _ops.Tensor:
    """Resizes a batch of images to `size` by copying the nearest pixel (keeps the dtype)."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers, name)


@tf_export("image.resize_bicubic")
def resize_bicubic(images, size, align_corners: bool = False, name=None,
                   half_pixel_centers: bool = False) -> _ops.Tensor:
    """Resizes a batch of images to `size` by bicubic interpolation (float32 result)."""
    return _resize_op("ResizeBicubic", images, size, align_corners, half_pixel_centers, name)


@tf_export("image.resize_area")
def resize_area(images, size, align_corners: bool = False, name=None) -> _ops.Tensor:
    """Resizes a batch of images to `size` by area averaging (float32 result)."""
    return _resize_op("ResizeArea", images, size, align_corners, False, name)


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
        image = _ops.convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = _check_at_least_3d(image, require_static=False)
        checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        image = _with_checks(checks, image)
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


@tf_export("image.resize_image_with_crop_or_pad", "image.resize_with_crop_or_pad")
def resize_image_with_crop_or_pad(image, target_height, target_width) -> _ops.Tensor:
    """Centre-crops and/or zero-pads `image` to [target_height, target_width]."""
    with _ops.name_scope(None, "resize_image_with_crop_or_pad", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = _check_at_least_3d(image, require_static=False)
        checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        image = _with_checks(checks, image)
        _, height, width, _ = _dimensions(image, 4)

        def halves(target, size):
            diff = target - size
            if _is_tensor(diff):
                return math_ops.maximum(-diff // 2, 0), math_ops.maximum(diff // 2, 0), math_ops.minimum(target, size)
            return max(-diff // 2, 0), max(diff // 2, 0), min(target, size)

        crop_h, pad_h, keep_h = halves(target_height, height)
        crop_w, pad_w, keep_w = halves(target_width, width)
        cropped = crop_to_bounding_box(image, crop_h, crop_w, keep_h, keep_w)
        resized = pad_to_bounding_box(cropped, pad_h, pad_w, target_height, target_width)
        resized.set_shape(_static_or_none([None, target_height, target_width, None]))
        return _unbatch(resized, is_batch)


# ----------------------------------------------------------------------------------------------------------
# Python API: crop, pad, flip, rotate
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.crop_to_bounding_box")
def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> _ops.Tensor:
    """The [target_height, target_width] window of `image` whose top-left corner is at the offsets."""
    with _ops.name_scope(None, "crop_to_bounding_box", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = _check_at_least_3d(image, require_static=False)
        batch, height, width, depth = _dimensions(image, 4)
        checks += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0.")
        checks += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0.")
        checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        checks += _assert(width >= target_width + offset_width, ValueError, "width must be >= target + offset.")
        checks += _assert(height >= target_height + offset_height, ValueError, "height must be >= target + offset.")
        image = _with_checks(checks, image)
        cropped = array_ops.slice(image, _int_vector([0, offset_height, offset_width, 0]),
                                  _int_vector([-1, target_height, target_width, -1]))
        cropped.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        return _unbatch(cropped, is_batch)


@tf_export("image.pad_to_bounding_box")
def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> _ops.Tensor:
    """`image` placed at the offsets in a zero canvas of [target_height, target_width]."""
    with _ops.name_scope(None, "pad_to_bounding_box", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = _check_at_least_3d(image, require_static=False)
        batch, height, width, depth = _dimensions(image, 4)
        after_w = target_width - offset_width - width
        after_h = target_height - offset_height - height
        checks += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0")
        checks += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0")
        checks += _assert(after_w >= 0, ValueError, "width must be <= target - offset")
        checks += _assert(after_h >= 0, ValueError, "height must be <= target - offset")
        image = _with_checks(checks, image)
        paddings = array_ops.reshape(_int_vector([0, 0, offset_height, after_h, offset_width, after_w, 0, 0]),
                                     [4, 2])
        padded = array_ops.pad(image, paddings)
        padded.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        return _unbatch(padded, is_batch)


@tf_export("image.central_crop")
def central_crop(image, central_fraction) -> _ops.Tensor:
    """The central `central_fraction` (in (0, 1]) of `image` along height and width."""
    with _ops.name_scope(None, "central_crop", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        if central_fraction <= 0.0 or central_fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if central_fraction == 1.0:
            return image
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError(f"`image` should either be a Tensor with rank = 3 or rank = 4. Had rank = {rank}.")
        image = _with_checks(_check_at_least_3d(image, require_static=False), image)
        dims = _dimensions(image, rank)
        height, width = dims[-3], dims[-2]

        def start_and_size(size):
            if _is_tensor(size):
                f = math_ops.cast(size, _dt.float64)
                start = math_ops.cast((f - f * central_fraction) / 2, _dt.int32)
                return start, math_ops.cast(size, _dt.int32) - start * 2
            start = int((size - size * central_fraction) / 2)
            return start, size - start * 2

        h0, hs = start_and_size(height)
        w0, ws = start_and_size(width)
        begin = [h0, w0, 0] if rank == 3 else [0, h0, w0, 0]
        size = [hs, ws, -1] if rank == 3 else [-1, hs, ws, -1]
        cropped = array_ops.slice(image, _int_vector(begin), _int_vector(size))
        static = [d if not _is_tensor(d) else None for d in dims]
        static[-3:-1] = _static_or_none([hs, ws])
        cropped.set_shape(static)
        return cropped


def _image_axes(image) -> tuple[_ops.Tensor, int]:
    """`image` checked to be 3-D or 4-D, and the offset of its height axis (0 or 1)."""
    image = _ops.convert_to_tensor(image, name="image")
    checks = _check_at_least_3d(image, require_static=False)
    image = _with_checks(checks, image)
    ndims = image.shape.ndims
    if ndims is None or ndims == 3:
        return image, 0
    if ndims == 4:
        return image, 1
    raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")


@tf_export("image.flip_left_right")
def flip_left_right(image) -> _ops.Tensor:
    """Reverses the width axis of an image or a batch of images."""
    with _ops.name_scope(None, "flip_left_right", [image]):
        image, first = _image_axes(image)
        return array_ops.reverse(image, [first + 1])


@tf_export("image.flip_up_down")
def flip_up_down(image) -> _ops.Tensor:
    """Reverses the height axis of an image or a batch of images."""
    with _ops.name_scope(None, "flip_up_down", [image]):
        image, first = _image_axes(image)
        return array_ops.reverse(image, [first])


def _random_flip(image, axis_offset: int, seed, scope_name: str) -> _ops.Tensor:
    with _ops.name_scope(None, scope_name, [image]) as scope:
        image, first = _image_axes(image)
        axis = first + axis_offset
        if first == 0:
            draw = random_ops.random_uniform([], 0, 1.0, seed=seed)
            return control_flow_ops.cond(math_ops.less(draw, 0.5), lambda: array_ops.reverse(image, [axis]),
                                         lambda: image, name=scope)
        batch = array_ops.shape(image)[0]
        draw = random_ops.random_uniform(array_ops.reshape(batch, [1]), 0, 1.0, seed=seed)
        flips = math_ops.cast(math_ops.round(array_ops.reshape(draw, array_ops.stack([batch, 1, 1, 1]))),
                              image.dtype)
        return flips * array_ops.reverse(image, [axis]) + (1 - flips) * image


@tf_export("image.random_flip_left_right")
def random_flip_left_right(image, seed=None) -> _ops.Tensor:
    """Flips an image (or each image of a batch) left to right with probability 1/2."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


@tf_export("image.random_flip_up_down")
def random_flip_up_down(image, seed=None) -> _ops.Tensor:
    """Flips an image (or each image of a batch) upside down with probability 1/2."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


@tf_export("image.rot90")
def rot90(image, k=1, name=None) -> _ops.Tensor:
    """Rotates an image (or each image of a batch) by k quarter turns counter-clockwise."""
    with _ops.name_scope(name, "rot90", [image, k]) as scope:
        image, first = _image_axes(image)
        h, w = first, first + 1
        perm = list(range(image.shape.ndims or 3))
        perm[h], perm[w] = perm[w], perm[h]
        turns = [lambda: image,
                 lambda: array_ops.transpose(array_ops.reverse(image, [w]), perm),
                 lambda: array_ops.reverse(image, [h, w]),
                 lambda: array_ops.reverse(array_ops.transpose(image, perm), [w])]
        if not _is_tensor(k):
            out = turns[int(k) % 4]()
            return array_ops.identity(out, name=scope)
        k = math_ops.floormod(_ops.convert_to_tensor(k, dtype=_dt.int32, name="k"), 4)
        out = control_flow_ops.case([(math_ops.equal(k, i), fn) for i, fn in enumerate(turns[1:], 1)],
                                    default=turns[0], exclusive=True, name=scope)
        if image.shape.ndims is not None:
            out.set_shape([None] * image.shape.ndims)
        return out


@tf_export("image.transpose_image", "image.transpose")
def transpose_image(image, name=None) -> _ops.Tensor:
    """Swaps the height and width axes of an image or a batch of images."""
    with _ops.name_scope(name, "transpose", [image]):
        image, first = _image_axes(image)
        return array_ops.transpose(image, [1, 0, 2] if first == 0 else [0, 2, 1, 3])


# ----------------------------------------------------------------------------------------------------------
# Python API: dtypes, standardization and colour adjustments
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


@tf_export("image.per_image_standardization")
def per_image_standardization(image) -> _ops.Tensor:
    """(image - mean) / max(stddev, 1/sqrt(num_pixels)) per image, in float32 (TF 1.15's rule)."""
    with _ops.name_scope(None, "per_image_standardization", [image]) as scope:
        image = _ops.convert_to_tensor(image, name="image")
        image = _with_checks(_check_at_least_3d(image, require_static=False), image)
        num_pixels = math_ops.reduce_prod(array_ops.shape(image)[-3:])
        image = math_ops.cast(image, _dt.float32)
        mean = math_ops.reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        variance = math_ops.reduce_mean(math_ops.square(image), axis=[-1, -2, -3], keepdims=True) \
            - math_ops.square(mean)
        stddev = math_ops.sqrt(math_ops.maximum(variance, 0.0))
        min_stddev = math_ops.rsqrt(math_ops.cast(num_pixels, _dt.float32))
        scale = math_ops.maximum(stddev, min_stddev)
        return math_ops.truediv(math_ops.subtract(image, mean), scale, name=scope)


@tf_export("image.adjust_brightness")
def adjust_brightness(image, delta) -> _ops.Tensor:
    """Adds `delta` to every channel (in the [0, 1] float scale for integer images, saturating back)."""
    return _adjusted(image, None, "adjust_brightness", [delta], lambda f: math_ops.add(
        f, math_ops.cast(delta, f.dtype), name="adjust_brightness"))


@tf_export("image.adjust_contrast")
def adjust_contrast(images, contrast_factor) -> _ops.Tensor:
    """(x - mean) * contrast_factor + mean for each channel of each image."""
    return _adjusted(images, None, "adjust_contrast", [contrast_factor], lambda f: apply_op(
        "AdjustContrastv2", [f, math_ops.cast(contrast_factor, _dt.float32)]).outputs[0])


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


@tf_export("image.adjust_hue")
def adjust_hue(image, delta, name=None) -> _ops.Tensor:
    """Rotates the hue of RGB images by `delta` (in [-1, 1], a fraction of the colour wheel)."""
    return _adjusted(image, name, "adjust_hue", [delta], lambda f: apply_op(
        "AdjustHue", [f, math_ops.cast(delta, _dt.float32)]).outputs[0])


@tf_export("image.adjust_saturation")
def adjust_saturation(image, saturation_factor, name=None) -> _ops.Tensor:
    """Multiplies the HSV saturation of RGB images by `saturation_factor` (clipped to [0, 1])."""
    return _adjusted(image, name, "adjust_saturation", [saturation_factor], lambda f: apply_op(
        "AdjustSaturation", [f, math_ops.cast(saturation_factor, _dt.float32)]).outputs[0])


def _check_range(lower, upper) -> None:
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


@tf_export("image.random_brightness")
def random_brightness(image, max_delta, seed=None) -> _ops.Tensor:
    """adjust_brightness by a delta drawn uniformly from [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


@tf_export("image.random_contrast")
def random_contrast(image, lower, upper, seed=None) -> _ops.Tensor:
    """adjust_contrast by a factor drawn uniformly from [lower, upper)."""
    _check_range(lower, upper)
    factor = random_ops.random_uniform([], lower, upper, seed=seed)
    return adjust_contrast(image, factor)


@tf_export("image.random_hue")
def random_hue(image, max_delta, seed=None) -> _ops.Tensor:
    """adjust_hue by a delta drawn uniformly from [-max_delta, max_delta); max_delta must be in [0, 0.5]."""
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_hue(image, delta)


@tf_export("image.random_saturation")
def random_saturation(image, lower, upper, seed=None) -> _ops.Tensor:
    """adjust_saturation by a factor drawn uniformly from [lower, upper)."""
    _check_range(lower, upper)
    factor = random_ops.random_uniform([], lower, upper, seed=seed)
    return adjust_saturation(image, factor)


# ----------------------------------------------------------------------------------------------------------
# Python API: colour spaces
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


@tf_export("image.rgb_to_hsv")
def rgb_to_hsv(images, name=None) -> _ops.Tensor:
    """RGB to HSV, all channels in [0, 1] (float images)."""
    return apply_op("RGBToHSV", [images], name=name).outputs[0]


@tf_export("image.hsv_to_rgb")
def hsv_to_rgb(images, name=None) -> _ops.Tensor:
    """HSV to RGB, all channels in [0, 1] (float images)."""
    return apply_op("HSVToRGB", [images], name=name).outputs[0]


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


# ----------------------------------------------------------------------------------------------------------
# Python API: boxes
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.crop_and_resize")
def crop_and_resize(image, boxes, box_ind=None, crop_size=None, method: str = "bilinear",
                    extrapolation_value=0, name=None, box_indices=None) -> _ops.Tensor:
    """Crops each box (normalized [y1, x1, y2, x2]) out of image[box_ind] and resizes it to crop_size."""
    if box_indices is not None:
        if box_ind is not None:
            raise ValueError("Cannot specify both 'box_ind' and 'box_indices'.")
        box_ind = box_indices
    if box_ind is None or crop_size is None:
        raise TypeError("crop_and_resize() missing required arguments: 'box_ind' and 'crop_size'")
    return apply_op("CropAndResize", [image, boxes, box_ind, crop_size],
                    {"method": method, "extrapolation_value": float(extrapolation_value)}, name=name).outputs[0]


@tf_export("image.draw_bounding_boxes")
def draw_bounding_boxes(images, boxes, name=None, colors=None) -> _ops.Tensor:
    """Draws the outlines of `boxes` ([batch, num_boxes, 4], normalized) on float `images`."""
    if colors is None:
        return apply_op("DrawBoundingBoxes", [images, boxes], name=name).outputs[0]
    return apply_op("DrawBoundingBoxesV2", [images, boxes, colors], name=name).outputs[0]


@tf_export("image.sample_distorted_bounding_box")
def sample_distorted_bounding_box(image_size, bounding_boxes, seed=None, seed2=None, min_object_covered=0.1,
                                  aspect_ratio_range=None, area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name=None):
    """A random crop (begin, size, bboxes) of an image of `image_size` that covers at least
    `min_object_covered` of one of `bounding_boxes`. As in TF 1.x, `seed` and `seed2` go to the op as they are
    (the graph seed plays no part): both unset or 0 draw differently in every session."""
    attrs = {"seed": int(seed or 0), "seed2": int(seed2 or 0)}
    if aspect_ratio_range is not None:
        attrs["aspect_ratio_range"] = [float(a) for a in aspect_ratio_range]
    if area_range is not None:
        attrs["area_range"] = [float(a) for a in area_range]
    if max_attempts is not None:
        attrs["max_attempts"] = int(max_attempts)
    if use_image_if_no_bounding_boxes is not None:
        attrs["use_image_if_no_bounding_boxes"] = bool(use_image_if_no_bounding_boxes)
    with _ops.name_scope(name, "sample_distorted_bounding_box", [image_size, bounding_boxes]):
        covered = _ops.convert_to_tensor(min_object_covered, _dt.float32, name="min_object_covered")
        return tuple(apply_op("SampleDistortedBoundingBoxV2", [image_size, bounding_boxes, covered],
                              attrs).outputs)


def _nms_args(iou_threshold, score_threshold, dtype=_dt.float32):
    return (_ops.convert_to_tensor(iou_threshold, dtype, name="iou_threshold"),
            _ops.convert_to_tensor(score_threshold, dtype, name="score_threshold"))


@tf_export("image.non_max_suppression")
def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                        name=None) -> _ops.Tensor:
    """Indices of the boxes greedily kept in order of decreasing score, dropping any box whose IoU with a
    kept one exceeds `iou_threshold` and any scoring no more than `score_threshold`."""
    with _ops.name_scope(name, "non_max_suppression"):
        iou, score = _nms_args(iou_threshold, score_threshold)
        return apply_op("NonMaxSuppressionV3", [boxes, scores, max_output_size, iou, score]).outputs[0]


@tf_export("image.non_max_suppression_with_scores")
def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0, name=None):
    """non_max_suppression that also returns the kept boxes' scores; with `soft_nms_sigma` > 0 overlapping
    boxes are down-weighted by exp(-iou^2 / (2 sigma)) instead of removed (Soft-NMS)."""
    with _ops.name_scope(name, "non_max_suppression_with_scores"):
        iou, score = _nms_args(iou_threshold, score_threshold)
        sigma = _ops.convert_to_tensor(soft_nms_sigma, _dt.float32, name="soft_nms_sigma")
        out = apply_op("NonMaxSuppressionV5", [boxes, scores, max_output_size, iou, score, sigma],
                       {"pad_to_max_output_size": False}).outputs
        return out[0], out[1]


@tf_export("image.non_max_suppression_padded")
def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                               pad_to_max_output_size: bool = False, name=None):
    """non_max_suppression returning (selected_indices, valid_outputs); with `pad_to_max_output_size` the
    indices are zero-padded to max_output_size."""
    with _ops.name_scope(name, "non_max_suppression_padded"):
        iou, score = _nms_args(iou_threshold, score_threshold)
        out = apply_op("NonMaxSuppressionV4", [boxes, scores, max_output_size, iou, score],
                       {"pad_to_max_output_size": bool(pad_to_max_output_size)}).outputs
        return out[0], out[1]


@tf_export("image.non_max_suppression_overlaps")
def non_max_suppression_overlaps(overlaps, scores, max_output_size, overlap_threshold=0.5,
                                 score_threshold=float("-inf"), name=None) -> _ops.Tensor:
    """non_max_suppression with the pairwise overlaps given as an [n, n] matrix instead of boxes."""
    with _ops.name_scope(name, "non_max_suppression_overlaps"):
        threshold, score = _nms_args(overlap_threshold, score_threshold)
        return apply_op("NonMaxSuppressionWithOverlaps",
                        [overlaps, scores, max_output_size, threshold, score]).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Python API: image statistics
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.total_variation")
def total_variation(images, name=None) -> _ops.Tensor:
    """Sum of absolute differences between neighbouring pixels (per image for a batch)."""
    with _ops.name_scope(name, "total_variation"):
        images = _ops.convert_to_tensor(images, name="images")
        ndims = images.shape.ndims
        if ndims == 3:
            dy = images[1:, :, :] - images[:-1, :, :]
            dx = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        elif ndims == 4:
            dy = images[:, 1:, :, :] - images[:, :-1, :, :]
            dx = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return math_ops.reduce_sum(math_ops.abs(dy), axis=axis) + math_ops.reduce_sum(math_ops.abs(dx), axis=axis)


@tf_export("image.image_gradients")
def image_gradients(image):
    """Forward differences (dy, dx) of a [batch, height, width, depth] image, zero in the last row/column."""
    image = _ops.convert_to_tensor(image, name="image")
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not {image.shape}.")
    shape = array_ops.shape(image)
    batch, height, width, depth = array_ops.unstack(shape, 4)
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = array_ops.concat([dy, array_ops.zeros(array_ops.stack([batch, 1, width, depth]), image.dtype)], 1)
    dx = array_ops.concat([dx, array_ops.zeros(array_ops.stack([batch, height, 1, depth]), image.dtype)], 2)
    return array_ops.reshape(dy, shape), array_ops.reshape(dx, shape)


@tf_export("image.sobel_edges")
def sobel_edges(image) -> _ops.Tensor:
    """The vertical and horizontal Sobel responses of each channel, [batch, h, w, depth, 2] (edges reflected)."""
    image = _ops.convert_to_tensor(image, name="image")
    static = image.shape
    kernels = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])
    kernels = np.expand_dims(np.transpose(kernels, (1, 2, 0)), -2)
    shape = array_ops.shape(image)
    filters = array_ops.tile(_ops.convert_to_tensor(kernels.astype(image.dtype.base_dtype.as_numpy_dtype)),
                             array_ops.stack([1, 1, shape[-1], 1]))
    padded = array_ops.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = depthwise_conv_ops.depthwise_conv2d(padded, filters, [1, 1, 1, 1], "VALID")
    out = array_ops.reshape(out, array_ops.concat([shape, [2]], 0))
    out.set_shape(static.concatenate([2]))
    return out


@tf_export("image.psnr")
def psnr(a, b, max_val, name=None) -> _ops.Tensor:
    """Peak signal-to-noise ratio (dB) between images `a` and `b` whose values span [0, max_val]."""
    with _ops.name_scope(name, "PSNR", [a, b]):
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")
        max_val = convert_image_dtype(math_ops.cast(max_val, a.dtype), _dt.float32)
        a = convert_image_dtype(a, _dt.float32)
        b = convert_image_dtype(b, _dt.float32)
        _check_same_image_shapes(a, b)
        mse = math_ops.reduce_mean(math_ops.squared_difference(a, b), [-3, -2, -1])
        return math_ops.subtract(20 * math_ops.log(max_val) / np.log(10.0).astype(np.float32),
                                 np.float32(10 / np.log(10)) * math_ops.log(mse), name="psnr")


def _check_same_image_shapes(a: _ops.Tensor, b: _ops.Tensor) -> None:
    sa, sb = a.shape.with_rank_at_least(3), b.shape.with_rank_at_least(3)
    if not sa[-3:].is_compatible_with(sb[-3:]):
        raise ValueError(f"Shapes must be compatible: {sa} and {sb}")


@tf_export("image.combined_non_max_suppression")
def combined_non_max_suppression(boxes, scores, max_output_size_per_class, max_total_size, iou_threshold=0.5,
                                 score_threshold=float("-inf"), pad_per_class: bool = False,
                                 clip_boxes: bool = True, name=None):
    """Per image of a batch: non-max suppression within each class, then the `max_total_size` best detections
    of all classes. Returns (nmsed_boxes, nmsed_scores, nmsed_classes, valid_detections)."""
    with _ops.name_scope(name, "combined_non_max_suppression"):
        iou, score = _nms_args(iou_threshold, score_threshold)
        per_class = _ops.convert_to_tensor(max_output_size_per_class, _dt.int32, name="max_output_size_per_class")
        total = _ops.convert_to_tensor(max_total_size, _dt.int32, name="max_total_size")
        return tuple(apply_op("CombinedNonMaxSuppression", [boxes, scores, per_class, total, iou, score],
                              {"pad_per_class": bool(pad_per_class), "clip_boxes": bool(clip_boxes)}).outputs)


# ----------------------------------------------------------------------------------------------------------
# Python API: patches and structural similarity
# ----------------------------------------------------------------------------------------------------------
def _patches(images, sizes, strides, rates, padding, name) -> _ops.Tensor:
    sizes, strides, rates = (list(int(v) for v in x) for x in (sizes, strides, rates))
    _check_patch_attrs(sizes, strides, rates)
    return apply_op("ExtractImagePatches", [images], {"ksizes": sizes, "strides": strides, "rates": rates,
                                                      "padding": padding}, name=name).outputs[0]


@tf_export("image.extract_image_patches", "extract_image_patches")
def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None, name=None,
                          sizes=None) -> _ops.Tensor:
    """The patches of `images` ([batch, h, w, d]) of size ksizes (or `sizes`), flattened into the depth axis."""
    if sizes is not None:
        if ksizes is not None:
            raise ValueError("Cannot specify both 'ksizes' and 'sizes'.")
        ksizes = sizes
    if ksizes is None or strides is None or rates is None or padding is None:
        raise TypeError("extract_image_patches() needs ksizes (or sizes), strides, rates and padding")
    return _patches(images, ksizes, strides, rates, padding, name)


@tf_export("image.extract_patches")
def extract_patches(images, sizes, strides, rates, padding, name=None) -> _ops.Tensor:
    """extract_image_patches with the window size named `sizes`."""
    return _patches(images, sizes, strides, rates, padding, name)


def _gaussian_window(size: _ops.Tensor, sigma: _ops.Tensor) -> _ops.Tensor:
    """A [size, size, 1, 1] Gaussian filter summing to 1."""
    coords = math_ops.cast(array_ops.range(size), sigma.dtype)
    coords -= math_ops.cast(size - 1, sigma.dtype) / 2.0
    g = math_ops.square(coords) * (-0.5 / math_ops.square(sigma))
    g = array_ops.reshape(g, [1, -1]) + array_ops.reshape(g, [-1, 1])
    g = nn_ops.softmax(array_ops.reshape(g, [1, -1]))
    return array_ops.reshape(g, array_ops.stack([size, size, 1, 1]))


def _ssim_parts(img1, img2, max_val, filter_size, filter_sigma, k1, k2):
    """Per channel (and per pixel of the valid window positions): the luminance term and the contrast-structure
    term of SSIM, with a Gaussian window of `filter_size`."""
    size = _ops.convert_to_tensor(filter_size, _dt.int32)
    sigma = _ops.convert_to_tensor(filter_sigma, img1.dtype)
    shape1, shape2 = array_ops.shape_n([img1, img2])
    checks = [control_flow_ops.Assert(math_ops.reduce_all(math_ops.greater_equal(s[-3:-1], size)), [s, size],
                                      summarize=8) for s in (shape1, shape2)]
    img1 = control_flow_ops.with_dependencies(checks, img1)
    kernel = array_ops.tile(_gaussian_window(size, sigma), array_ops.stack([1, 1, shape1[-1], 1]))

    def blur(x):
        shape = array_ops.shape(x)
        flat = array_ops.reshape(x, array_ops.concat([[-1], shape[-3:]], 0))
        y = depthwise_conv_ops.depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return array_ops.reshape(y, array_ops.concat([shape[:-3], array_ops.shape(y)[1:]], 0))

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mean1, mean2 = blur(img1), blur(img2)
    num0 = mean1 * mean2 * 2.0
    den0 = math_ops.square(mean1) + math_ops.square(mean2)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = blur(img1 * img2) * 2.0
    den1 = blur(math_ops.square(img1) + math_ops.square(img2))
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    return luminance, cs


def _ssim_inputs(img1, img2, max_val):
    img1 = _ops.convert_to_tensor(img1, name="img1")
    img2 = _ops.convert_to_tensor(img2, name="img2")
    _check_same_image_shapes(img1, img2)
    max_val = convert_image_dtype(math_ops.cast(max_val, img1.dtype), _dt.float32)
    return convert_image_dtype(img1, _dt.float32), convert_image_dtype(img2, _dt.float32), max_val


@tf_export("image.ssim")
def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         return_index_map: bool = False) -> _ops.Tensor:
    """Structural similarity of two images (or batches) with values in [0, max_val], averaged over the
    window positions and channels (`return_index_map`: the per-position map, averaged over channels)."""
    with _ops.name_scope(None, "SSIM", [img1, img2]):
        img1, img2, max_val = _ssim_inputs(img1, img2, max_val)
        luminance, cs = _ssim_parts(img1, img2, max_val, filter_size, filter_sigma, k1, k2)
        if return_index_map:
            return math_ops.reduce_mean(luminance * cs, [-1])
        per_channel = math_ops.reduce_mean(luminance * cs, [-3, -2])
        return math_ops.reduce_mean(per_channel, [-1])


_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


@tf_export("image.ssim_multiscale")
def ssim_multiscale(img1, img2, max_val, power_factors=_MS_SSIM_WEIGHTS, filter_size=11, filter_sigma=1.5, k1=0.01,
                    k2=0.03) -> _ops.Tensor:
    """Multi-scale SSIM: the contrast-structure terms of successive 2x average-pooled scales and the SSIM of
    the last, raised to `power_factors` and multiplied."""
    with _ops.name_scope(None, "MS-SSIM", [img1, img2]):
        img1, img2, max_val = _ssim_inputs(img1, img2, max_val)
        images = [img1, img2]
        heads = [array_ops.shape(x)[:-3] for x in images]
        tails = [array_ops.shape(x)[-3:] for x in images]
        halving = [1, 2, 2, 1]
        scores = []
        for k in range(len(power_factors)):
            with _ops.name_scope(None, f"Scale{k}", images):
                if k > 0:
                    flat = [array_ops.reshape(x, array_ops.concat([[-1], t], 0)) for x, t in zip(images, tails)]
                    # odd sizes are padded by mirroring their last row or column before halving
                    remainder = math_ops.floormod(tails[0], [2, 2, 1])
                    paddings = array_ops.pad(array_ops.expand_dims(remainder, -1), [[1, 0], [1, 0]])
                    flat = [array_ops.pad(x, paddings, mode="SYMMETRIC") for x in flat]
                    pooled = [nn_ops.avg_pool(x, halving, halving, "VALID") for x in flat]
                    tails = [array_ops.shape(x)[1:] for x in pooled]
                    images = [array_ops.reshape(x, array_ops.concat([h, t], 0))
                              for x, h, t in zip(pooled, heads, tails)]
                luminance, cs = _ssim_parts(images[0], images[1], max_val, filter_size, filter_sigma, k1, k2)
                cs_mean = math_ops.reduce_mean(cs, [-3, -2])
                scores.append(nn_ops.relu(cs_mean))
        last = nn_ops.relu(math_ops.reduce_mean(luminance * cs, [-3, -2]))
        stacked = array_ops.stack(scores[:-1] + [last], axis=-1)
        weights = _ops.convert_to_tensor(np.asarray(power_factors, dtype=np.float32))
        return math_ops.reduce_mean(math_ops.reduce_prod(math_ops.pow(stacked, weights), [-1]), [-1])


@tf_export("image.extract_glimpse")
def extract_glimpse(input, size, offsets, centered: bool = True, normalized: bool = True,  # noqa: A002
                    uniform_noise: bool = True, name=None) -> _ops.Tensor:
    """Windows of `size` around `offsets` ([batch, 2] as (y, x)) of a batch of images; see ExtractGlimpse for
    how offsets are read and how positions outside the image are filled."""
    return apply_op("ExtractGlimpse", [input, size, offsets],
                    {"centered": bool(centered), "normalized": bool(normalized),
                     "uniform_noise": bool(uniform_noise)}, name=name).outputs[0]
