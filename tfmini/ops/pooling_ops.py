"""Pooling beyond nn_ops' 2-D MaxPool/AvgPool: MaxPool3D/AvgPool3D and their gradient ops, MaxPoolWithArgmax
and its gradients, MaxPoolV2 (the window as tensors) and its gradients, the morphological Dilation2D with its
backprops, and tf.nn.pool, max_pool1d/3d, avg_pool1d/3d, max_pool_v2/avg_pool_v2, max_pool_with_argmax,
dilation2d and erosion2d. Fractional pooling is in fractional_pooling_ops.py.

Kernels reduce over the window's shifted strided slices (one NumPy operation per kernel position), so no
Python loop runs over output positions.
"""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops, nn_ops, space_depth_ops
from tfmini.ops.conv3d_ops import (
    WindowND,
    channels_first,
    check_padding,
    check_window_attr,
    dims_from_channels_last,
    dims_to_channels_last,
    format_and_padding,
    from_channels_last,
    full_window,
    known_dims,
    spatial_entries,
    static_window_dims,
    to_channels_last,
)
from tfmini.ops.nn_ops import _compute_type, _lowest

_FORMATS_3D = ("NDHWC", "NCDHW")
_FLOAT = _dt.FLOATING
# TF's MaxPool3D (and its gradient) has no float64 kernel.
_MAX3D_TYPES = (_dt.float16, _dt.float32)
_REAL = _dt.REAL


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# Shared by the 3-D pools
# ----------------------------------------------------------------------------------------------------------
_POOL3D_ATTRS = {
    "ksize": ("list(int)", _reg.REQUIRED),
    "strides": ("list(int)", _reg.REQUIRED),
    "padding": ("string", _reg.REQUIRED),
    "data_format": ("string", "NDHWC"),
}


def _pool3d_attrs(op) -> tuple:
    first, padding = format_and_padding(op, _FORMATS_3D)
    ksize = check_window_attr(op.get_attr("ksize"), "ksize", op.type, 5, first)
    strides = check_window_attr(op.get_attr("strides"), "stride", op.type, 5, first)
    return first, padding, ksize, strides


def _pool3d_shape(op):
    first, padding, ksize, strides = _pool3d_attrs(op)
    x = dims_to_channels_last(known_dims(op.inputs[0].shape, 5), first)
    out = static_window_dims(x[1:4], ksize, strides, [1, 1, 1], padding)
    return dims_from_channels_last([x[0], *out, x[4]], first)


def _pool_window(x_shape, ksize, strides, padding, first: bool, rank: int) -> WindowND:
    if len(x_shape) != rank:
        raise _invalid(f"tensor_in must be {rank}-dimensional, got shape {list(x_shape)}")
    n = rank - 2
    return WindowND(x_shape[1:-1], spatial_entries(ksize, first), spatial_entries(strides, first), [1] * n, padding)


def _window_max(xp: np.ndarray, win: WindowND) -> np.ndarray:
    out = None
    for _, index in win.offsets():
        out = xp[index].copy() if out is None else np.maximum(out, xp[index], out=out)
    return out


def _first_max_hits(xp: np.ndarray, win: WindowND, best: np.ndarray):
    """Yields (index, hit) per kernel position, `hit` marking the outputs whose window has its first maximum
    (row-major over the kernel) at that position."""
    taken = np.zeros(best.shape, dtype=bool)
    for _, index in win.offsets():
        hit = xp[index] == best
        hit &= ~taken
        taken |= hit
        yield index, hit


def _empty_pool(x: np.ndarray, win: WindowND, first: bool) -> np.ndarray:
    return from_channels_last(np.zeros((x.shape[0], *win.out, x.shape[-1]), dtype=x.dtype), first)


@register_op("MaxPool3D", inputs=["input: T"], outputs=["output: T"], attrs=dict(_POOL3D_ATTRS),
             allowed={"T": _MAX3D_TYPES}, shape=_pool3d_shape, fresh_output=True)
def _max_pool3d(x, *, ksize, strides, padding, data_format):
    first = channels_first(data_format)
    x = to_channels_last(x, first)
    win = _pool_window(x.shape, ksize, strides, padding, first, 5)
    if win.empty or x.size == 0:
        return _empty_pool(x, win, first)
    return from_channels_last(_window_max(win.pad(x, _lowest(x.dtype)), win), first)


def _check_grad_shape(grad_shape, want) -> None:
    if tuple(grad_shape) != tuple(want):
        raise _invalid(f"Expected grad shape to be {list(want)}, but got {list(grad_shape)}")


def _same_shape_as_input(op, index: int = 0):
    _pool3d_attrs(op)
    return op.inputs[index].shape.with_rank(5)


@register_op("MaxPool3DGrad", inputs=["orig_input: TInput", "orig_output: TInput", "grad: T"],
             outputs=["output: T"],
             attrs={**_POOL3D_ATTRS, "T": ("type", _dt.float32), "TInput": ("type", _dt.float32)},
             allowed={"T": _MAX3D_TYPES, "TInput": _MAX3D_TYPES}, shape=_same_shape_as_input, fresh_output=True)
