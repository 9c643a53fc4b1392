"""Rearranging space and depth or batch: SpaceToDepth/DepthToSpace, SpaceToBatchND/BatchToSpaceND and their
4-D forms SpaceToBatch/BatchToSpace, with tf.space_to_depth, tf.depth_to_space, tf.space_to_batch(_nd),
tf.batch_to_space(_nd), tf.required_space_to_batch_paddings and tf.nn.with_space_to_batch.

Every kernel is a pad or crop plus one reshape-transpose-reshape: no Python loop touches the elements.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import constant_op
from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops

_INDEX = (_dt.int32, _dt.int64)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _owned(result: np.ndarray, source: np.ndarray) -> np.ndarray:
    """`result`, copied when it is a view of the kernel's input (a rearrangement that moves nothing): outputs
    are fresh arrays, never the caller's feed or a variable's storage."""
    return result.copy() if np.may_share_memory(result, source) else result


# ----------------------------------------------------------------------------------------------------------
# SpaceToDepth / DepthToSpace
# ----------------------------------------------------------------------------------------------------------
_BLOCK_ATTRS = {"block_size": ("int", _reg.REQUIRED), "data_format": ("string", "NHWC")}


def _block_attrs(op) -> tuple:
    block, fmt = op.get_attr("block_size"), op.get_attr("data_format")
    if block < 2:
        raise ValueError(f"Attr block_size has value {block} must be at least minimum 2")
    if fmt not in ("NHWC", "NCHW"):
        raise ValueError(f"{op.type}: data_format {fmt} is not supported (NHWC or NCHW)")
    return block, fmt


def _nhwc_dims(op) -> tuple:
    block, fmt = _block_attrs(op)
    shape = op.inputs[0].shape
    dims = shape.with_rank(4).as_list() if shape.ndims is not None else [None] * 4
    return block, fmt, ([dims[0], dims[2], dims[3], dims[1]] if fmt == "NCHW" else dims)


def _from_nhwc_dims(dims, fmt: str) -> list:
    return [dims[0], dims[3], dims[1], dims[2]] if fmt == "NCHW" else list(dims)


def _space_to_depth_shape(op):
    block, fmt, (n, h, w, c) = _nhwc_dims(op)
    for d in (h, w):
        if d is not None and d % block:
            raise ValueError(f"Dimension size must be evenly divisible by {block} but is {d}")
    return _from_nhwc_dims([n, None if h is None else h // block, None if w is None else w // block,
                            None if c is None else c * block * block], fmt)


def _depth_to_space_shape(op):
    block, fmt, (n, h, w, c) = _nhwc_dims(op)
    if c is not None and c % (block * block):
        raise ValueError(f"Dimension size must be evenly divisible by {block * block} but is {c}")
    return _from_nhwc_dims([n, None if h is None else h * block, None if w is None else w * block,
                            None if c is None else c // (block * block)], fmt)


def _to_nhwc(x: np.ndarray, fmt: str, op_type: str) -> np.ndarray:
    if x.ndim != 4:
        raise _invalid(f"{op_type}: input rank should be 4 instead of {x.ndim}")
    return x.transpose(0, 2, 3, 1) if fmt == "NCHW" else x


def _from_nhwc(x: np.ndarray, fmt: str) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if fmt == "NCHW" else x)


@register_op("SpaceToDepth", inputs=["input: T"], outputs=["output: T"], attrs=dict(_BLOCK_ATTRS),
             shape=_space_to_depth_shape, fresh_output=True)
def _space_to_depth(x, *, block_size, data_format):
    """Each block_size x block_size block of pixels becomes one pixel whose depth holds the block in
    (row, column, channel) order."""
    x = _to_nhwc(x, data_format, "SpaceToDepth")
    n, h, w, c = x.shape
    b = block_size
    if h % b or w % b:
        raise _invalid(f"Image height {h} and width {w} should be divisible by block_size: {b}")
    out = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, b * b * c)
    return _owned(_from_nhwc(out, data_format), x)


@register_op("DepthToSpace", inputs=["input: T"], outputs=["output: T"], attrs=dict(_BLOCK_ATTRS),
             shape=_depth_to_space_shape, fresh_output=True)
def _depth_to_space(x, *, block_size, data_format):
    """The inverse of SpaceToDepth: each pixel's depth spreads over a block_size x block_size block."""
    x = _to_nhwc(x, data_format, "DepthToSpace")
    n, h, w, c = x.shape
    b = block_size
    if c % (b * b):
        raise _invalid(f"Input depth dimension {c} should be divisible by: {b * b}")
    out = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))
    return _owned(_from_nhwc(out, data_format), x)


