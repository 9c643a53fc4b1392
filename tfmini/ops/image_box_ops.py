"""`tf.image`'s boxes: CropAndResize with its gradient ops, the NonMaxSuppression ops and
CombinedNonMaxSuppression, DrawBoundingBoxes(V2) and SampleDistortedBoundingBox(V2), each followed by its
wrapper."""

from __future__ import annotations

import heapq

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops
from tfmini.ops.image_common import _HALF_FLOAT, _invalid

_BOX_IMAGE_TYPES = (_dt.uint8, _dt.uint16, _dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.float16, _dt.float32,
                    _dt.float64)
_SEED_ATTRS = {"seed": ("int", 0), "seed2": ("int", 0)}


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


def _nms_args(iou_threshold, score_threshold, dtype=_dt.float32):
    return (_ops.convert_to_tensor(iou_threshold, dtype, name="iou_threshold"),
            _ops.convert_to_tensor(score_threshold, dtype, name="score_threshold"))


@register_op("NonMaxSuppression", inputs=["boxes: float32", "scores: float32", "max_output_size: int32"],
             outputs=["selected_indices: int32"], attrs={"iou_threshold": ("float", 0.5)}, shape=_nms_shape)
def _nms_v1(boxes, scores, max_output_size, *, iou_threshold):
    return _nms(boxes, scores, max_output_size, iou_threshold, np.finfo(np.float32).min)[0]


NotDifferentiable("NonMaxSuppression")


@register_op("NonMaxSuppressionV2",
             inputs=["boxes: T", "scores: T", "max_output_size: int32", "iou_threshold: T_threshold"],
             outputs=["selected_indices: int32"], attrs={"T": ("type", _dt.float32),
                                                         "T_threshold": ("type", _dt.float32)},
             allowed=_NMS_TYPES, shape=_nms_shape)
def _nms_v2(boxes, scores, max_output_size, iou_threshold):
    return _nms(boxes, scores, max_output_size, iou_threshold, np.finfo(np.float32).min)[0]


NotDifferentiable("NonMaxSuppressionV2")


@register_op("NonMaxSuppressionV3",
             inputs=["boxes: T", "scores: T", "max_output_size: int32", "iou_threshold: T_threshold",
                     "score_threshold: T_threshold"],
             outputs=["selected_indices: int32"], attrs={"T": ("type", _dt.float32),
                                                         "T_threshold": ("type", _dt.float32)},
             allowed=_NMS_TYPES, shape=_nms_shape)
def _nms_v3(boxes, scores, max_output_size, iou_threshold, score_threshold):
    return _nms(boxes, scores, max_output_size, iou_threshold, score_threshold)[0]


NotDifferentiable("NonMaxSuppressionV3")


@tf_export("image.non_max_suppression")
def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                        name=None) -> _ops.Tensor:
    """Indices of the boxes greedily kept in order of decreasing score, dropping any box whose IoU with a
    kept one exceeds `iou_threshold` and any scoring no more than `score_threshold`."""
    with _ops.name_scope(name, "non_max_suppression"):
        iou, score = _nms_args(iou_threshold, score_threshold)
        return apply_op("NonMaxSuppressionV3", [boxes, scores, max_output_size, iou, score]).outputs[0]


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


NotDifferentiable("NonMaxSuppressionV4")


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


NotDifferentiable("NonMaxSuppressionV5")


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


NotDifferentiable("NonMaxSuppressionWithOverlaps")


@tf_export("image.non_max_suppression_overlaps")
def non_max_suppression_overlaps(overlaps, scores, max_output_size, overlap_threshold=0.5,
                                 score_threshold=float("-inf"), name=None) -> _ops.Tensor:
    """non_max_suppression with the pairwise overlaps given as an [n, n] matrix instead of boxes."""
    with _ops.name_scope(name, "non_max_suppression_overlaps"):
        threshold, score = _nms_args(overlap_threshold, score_threshold)
        return apply_op("NonMaxSuppressionWithOverlaps",
                        [overlaps, scores, max_output_size, threshold, score]).outputs[0]


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


@tf_export("image.draw_bounding_boxes")
def draw_bounding_boxes(images, boxes, name=None, colors=None) -> _ops.Tensor:
    """Draws the outlines of `boxes` ([batch, num_boxes, 4], normalized) on float `images`."""
    if colors is None:
        return apply_op("DrawBoundingBoxes", [images, boxes], name=name).outputs[0]
    return apply_op("DrawBoundingBoxesV2", [images, boxes, colors], name=name).outputs[0]


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