def _max_pool3d_grad(x, y, grad, *, ksize, strides, padding, data_format):
    """Every input element equal to its window's maximum receives that window's gradient (ties included, as
    TensorFlow's CPU kernel does)."""
    first = channels_first(data_format)
    x, y, grad = (to_channels_last(v, first) for v in (x, y, grad))
    win = _pool_window(x.shape, ksize, strides, padding, first, 5)
    _check_grad_shape(grad.shape, (x.shape[0], *win.out, x.shape[-1]))
    _check_grad_shape(y.shape, grad.shape)
    ct = _compute_type(grad.dtype)
    if win.empty or x.size == 0:
        return from_channels_last(np.zeros(x.shape, dtype=grad.dtype), first)
    xp = win.pad(x, _lowest(x.dtype))
    dxp = np.zeros(xp.shape, dtype=ct)
    g = grad.astype(ct, copy=False)
    for _, index in win.offsets():
        dxp[index] += np.where(xp[index] == y, g, 0)
    return from_channels_last(win.crop(dxp, x.shape[1:4]).astype(grad.dtype, copy=False), first)


@register_op("MaxPool3DGradGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"], outputs=["output: T"],
             attrs=dict(_POOL3D_ATTRS), allowed={"T": _REAL}, shape=lambda op: _same_shape_as_input(op, 1),
             fresh_output=True)
def _max_pool3d_grad_grad(x, y, grad, *, ksize, strides, padding, data_format):
    """Gathers `grad` (shaped like the pool's input) at each window's first maximum."""
    first = channels_first(data_format)
    x, grad = to_channels_last(x, first), to_channels_last(grad, first)
    win = _pool_window(x.shape, ksize, strides, padding, first, 5)
    if grad.shape != x.shape:
        raise _invalid(f"backprop must have the shape of the original input: {list(grad.shape)} vs "
                       f"{list(x.shape)}")
    out = np.zeros((x.shape[0], *win.out, x.shape[-1]), dtype=grad.dtype)
    if not win.empty and x.size:
        xp, gp = win.pad(x, _lowest(x.dtype)), win.pad(grad)
        for index, hit in _first_max_hits(xp, win, _window_max(xp, win)):
            out += np.where(hit, gp[index], 0)
    return from_channels_last(out, first)


def _pool3d_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _POOL3D_ATTRS}


@RegisterGradient("MaxPool3D")
def _max_pool3d_gradient(op, grad):
    return apply_op("MaxPool3DGrad", [op.inputs[0], op.outputs[0], grad], _pool3d_attr_values(op)).outputs[0]


@RegisterGradient("MaxPool3DGrad")
def _max_pool3d_grad_gradient(op, grad):
    x, y, _ = op.inputs
    attrs = _pool3d_attr_values(op)
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            apply_op("MaxPool3DGradGrad", [x, y, grad], attrs).outputs[0])


@RegisterGradient("MaxPool3DGradGrad")
def _max_pool3d_grad_grad_gradient(op, grad):
    x, y, _ = op.inputs
    attrs = _pool3d_attr_values(op)
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            apply_op("MaxPool3DGrad", [x, y, grad], attrs).outputs[0])


@register_op("AvgPool3D", inputs=["input: T"], outputs=["output: T"], attrs=dict(_POOL3D_ATTRS),
             allowed={"T": _FLOAT}, shape=_pool3d_shape, fresh_output=True)
def _avg_pool3d(x, *, ksize, strides, padding, data_format):
    """The mean over each window's real (unpadded) elements."""
    first = channels_first(data_format)
    x = to_channels_last(x, first)
    win = _pool_window(x.shape, ksize, strides, padding, first, 5)
    if win.empty or x.size == 0:
        return _empty_pool(x, win, first)
    ct = _compute_type(x.dtype)
    xp = win.pad(x.astype(ct, copy=False))
    total = None
    for _, index in win.offsets():
        total = xp[index].copy() if total is None else np.add(total, xp[index], out=total)
    total /= win.counts(x.shape[1:4])[None, ..., None].astype(ct)
    return from_channels_last(total.astype(x.dtype, copy=False), first)


def _avg_pool3d_grad_shape(op):
    _pool3d_attrs(op)
    return _reg.constant_value_as_shape(op.inputs[0]).merge_with(_shape.unknown_shape(5))


@register_op("AvgPool3DGrad", inputs=["orig_input_shape: int32", "grad: T"], outputs=["output: T"],
             attrs=dict(_POOL3D_ATTRS), allowed={"T": _FLOAT}, shape=_avg_pool3d_grad_shape, fresh_output=True)