def _block_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _BLOCK_ATTRS}


@RegisterGradient("SpaceToDepth")
def _space_to_depth_grad(op, grad):
    return apply_op("DepthToSpace", [grad], _block_attr_values(op)).outputs[0]


@RegisterGradient("DepthToSpace")
def _depth_to_space_grad(op, grad):
    return apply_op("SpaceToDepth", [grad], _block_attr_values(op)).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# SpaceToBatchND / BatchToSpaceND (and the 4-D SpaceToBatch / BatchToSpace)
# ----------------------------------------------------------------------------------------------------------
def _block_and_pairs(block_shape, pairs, what: str, x_rank: int) -> tuple:
    block = np.reshape(np.asarray(block_shape, dtype=np.int64), [-1])
    pairs = np.asarray(pairs, dtype=np.int64)
    if np.ndim(block_shape) != 1:
        raise _invalid(f"block_shape must be one-dimensional, got shape {list(np.shape(block_shape))}")
    m = block.size
    if pairs.shape != (m, 2):
        raise _invalid(f"{what} should have shape [{m}, 2] instead of {list(pairs.shape)}")
    if m < 1:
        raise _invalid("block_shape must have at least one element")
    if x_rank < m + 1:
        raise _invalid(f"input rank should be >= {m + 1} instead of {x_rank}")
    if np.any(block < 1):
        raise _invalid(f"All values in block_shape must be positive, got value, {int(block[block < 1][0])} instead.")
    if np.any(pairs < 0):
        raise _invalid(f"All values in {what} must be non-negative, got value, {int(pairs[pairs < 0][0])} instead.")
    return [int(v) for v in block], [(int(a), int(b)) for a, b in pairs]


