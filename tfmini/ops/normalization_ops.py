"""Normalization ops as TensorFlow's kernels compute them: FusedBatchNormV3 and FusedBatchNormGradV3 (the ops
tf.nn.fused_batch_norm and tf.layers.batch_normalization(fused=True) write in TF graphs), and local response
normalization, LRN and LRNGrad, with tf.nn.lrn (tf.nn.local_response_normalization).
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op

_FORMATS = ("NHWC", "NCHW", "NDHWC", "NCDHW")


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# FusedBatchNormV3 and its gradient
# ----------------------------------------------------------------------------------------------------------
_BN_ATTRS = {
    "epsilon": ("float", 0.0001),
    "exponential_avg_factor": ("float", 1.0),
    "data_format": ("string", "NHWC"),
    "is_training": ("bool", True),
}
_BN_ALLOWED = {"T": (_dt.float16, _dt.float32), "U": (_dt.float32,)}


def _channel_axis(data_format: str, ndim: int) -> int:
    if data_format not in _FORMATS:
        raise ValueError(f"Invalid data format string: {data_format}")
    return 1 if data_format.startswith("NC") else ndim - 1


def _fused_bn_shape(op):
    fmt = op.get_attr("data_format")
    rank = 5 if fmt in ("NDHWC", "NCDHW") else 4
    x = op.inputs[0].shape.with_rank(rank)
    depth = _shape.unknown_shape(1)
    if x.ndims is not None:
        depth = x[_channel_axis(fmt, rank):][:1]
    # In training the mean and variance inputs may be empty (they only feed the running averages).
    stats = op.inputs[1:3] if op.get_attr("is_training") else op.inputs[1:5]
    for t in stats:
        depth = depth.merge_with(t.shape.with_rank(1))
    return [x] + [depth] * 4 + [_shape.TensorShape([])]


def _moments_axes(x: np.ndarray, data_format: str) -> tuple[tuple, tuple]:
    """(the axes a per-channel statistic reduces, the shape it broadcasts back in)."""
    c = _channel_axis(data_format, x.ndim)
    shape = [1] * x.ndim
    shape[c] = x.shape[c]
    return tuple(a for a in range(x.ndim) if a != c), tuple(shape)


@register_op("FusedBatchNormV3", inputs=["x: T", "scale: U", "offset: U", "mean: U", "variance: U"],
             outputs=["y: T", "batch_mean: U", "batch_variance: U", "reserve_space_1: U", "reserve_space_2: U",
                      "reserve_space_3: U"],
             attrs=dict(_BN_ATTRS), allowed=dict(_BN_ALLOWED), shape=_fused_bn_shape)
def _fused_bn(x, scale, offset, mean, variance, *, epsilon, exponential_avg_factor, data_format, is_training):
    rank = 5 if data_format in ("NDHWC", "NCDHW") else 4
    if x.ndim != rank:
        raise _invalid(f"input must be {rank}-dimensional {list(x.shape)}")
    axes, bshape = _moments_axes(x, data_format)
    depth = bshape[_channel_axis(data_format, x.ndim)]
    for name, v in (("scale", scale), ("offset", offset)):
        if v.shape != (depth,):
            raise _invalid(f"{name} must have the same number of elements as the channels of x, got "
                           f"{v.size} and {depth}")
    xf = x.astype(np.float32, copy=False)
    if is_training:
        count = x.size // depth if depth else 0
        batch_mean = xf.mean(axis=axes) if count else np.full(depth, np.nan, np.float32)
        batch_var = xf.var(axis=axes) if count else np.full(depth, np.nan, np.float32)
        unbiased = batch_var * (count / max(count - 1, 1))
        f = np.float32(exponential_avg_factor)
        if f != 1:
            new_mean = (1 - f) * mean + f * batch_mean
            new_var = (1 - f) * variance + f * unbiased
        else:
            new_mean, new_var = batch_mean, unbiased
        use_mean, use_var = batch_mean, batch_var
    else:
        for name, v in (("mean", mean), ("variance", variance)):
            if v.shape != (depth,):
                raise _invalid(f"{name} must have the same number of elements as the channels of x, got "
                               f"{v.size} and {depth}")
        use_mean, use_var = mean, variance
        new_mean, new_var = mean, variance
    inv = (1.0 / np.sqrt(use_var + np.float32(epsilon))).astype(np.float32)
    y = (xf - use_mean.reshape(bshape)) * (inv * scale).reshape(bshape) + offset.reshape(bshape)
    # reserve_space_1 and _2 hold the statistics y was normalized with (the gradient reads them); TF's CPU
    # kernel makes reserve_space_3 a scalar nothing reads.
    return (y.astype(x.dtype), np.asarray(new_mean, np.float32), np.asarray(new_var, np.float32),
            np.asarray(use_mean, np.float32).copy(), np.asarray(use_var, np.float32).copy(),
            np.zeros((), np.float32))


def _fused_bn_grad_shape(op):
    x = op.inputs[1].shape
    depth = op.inputs[2].shape.with_rank(1)
    return [x, depth, depth, _shape.unknown_shape(1), _shape.unknown_shape(1)]


@register_op("FusedBatchNormGradV3",
             inputs=["y_backprop: T", "x: T", "scale: float32", "reserve_space_1: U", "reserve_space_2: U",
                     "reserve_space_3: U"],
             outputs=["x_backprop: T", "scale_backprop: U", "offset_backprop: U", "reserve_space_4: U",
                      "reserve_space_5: U"],
             attrs={k: v for k, v in _BN_ATTRS.items() if k != "exponential_avg_factor"},
             allowed=dict(_BN_ALLOWED), shape=_fused_bn_grad_shape)
def _fused_bn_grad(dy, x, scale, mean, variance, _reserve, *, epsilon, data_format, is_training):
    """The gradients of FusedBatchNormV3 given the mean and (biased) variance it normalized with, which its
    reserve_space_1 and _2 outputs hold in training (the population statistics in inference)."""
    if dy.shape != x.shape:
        raise _invalid(f"x and y_backprop must have same shape, but x has shape {list(x.shape)} and y_backprop "
                       f"has shape {list(dy.shape)}")
    axes, bshape = _moments_axes(x, data_format)
    dyf, xf = dy.astype(np.float32, copy=False), x.astype(np.float32, copy=False)
    inv = (1.0 / np.sqrt(variance + np.float32(epsilon))).astype(np.float32)
    xhat = (xf - mean.reshape(bshape)) * inv.reshape(bshape)
    offset_bp = dyf.sum(axis=axes)
    scale_bp = (dyf * xhat).sum(axis=axes)
    if is_training:
        count = x.size // max(bshape[_channel_axis(data_format, x.ndim)], 1)
        dx = (scale * inv / max(count, 1)).reshape(bshape) * (
            count * dyf - offset_bp.reshape(bshape) - xhat * scale_bp.reshape(bshape))
    else:
        dx = dyf * (scale * inv).reshape(bshape)
    empty = np.zeros([0], np.float32)
    return dx.astype(x.dtype), scale_bp.astype(np.float32), offset_bp.astype(np.float32), empty, empty.copy()


@RegisterGradient("FusedBatchNormV3")
def _fused_bn_gradient(op, dy, *unused):
    x, scale = op.inputs[0], op.inputs[1]
    training = op.get_attr("is_training")
    if training:
        mean, var = op.outputs[3], op.outputs[4]
    else:
        mean, var = op.inputs[3], op.inputs[4]
    attrs = {k: op.get_attr(k) for k in ("epsilon", "data_format", "is_training")}
    grads = apply_op("FusedBatchNormGradV3", [dy, x, scale, mean, var, op.outputs[5]], attrs).outputs
    return grads[0], grads[1], grads[2], None, None


# ----------------------------------------------------------------------------------------------------------
# LRN and LRNGrad
# ----------------------------------------------------------------------------------------------------------
_LRN_ATTRS = {
    "depth_radius": ("int", 5),
    "bias": ("float", 1.0),
    "alpha": ("float", 1.0),
    "beta": ("float", 0.5),
    "T": ("type", _dt.float32),
}
_LRN_TYPES = (_dt.float16, _dt.float32)


def _window_sum(v: np.ndarray, r: int) -> np.ndarray:
    """Sums over the last axis of windows [d - r, d + r] (clipped at the ends), by a cumulative sum."""
    depth = v.shape[-1]
    c = np.cumsum(v, axis=-1, dtype=np.float64)
    c = np.concatenate([np.zeros(v.shape[:-1] + (1,)), c], axis=-1)
    hi = np.minimum(np.arange(depth) + r + 1, depth)
    lo = np.maximum(np.arange(depth) - r, 0)
    return c[..., hi] - c[..., lo]


def _lrn_norm(x: np.ndarray, depth_radius: int, bias: float, alpha: float) -> np.ndarray:
    return np.float64(bias) + np.float64(alpha) * _window_sum(np.square(x.astype(np.float64)), depth_radius)


def _check_lrn(x: np.ndarray, depth_radius: int) -> None:
    if x.ndim != 4:
        raise _invalid(f"input must be 4-dimensional, got shape {list(x.shape)}")
    if depth_radius < 0:
        raise _invalid(f"depth_radius = {depth_radius} must be non-negative")


def _lrn_shape(op):
    return op.inputs[0].shape.with_rank(4)


@register_op("LRN", inputs=["input: T"], outputs=["output: T"], attrs=dict(_LRN_ATTRS), allowed={"T": _LRN_TYPES},
             shape=_lrn_shape, fresh_output=True)
def _lrn(x, *, depth_radius, bias, alpha, beta):
    _check_lrn(x, depth_radius)
    norm = _lrn_norm(x, depth_radius, bias, alpha)
    return (x * np.power(norm, -np.float64(beta))).astype(x.dtype)


def _lrn_grad_shape(op):
    s = op.inputs[0].shape.with_rank(4)
    return s.merge_with(op.inputs[1].shape.with_rank(4)).merge_with(op.inputs[2].shape.with_rank(4))


@register_op("LRNGrad", inputs=["input_grads: T", "input_image: T", "output_image: T"], outputs=["output: T"],
             attrs=dict(_LRN_ATTRS), allowed={"T": _LRN_TYPES}, shape=_lrn_grad_shape, fresh_output=True)
def _lrn_grad(grads, x, y, *, depth_radius, bias, alpha, beta):
    """d/dx of y = x * norm^-beta, norm = bias + alpha * (window sum of x^2), back from `grads`."""
    _check_lrn(x, depth_radius)
    if grads.shape != x.shape or y.shape != x.shape:
        raise _invalid(f"LRNGrad: input_grads, input_image and output_image must have the same shape, got "
                       f"{list(grads.shape)}, {list(x.shape)} and {list(y.shape)}")
    xd, gd = x.astype(np.float64), grads.astype(np.float64)
    norm = _lrn_norm(x, depth_radius, bias, alpha)
    b = np.float64(beta)
    direct = gd * np.power(norm, -b)
    # Every output in d's window (the window is symmetric) depends on x[d] through its norm.
    through_norm = _window_sum(gd * xd * np.power(norm, -b - 1), depth_radius)
    return (direct - 2 * np.float64(alpha) * b * xd * through_norm).astype(x.dtype)


@RegisterGradient("LRN")
def _lrn_gradient(op, grad):
    attrs = {k: op.get_attr(k) for k in ("depth_radius", "bias", "alpha", "beta")}
    return apply_op("LRNGrad", [grad, op.inputs[0], op.outputs[0]], attrs).outputs[0]


@tf_export("nn.local_response_normalization", "nn.lrn")
def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5,  # noqa: A002
                                 name=None) -> _ops.Tensor:
    """Local response normalization over the last (depth) axis of a 4-D input:
    input / (bias + alpha * sum of squares over [d - depth_radius, d + depth_radius]) ** beta."""
    attrs = {"depth_radius": int(depth_radius), "bias": float(bias), "alpha": float(alpha), "beta": float(beta)}
    return apply_op("LRN", [input], attrs, name=name).outputs[0]


lrn = local_response_normalization
