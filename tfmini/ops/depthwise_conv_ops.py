"""Depthwise convolution: DepthwiseConv2dNative and its backprops (input, filter), with tf.nn.depthwise_conv2d and
tf.nn.depthwise_conv2d_native. Each input channel c is convolved with its own `channel_multiplier` filters
filter[:, :, c, :], giving output channels c * channel_multiplier + m.

The window geometry (padding, strides, dilations, data formats) is Conv2D's, from nn_ops.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, conv_algorithms
from tfmini.ops.nn_ops import (
    _CONV_ATTRS,
    _compute_type,
    _conv_attrs_check,
    _conv_window,
    _from_nhwc,
    _from_nhwc_dims,
    _nhwc,
    _sizes_shape,
    _static_window_output,
    _to_nhwc,
)

# TF's depthwise ops have Conv2D's attrs except use_cudnn_on_gpu.
_ATTRS = {k: v for k, v in _CONV_ATTRS.items() if k != "use_cudnn_on_gpu"}
_TYPES = _dt.FLOATING


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _depthwise_shape(op):
    fmt, padding, strides, dilations, explicit = _conv_attrs_check(op)
    x, f = op.inputs[0].shape, op.inputs[1].shape
    n, h, w, c = _nhwc(x.with_rank(4).as_list() if x.ndims is not None else [None] * 4, fmt)
    kh, kw, kc, m = f.with_rank(4).as_list() if f.ndims is not None else [None] * 4
    if c is not None and kc is not None and c != kc:
        raise ValueError(f"Dimensions must be equal, but are {c} and {kc}")
    oh, _, _ = _static_window_output(h, kh, strides[0], dilations[0], padding, explicit[0])
    ow, _, _ = _static_window_output(w, kw, strides[1], dilations[1], padding, explicit[1])
    depth = None if (c if c is not None else kc) is None or m is None else (c if c is not None else kc) * m
    return _from_nhwc_dims([n, oh, ow, depth], fmt)


def _check_strides(strides, data_format: str) -> None:
    rows, cols = (strides[2], strides[3]) if data_format == "NCHW" else (strides[1], strides[2])
    if rows != cols:
        raise _invalid("Current implementation only supports equal length strides in the row and column "
                       "dimensions.")


def _check_operands(x_shape, f_shape, what: str = "input") -> None:
    if len(x_shape) != 4:
        raise _invalid(f"{what} must be 4-dimensional {list(x_shape)}")
    if len(f_shape) != 4:
        raise _invalid(f"filter must be 4-dimensional: {list(f_shape)}")
    if x_shape[3] != f_shape[2]:
        raise _invalid(f"input and filter must have the same depth: {x_shape[3]} vs {f_shape[2]}")


@register_op("DepthwiseConv2dNative", inputs=["input: T", "filter: T"], outputs=["output: T"], attrs=dict(_ATTRS),
             allowed={"T": _TYPES}, shape=_depthwise_shape, fresh_output=True)
def _depthwise(x, f, *, strides, padding, explicit_paddings, data_format, dilations):
    _check_strides(strides, data_format)
    x = _to_nhwc(x, data_format)
    _check_operands(x.shape, f.shape)
    win = _conv_window(x.shape, f.shape, strides, padding, explicit_paddings, data_format, dilations)
    n, c, m = x.shape[0], f.shape[2], f.shape[3]
    dtype, ct = x.dtype, _compute_type(x.dtype)
    if win.empty or x.size == 0:
        out = np.zeros((n, win.oh, win.ow, c, m), dtype=ct)
    else:
        out = conv_algorithms.depthwise_conv2d(conv_algorithms.pad_nhwc(x, win.pads, ct), f.astype(ct, copy=False),
                                               win.oh, win.ow, (win.sh, win.sw), (win.dh, win.dw))
    return _from_nhwc(out.reshape(n, win.oh, win.ow, c * m).astype(dtype, copy=False), data_format)


def _check_out_backprop(dy_shape, win, n: int, depth: int, op_type: str) -> None:
    want = (n, win.oh, win.ow, depth)
    if tuple(dy_shape) != want:
        raise _invalid(f"{op_type}: Size of out_backprop doesn't match computed: actual = {list(dy_shape)}, "
                       f"computed = {list(want)}")


def _sizes_input_shape(op, index: int):
    """A backprop's output shape: the value of its sizes input `index`, once its attrs check out."""
    _conv_attrs_check(op)
    return _sizes_shape(op, index)