def _avg_pool3d_grad(orig_input_shape, grad, *, ksize, strides, padding, data_format):
    sizes = [int(s) for s in np.reshape(orig_input_shape, [-1])]
    if len(sizes) != 5:
        raise _invalid(f"orig_input_shape must have 5 elements, got {len(sizes)}")
    first = channels_first(data_format)
    sizes = dims_to_channels_last(sizes, first)
    grad = to_channels_last(grad, first)
    win = _pool_window(sizes, ksize, strides, padding, first, 5)
    _check_grad_shape(grad.shape, (sizes[0], *win.out, sizes[-1]))
    ct = _compute_type(grad.dtype)
    dxp = np.zeros(win.padded_shape(sizes), dtype=ct)
    if not win.empty and grad.size:
        g = grad.astype(ct) / win.counts(sizes[1:4])[None, ..., None].astype(ct)
        for _, index in win.offsets():
            dxp[index] += g
    return from_channels_last(win.crop(dxp, sizes[1:4]).astype(grad.dtype, copy=False), first)


@RegisterGradient("AvgPool3D")
def _avg_pool3d_gradient(op, grad):
    return apply_op("AvgPool3DGrad", [array_ops.shape(op.inputs[0]), grad], _pool3d_attr_values(op)).outputs[0]


@RegisterGradient("AvgPool3DGrad")
def _avg_pool3d_grad_gradient(op, grad):
    return array_ops.stop_gradient(op.inputs[0]), apply_op("AvgPool3D", [grad], _pool3d_attr_values(op)).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# MaxPoolWithArgmax and its gradients
# ----------------------------------------------------------------------------------------------------------
_ARGMAX_ATTRS = {
    "ksize": ("list(int)", _reg.REQUIRED),
    "strides": ("list(int)", _reg.REQUIRED),
    "padding": ("string", _reg.REQUIRED),
    "include_batch_in_index": ("bool", False),
}
_ARGMAX_TYPES = _REAL


def _argmax_attrs(op) -> tuple:
    padding = op.get_attr("padding")
    check_padding(padding)
    ksize = check_window_attr(op.get_attr("ksize"), "ksize", op.type, 4, False)
    strides = check_window_attr(op.get_attr("strides"), "stride", op.type, 4, False)
    return padding, ksize, strides


def _argmax_shape(op):
    padding, ksize, strides = _argmax_attrs(op)
    x = known_dims(op.inputs[0].shape, 4)
    out = [x[0], *static_window_dims(x[1:3], ksize, strides, [1, 1], padding), x[3]]
    return [_shape.TensorShape(out), _shape.TensorShape(out)]


def _flat_positions(x_shape, win: WindowND, include_batch: bool) -> list:
    """Per kernel position, the flattened input index ((b*H + y)*W + x)*C + c of every output's element there
    (without b unless `include_batch`), with -1 where the element is padding."""
    n, h, w, c = x_shape
    (pt, _), (pl, _) = win.pads
    out = []
    b = np.arange(n)[:, None, None, None]
    ch = np.arange(c)[None, None, None, :]
    for pos, _ in win.offsets():
        rows = np.arange(win.out[0]) * win.s[0] + pos[0] - pt
        cols = np.arange(win.out[1]) * win.s[1] + pos[1] - pl
        r, q = rows[None, :, None, None], cols[None, None, :, None]
        flat = (r * w + q) * c + ch + (b * (h * w * c) if include_batch else 0)
        valid = (r >= 0) & (r < h) & (q >= 0) & (q < w)
        out.append(np.where(valid, flat, -1))
    return out


@register_op("MaxPoolWithArgmax", inputs=["input: T"], outputs=["output: T", "argmax: Targmax"],
             attrs={**_ARGMAX_ATTRS, "Targmax": ("type", _dt.int64)},
             allowed={"T": _ARGMAX_TYPES, "Targmax": (_dt.int32, _dt.int64)}, shape=_argmax_shape,
             fresh_output=True)
def _max_pool_with_argmax(x, *, ksize, strides, padding, include_batch_in_index, Targmax):  # noqa: N803
    win = _pool_window(x.shape, ksize, strides, padding, False, 4)
    index_type = _dt.as_dtype(Targmax).as_numpy_dtype
    if win.empty or x.size == 0:
        shape = (x.shape[0], *win.out, x.shape[-1])
        return np.zeros(shape, dtype=x.dtype), np.zeros(shape, dtype=index_type)
    xp = win.pad(x, _lowest(x.dtype))
    best = _window_max(xp, win)
    argmax = np.zeros(best.shape, dtype=np.int64)
    positions = _flat_positions(x.shape, win, include_batch_in_index)
    for (_, hit), flat in zip(_first_max_hits(xp, win, best), positions):
        np.copyto(argmax, flat, where=hit)
    return best, argmax.astype(index_type, copy=False)


