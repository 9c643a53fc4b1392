"""3-D convolution: Conv3D and its backprops Conv3DBackpropInputV2 / Conv3DBackpropFilterV2 (tf.nn.conv3d,
conv3d_transpose, conv3d_backprop_filter), ExtractVolumePatches (tf.extract_volume_patches), the transposed
convolutions tf.nn.conv1d_transpose, conv_transpose and atrous_conv2d_transpose, tf.nn.separable_conv2d over the
depthwise op, and the N-d window geometry (`WindowND`) that the 3-D pools share.

Kernels compute channels-last; channels-first inputs are transposed at the kernel's edges. Convolution is
im2col through a strided view of the padded input and one tensordot; the input backprop spreads each kernel
position's share with one slice-add per kernel position, never a loop over output positions.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, depthwise_conv_ops, math_ops, nn_impl, nn_ops
from tfmini.ops.nn_ops import _compute_type, _static_window_output, window_output

_TYPES = _dt.FLOATING
_FORMATS_3D = ("NDHWC", "NCDHW")


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# N-d window geometry and layouts
# ----------------------------------------------------------------------------------------------------------
def channels_first(data_format: str) -> bool:
    return data_format.startswith("NC")


def spatial_entries(values, first: bool) -> list:
    """The spatial entries of a full-rank attr vector ([1, s..., 1] channels-last, [1, 1, s...] first)."""
    return list(values[2:]) if first else list(values[1:-1])


def to_channels_last(x: np.ndarray, first: bool) -> np.ndarray:
    return x.transpose(0, *range(2, x.ndim), 1) if first else x


def from_channels_last(x: np.ndarray, first: bool) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, x.ndim - 1, *range(1, x.ndim - 1))) if first else x


def dims_to_channels_last(dims, first: bool) -> list:
    dims = list(dims)
    return [dims[0], *dims[2:], dims[1]] if first else dims


def dims_from_channels_last(dims, first: bool) -> list:
    dims = list(dims)
    return [dims[0], dims[-1], *dims[1:-1]] if first else dims


def check_window_attr(values, what: str, op_type: str, rank: int, first: bool, field: str = "dimensions") -> list:
    """Checks a full-rank window attr (strides, ksize, dilations) and returns its spatial entries."""
    values = list(values)
    if len(values) != rank:
        raise ValueError(f"{op_type} requires the {what} attribute to contain {rank} values, but got: "
                         f"{len(values)}")
    batch, depth = (values[0], values[1]) if first else (values[0], values[-1])
    if batch != 1 or depth != 1:
        raise ValueError(f"Current implementation does not yet support {what}s in the batch and depth {field}.")
    if any(v < 1 for v in values):
        raise ValueError(f"{op_type}: {what}s must be positive, got {values}")
    return spatial_entries(values, first)


def check_format(data_format: str, allowed) -> None:
    if data_format not in allowed:
        raise ValueError(f"Invalid data format string: {data_format}")


def check_padding(padding: str) -> None:
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be one of SAME, VALID, got {padding!r}")


def format_and_padding(op, formats) -> tuple[bool, str]:
    """(channels first, padding) of a windowed op whose data_format (one of `formats`) and padding are checked."""
    fmt, padding = op.get_attr("data_format"), op.get_attr("padding")
    check_format(fmt, formats)
    check_padding(padding)
    return channels_first(fmt), padding


class WindowND:
    """The geometry of a windowed op over the spatial dimensions of a channels-last (n, *spatial, c) input."""

    __slots__ = ("k", "s", "d", "out", "pads")

    def __init__(self, spatial, ksize, strides, dilations, padding: str) -> None:
        self.k, self.s, self.d = [int(v) for v in ksize], [int(v) for v in strides], [int(v) for v in dilations]
        geometry = [window_output(int(n), k, s, d, padding) for n, k, s, d in zip(spatial, self.k, self.s, self.d)]
        self.out = [g[0] for g in geometry]
        self.pads = [(g[1], g[2]) for g in geometry]

    @property
    def empty(self) -> bool:
        return any(o == 0 for o in self.out)

    def padded_shape(self, x_shape) -> tuple:
        return (x_shape[0], *(n + a + b for n, (a, b) in zip(x_shape[1:-1], self.pads)), x_shape[-1])

    def pad(self, x: np.ndarray, value=0) -> np.ndarray:
        if not any(a or b for a, b in self.pads):
            return x
        out = np.full(self.padded_shape(x.shape), value, dtype=x.dtype)
        out[self.interior(x.shape[1:-1])] = x
        return out

    def interior(self, spatial) -> tuple:
        """The index of the unpadded input inside the padded one."""
        return (slice(None), *(slice(a, a + n) for (a, _), n in zip(self.pads, spatial)), slice(None))

    def crop(self, xp: np.ndarray, spatial) -> np.ndarray:
        if tuple(xp.shape[1:-1]) == tuple(spatial):
            return xp
        return np.ascontiguousarray(xp[self.interior(spatial)])

    def columns(self, xp: np.ndarray) -> np.ndarray:
        """A read-only (n, *out, *k, c) view of the windows of the padded input: im2col without copying."""
        st = xp.strides
        spatial_st = st[1:-1]
        shape = (xp.shape[0], *self.out, *self.k, xp.shape[-1])
        strides = (st[0], *(t * s for t, s in zip(spatial_st, self.s)), *(t * d for t, d in zip(spatial_st, self.d)),
                   st[-1])
        return as_strided(xp, shape, strides, writeable=False)

    def offsets(self):
        """(kernel position, index) per kernel position: the padded-input elements that position touches
        across all outputs, as an index of the padded input."""
        for pos in itertools.product(*(range(k) for k in self.k)):
            index = tuple(slice(p * d, p * d + s * (o - 1) + 1, s) for p, d, s, o in zip(pos, self.d, self.s, self.out))
            yield pos, (slice(None), *index, slice(None))

    def counts(self, spatial) -> np.ndarray:
        """(*out) number of real (unpadded) input elements under each window."""
        total = np.ones((), dtype=np.int64)
        for n, k, s, o, (before, _) in zip(spatial, self.k, self.s, self.out, self.pads):
            start = np.arange(o) * s - before
            total = np.multiply.outer(total, np.minimum(start + k, n) - np.maximum(start, 0))
        return total


def static_window_dims(spatial, ksize, strides, dilations, padding: str) -> list:
    return [_static_window_output(n, k, s, d, padding)[0] for n, k, s, d in zip(spatial, ksize, strides, dilations)]


def known_dims(shape: _shape.TensorShape, rank: int) -> list:
    return shape.with_rank(rank).as_list() if shape.ndims is not None else [None] * rank


# ----------------------------------------------------------------------------------------------------------
# Conv3D and its backprops
# ----------------------------------------------------------------------------------------------------------
_CONV3D_ATTRS = {
    "strides": ("list(int)", _reg.REQUIRED),
    "padding": ("string", _reg.REQUIRED),
    "data_format": ("string", "NDHWC"),
    "dilations": ("list(int)", [1, 1, 1, 1, 1]),
}


def _conv3d_attrs(op) -> tuple:
    first, padding = format_and_padding(op, _FORMATS_3D)
    strides = check_window_attr(op.get_attr("strides"), "stride", op.type, 5, first)
    dilations = check_window_attr(op.get_attr("dilations"), "dilation", op.type, 5, first)
    return first, padding, strides, dilations


def _conv3d_shape(op):
    first, padding, strides, dilations = _conv3d_attrs(op)
    x = dims_to_channels_last(known_dims(op.inputs[0].shape, 5), first)
    f = known_dims(op.inputs[1].shape, 5)
    if x[-1] is not None and f[3] is not None and x[-1] != f[3]:
        raise ValueError(f"Dimensions must be equal, but are {x[-1]} and {f[3]}")
    out = static_window_dims(x[1:4], f[:3], strides, dilations, padding)
    return dims_from_channels_last([x[0], *out, f[4]], first)


def _check_conv3d_operands(x_shape, f_shape) -> None:
    if len(x_shape) != 5:
        raise _invalid(f"input must be 5-dimensional{list(x_shape)}")
    if len(f_shape) != 5:
        raise _invalid(f"filter must be 5-dimensional: {list(f_shape)}")
    if x_shape[-1] != f_shape[3]:
        raise _invalid(f"Input depth must be equal to filter depth: {x_shape[-1]} vs {f_shape[3]}")


def _window(x_shape, f_shape, strides, dilations, padding, first) -> WindowND:
    return WindowND(x_shape[1:4], f_shape[:3], spatial_entries(strides, first), spatial_entries(dilations, first),
                    padding)


@register_op("Conv3D", inputs=["input: T", "filter: T"], outputs=["output: T"], attrs=dict(_CONV3D_ATTRS),
             allowed={"T": _TYPES}, shape=_conv3d_shape, fresh_output=True)
def _conv3d(x, w, *, strides, padding, data_format, dilations):
    first = channels_first(data_format)
    x = to_channels_last(x, first)
    _check_conv3d_operands(x.shape, w.shape)
    win = _window(x.shape, w.shape, strides, dilations, padding, first)
    dtype, ct = x.dtype, _compute_type(x.dtype)
    if win.empty or x.size == 0:
        return from_channels_last(np.zeros((x.shape[0], *win.out, w.shape[4]), dtype=dtype), first)
    cols = win.columns(win.pad(x.astype(ct, copy=False)))
    out = np.tensordot(cols, w.astype(ct, copy=False), axes=4)
    return from_channels_last(out.astype(dtype, copy=False), first)


def _sizes(values, what: str, op_type: str) -> list:
    sizes = [int(s) for s in np.reshape(values, [-1])]
    if len(sizes) != 5:
        raise _invalid(f"{op_type}: {what} must have 5 elements, got {len(sizes)}")
    return sizes


def _check_out_backprop(dy_shape, want, op_type: str) -> None:
    if tuple(dy_shape) != tuple(want):
        raise _invalid(f"{op_type}: Size of out_backprop doesn't match computed: actual = {list(dy_shape)}, "
                       f"computed = {list(want)}")


def _sizes_shape(op, index: int):
    _conv3d_attrs(op)
    return _reg.constant_value_as_shape(op.inputs[index]).merge_with(_shape.unknown_shape(5))


def spread_columns(cols: np.ndarray, win: WindowND, padded_shape, dtype) -> np.ndarray:
    """col2im: sums (n, *out, *k, c) window columns back into a zero (padded) input of `padded_shape`."""
    out = np.zeros(padded_shape, dtype=dtype)
    lead = (slice(None),) * (1 + len(win.out))
    for pos, index in win.offsets():
        out[index] += cols[lead + pos]
    return out


@register_op("Conv3DBackpropInputV2", inputs=["input_sizes: Tshape", "filter: T", "out_backprop: T"],
             outputs=["output: T"], attrs={**_CONV3D_ATTRS, "Tshape": ("type", _dt.int32)},
             allowed={"T": _TYPES, "Tshape": (_dt.int32, _dt.int64)}, shape=lambda op: _sizes_shape(op, 0),
             fresh_output=True)
def _conv3d_backprop_input(input_sizes, w, dy, *, strides, padding, data_format, dilations):
    first = channels_first(data_format)
    sizes = dims_to_channels_last(_sizes(input_sizes, "input_sizes", "Conv3DBackpropInputV2"), first)
    dy = to_channels_last(dy, first)
    _check_conv3d_operands(sizes, w.shape)
    win = _window(sizes, w.shape, strides, dilations, padding, first)
    _check_out_backprop(dy.shape, (sizes[0], *win.out, w.shape[4]), "Conv3DBackpropInputOp")
    dtype, ct = dy.dtype, _compute_type(dy.dtype)
    if win.empty or dy.size == 0 or w.size == 0:
        return from_channels_last(np.zeros(sizes, dtype=dtype), first)
    cols = np.tensordot(dy.astype(ct, copy=False), w.astype(ct, copy=False), axes=([4], [4]))
    dxp = spread_columns(cols, win, win.padded_shape(sizes), ct)
    return from_channels_last(win.crop(dxp, sizes[1:4]).astype(dtype, copy=False), first)


@register_op("Conv3DBackpropFilterV2", inputs=["input: T", "filter_sizes: int32", "out_backprop: T"],
             outputs=["output: T"], attrs=dict(_CONV3D_ATTRS), allowed={"T": _TYPES},
             shape=lambda op: _sizes_shape(op, 1), fresh_output=True)
def _conv3d_backprop_filter(x, filter_sizes, dy, *, strides, padding, data_format, dilations):
    first = channels_first(data_format)
    f_shape = tuple(_sizes(filter_sizes, "filter_sizes", "Conv3DBackpropFilterV2"))
    x, dy = to_channels_last(x, first), to_channels_last(dy, first)
    _check_conv3d_operands(x.shape, f_shape)
    win = _window(x.shape, f_shape, strides, dilations, padding, first)
    _check_out_backprop(dy.shape, (x.shape[0], *win.out, f_shape[4]), "Conv3DBackpropFilterOp")
    dtype, ct = x.dtype, _compute_type(x.dtype)
    if win.empty or x.size == 0 or dy.size == 0:
        return np.zeros(f_shape, dtype=dtype)
    cols = win.columns(win.pad(x.astype(ct, copy=False)))
    return np.tensordot(cols, dy.astype(ct, copy=False), axes=([0, 1, 2, 3], [0, 1, 2, 3])).astype(dtype, copy=False)


def _conv3d_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _CONV3D_ATTRS}


@RegisterGradient("Conv3D")
def _conv3d_grad(op, grad):
    x, w = op.inputs
    attrs = _conv3d_attr_values(op)
    dx = apply_op("Conv3DBackpropInputV2", [array_ops.shape(x), w, grad], attrs).outputs[0]
    dw = apply_op("Conv3DBackpropFilterV2", [x, array_ops.shape(w), grad], attrs).outputs[0]
    return dx, dw


@RegisterGradient("Conv3DBackpropInputV2")
def _conv3d_backprop_input_grad(op, grad):
    _, w, dy = op.inputs
    attrs = _conv3d_attr_values(op)
    d_filter = apply_op("Conv3DBackpropFilterV2", [grad, array_ops.shape(w), dy], attrs).outputs[0]
    return None, d_filter, apply_op("Conv3D", [grad, w], attrs).outputs[0]


@RegisterGradient("Conv3DBackpropFilterV2")
def _conv3d_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _conv3d_attr_values(op)
    d_input = apply_op("Conv3DBackpropInputV2", [array_ops.shape(x), grad, dy], attrs).outputs[0]
    return d_input, None, apply_op("Conv3D", [x, grad], attrs).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# ExtractVolumePatches
# ----------------------------------------------------------------------------------------------------------
_PATCH_ATTRS = {"ksizes": ("list(int)", _reg.REQUIRED), "strides": ("list(int)", _reg.REQUIRED),
                "padding": ("string", _reg.REQUIRED)}


def _patch_attrs(op) -> tuple:
    padding = op.get_attr("padding")
    check_padding(padding)
    ksizes = check_window_attr(op.get_attr("ksizes"), "ksize", op.type, 5, False)
    strides = check_window_attr(op.get_attr("strides"), "stride", op.type, 5, False)
    return padding, ksizes, strides


def _volume_patches_shape(op):
    padding, ksizes, strides = _patch_attrs(op)
    x = known_dims(op.inputs[0].shape, 5)
    out = static_window_dims(x[1:4], ksizes, strides, [1, 1, 1], padding)
    depth = None if x[4] is None else x[4] * int(np.prod(ksizes))
    return [x[0], *out, depth]


@register_op("ExtractVolumePatches", inputs=["input: T"], outputs=["patches: T"], attrs=dict(_PATCH_ATTRS),
             allowed={"T": _dt.REAL}, shape=_volume_patches_shape, fresh_output=True)
def _extract_volume_patches(x, *, ksizes, strides, padding):
    """Each ksizes[1] x ksizes[2] x ksizes[3] window (every strides voxels) flattened into the depth axis in
    (plane, row, column, channel) order; SAME windows read zeros outside the volume."""
    if x.ndim != 5:
        raise _invalid(f"input must be 5-dimensional{list(x.shape)}")
    win = WindowND(x.shape[1:4], ksizes[1:4], strides[1:4], [1, 1, 1], padding)
    size = int(np.prod(win.k)) * x.shape[4]
    if win.empty or x.size == 0:
        return np.zeros((x.shape[0], *win.out, size), dtype=x.dtype)
    # np.array copies: with 1-voxel windows the columns view is the input itself
    return np.array(win.columns(win.pad(x)), order="C").reshape(x.shape[0], *win.out, size)


@RegisterGradient("ExtractVolumePatches")
def _extract_volume_patches_gradient(op, grad):
    """Adds each patch element's gradient back onto the voxel it was copied from: the patches of a volume of
    voxel numbers (1-based; 0 where padding was read) name each element's voxel."""
    shape = array_ops.shape(op.inputs[0], out_type=_dt.int64)
    batch, planes, rows, cols, depth = array_ops.unstack(shape, 5)
    voxels = planes * rows * cols
    numbers = array_ops.reshape(array_ops.range(1, voxels + 1, dtype=_dt.int64),
                                array_ops.stack([1, planes, rows, cols, 1]))
    attrs = {name: op.get_attr(name) for name in _PATCH_ATTRS}
    sources = array_ops.reshape(apply_op("ExtractVolumePatches", [numbers], attrs).outputs[0], [-1])
    window = int(np.prod(op.get_attr("ksizes")))
    # grad [batch, *out, window * depth] -> [out voxels * window, batch * depth]
    flat = array_ops.reshape(grad, array_ops.stack([batch, -1, window, depth]))
    flat = array_ops.reshape(array_ops.transpose(flat, [1, 2, 0, 3]), array_ops.stack([-1, batch * depth]))
    summed = math_ops.unsorted_segment_sum(flat, sources, voxels + 1)[1:]
    summed = array_ops.reshape(summed, array_ops.stack([planes, rows, cols, batch, depth]))
    return [array_ops.transpose(summed, [3, 0, 1, 2, 4])]