def _sizes(values, what: str, op_type: str) -> list:
    sizes = [int(s) for s in np.reshape(values, [-1])]
    if len(sizes) != 4:
        raise _invalid(f"{op_type}: {what} must be 4-dimensional, got: {len(sizes)}")
    return sizes


@register_op("DepthwiseConv2dNativeBackpropInput", inputs=["input_sizes: int32", "filter: T", "out_backprop: T"],
             outputs=["output: T"], attrs=dict(_ATTRS), allowed={"T": _TYPES},
             shape=lambda op: _sizes_input_shape(op, 0), fresh_output=True)
def _depthwise_backprop_input(input_sizes, f, dy, *, strides, padding, explicit_paddings, data_format, dilations):
    _check_strides(strides, data_format)
    n, h, w, c = _nhwc(_sizes(input_sizes, "input_sizes", "DepthwiseConv2dNativeBackpropInput"), data_format)
    dy = _to_nhwc(dy, data_format)
    _check_operands((n, h, w, c), f.shape, "input_sizes")
    win = _conv_window((n, h, w, c), f.shape, strides, padding, explicit_paddings, data_format, dilations)
    m = f.shape[3]
    _check_out_backprop(dy.shape, win, n, c * m, "DepthwiseConv2DBackpropInput")
    dtype, ct = dy.dtype, _compute_type(dy.dtype)
    if win.empty or dy.size == 0:
        return _from_nhwc(np.zeros((n, h, w, c), dtype=dtype), data_format)
    (pt, pb), (pl, pr) = win.pads
    dxp = conv_algorithms.depthwise_conv2d_backprop_input(
        dy.astype(ct, copy=False).reshape(n, win.oh, win.ow, c, m), f.astype(ct, copy=False),
        (h + pt + pb, w + pl + pr), (win.sh, win.sw), (win.dh, win.dw))
    return _from_nhwc(win.crop(dxp, h, w).astype(dtype, copy=False), data_format)


@register_op("DepthwiseConv2dNativeBackpropFilter", inputs=["input: T", "filter_sizes: int32", "out_backprop: T"],
             outputs=["output: T"], attrs=dict(_ATTRS), allowed={"T": _TYPES},
             shape=lambda op: _sizes_input_shape(op, 1), fresh_output=True)
def _depthwise_backprop_filter(x, filter_sizes, dy, *, strides, padding, explicit_paddings, data_format, dilations):
    _check_strides(strides, data_format)
    f_shape = tuple(_sizes(filter_sizes, "filter_sizes", "DepthwiseConv2dNativeBackpropFilter"))
    x, dy = _to_nhwc(x, data_format), _to_nhwc(dy, data_format)
    _check_operands(x.shape, f_shape)
    win = _conv_window(x.shape, f_shape, strides, padding, explicit_paddings, data_format, dilations)
    n, c, m = x.shape[0], f_shape[2], f_shape[3]
    _check_out_backprop(dy.shape, win, n, c * m, "DepthwiseConv2DBackpropFilter")
    dtype, ct = x.dtype, _compute_type(x.dtype)
    if win.empty or x.size == 0 or dy.size == 0:
        return np.zeros(f_shape, dtype=dtype)
    dy5 = dy.astype(ct, copy=False).reshape(n, win.oh, win.ow, c, m)
    return conv_algorithms.depthwise_conv2d_backprop_filter(conv_algorithms.pad_nhwc(x, win.pads, ct), dy5,
                                                            f_shape[0], f_shape[1], (win.sh, win.sw),
                                                            (win.dh, win.dw)).astype(dtype, copy=False)


def _attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _ATTRS}