def _scatter_grad(x_shape, grad: np.ndarray, argmax: np.ndarray, include_batch: bool) -> np.ndarray:
    n = x_shape[0]
    per_image = int(np.prod(x_shape[1:]))
    total = n * per_image
    idx = argmax.reshape(n, -1).astype(np.int64)
    if not include_batch:
        idx = idx + (np.arange(n) * per_image)[:, None]
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= total):
        bad = idx[(idx < 0) | (idx >= total)][0]
        raise _invalid(f"Invalid argmax value {bad}: it must be in [0, {total})")
    return idx


@register_op("MaxPoolGradWithArgmax", inputs=["input: T", "grad: T", "argmax: Targmax"], outputs=["output: T"],
             attrs=dict(_ARGMAX_ATTRS), allowed={"T": _ARGMAX_TYPES, "Targmax": (_dt.int32, _dt.int64)},
             shape=lambda op: (_argmax_attrs(op), op.inputs[0].shape.with_rank(4))[1], fresh_output=True)
def _max_pool_grad_with_argmax(x, grad, argmax, *, ksize, strides, padding, include_batch_in_index):
    """Adds each output's gradient to the input element its argmax names."""
    win = _pool_window(x.shape, ksize, strides, padding, False, 4)
    want = (x.shape[0], *win.out, x.shape[-1])
    _check_grad_shape(grad.shape, want)
    if argmax.shape != grad.shape:
        raise _invalid(f"Expected argmax shape to be {list(want)}, but got {list(argmax.shape)}")
    idx = _scatter_grad(x.shape, grad, argmax, include_batch_in_index)
    if grad.dtype.kind == "f":
        flat = np.bincount(idx, weights=grad.reshape(-1).astype(np.float64), minlength=x.size)
    else:
        flat = np.zeros(x.size, dtype=grad.dtype)
        np.add.at(flat, idx, grad.reshape(-1))
    return flat.reshape(x.shape).astype(grad.dtype, copy=False)


@register_op("MaxPoolGradGradWithArgmax", inputs=["input: T", "grad: T", "argmax: Targmax"],
             outputs=["output: T"], attrs=dict(_ARGMAX_ATTRS),
             allowed={"T": _ARGMAX_TYPES, "Targmax": (_dt.int32, _dt.int64)},
             shape=lambda op: (_argmax_attrs(op), op.inputs[2].shape.with_rank(4))[1], fresh_output=True)
def _max_pool_grad_grad_with_argmax(x, grad, argmax, *, ksize, strides, padding, include_batch_in_index):
    """Gathers `grad` (shaped like the pool's input) at each output's argmax."""
    if grad.shape != x.shape:
        raise _invalid(f"grad must have the shape of the input: {list(grad.shape)} vs {list(x.shape)}")
    idx = _scatter_grad(x.shape, grad, argmax, include_batch_in_index)
    return grad.reshape(-1)[idx].reshape(argmax.shape)


def _argmax_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _ARGMAX_ATTRS}


@RegisterGradient("MaxPoolWithArgmax")
def _max_pool_with_argmax_gradient(op, grad, unused_argmax_grad):
    return apply_op("MaxPoolGradWithArgmax", [op.inputs[0], grad, op.outputs[1]],
                    _argmax_attr_values(op)).outputs[0]


@RegisterGradient("MaxPoolGradWithArgmax")
def _max_pool_grad_with_argmax_gradient(op, grad):
    x, _, argmax = op.inputs
    return (array_ops.zeros_like(x),
            apply_op("MaxPoolGradGradWithArgmax", [x, grad, argmax], _argmax_attr_values(op)).outputs[0], None)


@RegisterGradient("MaxPoolGradGradWithArgmax")
def _max_pool_grad_grad_with_argmax_gradient(op, grad):
    x, _, argmax = op.inputs
    return (array_ops.zeros_like(x),
            apply_op("MaxPoolGradWithArgmax", [x, grad, argmax], _argmax_attr_values(op)).outputs[0], None)


# ----------------------------------------------------------------------------------------------------------
# Dilation2D: grayscale morphological dilation, max over the window of input + filter
# ----------------------------------------------------------------------------------------------------------
_DILATION_ATTRS = {
    "strides": ("list(int)", _reg.REQUIRED),
    "rates": ("list(int)", _reg.REQUIRED),
    "padding": ("string", _reg.REQUIRED),
}


def _dilation_attrs(op) -> tuple:
    padding = op.get_attr("padding")
    check_padding(padding)
    strides = check_window_attr(op.get_attr("strides"), "stride", op.type, 4, False)
    rates = check_window_attr(op.get_attr("rates"), "rate", op.type, 4, False)
    return padding, strides, rates


def _dilation_shape(op):
    padding, strides, rates = _dilation_attrs(op)
    x = known_dims(op.inputs[0].shape, 4)
    f = known_dims(op.inputs[1].shape, 3)
    if x[3] is not None and f[2] is not None and x[3] != f[2]:
        raise ValueError(f"Dimensions must be equal, but are {x[3]} and {f[2]}")
    return [x[0], *static_window_dims(x[1:3], f[:2], strides, rates, padding), x[3] if x[3] is not None else f[2]]