def space_to_batch_array(x: np.ndarray, block: list, paddings: list) -> np.ndarray:
    m = len(block)
    n, spatial, rest = x.shape[0], x.shape[1:1 + m], x.shape[1 + m:]
    padded = [s + a + b for s, (a, b) in zip(spatial, paddings)]
    for i, (p, b) in enumerate(zip(padded, block)):
        if p % b:
            raise _invalid(f"padded_shape[{i}]={p} is not divisible by block_shape[{i}]={b}")
    if any(a or b for a, b in paddings):
        xp = np.zeros((n, *padded, *rest), dtype=x.dtype)
        xp[(slice(None), *(slice(a, a + s) for (a, _), s in zip(paddings, spatial)))] = x
    else:
        xp = x
    split = [n]
    for p, b in zip(padded, block):
        split += [p // b, b]
    xs = xp.reshape(*split, *rest)
    # (n, p1/b1, b1, ..., pm/bm, bm, rest) -> (b1, ..., bm, n, p1/b1, ..., pm/bm, rest)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(1 + 2 * m, xs.ndim))
    out_shape = (n * int(np.prod(block)), *(p // b for p, b in zip(padded, block)), *rest)
    return _owned(np.ascontiguousarray(xs.transpose(perm)).reshape(out_shape), x)


def batch_to_space_array(x: np.ndarray, block: list, crops: list) -> np.ndarray:
    m = len(block)
    prod = int(np.prod(block))
    if x.shape[0] % prod:
        raise _invalid(f"Input batch dimension ({x.shape[0]}) is not divisible by product of block sizes ({prod})")
    n = x.shape[0] // prod
    spatial, rest = x.shape[1:1 + m], x.shape[1 + m:]
    full = [s * b for s, b in zip(spatial, block)]
    for i, (f, (a, b)) in enumerate(zip(full, crops)):
        if a + b > f:
            raise _invalid(f"crops must be non-negative and not exceed the block-expanded size: crops[{i}] = "
                           f"[{a}, {b}] for a dimension of size {f}")
    xs = x.reshape(*block, n, *spatial, *rest)
    # (b1, ..., bm, n, s1, ..., sm, rest) -> (n, s1, b1, ..., sm, bm, rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, xs.ndim))
    out = xs.transpose(perm).reshape(n, *full, *rest)
    return _owned(np.ascontiguousarray(out[(slice(None), *(slice(a, f - b) for (a, b), f in zip(crops, full)))]), x)


def _static_pairs(t) -> np.ndarray | None:
    v = _reg.constant_value(t)
    return None if v is None else np.asarray(v, dtype=np.int64)


def _unknown_block_shape(x_shape: _shape.TensorShape, m) -> _shape.TensorShape:
    """The result shape when the block's values are unknown: only the dimensions after the M spatial ones."""
    if x_shape.ndims is None:
        return _shape.unknown_shape()
    if m is None:
        return _shape.unknown_shape(x_shape.ndims)
    return _shape.TensorShape([None] * (1 + m) + x_shape.with_rank_at_least(m + 1).as_list()[1 + m:])


def _block_length(t) -> int | None:
    shape = t.shape if isinstance(t, _ops.Tensor) else None
    return None if shape is None or shape.ndims != 1 else shape[0].value


def _space_to_batch_static(x_shape: _shape.TensorShape, block, paddings, m=None) -> _shape.TensorShape:
    if x_shape.ndims is None or block is None:
        return _unknown_block_shape(x_shape, m)
    block = np.reshape(block, [-1])
    m = block.size
    dims = x_shape.with_rank_at_least(m + 1).as_list()
    out = [None if dims[0] is None else dims[0] * int(np.prod(block))]
    for i in range(m):
        d = dims[1 + i]
        if d is None or paddings is None:
            out.append(None)
            continue
        padded = d + int(paddings[i][0]) + int(paddings[i][1])
        if padded % int(block[i]):
            raise ValueError(f"padded_shape[{i}]={padded} is not divisible by block_shape[{i}]={int(block[i])}")
        out.append(padded // int(block[i]))
    return _shape.TensorShape(out + dims[1 + m:])


def _batch_to_space_static(x_shape: _shape.TensorShape, block, crops, m=None) -> _shape.TensorShape:
    if x_shape.ndims is None or block is None:
        return _unknown_block_shape(x_shape, m)
    block = np.reshape(block, [-1])
    m = block.size
    dims = x_shape.with_rank_at_least(m + 1).as_list()
    prod = int(np.prod(block))
    if dims[0] is not None and dims[0] % prod:
        raise ValueError(f"batch is not divisible by product of block sizes: {dims[0]} vs {prod}")
    out = [None if dims[0] is None else dims[0] // prod]
    for i in range(m):
        d = dims[1 + i]
        out.append(None if d is None or crops is None else d * int(block[i]) - int(crops[i][0]) - int(crops[i][1]))
    return _shape.TensorShape(out + dims[1 + m:])


@register_op("SpaceToBatchND", inputs=["input: T", "block_shape: Tblock_shape", "paddings: Tpaddings"],
             outputs=["output: T"],
             attrs={"Tblock_shape": ("type", _dt.int32), "Tpaddings": ("type", _dt.int32)},
             allowed={"Tblock_shape": _INDEX, "Tpaddings": _INDEX},
             shape=lambda op: _space_to_batch_static(op.inputs[0].shape, _static_pairs(op.inputs[1]),
                                                     _static_pairs(op.inputs[2]), _block_length(op.inputs[1])),
             fresh_output=True)
def _space_to_batch_nd(x, block_shape, paddings):
    """Zero-pads the spatial dimensions 1..M, then moves each block's offsets into the batch dimension:
    output batch index (i1 * b2 + i2 ...) * n + batch."""
    block, pads = _block_and_pairs(block_shape, paddings, "paddings", x.ndim)
    return space_to_batch_array(x, block, pads)


@register_op("BatchToSpaceND", inputs=["input: T", "block_shape: Tblock_shape", "crops: Tcrops"],
             outputs=["output: T"],
             attrs={"Tblock_shape": ("type", _dt.int32), "Tcrops": ("type", _dt.int32)},
             allowed={"Tblock_shape": _INDEX, "Tcrops": _INDEX},
             shape=lambda op: _batch_to_space_static(op.inputs[0].shape, _static_pairs(op.inputs[1]),
                                                     _static_pairs(op.inputs[2]), _block_length(op.inputs[1])),
             fresh_output=True)
def _batch_to_space_nd(x, block_shape, crops):
    """The inverse of SpaceToBatchND: the batch's block offsets go back into space, then `crops` is cut off."""
    block, cuts = _block_and_pairs(block_shape, crops, "crops", x.ndim)
    return batch_to_space_array(x, block, cuts)


@RegisterGradient("SpaceToBatchND")
def _space_to_batch_nd_grad(op, grad):
    return apply_op("BatchToSpaceND", [grad, op.inputs[1], op.inputs[2]]).outputs[0], None, None


@RegisterGradient("BatchToSpaceND")
def _batch_to_space_nd_grad(op, grad):
    return apply_op("SpaceToBatchND", [grad, op.inputs[1], op.inputs[2]]).outputs[0], None, None


def _block_size_attr(op) -> int:
    block = op.get_attr("block_size")
    if block < 2:
        raise ValueError(f"Attr block_size has value {block} must be at least minimum 2")
    return block


def _rank4(op) -> _shape.TensorShape:
    return op.inputs[0].shape.with_rank(4)


@register_op("SpaceToBatch", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
             attrs={"Tpaddings": ("type", _dt.int32), "block_size": ("int", _reg.REQUIRED)},
             allowed={"Tpaddings": _INDEX},
             shape=lambda op: _space_to_batch_static(_rank4(op), [_block_size_attr(op)] * 2,
                                                     _static_pairs(op.inputs[1])), fresh_output=True)
def _space_to_batch(x, paddings, *, block_size):
    """SpaceToBatchND of a 4-D input with block [block_size, block_size]."""
    if x.ndim != 4:
        raise _invalid(f"input rank should be 4 instead of {x.ndim}")
    block, pads = _block_and_pairs([block_size, block_size], paddings, "paddings", x.ndim)
    return space_to_batch_array(x, block, pads)


@register_op("BatchToSpace", inputs=["input: T", "crops: Tidx"], outputs=["output: T"],
             attrs={"block_size": ("int", _reg.REQUIRED), "Tidx": ("type", _dt.int32)}, allowed={"Tidx": _INDEX},
             shape=lambda op: _batch_to_space_static(_rank4(op), [_block_size_attr(op)] * 2,
                                                     _static_pairs(op.inputs[1])), fresh_output=True)
def _batch_to_space(x, crops, *, block_size):
    """BatchToSpaceND of a 4-D input with block [block_size, block_size]."""
    if x.ndim != 4:
        raise _invalid(f"input rank should be 4 instead of {x.ndim}")
    block, cuts = _block_and_pairs([block_size, block_size], crops, "crops", x.ndim)
    return batch_to_space_array(x, block, cuts)


@RegisterGradient("SpaceToBatch")
def _space_to_batch_grad(op, grad):
    return apply_op("BatchToSpace", [grad, op.inputs[1]], {"block_size": op.get_attr("block_size")}).outputs[0], None


@RegisterGradient("BatchToSpace")
def _batch_to_space_grad(op, grad):
    return apply_op("SpaceToBatch", [grad, op.inputs[1]], {"block_size": op.get_attr("block_size")}).outputs[0], None


# ----------------------------------------------------------------------------------------------------------
# Python wrappers
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.space_to_depth", "space_to_depth")
def space_to_depth(input, block_size, name=None, data_format="NHWC") -> _ops.Tensor:  # noqa: A002
    """Moves each block_size x block_size block of pixels into the depth dimension."""
    return apply_op("SpaceToDepth", [input], {"block_size": int(block_size), "data_format": data_format},
                    name=name).outputs[0]


@tf_export("nn.depth_to_space", "depth_to_space")
def depth_to_space(input, block_size, name=None, data_format="NHWC") -> _ops.Tensor:  # noqa: A002
    """Moves depth into block_size x block_size blocks of pixels (the inverse of space_to_depth)."""
    return apply_op("DepthToSpace", [input], {"block_size": int(block_size), "data_format": data_format},
                    name=name).outputs[0]


@tf_export("manip.space_to_batch_nd", "space_to_batch_nd")
def space_to_batch_nd(input, block_shape, paddings, name=None) -> _ops.Tensor:  # noqa: A002
    """Zero-pads spatial dimensions 1..M by `paddings` and moves [block_shape] blocks into the batch."""
    return apply_op("SpaceToBatchND", [input, block_shape, paddings], name=name).outputs[0]


@tf_export("manip.batch_to_space_nd", "batch_to_space_nd")
def batch_to_space_nd(input, block_shape, crops, name=None) -> _ops.Tensor:  # noqa: A002
    """Moves [block_shape] blocks of the batch back into space and crops by `crops`."""
    return apply_op("BatchToSpaceND", [input, block_shape, crops], name=name).outputs[0]


def _square_block(block_size, block_shape) -> np.ndarray:
    if block_size is not None and block_shape is not None:
        raise ValueError("Cannot specify both 'block_shape' and 'block_size'")
    block_size = block_shape if block_size is None else block_size
    if block_size is None:
        raise ValueError("block_size (or block_shape) is required")
    return np.array([block_size, block_size], dtype=np.int64)


@tf_export("nn.space_to_batch", "space_to_batch")
def space_to_batch(input, paddings, block_size=None, name=None, block_shape=None) -> _ops.Tensor:  # noqa: A002
    """space_to_batch_nd of a 4-D input with a square block of `block_size` (or `block_shape`), as TF 1.x
    builds it (the SpaceToBatch op itself is for imported graphs)."""
    result = space_to_batch_nd(input, _square_block(block_size, block_shape), paddings, name=name)
    result.set_shape(result.shape.with_rank(4))
    return result


@tf_export("batch_to_space")
def batch_to_space(input, crops, block_size, name=None, block_shape=None) -> _ops.Tensor:  # noqa: A002
    """batch_to_space_nd of a 4-D input with a square block of `block_size` (or `block_shape`), as TF 1.x
    builds it (the BatchToSpace op itself is for imported graphs)."""
    result = batch_to_space_nd(input, _square_block(block_size, block_shape), crops, name=name)
    result.set_shape(result.shape.with_rank(4))
    return result


def _required_paddings_np(input_shape, block_shape, base_paddings) -> tuple:
    pad_start, pad_end = base_paddings[:, 0], base_paddings[:, 1]
    full = input_shape + pad_start + pad_end
    extra = (block_shape - full % block_shape) % block_shape
    paddings = np.stack([pad_start, pad_end + extra], axis=1)
    crops = np.stack([np.zeros_like(extra), extra], axis=1)
    return paddings, crops


@tf_export("required_space_to_batch_paddings")
def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name=None) -> tuple:
    """(paddings, crops) for space_to_batch_nd / batch_to_space_nd: `base_paddings` plus what the end of each
    dimension needs so that the padded size is divisible by the block, and crops that remove that extra."""
    with _ops.name_scope(name, "required_space_to_batch_paddings", [input_shape, block_shape]):
        input_shape = _ops.convert_to_tensor(input_shape, dtype=_dt.int32, name="input_shape")
        block_shape = _ops.convert_to_tensor(block_shape, dtype=_dt.int32, name="block_shape")
        block_shape.shape.assert_is_fully_defined()
        block_shape.shape.with_rank(1)
        m = block_shape.shape[0].value
        if base_paddings is not None:
            base_paddings = _ops.convert_to_tensor(base_paddings, dtype=_dt.int32, name="base_paddings")
            base_paddings.shape.assert_is_compatible_with([m, 2])
        else:
            base_paddings = array_ops.zeros([m, 2], _dt.int32)
        values = [_reg.constant_value(t) for t in (input_shape, block_shape, base_paddings)]
        if all(v is not None for v in values):
            paddings, crops = _required_paddings_np(*(np.asarray(v, dtype=np.int64) for v in values))
            return (constant_op.constant(paddings.astype(np.int32), name="paddings"),
                    constant_op.constant(crops.astype(np.int32), name="crops"))
        pad_start, pad_end = base_paddings[:, 0], base_paddings[:, 1]
        full = input_shape + pad_start + pad_end
        extra = math_ops.floormod(block_shape - math_ops.floormod(full, block_shape), block_shape)
        paddings = array_ops.stack([pad_start, pad_end + extra], axis=1, name="paddings")
        crops = array_ops.stack([array_ops.zeros_like(extra), extra], axis=1, name="crops")
        return paddings, crops


def _block_over_dims(values, fill, spatial_dims: list) -> list:
    """Per dimension 1..max(spatial_dims): `values` at the spatial dims, `fill` at the others."""
    out = [fill] * (max(spatial_dims))
    for v, d in zip(values, spatial_dims):
        out[d - 1] = v
    return out


@tf_export("nn.with_space_to_batch")
def with_space_to_batch(input, dilation_rate, padding, op, filter_shape=None, spatial_dims=None,  # noqa: A002
                        data_format=None):
    """Runs `op(converted_input, num_spatial_dims, padding)` on the input rearranged by space_to_batch_nd so that
    an undilated op acts as one dilated by `dilation_rate`, and rearranges its result back.

    With all rates 1 this is just `op(input, num_spatial_dims, padding)`. SAME padding needs `filter_shape`
    (the undilated window), whose dilated size decides the zero padding added before the rearrangement."""
    input = _ops.convert_to_tensor(input, name="input")
    if isinstance(dilation_rate, _ops.Tensor):
        dilation_rate = _reg.constant_value(dilation_rate)
        if dilation_rate is None:
            raise ValueError("dilation_rate must be known at graph-construction time")
    rate = np.asarray(dilation_rate, dtype=np.int64)
    if rate.ndim != 1 or rate.size == 0:
        raise ValueError("rate must be a non-empty one-dimensional list of ints")
    if np.any(rate < 1):
        raise ValueError("rate must be positive")
    n = rate.size
    if spatial_dims is None:
        channels_first = data_format is not None and data_format.startswith("NC")
        spatial_dims = list(range(2, n + 2)) if channels_first else list(range(1, n + 1))
    spatial_dims = [int(d) for d in spatial_dims]
    if sorted(set(spatial_dims)) != spatial_dims or len(spatial_dims) != n or spatial_dims[0] < 1:
        raise ValueError("spatial_dims must be a montonically increasing sequence of positive integers")
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"Invalid padding method {padding!r}")
    if np.all(rate == 1):
        return op(input, n, padding)
    if padding == "SAME":
        if filter_shape is None:
            raise ValueError("filter_shape must be specified for SAME padding")
        fshape = _reg.constant_value(_ops.convert_to_tensor(filter_shape, dtype=_dt.int32))
        if fshape is None:
            raise ValueError("filter_shape must be known at graph-construction time for SAME padding")
        fshape = np.asarray(fshape, dtype=np.int64).reshape(-1)[:n]
        dilated = (fshape - 1) * rate + 1
        start = (dilated - 1) // 2
        base = np.stack([start, dilated - 1 - start], axis=1)
    else:
        base = np.zeros([n, 2], dtype=np.int64)
    static = input.shape
    dims = [static[d].value if static.ndims is not None else None for d in spatial_dims]
    if all(d is not None for d in dims):
        input_spatial = constant_op.constant(np.asarray(dims, dtype=np.int32))
    else:
        input_spatial = array_ops.gather(array_ops.shape(input), spatial_dims)
    paddings, crops = required_space_to_batch_paddings(input_spatial, rate.astype(np.int32),
                                                       base.astype(np.int32))
    block = _block_over_dims([int(r) for r in rate], 1, spatial_dims)
    zero_pairs = constant_op.constant(np.zeros([1, 2], dtype=np.int32))
    if len(block) > n:
        # Dimensions between the batch and the last spatial one that are not spatial get block 1, no padding.
        def spread(pairs):
            rows = [zero_pairs] * len(block)
            for i, d in enumerate(spatial_dims):
                rows[d - 1] = array_ops.expand_dims(pairs[i], 0)
            return array_ops.concat(rows, axis=0)
        paddings, crops = spread(paddings), spread(crops)
    converted = space_to_batch_nd(input, block, paddings)
    result = op(converted, n, "VALID")
    return batch_to_space_nd(result, block, crops)