@RegisterGradient("DepthwiseConv2dNative")
def _depthwise_grad(op, grad):
    x, f = op.inputs
    attrs = _attr_values(op)
    dx = apply_op("DepthwiseConv2dNativeBackpropInput", [array_ops.shape(x), f, grad], attrs).outputs[0]
    df = apply_op("DepthwiseConv2dNativeBackpropFilter", [x, array_ops.shape(f), grad], attrs).outputs[0]
    return dx, df


@RegisterGradient("DepthwiseConv2dNativeBackpropInput")
def _depthwise_backprop_input_grad(op, grad):
    _, f, dy = op.inputs
    attrs = _attr_values(op)
    d_filter = apply_op("DepthwiseConv2dNativeBackpropFilter", [grad, array_ops.shape(f), dy], attrs).outputs[0]
    return None, d_filter, apply_op("DepthwiseConv2dNative", [grad, f], attrs).outputs[0]


@RegisterGradient("DepthwiseConv2dNativeBackpropFilter")
def _depthwise_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _attr_values(op)
    d_input = apply_op("DepthwiseConv2dNativeBackpropInput", [array_ops.shape(x), grad, dy], attrs).outputs[0]
    return d_input, None, apply_op("DepthwiseConv2dNative", [x, grad], attrs).outputs[0]


def _native_attrs(strides, padding, data_format, dilations) -> dict:
    """The attrs of the three DepthwiseConv2dNative ops from their wrappers' arguments."""
    return {"strides": list(strides), "padding": padding, "data_format": data_format, "dilations": list(dilations)}


@tf_export("nn.depthwise_conv2d_native_backprop_input", "nn.depthwise_conv2d_backprop_input")
def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                                           data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> _ops.Tensor:
    """The gradient of a depthwise convolution with respect to its input of shape `input_sizes`."""
    return apply_op("DepthwiseConv2dNativeBackpropInput", [input_sizes, filter, out_backprop],
                    _native_attrs(strides, padding, data_format, dilations), name=name).outputs[0]


@tf_export("nn.depthwise_conv2d_native_backprop_filter", "nn.depthwise_conv2d_backprop_filter")
def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                                            data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> _ops.Tensor:
    """The gradient of a depthwise convolution with respect to its filter of shape `filter_sizes`."""
    return apply_op("DepthwiseConv2dNativeBackpropFilter", [input, filter_sizes, out_backprop],
                    _native_attrs(strides, padding, data_format, dilations), name=name).outputs[0]


@tf_export("nn.depthwise_conv2d_native")
def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=(1, 1, 1, 1), name=None) -> _ops.Tensor:
    """The depthwise 2-D convolution op itself: strides and dilations are 4-vectors in `data_format` order."""
    return apply_op("DepthwiseConv2dNative", [input, filter], _native_attrs(strides, padding, data_format, dilations),
                    name=name).outputs[0]


@tf_export("nn.depthwise_conv2d")
def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None,  # noqa: A002
                     dilations=None) -> _ops.Tensor:
    """Depthwise 2-D convolution (tf.nn.depthwise_conv2d): `filter` [fh, fw, in_channels, channel_multiplier],
    `rate` (or `dilations`) the spatial dilation [rh, rw]."""
    if rate is not None and dilations is not None:
        raise ValueError("rate and dilations cannot both be given")
    rate = [1, 1] if rate is None and dilations is None else list(rate if rate is not None else dilations)
    if len(rate) != 2:
        raise ValueError(f"rate must be a list of 2 values, got {rate}")
    fmt = data_format or "NHWC"
    with _ops.name_scope(name, "depthwise", [input, filter]) as scope:
        x = _ops.convert_to_tensor(input, name="input")
        f = _ops.convert_to_tensor(filter, name="filter")
        f.shape.with_rank(4)
        if any(r != 1 for r in rate) and any(s != 1 for s in strides):
            raise ValueError("strides > 1 not supported in conjunction with rate > 1")
        dil = [1, 1] + rate if fmt == "NCHW" else [1] + rate + [1]
        return depthwise_conv2d_native(x, f, strides, padding, data_format=fmt, dilations=dil, name=scope)