def _dilation_window(x, f, strides, rates, padding) -> WindowND:
    if x.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(x.shape)}")
    if f.ndim != 3:
        raise _invalid(f"filter must be 3-dimensional: {list(f.shape)}")
    if x.shape[3] != f.shape[2]:
        raise _invalid(f"input and filter must have the same depth: {x.shape[3]} vs {f.shape[2]}")
    return WindowND(x.shape[1:3], f.shape[:2], spatial_entries(strides, False), spatial_entries(rates, False),
                    padding)


def _dilation_terms(x, f, win: WindowND):
    """Yields (index, kernel position, input + filter at that position) in row-major kernel order."""
    xp = win.pad(x, _lowest(x.dtype))
    for pos, index in win.offsets():
        yield index, pos, xp[index] + f[pos]


def _dilation_argmax(x, f, win: WindowND):
    """The window maximum and, per kernel position, where it is the first (strictly greater) maximum."""
    best, where = None, None
    k = 0
    for _, _, term in _dilation_terms(x, f, win):
        if best is None:
            best, where = term.copy(), np.zeros(term.shape, dtype=np.int64)
        else:
            better = term > best
            np.copyto(best, term, where=better)
            where[better] = k
        k += 1
    return best, where


@register_op("Dilation2D", inputs=["input: T", "filter: T"], outputs=["output: T"], attrs=dict(_DILATION_ATTRS),
             allowed={"T": _REAL}, shape=_dilation_shape, fresh_output=True)
def _dilation2d(x, f, *, strides, rates, padding):
    win = _dilation_window(x, f, strides, rates, padding)
    if win.empty or x.size == 0:
        return np.zeros((x.shape[0], *win.out, x.shape[3]), dtype=x.dtype)
    return _dilation_argmax(x, f, win)[0]


def _check_dilation_backprop(dy, x, win: WindowND, op_type: str) -> None:
    want = (x.shape[0], *win.out, x.shape[3])
    if dy.shape != want:
        raise _invalid(f"{op_type}: out_backprop has shape {list(dy.shape)}, expected {list(want)}")


@register_op("Dilation2DBackpropInput", inputs=["input: T", "filter: T", "out_backprop: T"],
             outputs=["in_backprop: T"], attrs=dict(_DILATION_ATTRS), allowed={"T": _REAL},
             shape=lambda op: (_dilation_attrs(op), op.inputs[0].shape.with_rank(4))[1], fresh_output=True)
def _dilation2d_backprop_input(x, f, dy, *, strides, rates, padding):
    win = _dilation_window(x, f, strides, rates, padding)
    _check_dilation_backprop(dy, x, win, "Dilation2DBackpropInput")
    if win.empty or x.size == 0:
        return np.zeros(x.shape, dtype=dy.dtype)
    _, where = _dilation_argmax(x, f, win)
    ct = _compute_type(dy.dtype)
    dxp = np.zeros(win.padded_shape(x.shape), dtype=ct)
    g = dy.astype(ct, copy=False)
    for k, (_, index) in enumerate(win.offsets()):
        dxp[index] += np.where(where == k, g, 0)
    return win.crop(dxp, x.shape[1:3]).astype(dy.dtype, copy=False)


@register_op("Dilation2DBackpropFilter", inputs=["input: T", "filter: T", "out_backprop: T"],
             outputs=["filter_backprop: T"], attrs=dict(_DILATION_ATTRS), allowed={"T": _REAL},
             shape=lambda op: (_dilation_attrs(op), op.inputs[1].shape.with_rank(3))[1], fresh_output=True)
def _dilation2d_backprop_filter(x, f, dy, *, strides, rates, padding):
    win = _dilation_window(x, f, strides, rates, padding)
    _check_dilation_backprop(dy, x, win, "Dilation2DBackpropFilter")
    if win.empty or x.size == 0:
        return np.zeros(f.shape, dtype=dy.dtype)
    _, where = _dilation_argmax(x, f, win)
    ct = _compute_type(dy.dtype)
    g = dy.astype(ct, copy=False)
    df = np.zeros(f.shape, dtype=ct)
    for k, (pos, _) in enumerate(win.offsets()):
        df[pos] = np.sum(np.where(where == k, g, 0), axis=(0, 1, 2))
    return df.astype(dy.dtype, copy=False)


def _dilation_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _DILATION_ATTRS}


@RegisterGradient("Dilation2D")
def _dilation2d_gradient(op, grad):
    x, f = op.inputs
    attrs = _dilation_attr_values(op)
    return (apply_op("Dilation2DBackpropInput", [x, f, grad], attrs).outputs[0],
            apply_op("Dilation2DBackpropFilter", [x, f, grad], attrs).outputs[0])