# ----------------------------------------------------------------------------------------------------------
# Python wrappers
# ----------------------------------------------------------------------------------------------------------
def _renamed(new_value, new_name: str, old_value, old_name: str):
    if new_value is not None and old_value is not None:
        raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
    return new_value if new_value is not None else old_value


def full_window(value, n: int, first: bool, name: str) -> list:
    """An int, or a list of 1, n or n+2 ints, as the n+2 entries of a windowed op's attr."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (int, np.integer)):
        value = [int(value)]
    elif not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} should be an int or a list of ints, got {value!r}")
    value = [int(v) for v in value]
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2} but was {len(value)}")
    return [1, 1] + value if first else [1] + value + [1]


def _conv3d_attrs_from_args(strides, padding, data_format, dilations) -> dict:
    data_format = data_format or "NDHWC"
    first = channels_first(data_format)
    return {"strides": full_window(strides, 3, first, "strides"), "padding": padding, "data_format": data_format,
            "dilations": full_window(dilations, 3, first, "dilations")}


@tf_export("nn.conv3d")
def conv3d(input, filter=None, strides=None, padding=None, data_format="NDHWC",  # noqa: A002 - TF's names
           dilations=(1, 1, 1, 1, 1), name=None, filters=None) -> _ops.Tensor:
    """3-D convolution of a 5-D `input` with a [depth, height, width, in, out] `filter`."""
    filter = _renamed(filters, "filters", filter, "filter")
    attrs = _conv3d_attrs_from_args(strides, padding, data_format, dilations)
    return apply_op("Conv3D", [input, filter], attrs, name=name).outputs[0]


@tf_export("nn.conv3d_backprop_filter", "nn.conv3d_backprop_filter_v2")
def conv3d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002 - TF's names
                           data_format="NDHWC", dilations=(1, 1, 1, 1, 1), name=None) -> _ops.Tensor:
    """The gradient of conv3d with respect to its filter, for a filter of shape `filter_sizes`."""
    attrs = _conv3d_attrs_from_args(strides, padding, data_format, dilations)
    return apply_op("Conv3DBackpropFilterV2", [input, filter_sizes, out_backprop], attrs, name=name).outputs[0]


@tf_export("nn.conv3d_transpose")
def conv3d_transpose(value, filter=None, output_shape=None, strides=None, padding="SAME",  # noqa: A002
                     data_format="NDHWC", name=None, input=None, filters=None,  # noqa: A002
                     dilations=None) -> _ops.Tensor:
    """The transpose (gradient) of conv3d: maps `value` of conv3d's output shape to `output_shape`.

    `filter` is [depth, height, width, output_channels, in_channels], as for the conv3d being transposed.
    """
    value = _renamed(input, "input", value, "value")
    filter = _renamed(filters, "filters", filter, "filter")
    with _ops.name_scope(name, "conv3d_transpose", [value, filter, output_shape]) as scope:
        value, filter, output_shape_t = nn_impl.conv_transpose_operands(
            value, filter, output_shape, padding, 5, 1 if channels_first(data_format or "NDHWC") else 4)
        attrs = _conv3d_attrs_from_args(strides, padding, data_format, dilations)
        return apply_op("Conv3DBackpropInputV2", [output_shape_t, filter, value], attrs, name=scope).outputs[0]


@tf_export("nn.separable_conv2d")
def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, rate=None,  # noqa: A002
                     name=None, data_format=None, dilations=None) -> _ops.Tensor:
    """A depthwise convolution with `depthwise_filter` [fh, fw, in, multiplier] followed by a 1x1 convolution
    with `pointwise_filter` [1, 1, in * multiplier, out]."""
    rate = _renamed(dilations, "dilations", rate, "rate")
    with _ops.name_scope(name, "separable_conv2d", [input, depthwise_filter, pointwise_filter]) as scope:
        x = _ops.convert_to_tensor(input, name="tensor_in")
        depthwise_filter = _ops.convert_to_tensor(depthwise_filter, name="depthwise_filter")
        pointwise_filter = _ops.convert_to_tensor(pointwise_filter, name="pointwise_filter")
        pointwise_filter.shape.with_rank(4)
        depthwise_filter.shape.with_rank(4)
        for dim in pointwise_filter.shape.as_list()[:2] if pointwise_filter.shape.ndims is not None else ():
            if dim not in (None, 1):
                raise ValueError(f"Dimensions {dim} and 1 are not compatible")
        depthwise = depthwise_conv_ops.depthwise_conv2d(x, depthwise_filter, strides, padding, rate=rate,
                                                        name="depthwise", data_format=data_format)
        return nn_ops.conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], padding="VALID",
                             data_format=data_format or "NHWC", name=scope)


@tf_export("extract_volume_patches")
def extract_volume_patches(input, ksizes, strides, padding, name=None) -> _ops.Tensor:  # noqa: A002
    """The ksizes windows of a 5-D [batch, planes, rows, cols, depth] input, each flattened into the depth axis."""
    attrs = {"ksizes": list(ksizes), "strides": list(strides), "padding": padding}
    return apply_op("ExtractVolumePatches", [input], attrs, name=name).outputs[0]


@tf_export("nn.conv1d_transpose")
def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",  # noqa: A002
                     dilations=None, name=None) -> _ops.Tensor:
    """The transpose (gradient) of conv1d: `filters` is [width, output_channels, in_channels]; computed as the
    2-D transposed convolution of a height-1 image."""
    with _ops.name_scope(name, "conv1d_transpose", [input, filters, output_shape]) as scope:
        if data_format is None or data_format == "NWC":
            fmt, spatial_start, first = "NHWC", 1, False
        elif data_format == "NCW":
            fmt, spatial_start, first = "NCHW", 2, True
        else:
            raise ValueError("data_format must be \"NWC\" or \"NCW\".")
        strides = [1] + full_window(strides, 1, first, "stride")
        dilations = [1] + full_window(dilations, 1, first, "dilations")
        x = array_ops.expand_dims(input, spatial_start)
        filters = array_ops.expand_dims(filters, 0)
        output_shape = _ops.convert_to_tensor(output_shape, dtype=_dt.int32, name="output_shape")
        output_shape = array_ops.concat([output_shape[:spatial_start], [1], output_shape[spatial_start:]], 0)
        result = nn_ops.conv2d_backprop_input(output_shape, filters, x, strides=strides, padding=padding,
                                              data_format=fmt, dilations=dilations)
        return array_ops.squeeze(result, [spatial_start], name=scope)


@tf_export("nn.conv_transpose")
def conv_transpose(input, filters, output_shape, strides, padding="SAME", data_format=None,  # noqa: A002
                   dilations=None, name=None) -> _ops.Tensor:
    """The transposed 1-, 2- or 3-D convolution, N taken from the length of `output_shape` (N + 2)."""
    with _ops.name_scope(name, "conv_transpose", [input, filters, output_shape]) as scope:
        if isinstance(output_shape, _ops.Tensor):
            length = output_shape.shape.with_rank(1)[0].value
            if length is None:
                raise ValueError("output_shape must have a known length")
        else:
            try:
                length = len(output_shape)
            except TypeError:
                raise ValueError("output_shape must be a tensor or sized collection.") from None
        n = length - 2
        if not 1 <= n <= 3:
            raise ValueError(f"output_shape must be of length 3, 4 or 5 but was {length}.")
        if n == 1:
            return conv1d_transpose(input, filters, output_shape, strides, padding=padding,
                                    data_format=data_format or "NWC", dilations=dilations, name=scope)
        if n == 2:
            return nn_impl.conv2d_transpose(input, filters, output_shape, strides, padding=padding,
                                            data_format=data_format or "NHWC", dilations=dilations, name=scope)
        return conv3d_transpose(input, filters, output_shape, strides, padding=padding,
                                data_format=data_format or "NDHWC", dilations=dilations, name=scope)


@tf_export("nn.atrous_conv2d_transpose")
def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None) -> _ops.Tensor:
    """The transpose (gradient) of atrous_conv2d: `filters` [height, width, output_channels, in_channels] with
    taps `rate` pixels apart, mapping `value` to an NHWC result of `output_shape`."""
    with _ops.name_scope(name, "atrous_conv2d_transpose", [value, filters, output_shape]) as scope:
        value = _ops.convert_to_tensor(value, name="value")
        filters = _ops.convert_to_tensor(filters, name="filters")
        if value.shape.ndims is not None and filters.shape.ndims is not None and \
                not value.shape[3].is_compatible_with(filters.shape[3]):
            raise ValueError(f"value's input channels does not match filters' input channels, {value.shape[3]} "
                             f"!= {filters.shape[3]}")
        if rate < 1:
            raise ValueError(f"rate {rate} cannot be less than one")
        output_shape_t = _ops.convert_to_tensor(output_shape, name="output_shape")
        if not output_shape_t.shape.is_compatible_with(_shape.vector(4)):
            raise ValueError(f"output_shape must have shape (4,), got {output_shape_t.shape}")
        if isinstance(output_shape, (list, tuple, np.ndarray)) and filters.shape.ndims is not None and \
                not filters.shape[2].is_compatible_with(output_shape[3]):
            raise ValueError(f"output_shape does not match filter's output channels, {output_shape[3]} != "
                             f"{filters.shape[2]}")
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be either VALID or SAME: {padding}")
        return nn_ops.conv2d_backprop_input(output_shape_t, filters, value, strides=[1, 1, 1, 1], padding=padding,
                                            dilations=[1, rate, rate, 1], name=scope)