# ----------------------------------------------------------------------------------------------------------
# MaxPoolV2 and its gradients: MaxPool with ksize and strides given as tensors (graphs written by TensorFlow)
# ----------------------------------------------------------------------------------------------------------
_V2_ATTRS = {"padding": ("string", _reg.REQUIRED), "data_format": ("string", "NHWC")}


def _v2_windows(ksize, strides, op_type: str, data_format: str) -> tuple:
    ksize = [int(v) for v in np.reshape(ksize, [-1])]
    strides = [int(v) for v in np.reshape(strides, [-1])]
    nn_ops._check_window_attr(ksize, "ksize", op_type, data_format)
    nn_ops._check_window_attr(strides, "stride", op_type, data_format)
    return ksize, strides


def _max_pool_v2_shape(op):
    fmt, padding = op.get_attr("data_format"), op.get_attr("padding")
    nn_ops._check_format(fmt)
    check_padding(padding)
    first = fmt == "NCHW"
    x = dims_to_channels_last(known_dims(op.inputs[0].shape, 4), first)
    ksize, strides = _reg.constant_value(op.inputs[1]), _reg.constant_value(op.inputs[2])
    if ksize is None or strides is None:
        return dims_from_channels_last([x[0], None, None, x[3]], first)
    ksize, strides = _v2_windows(ksize, strides, op.type, fmt)
    out = static_window_dims(x[1:3], spatial_entries(ksize, first), spatial_entries(strides, first), [1, 1],
                             padding)
    return dims_from_channels_last([x[0], *out, x[3]], first)


def _v2_grad_shape(op, index: int):
    nn_ops._check_format(op.get_attr("data_format"))
    check_padding(op.get_attr("padding"))
    return op.inputs[index].shape.with_rank(4)


@register_op("MaxPoolV2", inputs=["input: T", "ksize: int32", "strides: int32"], outputs=["output: T"],
             attrs={**_V2_ATTRS, "T": ("type", _dt.float32)}, allowed={"T": nn_ops._MAX_POOL_TYPES},
             shape=_max_pool_v2_shape)
def _max_pool_v2(x, ksize, strides, *, padding, data_format, ctx=None):
    ksize, strides = _v2_windows(ksize, strides, "MaxPoolV2", data_format)
    return nn_ops._max_pool(x, ksize=ksize, strides=strides, padding=padding, data_format=data_format, ctx=ctx)


@register_op("MaxPoolGradV2", inputs=["orig_input: T", "orig_output: T", "grad: T", "ksize: int32",
                                      "strides: int32"],
             outputs=["output: T"], attrs={**_V2_ATTRS, "T": ("type", _dt.float32)}, allowed={"T": _REAL},
             shape=lambda op: _v2_grad_shape(op, 0))
def _max_pool_grad_v2(x, y, grad, ksize, strides, *, padding, data_format, ctx=None):
    ksize, strides = _v2_windows(ksize, strides, "MaxPoolGradV2", data_format)
    return nn_ops._max_pool_grad_kernel(x, y, grad, ksize=ksize, strides=strides, padding=padding,
                                        data_format=data_format, ctx=ctx)


@register_op("MaxPoolGradGradV2", inputs=["orig_input: T", "orig_output: T", "grad: T", "ksize: int32",
                                          "strides: int32"],
             outputs=["output: T"], attrs=dict(_V2_ATTRS), allowed={"T": _REAL},
             shape=lambda op: _v2_grad_shape(op, 1))
def _max_pool_grad_grad_v2(x, y, grad, ksize, strides, *, padding, data_format):
    ksize, strides = _v2_windows(ksize, strides, "MaxPoolGradGradV2", data_format)
    return nn_ops._max_pool_grad_grad_kernel(x, y, grad, ksize=ksize, strides=strides, padding=padding,
                                             data_format=data_format)


def _v2_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _V2_ATTRS}


@RegisterGradient("MaxPoolV2")
def _max_pool_v2_gradient(op, grad):
    x, ksize, strides = op.inputs
    return (apply_op("MaxPoolGradV2", [x, op.outputs[0], grad, ksize, strides], _v2_attr_values(op)).outputs[0],
            None, None)


@RegisterGradient("MaxPoolGradV2")
def _max_pool_grad_v2_gradient(op, grad):
    x, y, _, ksize, strides = op.inputs
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            apply_op("MaxPoolGradGradV2", [x, y, grad, ksize, strides], _v2_attr_values(op)).outputs[0], None, None)


@RegisterGradient("MaxPoolGradGradV2")
def _max_pool_grad_grad_v2_gradient(op, grad):
    x, y, _, ksize, strides = op.inputs
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            apply_op("MaxPoolGradV2", [x, y, grad, ksize, strides], _v2_attr_values(op)).outputs[0], None, None)


# ----------------------------------------------------------------------------------------------------------
# Python wrappers
# ----------------------------------------------------------------------------------------------------------
def _pool3d(op_type: str, input, ksize, strides, padding, data_format, name, default_name):  # noqa: A002
    with _ops.name_scope(name, default_name, [input]) as scope:
        data_format = data_format or "NDHWC"
        first = channels_first(data_format)
        attrs = {"ksize": full_window(ksize, 3, first, "ksize"), "strides": full_window(strides, 3, first, "strides"),
                 "padding": padding, "data_format": data_format}
        return apply_op(op_type, [input], attrs, name=scope).outputs[0]


@tf_export("nn.max_pool3d")
def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> _ops.Tensor:  # noqa: A002
    """Max pooling over [ksize] windows of a 5-D input moved by `strides`."""
    return _pool3d("MaxPool3D", input, ksize, strides, padding, data_format, name, "MaxPool3D")


@tf_export("nn.avg_pool3d")
def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> _ops.Tensor:  # noqa: A002
    """Average pooling over [ksize] windows of a 5-D input; SAME windows average their real elements only."""
    return _pool3d("AvgPool3D", input, ksize, strides, padding, data_format, name, "AvgPool3D")


def _pool1d(pool2d, input, ksize, strides, padding, data_format, name, default_name):  # noqa: A002
    """A 1-D pool as the 2-D pool of a height-1 image (as TF computes it)."""
    data_format = data_format or "NWC"
    if data_format not in ("NWC", "NCW"):
        raise ValueError(f"data_format must be \"NWC\" or \"NCW\", got {data_format!r}")
    first = data_format == "NCW"
    with _ops.name_scope(name, default_name, [input]) as scope:
        ksize = [1] + full_window(ksize, 1, first, "ksize")
        strides = [1] + full_window(strides, 1, first, "strides")
        expanding_dim = 2 if first else 1
        x = array_ops.expand_dims(input, expanding_dim)
        out = pool2d(x, ksize, strides, padding, data_format="NCHW" if first else "NHWC")
        return array_ops.squeeze(out, [expanding_dim], name=scope)


@tf_export("nn.max_pool1d")
def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> _ops.Tensor:  # noqa: A002
    """Max pooling of a 3-D [batch, width, channels] input (NWC, or NCW)."""
    return _pool1d(nn_ops.max_pool2d, input, ksize, strides, padding, data_format, name, "MaxPool1d")


@tf_export("nn.avg_pool1d")
def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> _ops.Tensor:  # noqa: A002
    """Average pooling of a 3-D [batch, width, channels] input (NWC, or NCW)."""
    return _pool1d(nn_ops.avg_pool2d, input, ksize, strides, padding, data_format, name, "AvgPool1D")


def _rank_of(input) -> int:  # noqa: A002
    rank = _ops.convert_to_tensor(input).shape.ndims
    if rank is None:
        raise ValueError("The rank of the input must be known")
    return rank


def _pool_by_rank(kind: str, input, ksize, strides, padding, data_format, name):  # noqa: A002
    input = _ops.convert_to_tensor(input, name="input")
    n = _rank_of(input) - 2
    if n not in (1, 2, 3):
        raise ValueError(f"Input tensor must be of rank 3, 4 or 5 but was {n + 2}.")
    if data_format is None:
        data_format = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[n]
    if kind == "MAX":
        fn = {1: max_pool1d, 2: nn_ops.max_pool2d, 3: max_pool3d}[n]
    else:
        fn = {1: avg_pool1d, 2: nn_ops.avg_pool2d, 3: avg_pool3d}[n]
    return fn(input, ksize, strides, padding, data_format=data_format, name=name)


@tf_export("nn.max_pool_v2")
def max_pool_v2(input, ksize, strides, padding, data_format=None, name=None) -> _ops.Tensor:  # noqa: A002
    """Max pooling of a 3-, 4- or 5-D input (1-, 2- or 3-D windows, from the input's rank)."""
    return _pool_by_rank("MAX", input, ksize, strides, padding, data_format, name)


@tf_export("nn.avg_pool_v2")
def avg_pool_v2(input, ksize, strides, padding, data_format=None, name=None) -> _ops.Tensor:  # noqa: A002
    """Average pooling of a 3-, 4- or 5-D input (1-, 2- or 3-D windows, from the input's rank)."""
    return _pool_by_rank("AVG", input, ksize, strides, padding, data_format, name)


@tf_export("nn.max_pool_with_argmax")
def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC", Targmax=None,  # noqa: A002,N803
                         name=None, output_dtype=None, include_batch_in_index=False) -> tuple:
    """Max pooling that also returns where each maximum is: the flattened index ((b * height + y) * width + x)
    * channels + c of the first maximum of each window (b only with `include_batch_in_index`)."""
    if data_format != "NHWC":
        raise ValueError("Data formats other than 'NHWC' are not yet supported")
    if Targmax is not None and output_dtype is not None and _dt.as_dtype(Targmax) != _dt.as_dtype(output_dtype):
        raise ValueError("Cannot specify both 'Targmax' and 'output_dtype'")
    targmax = Targmax if Targmax is not None else output_dtype
    attrs = {"ksize": full_window(ksize, 2, False, "ksize"), "strides": full_window(strides, 2, False, "strides"),
             "padding": padding, "include_batch_in_index": bool(include_batch_in_index),
             "Targmax": _dt.as_dtype(targmax if targmax is not None else _dt.int64)}
    op = apply_op("MaxPoolWithArgmax", [input], attrs, name=name)
    return _MaxPoolWithArgmaxResult(op.outputs[0], op.outputs[1])


# TF's namedtuple: `sess.run(tf.nn.max_pool_with_argmax(...))` rebuilds it around the two arrays.
_MaxPoolWithArgmaxResult = collections.namedtuple("MaxPoolWithArgmax", ["output", "argmax"])


@tf_export("nn.pool")
def pool(input, window_shape, pooling_type, padding, dilation_rate=None, strides=None, name=None,  # noqa: A002
         data_format=None, dilations=None) -> _ops.Tensor:
    """N-d max or average pooling (N = 1, 2 or 3) with strides or, for VALID padding, a dilation rate.

    A dilated pool is the plain pool of the input rearranged by space_to_batch_nd (with_space_to_batch)."""
    if dilations is not None and dilation_rate is not None:
        raise ValueError("Cannot specify both 'dilations' and 'dilation_rate'")
    dilation_rate = dilations if dilations is not None else dilation_rate
    with _ops.name_scope(name, f"{str(pooling_type).lower()}_pool", [input]) as scope:
        input = _ops.convert_to_tensor(input, name="input")
        window_shape = [int(v) for v in np.reshape(window_shape, [-1])]
        n = len(window_shape)
        if n not in (1, 2, 3):
            raise ValueError(f"len(window_shape) must be 1, 2 or 3, got {n}")
        input.shape.with_rank(n + 2)
        strides = [1] * n if strides is None else [int(v) for v in np.reshape(strides, [-1])]
        dilation_rate = [1] * n if dilation_rate is None else [int(v) for v in np.reshape(dilation_rate, [-1])]
        if len(strides) != n:
            raise ValueError(f"len(strides) must equal len(window_shape) ({n})")
        if len(dilation_rate) != n:
            raise ValueError(f"len(dilation_rate) must equal len(window_shape) ({n})")
        if any(s < 1 for s in strides):
            raise ValueError("all values of strides must be positive")
        if any(d < 1 for d in dilation_rate):
            raise ValueError("all values of dilation_rate must be positive")
        if any(s > 1 for s in strides) and any(d > 1 for d in dilation_rate):
            raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
        if padding == "SAME" and any(d > 1 for d in dilation_rate):
            raise ValueError("pooling with SAME padding is not implemented for dilation_rate > 1")
        if pooling_type not in ("MAX", "AVG"):
            raise ValueError(f"Invalid pooling_type: {pooling_type}")
        first = data_format is not None and data_format.startswith("NC")
        formats = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}[n]
        fmt = formats[1] if first else formats[0]

        def op(converted, _num_spatial_dims, op_padding):
            return _pool_by_rank(pooling_type, converted, window_shape, strides, op_padding, fmt, scope)

        return space_depth_ops.with_space_to_batch(input, dilation_rate, padding, op, filter_shape=window_shape,
                                                   spatial_dims=list(range(2, n + 2)) if first else None)


@tf_export("nn.dilation2d")
def dilation2d(input, filter=None, strides=None, rates=None, padding=None, name=None,  # noqa: A002
               filters=None, dilations=None) -> _ops.Tensor:
    """Grayscale morphological dilation of a 4-D NHWC input by a [height, width, depth] structuring function:
    the max over each window of input + filter."""
    if filter is not None and filters is not None:
        raise ValueError("Cannot specify both 'filters' and 'filter'")
    if rates is not None and dilations is not None:
        raise ValueError("Cannot specify both 'dilations' and 'rates'")
    filter = filters if filters is not None else filter
    rates = dilations if dilations is not None else rates
    attrs = {"strides": list(strides), "rates": list(rates), "padding": padding}
    return apply_op("Dilation2D", [input, filter], attrs, name=name).outputs[0]


@tf_export("nn.erosion2d")
def erosion2d(value, kernel, strides, rates, padding, name=None) -> _ops.Tensor:
    """Grayscale morphological erosion: the min over each window of value - kernel (the kernel reflected),
    computed as -dilation2d(-value, reflected kernel)."""
    with _ops.name_scope(name, "erosion2d", [value, kernel]) as scope:
        value = _ops.convert_to_tensor(value, name="value")
        kernel = _ops.convert_to_tensor(kernel, name="kernel")
        reflected = array_ops.reverse(kernel, [0, 1])
        dilated = apply_op("Dilation2D", [math_ops.negative(value), reflected],
                           {"strides": list(strides), "rates": list(rates), "padding": padding},
                           name="dilation2d").outputs[0]
        return math_ops.negative(dilated, name=scope)
